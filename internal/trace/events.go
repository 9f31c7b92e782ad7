package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// eventReader reads a CSV with a header and hands rows to a callback that
// looks fields up by column name.
func eventReader(r io.Reader, name string, need []string, fn func(line int, get func(string) string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty file, want a header", name)
		}
		return fmt.Errorf("%s: line 1: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, h := range need {
		if _, ok := col[h]; !ok {
			return fmt.Errorf("%s: line 1: header lacks column %q", name, h)
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		get := func(h string) string {
			i, ok := col[h]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if err := fn(line, get); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line, err)
		}
	}
}

// legFinder locates event legs in the graph: the transfer of a block with
// given endpoints, asset and amount, each transfer used at most once.
type legFinder struct {
	g    Graph
	used map[Leg]bool
}

type legSpec struct {
	chain            model.Chain
	block            uint64
	from, to, asset  string
	amount           uint256.Int
	fromF, toF, blkF string
}

func (f *legFinder) parse(get func(string) string, chainF, blockF, fromF, toF, assetF, amountF string) (legSpec, error) {
	var l legSpec
	l.chain = model.Chain(strings.ToLower(get(chainF)))
	if l.chain == "" {
		return l, fmt.Errorf("field %s: empty", chainF)
	}
	var err error
	if l.block, err = strconv.ParseUint(get(blockF), 10, 64); err != nil {
		return l, fmt.Errorf("field %s: %q is not a block number", blockF, get(blockF))
	}
	if l.from, err = model.NormalizeAddress(l.chain, get(fromF)); err != nil {
		return l, fmt.Errorf("field %s: %v", fromF, err)
	}
	if l.to, err = model.NormalizeAddress(l.chain, get(toF)); err != nil {
		return l, fmt.Errorf("field %s: %v", toF, err)
	}
	if l.asset, err = model.NormalizeAsset(l.chain, get(assetF)); err != nil {
		return l, fmt.Errorf("field %s: %v", assetF, err)
	}
	if l.amount, err = model.ParseAmount(get(amountF)); err != nil {
		return l, fmt.Errorf("field %s: %v", amountF, err)
	}
	l.fromF, l.toF, l.blkF = fromF, toF, blockF
	return l, nil
}

func (f *legFinder) find(l legSpec) (Leg, error) {
	cg, ok := f.g.Chain(l.chain)
	if !ok {
		return Leg{}, fmt.Errorf("%w: %s is not in the graph index", ErrUnknownChain, l.chain)
	}
	from, ok1 := cg.Lookup(l.from)
	to, ok2 := cg.Lookup(l.to)
	asset, ok3 := cg.AssetID(l.asset)
	first, end, ok4 := cg.BlockRange(l.block)
	if ok1 && ok2 && ok3 && ok4 {
		for s := first; s < end; s++ {
			tr := cg.Transfer(s)
			if tr.Src != from || tr.Dst != to || tr.Asset != asset {
				continue
			}
			if amt := cg.Amount(s); !amt.Eq(&l.amount) {
				continue
			}
			leg := Leg{Chain: l.chain, Block: l.block, Position: cg.Position(s)}
			if f.used[leg] {
				continue
			}
			f.used[leg] = true
			return leg, nil
		}
	}
	return Leg{}, fmt.Errorf("no transfer of %s %s from %s (%s) to %s (%s) in %s block %d (%s): the file does not match the ledger",
		l.amount.Dec(), l.asset, l.from, l.fromF, l.to, l.toF, l.chain, l.block, l.blkF)
}

// ReadSwapEvents reads swap events in the synthetic world's swaps.csv form
// (chain,tx_hash,block_number,block_timestamp,pool,trader,asset_in,amount_in,
// asset_out,amount_out) and locates both legs in the graph: the trader's
// payment into the pool and the pool's payment back.
func ReadSwapEvents(r io.Reader, name string, g Graph) ([]Conversion, error) {
	f := &legFinder{g: g, used: map[Leg]bool{}}
	var out []Conversion
	err := eventReader(r, name, []string{"chain", "tx_hash", "block_number", "pool", "trader", "asset_in", "amount_in", "asset_out", "amount_out"},
		func(line int, get func(string) string) error {
			in, err := f.parse(get, "chain", "block_number", "trader", "pool", "asset_in", "amount_in")
			if err != nil {
				return err
			}
			o, err := f.parse(get, "chain", "block_number", "pool", "trader", "asset_out", "amount_out")
			if err != nil {
				return err
			}
			c := Conversion{Kind: Swap, AmountIn: in.amount, AmountOut: o.amount, Ref: get("tx_hash")}
			if c.In, err = f.find(in); err != nil {
				return err
			}
			if c.Out, err = f.find(o); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	return out, err
}

// ReadBridgeEvents reads bridge crossings in the synthetic world's
// bridges.csv form and locates the deposit and the payout. Crossings
// without a payout (out_chain empty) are skipped.
func ReadBridgeEvents(r io.Reader, name string, g Graph) ([]Conversion, error) {
	f := &legFinder{g: g, used: map[Leg]bool{}}
	var out []Conversion
	err := eventReader(r, name, []string{"in_chain", "in_tx_hash", "in_block", "in_from", "in_vault", "in_asset", "in_amount",
		"out_chain", "out_block", "out_vault", "out_to", "out_asset", "out_amount"},
		func(line int, get func(string) string) error {
			if get("out_chain") == "" {
				return nil
			}
			in, err := f.parse(get, "in_chain", "in_block", "in_from", "in_vault", "in_asset", "in_amount")
			if err != nil {
				return err
			}
			o, err := f.parse(get, "out_chain", "out_block", "out_vault", "out_to", "out_asset", "out_amount")
			if err != nil {
				return err
			}
			c := Conversion{Kind: Bridge, AmountIn: in.amount, AmountOut: o.amount, Ref: get("memo")}
			if c.Ref == "" {
				c.Ref = get("in_tx_hash")
			}
			if c.In, err = f.find(in); err != nil {
				return err
			}
			if c.Out, err = f.find(o); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	return out, err
}
