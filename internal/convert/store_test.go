package convert

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// writeLedger stores n blocks, each with one swap (two transfers) and one
// THORChain deposit (one transfer) paid out three blocks later.
func writeLedger(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	addr := func(i int) string { return fmt.Sprintf("0x%040x", i) }
	hash := func(b, i int) string { return fmt.Sprintf("0x%062x%02x", b, i) }
	const batch = 1000
	var blocks []model.Block
	for b := 1; b <= n; b++ {
		blk := model.Block{Chain: "eth", Number: uint64(b), Hash: hash(b, 99), ParentHash: hash(b-1, 99), Time: int64(b)}
		tr := func(seq uint32, tx int, from, to int, asset string, amt uint64) model.Transfer {
			return model.Transfer{Chain: "eth", Block: uint64(b), Time: int64(b), Position: model.MakePosition(uint32(tx), seq),
				TxHash: hash(b, tx), From: addr(from), To: addr(to), Asset: asset, Amount: *uint256.NewInt(amt), Kind: model.KindToken}
		}
		blk.Transfers = []model.Transfer{
			tr(0, 0, 1000+b, 7, addr(1), 100), tr(1, 0, 7, 2000+b, addr(2), 90),
			tr(0, 1, 3000+b, 8, model.NativeAsset, 50),
		}
		leg := func(i int) model.Leg {
			return model.Leg{Chain: "eth", Block: uint64(b), Position: blk.Transfers[i].Position}
		}
		blk.Conversions = []model.Conversion{
			{Kind: model.ConvSwap, In: leg(0), Out: leg(1), AmountIn: *uint256.NewInt(100), AmountOut: *uint256.NewInt(90), Ref: addr(7)},
			{Kind: model.ConvBridge, In: leg(2), AmountIn: *uint256.NewInt(50), Ref: "=:BTC.BTC:bc1q" + strconv.Itoa(b)},
		}
		if b > 3 {
			blk.Transfers = append(blk.Transfers, tr(0, 2, 8, 4000+b, model.NativeAsset, 40))
			blk.Conversions = append(blk.Conversions, model.Conversion{Kind: model.ConvBridge, Out: leg(3),
				AmountOut: *uint256.NewInt(40), Ref: "OUT:" + hash(b-3, 1)[2:]})
		}
		blocks = append(blocks, blk)
		if len(blocks) == batch || b == n {
			if err := st.Write(ctx, blocks, nil); err != nil {
				tb.Fatal(err)
			}
			blocks = blocks[:0]
		}
	}
}

func TestFromStore(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	writeLedger(t, st, 20)
	r, err := FromStore(context.Background(), st, "eth")
	if err != nil {
		t.Fatal(err)
	}
	// 20 swaps, 17 deposits paid out (blocks 1–17), 3 pending (18–20).
	if len(r.Conversions) != 37 || len(r.Pending) != 3 || r.Pending[0].DestChain != "btc" || r.Pending[0].Dest != "bc1q18" ||
		r.OrphanPayouts+r.ExtraPayouts+r.BadMemos+r.Duplicates != 0 {
		t.Fatalf("FromStore: %d conversions, pending %+v, result %+v", len(r.Conversions), r.Pending, r)
	}
}

// BenchmarkFromStore reads and matches the conversions of a stored ledger
// (REDTHREAD_BENCH_BLOCKS blocks, default 20,000: one swap, one deposit and
// one payout each).
func BenchmarkFromStore(b *testing.B) {
	n := 20_000
	if s := os.Getenv("REDTHREAD_BENCH_BLOCKS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	st, err := store.Open(b.TempDir(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	writeLedger(b, st, n)
	b.ResetTimer()
	var got int
	for i := 0; i < b.N; i++ {
		r, err := FromStore(context.Background(), st, "eth")
		if err != nil {
			b.Fatal(err)
		}
		got = len(r.Conversions) + len(r.Pending)
	}
	b.ReportMetric(float64(3*n)*float64(b.N)/b.Elapsed().Seconds(), "halves/s")
	if got != 2*n {
		b.Fatalf("%d conversions and pending deposits, want %d", got, 2*n)
	}
}
