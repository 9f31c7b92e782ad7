package convert

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

func leg(ch string, b uint64, p uint64) model.Leg {
	return model.Leg{Chain: model.Chain(ch), Block: b, Position: model.Position(p)}
}

func TestMatch(t *testing.T) {
	depHash := "0x" + strings.Repeat("ab", 32)
	dep2 := "0x" + strings.Repeat("cd", 32)
	u := uint256.NewInt
	swap := model.Conversion{Kind: model.ConvSwap, In: leg("eth", 5, 1), Out: leg("eth", 5, 2), AmountIn: *u(10), AmountOut: *u(20), Ref: "0xpool"}
	halves := []Half{
		{Conv: swap},
		// Deposit on eth, paid out on btc by OUT and partly refunded on eth.
		{Conv: model.Conversion{Kind: model.ConvBridge, In: leg("eth", 7, 3), AmountIn: *u(1000), Ref: "=:BTC.BTC:bc1qdest"}, TxHash: depHash},
		{Conv: model.Conversion{Kind: model.ConvBridge, Out: leg("eth", 9, 1), AmountOut: *u(5), Ref: "REFUND:" + strings.ToUpper(depHash[2:])}},
		{Conv: model.Conversion{Kind: model.ConvBridge, Out: leg("btc", 800, 4), AmountOut: *u(90), Ref: "OUT:" + strings.ToUpper(depHash[2:])}},
		// Deposit without payout.
		{Conv: model.Conversion{Kind: model.ConvBridge, In: leg("eth", 8, 2), AmountIn: *u(77), Ref: "=:e:0xabc/0xdef"}, TxHash: dep2},
		// Payout of a deposit not ingested, and a vault migration.
		{Conv: model.Conversion{Kind: model.ConvBridge, Out: leg("eth", 10, 1), AmountOut: *u(3), Ref: "OUT:" + strings.Repeat("0", 64)}},
		{Conv: model.Conversion{Kind: model.ConvBridge, Out: leg("eth", 11, 1), AmountOut: *u(3), Ref: "MIGRATE:12"}},
		// A swap reusing a leg already used.
		{Conv: model.Conversion{Kind: model.ConvSwap, In: leg("eth", 5, 1), Out: leg("eth", 5, 9), Ref: "0xother"}},
	}
	got := Match(halves)
	want := &Result{
		Conversions: []model.Conversion{
			swap,
			{Kind: model.ConvBridge, In: leg("eth", 7, 3), Out: leg("btc", 800, 4), AmountIn: *u(1000), AmountOut: *u(90),
				Ref: "=:BTC.BTC:bc1qdest -> OUT:" + strings.ToUpper(depHash[2:])},
		},
		Pending: []Pending{{In: leg("eth", 8, 2), TxHash: dep2, Amount: *u(77), Memo: "=:e:0xabc/0xdef", Action: ActionSwap,
			DestChain: "eth", Dest: "0xabc", Asset: "ETH.ETH"}},
		OrphanPayouts: 1, ExtraPayouts: 1, BadMemos: 1, Duplicates: 1,
	}
	// Conversions come sorted by In leg: btc sorts before eth only by chain
	// name, and both bridges here start on eth.
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Match (-want +got):\n%s", d)
	}
	// Deterministic whatever the input order.
	rev := make([]Half, len(halves))
	for i := range halves {
		rev[len(halves)-1-i] = halves[i]
	}
	if d := cmp.Diff(got, Match(rev)); d != "" {
		t.Errorf("Match depends on input order:\n%s", d)
	}
}
