package trace

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// randomWorld makes a random two-asset ledger with a few swaps and a
// fixed-denomination mixer: addresses a0..aN, some labelled as exchanges.
func randomWorld(r *rand.Rand, nAddr, nBlocks int) *world {
	w := &world{blocks: map[model.Chain][]model.Block{}, labels: NewLabels()}
	addr := func() string { return fmt.Sprintf("a%d", int(r.ExpFloat64()*float64(nAddr)/3)%nAddr) }
	var bl []model.Block
	notes := 0
	for b := 1; b <= nBlocks; b++ {
		blk := model.Block{Chain: "test", Number: uint64(b), Time: scriptEpoch + 60*int64(b)}
		for i := 0; i < 1+r.IntN(4); i++ {
			asset := model.NativeAsset
			if r.IntN(3) == 0 {
				asset = "tok"
			}
			amt := uint256.NewInt(1 + r.Uint64N(1000))
			if r.IntN(20) == 0 {
				amt.Lsh(amt, 70)
			}
			blk.Transfers = append(blk.Transfers, model.Transfer{Chain: "test", Block: blk.Number, Time: blk.Time,
				Position: model.MakePosition(uint32(i), 0), TxHash: fmt.Sprintf("t%d.%d", b, i), From: addr(), To: addr(),
				Asset: asset, Amount: *amt, Kind: model.KindNative})
		}
		if r.IntN(8) == 0 { // a swap: trader pays tok to the pool, the pool pays native back
			trader := addr()
			i := len(blk.Transfers)
			blk.Transfers = append(blk.Transfers,
				model.Transfer{Chain: "test", Block: blk.Number, Time: blk.Time, Position: model.MakePosition(uint32(i), 0), TxHash: "s", From: trader, To: "pool", Asset: "tok", Amount: *uint256.NewInt(1 + r.Uint64N(500)), Kind: model.KindToken},
				model.Transfer{Chain: "test", Block: blk.Number, Time: blk.Time, Position: model.MakePosition(uint32(i+1), 0), TxHash: "s", From: "pool", To: trader, Asset: model.NativeAsset, Amount: *uint256.NewInt(1 + r.Uint64N(500)), Kind: model.KindNative})
			w.convs = append(w.convs, Conversion{Kind: Swap, In: Leg{Chain: "test", Block: blk.Number, Position: model.MakePosition(uint32(i), 0)}, Out: Leg{Chain: "test", Block: blk.Number, Position: model.MakePosition(uint32(i+1), 0)}})
		}
		if r.IntN(4) == 0 { // a fixed-denomination mixer: a deposit of 100, or a withdrawal when it holds a note
			i := len(blk.Transfers)
			from, to := addr(), "mix"
			if notes > 0 && r.IntN(2) == 0 {
				from, to = "mix", addr()
				notes--
			} else {
				notes++
			}
			blk.Transfers = append(blk.Transfers, model.Transfer{Chain: "test", Block: blk.Number, Time: blk.Time,
				Position: model.MakePosition(uint32(i), 0), TxHash: fmt.Sprintf("m%d", b), From: from, To: to,
				Asset: model.NativeAsset, Amount: *uint256.NewInt(100), Kind: model.KindNative})
		}
		w.n += len(blk.Transfers)
		bl = append(bl, blk)
	}
	w.labels.Add(model.Attribution{Chain: "test", Address: "mix", Category: model.CatMixer, Label: "mixer 100"})
	w.blocks["test"] = bl
	for i := 0; i < nAddr; i += 7 {
		w.labels.Add(model.Attribution{Chain: "test", Address: fmt.Sprintf("a%d", i), Category: model.CatExchange, Label: "ex"})
	}
	return w
}

// TestRandomLedgers is the metamorphic test: on random ledgers, every
// policy and direction gives the same result on a graph built by appends
// and one built through the ledger store, the heap and scan sweeps agree,
// and haircut and FIFO conserve taint exactly (checkInvariants).
func TestRandomLedgers(t *testing.T) {
	ran, tainted, mixed, links := 0, 0, 0, 0
	defer func() {
		if ran < 50 || tainted < 30 || mixed < 20 || links < 5 {
			t.Errorf("only %d traces ran, %d with tainted transfers, %d demixing, %d crossing a mix link: the test checks too little", ran, tainted, mixed, links)
		}
	}()
	for seed := uint64(1); seed <= 12; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		w := randomWorld(r, 40, 150)
		graphs := w.graphs(t)
		for _, pol := range []string{"poison", "haircut", "fifo"} {
			for _, dir := range []string{"forward", "backward"} {
				args := []string{"--from", fmt.Sprintf("a%d", 1+r.IntN(5)), "--policy", pol, "--direction", dir, "--max-degree", "1000000"}
				if r.IntN(2) == 0 {
					args = append(args, "--stop", "none")
				}
				if r.IntN(3) == 0 {
					args = append(args, "--asset", "tok")
				}
				if m := r.IntN(3); m > 0 {
					args = append(args, "--mixer", []string{"", "demix", "pool"}[m])
					mixed++
				}
				heap := runTrace(t, w, graphs["append"], args)
				if strings.HasPrefix(heap, "error:") {
					continue // e.g. the seed never sent the asset
				}
				ran++
				if strings.Contains(heap, "\nedge ") {
					tainted++
				}
				if strings.Contains(heap, "\nmix ") {
					links++
				}
				for _, n := range []string{"store", "tail"} {
					if d := cmp.Diff(heap, runTrace(t, w, graphs[n], args)); d != "" {
						t.Errorf("seed %d %v: %s graph differs:\n%s", seed, args, n, d)
					}
				}
				saved, savedDense := scanThreshold, denseLimit
				scanThreshold = 0
				scan := runTrace(t, w, graphs["append"], args)
				denseLimit = 0
				sparse := runTrace(t, w, graphs["append"], args)
				scanThreshold, denseLimit = saved, savedDense
				if d := cmp.Diff(dropStats(heap), dropStats(scan)); d != "" {
					t.Errorf("seed %d %v: scan sweep differs from heap sweep:\n%s", seed, args, d)
				}
				if d := cmp.Diff(scan, sparse); d != "" {
					t.Errorf("seed %d %v: sparse scan differs from dense scan:\n%s", seed, args, d)
				}
			}
		}
	}
}

// TestConcurrentTraces runs traces in parallel on one reader while another
// chain is appended to: results equal the sequential ones (run with -race).
func TestConcurrentTraces(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	w := randomWorld(r, 40, 150)
	ix := w.graphs(t)["append"]
	want := runTrace(t, w, ix, []string{"--from", "a1", "--policy", "haircut"})
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() { done <- runTrace(t, w, ix, []string{"--from", "a1", "--policy", "haircut"}) }()
	}
	other := randomWorld(rand.New(rand.NewPCG(8, 8)), 10, 20).blocks["test"]
	for i := range other {
		other[i].Chain = "other"
		for j := range other[i].Transfers {
			other[i].Transfers[j].Chain = "other"
		}
	}
	if err := ix.Append(other); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != want {
			t.Errorf("parallel trace differs:\n%s", cmp.Diff(want, got))
		}
	}
}
