package convert

import (
	"cmp"
	"slices"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Half is a conversion as recorded at ingestion, with the hash of the
// transaction of its known leg (needed for deposits, whose payouts name it).
type Half struct {
	Conv   model.Conversion
	TxHash string
}

// Pending is a bridge deposit whose payout was not found: the trace can say
// where the funds were headed.
type Pending struct {
	In        model.Leg
	TxHash    string
	Amount    uint256.Int
	Memo      string
	Action    Action      // parsed action; empty when the memo does not parse
	DestChain model.Chain // swaps: the chain the memo pays out on
	Dest      string      // swaps: the destination address as written
	Asset     string      // swaps: the target asset, e.g. BTC.BTC
}

// Result is what Match found.
type Result struct {
	// Conversions are the complete conversions: swaps and matched bridges,
	// in leg order, no leg used twice (ready for trace.NewConversionSet).
	Conversions []model.Conversion
	// Pending lists deposits without a payout, in leg order.
	Pending []Pending
	// Counts of halves that could not be used.
	OrphanPayouts int // payouts whose deposit was not found
	ExtraPayouts  int // further payouts of an already matched deposit
	BadMemos      int // payouts whose memo does not parse or is not OUT/REFUND
	Duplicates    int // conversions dropped because a leg was already used
}

// Match pairs bridge deposits (In leg only) with payouts (Out leg only)
// whose memo is OUT:<deposit tx> or REFUND:<deposit tx>, across chains.
// Complete conversions pass through. A deposit with several payouts (a
// partial refund beside the swap's payout) is matched to one: OUT before
// REFUND, then the largest amount, then the first in chain order; the others
// are counted as ExtraPayouts. The result is deterministic.
func Match(halves []Half) *Result {
	r := &Result{}
	type payout struct {
		h    *Half
		memo Memo
	}
	byTx := map[string][]payout{}
	var deposits []*Half
	var full []model.Conversion
	for i := range halves {
		h := &halves[i]
		c := &h.Conv
		switch in, out := c.In.Known(), c.Out.Known(); {
		case in && out:
			full = append(full, *c)
		case in:
			deposits = append(deposits, h)
		case out:
			m, err := ParseMemo(c.Ref)
			if err != nil || (m.Action != ActionOut && m.Action != ActionRefund) {
				r.BadMemos++
				continue
			}
			byTx[m.TxID] = append(byTx[m.TxID], payout{h, m})
		}
	}
	slices.SortFunc(deposits, func(a, b *Half) int { return legCmp(a.Conv.In, b.Conv.In) })
	matched := map[string]bool{}
	for _, d := range deposits {
		key := txKey(d.TxHash)
		ps := byTx[key]
		if d.TxHash == "" || len(ps) == 0 || matched[key] {
			r.Pending = append(r.Pending, pending(d))
			continue
		}
		matched[key] = true
		best := slices.MinFunc(ps, func(a, b payout) int {
			if a.memo.Action != b.memo.Action {
				if a.memo.Action == ActionOut {
					return -1
				}
				return 1
			}
			if c := b.h.Conv.AmountOut.Cmp(&a.h.Conv.AmountOut); c != 0 {
				return c
			}
			return legCmp(a.h.Conv.Out, b.h.Conv.Out)
		})
		r.ExtraPayouts += len(ps) - 1
		full = append(full, model.Conversion{Kind: model.ConvBridge, In: d.Conv.In, Out: best.h.Conv.Out,
			AmountIn: d.Conv.AmountIn, AmountOut: best.h.Conv.AmountOut, Ref: d.Conv.Ref + " -> " + best.h.Conv.Ref})
	}
	for k, ps := range byTx {
		if !matched[k] {
			r.OrphanPayouts += len(ps)
		}
	}
	r.Conversions, r.Duplicates = Dedupe(full)
	return r
}

func pending(d *Half) Pending {
	p := Pending{In: d.Conv.In, TxHash: d.TxHash, Amount: d.Conv.AmountIn, Memo: d.Conv.Ref}
	if m, err := ParseMemo(d.Conv.Ref); err == nil {
		p.Action = m.Action
		p.DestChain, p.Dest, p.Asset = m.DestChain(), m.Dest, m.Asset.String()
	}
	return p
}

// Dedupe sorts conversions by In leg (then Out leg) and drops every
// conversion whose In or Out leg an earlier one already uses, returning
// the kept ones and the number dropped. Halves (a leg unknown) are dropped.
func Dedupe(cs []model.Conversion) ([]model.Conversion, int) {
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b model.Conversion) int {
		if c := legCmp(a.In, b.In); c != 0 {
			return c
		}
		return legCmp(a.Out, b.Out)
	})
	usedIn, usedOut := map[model.Leg]bool{}, map[model.Leg]bool{}
	out := cs[:0]
	dropped := 0
	for _, c := range cs {
		if !c.In.Known() || !c.Out.Known() || usedIn[c.In] || usedOut[c.Out] {
			dropped++
			continue
		}
		usedIn[c.In], usedOut[c.Out] = true, true
		out = append(out, c)
	}
	return out, dropped
}

func legCmp(a, b model.Leg) int {
	return cmp.Or(cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.Block, b.Block), cmp.Compare(a.Position, b.Position))
}
