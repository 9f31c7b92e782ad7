package synth

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Owner is one row of truth/addresses.csv.
type Owner struct {
	Chain    model.Chain
	Address  string
	Owner    string // e.g. "exchange:Kumbit", "actor:bridge-drain"
	Category model.Category
	Role     string
	Scenario string // laundering addresses only
}

// Truth is a world's ground truth and conversion events as read back from a
// directory written by WriteDir.
type Truth struct {
	Summary   Summary
	Flows     []Flow
	Endpoints []Endpoint
	Mixes     []Mix
	Owners    []Owner
	Swaps     []Swap
	Bridges   []Bridge
}

// ReadTruth reads the ground truth and the swap and bridge events of a
// world directory.
func ReadTruth(dir string) (*Truth, error) {
	t := &Truth{}
	b, err := os.ReadFile(filepath.Join(dir, FileSummary))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &t.Summary); err != nil {
		return nil, fmt.Errorf("%s: %w", FileSummary, err)
	}
	for _, f := range []struct {
		name string
		fn   func(io.Reader, string) error
	}{
		{FileFlows, func(r io.Reader, n string) (err error) { t.Flows, err = ReadFlows(r, n); return }},
		{FileEndpoints, func(r io.Reader, n string) (err error) { t.Endpoints, err = ReadEndpoints(r, n); return }},
		{FileMixes, func(r io.Reader, n string) (err error) { t.Mixes, err = ReadMixes(r, n); return }},
		{FileAddresses, func(r io.Reader, n string) (err error) { t.Owners, err = ReadOwners(r, n); return }},
		{FileSwaps, func(r io.Reader, n string) (err error) { t.Swaps, err = ReadSwaps(r, n); return }},
		{FileBridges, func(r io.Reader, n string) (err error) { t.Bridges, err = ReadBridges(r, n); return }},
	} {
		fh, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		err = f.fn(fh, f.name)
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// RowError reports a bad field of a CSV file.
type RowError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// rows reads a CSV with the exact header and calls fn for each record.
type rowReader struct {
	name   string
	header []string
	line   int
	rec    []string
	err    error
}

func (r *rowReader) fail(field string, format string, a ...any) {
	if r.err == nil {
		r.err = &RowError{File: r.name, Line: r.line, Field: field, Err: fmt.Errorf(format, a...)}
	}
}

func (r *rowReader) col(field string) string {
	for i, h := range r.header {
		if h == field {
			return r.rec[i]
		}
	}
	panic("synth: unknown column " + field)
}

func (r *rowReader) str(field string) string { return r.col(field) }

func (r *rowReader) chain(field string) model.Chain {
	v := r.col(field)
	if v != string(Chain1) && v != string(Chain2) {
		r.fail(field, "chain %q: want %s or %s", v, Chain1, Chain2)
	}
	return model.Chain(v)
}

func (r *rowReader) addr(field string, empty bool) string {
	v := r.col(field)
	if v == "" && empty {
		return ""
	}
	a, err := model.NormalizeAddress(Chain1, v)
	if err != nil {
		r.fail(field, "%v", err)
	}
	return a
}

func (r *rowReader) asset(field string) string {
	a, err := model.NormalizeAsset(Chain1, r.col(field))
	if err != nil {
		r.fail(field, "%v", err)
	}
	return a
}

func (r *rowReader) hash(field string) string {
	h, err := model.NormalizeHash(r.col(field))
	if err != nil {
		r.fail(field, "%v", err)
	}
	return h
}

func (r *rowReader) u64(field string) uint64 {
	v, err := strconv.ParseUint(r.col(field), 10, 64)
	if err != nil {
		r.fail(field, "%q is not an unsigned integer", r.col(field))
	}
	return v
}

func (r *rowReader) i64(field string) int64 {
	v, err := strconv.ParseInt(r.col(field), 10, 64)
	if err != nil {
		r.fail(field, "%q is not an integer", r.col(field))
	}
	return v
}

func (r *rowReader) amount(field string) uint256.Int {
	a, err := model.ParseAmount(r.col(field))
	if err != nil {
		r.fail(field, "%v", err)
	}
	return a
}

func readRows(in io.Reader, name, header string, fn func(r *rowReader)) error {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	want := strings.Split(header, ",")
	cr.FieldsPerRecord = -1
	r := &rowReader{name: name, header: want}
	hdr, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return &RowError{File: name, Line: 1, Err: errors.New("empty file, want a header")}
		}
		return &RowError{File: name, Line: 1, Err: err}
	}
	if strings.Join(hdr, ",") != header {
		return &RowError{File: name, Line: 1, Err: fmt.Errorf("header %q, want %q", strings.Join(hdr, ","), header)}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &RowError{File: name, Line: pe.Line, Err: pe.Err}
			}
			return &RowError{File: name, Line: r.line + 1, Err: err}
		}
		line, _ := cr.FieldPos(0)
		r.line = line
		if len(rec) != len(want) {
			return &RowError{File: name, Line: line, Err: fmt.Errorf("%d fields, want %d", len(rec), len(want))}
		}
		r.rec = rec
		fn(r)
		if r.err != nil {
			return r.err
		}
	}
}

// CSV headers of the event and ground-truth files.
const (
	SwapsHeader     = "chain,tx_hash,block_number,block_timestamp,pool,trader,asset_in,amount_in,asset_out,amount_out"
	BridgesHeader   = "in_chain,in_tx_hash,in_block,in_timestamp,in_from,in_vault,in_asset,in_amount,memo,out_chain,out_tx_hash,out_block,out_timestamp,out_vault,out_to,out_asset,out_amount,out_memo"
	FlowsHeader     = "scenario,step,chain,tx_hash,block_number,block_timestamp,position,from_address,to_address,asset,amount,stolen"
	EndpointsHeader = "scenario,chain,address,entity,category,asset,stolen,tx_hash,block_number,block_timestamp"
	MixesHeader     = "scenario,chain,pool,amount,deposit_tx,depositor,deposit_timestamp,withdraw_tx,recipient,withdraw_timestamp"
	AddressesHeader = "chain,address,owner,category,role,scenario"
)

var flowSteps = map[string]bool{"theft": true, "split": true, "fanout": true, "peel": true, "mingle": true, "consolidate": true,
	"swap-in": true, "swap-out": true, "bridge-in": true, "bridge-out": true, "mix-in": true, "mix-out": true, "cashout": true, "fee": true}

// ReadSwaps reads swaps.csv; name is used in errors.
func ReadSwaps(in io.Reader, name string) ([]Swap, error) {
	var out []Swap
	err := readRows(in, name, SwapsHeader, func(r *rowReader) {
		s := Swap{Chain: r.chain("chain"), TxHash: r.hash("tx_hash"), Block: r.u64("block_number"), Time: r.i64("block_timestamp"),
			Pool: r.addr("pool", false), Trader: r.addr("trader", false), AssetIn: r.asset("asset_in"), AmountIn: r.amount("amount_in"),
			AssetOut: r.asset("asset_out"), AmountOut: r.amount("amount_out")}
		if r.err == nil && s.AssetIn == s.AssetOut {
			r.fail("asset_out", "same asset as asset_in")
		}
		out = append(out, s)
	})
	return out, err
}

// ReadBridges reads bridges.csv.
func ReadBridges(in io.Reader, name string) ([]Bridge, error) {
	var out []Bridge
	err := readRows(in, name, BridgesHeader, func(r *rowReader) {
		b := Bridge{InChain: r.chain("in_chain"), InTx: r.hash("in_tx_hash"), InBlock: r.u64("in_block"), InTime: r.i64("in_timestamp"),
			InFrom: r.addr("in_from", false), InVault: r.addr("in_vault", false), InAsset: r.asset("in_asset"), InAmount: r.amount("in_amount"),
			Memo: r.str("memo"), OutChain: r.chain("out_chain"), OutTx: r.hash("out_tx_hash"), OutBlock: r.u64("out_block"),
			OutTime: r.i64("out_timestamp"), OutVault: r.addr("out_vault", false), OutTo: r.addr("out_to", false),
			OutAsset: r.asset("out_asset"), OutAmount: r.amount("out_amount"), OutMemo: r.str("out_memo")}
		if r.err == nil {
			if _, _, dest, err := ParseMemo(b.Memo); err != nil {
				r.fail("memo", "%v", err)
			} else if dest != b.OutTo {
				r.fail("memo", "names %s, payment went to %s", dest, b.OutTo)
			}
		}
		out = append(out, b)
	})
	return out, err
}

// ParseMemo splits a THORChain-style swap memo "=:CHAIN.ASSET:DEST[:…]"
// (or "SWAP:" / "s:" for "=:") into chain ticker, asset and destination.
func ParseMemo(m string) (chain, asset, dest string, err error) {
	parts := strings.Split(m, ":")
	if len(parts) < 3 || (parts[0] != "=" && !strings.EqualFold(parts[0], "swap") && !strings.EqualFold(parts[0], "s")) {
		return "", "", "", fmt.Errorf("memo %q: want =:CHAIN.ASSET:DESTINATION", m)
	}
	ca := strings.SplitN(parts[1], ".", 2)
	if len(ca) != 2 || ca[0] == "" || ca[1] == "" {
		return "", "", "", fmt.Errorf("memo %q: asset %q is not CHAIN.ASSET", m, parts[1])
	}
	d, err := model.NormalizeAddress(Chain1, parts[2])
	if err != nil {
		return "", "", "", fmt.Errorf("memo %q: destination: %v", m, err)
	}
	return ca[0], ca[1], d, nil
}

// ReadFlows reads truth/flows.csv.
func ReadFlows(in io.Reader, name string) ([]Flow, error) {
	var out []Flow
	err := readRows(in, name, FlowsHeader, func(r *rowReader) {
		f := Flow{Scenario: r.str("scenario"), Step: r.str("step"), Chain: r.chain("chain"), TxHash: r.hash("tx_hash"),
			Block: r.u64("block_number"), Time: r.i64("block_timestamp"), Position: model.Position(r.u64("position")),
			From: r.addr("from_address", false), To: r.addr("to_address", false), Asset: r.asset("asset"),
			Amount: r.amount("amount"), Stolen: r.amount("stolen")}
		switch {
		case r.err != nil:
		case f.Scenario == "":
			r.fail("scenario", "empty")
		case !flowSteps[f.Step]:
			r.fail("step", "unknown step %q", f.Step)
		case f.Stolen.Gt(&f.Amount):
			r.fail("stolen", "%s exceeds the amount %s", f.Stolen.Dec(), f.Amount.Dec())
		}
		out = append(out, f)
	})
	return out, err
}

// ReadEndpoints reads truth/endpoints.csv.
func ReadEndpoints(in io.Reader, name string) ([]Endpoint, error) {
	var out []Endpoint
	err := readRows(in, name, EndpointsHeader, func(r *rowReader) {
		e := Endpoint{Scenario: r.str("scenario"), Chain: r.chain("chain"), Address: r.addr("address", false), Entity: r.str("entity"),
			Category: model.Category(r.str("category")), Asset: r.asset("asset"), Stolen: r.amount("stolen"), TxHash: r.hash("tx_hash"),
			Block: r.u64("block_number"), Time: r.i64("block_timestamp")}
		if r.err == nil && e.Category != model.CatExchange && e.Category != model.CatOTC {
			r.fail("category", "%q: want exchange or otc", e.Category)
		}
		out = append(out, e)
	})
	return out, err
}

// ReadMixes reads truth/mixes.csv.
func ReadMixes(in io.Reader, name string) ([]Mix, error) {
	var out []Mix
	err := readRows(in, name, MixesHeader, func(r *rowReader) {
		out = append(out, Mix{Scenario: r.str("scenario"), Chain: r.chain("chain"), Pool: r.addr("pool", false), Amount: r.amount("amount"),
			DepositTx: r.hash("deposit_tx"), Depositor: r.addr("depositor", false), DepositAt: r.i64("deposit_timestamp"),
			WithdrawTx: r.hash("withdraw_tx"), Recipient: r.addr("recipient", false), WithdrawAt: r.i64("withdraw_timestamp")})
	})
	return out, err
}

// ReadOwners reads truth/addresses.csv.
func ReadOwners(in io.Reader, name string) ([]Owner, error) {
	var out []Owner
	err := readRows(in, name, AddressesHeader, func(r *rowReader) {
		o := Owner{Chain: r.chain("chain"), Address: r.addr("address", false), Owner: r.str("owner"),
			Category: model.Category(r.str("category")), Role: r.str("role"), Scenario: r.str("scenario")}
		if r.err == nil && (o.Owner == "" || o.Category == "" || o.Role == "") {
			r.fail("owner", "owner, category and role must not be empty")
		}
		out = append(out, o)
	})
	return out, err
}
