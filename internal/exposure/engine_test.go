package exposure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

func TestTaxonomy(t *testing.T) {
	if len(taxonomy) != nCats {
		t.Fatalf("taxonomy has %d categories, nCats = %d", len(taxonomy), nCats)
	}
	for i, c := range RiskyCategories {
		if taxonomy[i] != c {
			t.Fatalf("risky categories must lead the taxonomy: %v", taxonomy)
		}
	}
}

// randomWorld makes a small random ledger over a few addresses, some of
// them attributed, with two assets.
func randomWorld(rng *rand.Rand, nTransfers int) *world {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	w := &world{labels: labels{}}
	cats := []model.Category{model.CatHack, model.CatSanctioned, model.CatExchange, model.CatMixer}
	for i, n := range names[:3] {
		if rng.IntN(4) == 0 {
			continue
		}
		a := model.Attribution{Chain: "test", Address: n, Category: cats[(i+rng.IntN(2))%len(cats)]}
		w.labels["test/"+n] = append(w.labels["test/"+n], a)
	}
	for i := 0; i < nTransfers; i++ {
		bn := uint64(1 + i/3)
		if n := len(w.blocks); n == 0 || w.blocks[n-1].Number != bn {
			w.blocks = append(w.blocks, model.Block{Chain: "test", Number: bn, Time: scriptEpoch + 3600*int64(bn)})
		}
		b := &w.blocks[len(w.blocks)-1]
		from, to := names[rng.IntN(len(names))], names[rng.IntN(len(names))]
		asset := model.NativeAsset
		if rng.IntN(4) == 0 {
			asset = "usdt"
		}
		tr := model.Transfer{Chain: "test", Block: bn, Time: b.Time, Position: model.MakePosition(uint32(len(b.Transfers)), 0),
			TxHash: fmt.Sprintf("t%d.%d", bn, len(b.Transfers)), From: from, To: to, Asset: asset, Kind: model.KindNative}
		tr.Amount.SetUint64(uint64(rng.IntN(1000)))
		b.Transfers = append(b.Transfers, tr)
		w.n++
	}
	return w
}

// ref computes the exposure straight from the definition in
// docs/exposure.md, without memoization or lazy extension, in big integers.
type ref struct {
	w      *world
	flat   []model.Transfer // chain order
	cutoff int              // transfers with index < cutoff count
}

func (r *ref) attributed(addr string) map[model.Category]bool {
	m := map[model.Category]bool{}
	for _, a := range r.w.labels["test/"+addr] {
		m[a.Category] = true
	}
	return m
}

// sums returns R and X_c over addr's edges of asset (backward: received
// before index bound; forward: sent after it) at level k.
func (r *ref) sums(addr, asset string, k int, fwd bool, bound int) (*big.Int, map[model.Category]*big.Int) {
	R, X := new(big.Int), map[model.Category]*big.Int{}
	for i := 0; i < r.cutoff; i++ {
		t := &r.flat[i]
		if t.Asset != asset || t.From == t.To {
			continue
		}
		var cp string
		switch {
		case !fwd && t.To == addr && i < bound:
			cp = t.From
		case fwd && t.From == addr && i > bound:
			cp = t.To
		default:
			continue
		}
		v := t.Amount.ToBig()
		R.Add(R, v)
		add := func(c model.Category, x *big.Int) {
			if X[c] == nil {
				X[c] = new(big.Int)
			}
			X[c].Add(X[c], x)
		}
		if at := r.attributed(cp); len(at) > 0 {
			for c := range at {
				add(c, v)
			}
			continue
		}
		if k > 1 {
			R2, X2 := r.sums(cp, asset, k-1, fwd, i)
			if R2.Sign() == 0 {
				continue
			}
			for c, x := range X2 {
				z := new(big.Int).Mul(v, x)
				add(c, z.Quo(z, R2))
			}
		}
	}
	return R, X
}

func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 150; iter++ {
		w := randomWorld(rng, 5+rng.IntN(40))
		g := graph.New(graph.Options{KeepTxHashes: true})
		if err := g.Append(w.blocks); err != nil {
			t.Fatal(err)
		}
		r := &ref{w: w}
		for _, b := range w.blocks {
			r.flat = append(r.flat, b.Transfers...)
		}
		r.cutoff = len(r.flat)
		e := New(g, lookupOnly{w.labels}, Options{MaxDegree: 1 << 40, CacheEntries: -1})
		for _, addr := range []string{"a", "d", "e", "h"} {
			for hops := 1; hops <= 4; hops++ {
				res, err := e.Compute(context.Background(), Request{Chain: "test", Address: addr, Hops: hops,
					AsOf: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, res)
				got := map[string]string{}
				for _, a := range res.Assets {
					for _, s := range []struct {
						n    string
						side Side
					}{{"src", a.Source}, {"dst", a.Destination}} {
						got[a.Asset+"/"+s.n+"/total"] = s.side.Total
						for _, c := range s.side.Categories {
							got[a.Asset+"/"+s.n+"/"+c.Category] = c.Indirect
						}
					}
				}
				want := map[string]string{}
				for _, asset := range []string{model.NativeAsset, "usdt"} {
					for _, fwd := range []bool{false, true} {
						n := "src"
						if fwd {
							n = "dst"
						}
						bound := r.cutoff
						if fwd {
							bound = -1
						}
						R, X := r.sums(addr, asset, hops, fwd, bound)
						if R.Sign() == 0 && !moved(r, addr, asset) {
							continue
						}
						want[asset+"/"+n+"/total"] = R.String()
						for c, x := range X {
							if x.Sign() > 0 {
								want[asset+"/"+n+"/"+string(c)] = x.String()
							}
						}
					}
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("world %d, %s within %d hops differs from the reference (-ref +engine):\n%s", iter, addr, hops, d)
				}
			}
		}
	}
}

// moved reports whether addr moved asset at all (a side with total 0 is
// still reported when the other side of the asset has transfers).
func moved(r *ref, addr, asset string) bool {
	for _, t := range r.flat {
		if t.Asset == asset && t.From != t.To && (t.From == addr || t.To == addr) {
			return true
		}
	}
	return false
}

// More hops never lower an exposure, and direct exposure does not depend
// on hops.
func TestMonotoneInHops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for iter := 0; iter < 60; iter++ {
		w := randomWorld(rng, 60)
		g := graph.New(graph.Options{KeepTxHashes: true})
		if err := g.Append(w.blocks); err != nil {
			t.Fatal(err)
		}
		e := New(g, w.labels, Options{CacheEntries: -1})
		for _, addr := range []string{"d", "f"} {
			prev := map[string]*big.Int{}
			var prevDirect map[string]string
			for hops := 1; hops <= MaxHops; hops++ {
				res, err := e.Compute(context.Background(), Request{Chain: "test", Address: addr, Hops: hops})
				if err != nil {
					t.Fatal(err)
				}
				cur, direct := map[string]*big.Int{}, map[string]string{}
				for _, a := range res.Assets {
					for _, s := range []Side{a.Source, a.Destination} {
						for _, c := range s.Categories {
							k := a.Asset + "/" + s.Total + "/" + c.Category
							v, _ := new(big.Int).SetString(c.Indirect, 10)
							cur[k] = v
							direct[k] = c.Direct
						}
					}
				}
				for k, v := range prev {
					if cur[k] == nil || cur[k].Cmp(v) < 0 {
						t.Fatalf("world %d, %s: %s fell from %v to %v at %d hops", iter, addr, k, v, cur[k], hops)
					}
				}
				if prevDirect != nil {
					for k, d := range prevDirect {
						if d != "0" && direct[k] != d {
							t.Fatalf("world %d, %s: direct %s changed with hops: %s → %s", iter, addr, k, d, direct[k])
						}
					}
				}
				prev, prevDirect = cur, direct
			}
		}
	}
}

func TestCacheInvalidation(t *testing.T) {
	w, g := indexedWorld(t, []string{"1 hacker mid 30", "2 carol mid 70", "3 mid alice 50", "label hacker hack", "label newhack hack"})
	e := New(g, w.labels, Options{})
	ctx := context.Background()
	req := Request{Chain: "test", Address: "alice", AsOf: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	hack := func() string {
		t.Helper()
		js, err := e.JSON(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var r Result
		if err := json.Unmarshal(js, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Assets) == 0 || len(r.Assets[0].Source.Categories) == 0 {
			return "0/" + r.Assets[0].Source.Total
		}
		return r.Assets[0].Source.Categories[0].Indirect + "/" + r.Assets[0].Source.Total
	}
	if got := hack(); got != "15/50" {
		t.Fatalf("first: %s, want 15/50", got)
	}
	if got := hack(); got != "15/50" {
		t.Fatalf("cached: %s", got)
	}
	if h, m := e.CacheStats(); h != 1 || m != 1 {
		t.Fatalf("hits %d misses %d, want 1 and 1", h, m)
	}
	// The graph grows: hack transfers straight to alice, one from an
	// attributed address new to the graph.
	more, err := parseLedger([]string{"4 hacker alice 50", "4 newhack alice 10"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Append(more.blocks); err != nil {
		t.Fatal(err)
	}
	if got := hack(); got != "75/110" {
		t.Fatalf("after the graph grew: %s, want 75/110", got)
	}
	// The attributions change: no one is attributed any more.
	e.SetAttributor(labels{})
	if got := hack(); got != "0/110" {
		t.Fatalf("after new attributions: %s, want 0/110", got)
	}
	if _, m := e.CacheStats(); m != 3 {
		t.Fatalf("misses %d, want 3", m)
	}
}

func TestBatch(t *testing.T) {
	w, g := indexedWorld(t, []string{"1 hacker mid 30", "2 carol mid 70", "3 mid alice 50", "label hacker hack"})
	e := New(g, w.labels, Options{})
	reqs := []Request{{Chain: "test", Address: "alice"}, {Chain: "eth", Address: "alice"}, {Chain: "test", Address: "mid", Hops: 2},
		{Chain: "zzz", Address: "0x00000000000000000000000000000000000000aa"}}
	items, err := e.Batch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Err != nil || items[2].Err != nil {
		t.Fatalf("good requests failed: %v, %v", items[0].Err, items[2].Err)
	}
	if !errors.Is(items[1].Err, ErrBadRequest) || !errors.Is(items[3].Err, ErrUnknownChain) {
		t.Fatalf("bad requests: %v, %v", items[1].Err, items[3].Err)
	}
	one, _ := e.JSON(context.Background(), reqs[2])
	if string(one) != string(items[2].JSON) {
		t.Fatalf("batch item differs from a single request")
	}
	if _, err := e.Batch(context.Background(), make([]Request, MaxBatch+1)); !errors.Is(err, ErrBatchSize) {
		t.Fatalf("oversized batch: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Batch(ctx, reqs); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled batch: %v", err)
	}
}

func FuzzParseAsOf(f *testing.F) {
	for _, s := range []string{"2024-01-02", "2024-01-03T10:00:00Z", "2024-13-01", "", "2024-01-01T23:59:59-05:00", "yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAsOf(s)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if d.IsZero() {
			return
		}
		if d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 || d.Location() != time.UTC {
			t.Fatalf("ParseAsOf(%q) = %v, not a UTC date", s, d)
		}
		again, err := ParseAsOf(d.Format(time.DateOnly))
		if err != nil || !again.Equal(d) {
			t.Fatalf("ParseAsOf(%q) = %v does not round-trip: %v %v", s, d, again, err)
		}
	})
}

// Readers and a writer at once: exposures requested while blocks arrive
// always match a fresh computation on the graph they saw, and the cache
// never serves an answer from before the last block once it is in.
func TestConcurrentWithAppends(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	w := randomWorld(rng, 300)
	g := graph.New(graph.Options{KeepTxHashes: true, TailLimit: 16})
	e := New(g, w.labels, Options{})
	ctx := context.Background()
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := e.JSON(ctx, Request{Chain: "test", Address: []string{"a", "b", "c", "d"}[i%4], Hops: 1 + i%3}); err != nil && !errors.Is(err, ErrUnknownChain) {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range w.blocks {
		if err := g.Append(w.blocks[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for r := 0; r < 4; r++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"a", "b", "c", "d"} {
		req := Request{Chain: "test", Address: a, Hops: 3}
		cached, err := e.JSON(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := e.Compute(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(fresh)
		if string(cached) != string(want) {
			t.Fatalf("%s: cached answer differs from a fresh one after the appends", a)
		}
	}
}

// TestInvalidateChain: a rollback of one chain followed by another branch
// of the same length is seen once that chain's cache is dropped (the length
// check alone would serve the abandoned branch), while another chain's
// cached results stay and keep being served.
func TestInvalidateChain(t *testing.T) {
	w, g := indexedWorld(t, []string{"1 hacker mid 30", "2 carol mid 70", "3 mid alice 50", "label hacker hack"})
	// The same ledger as chain "other" too.
	onChain := func(bs []model.Block, c model.Chain) []model.Block {
		var out []model.Block
		for _, b := range bs {
			b.Chain = c
			b.Transfers = slices.Clone(b.Transfers)
			for i := range b.Transfers {
				b.Transfers[i].Chain = c
			}
			out = append(out, b)
		}
		return out
	}
	if err := g.Append(onChain(w.blocks, "other")); err != nil {
		t.Fatal(err)
	}
	e := New(g, w.labels, Options{})
	ctx := context.Background()
	asOf := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	total := func(c model.Chain) string {
		t.Helper()
		r, err := e.Exposure(ctx, Request{Chain: c, Address: "alice", AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Assets) == 0 {
			return "none"
		}
		return r.Assets[0].Source.Total
	}
	if a, b := total("test"), total("other"); a != "50" || b != "50" {
		t.Fatalf("before: test %s other %s, want 50 and 50", a, b)
	}
	// Chain test reorganizes: block 3 is replaced by a block with one
	// transfer too (the graph keeps its length), paying alice 20.
	g.Truncate("test", 3)
	fork, err := parseLedger([]string{"3 mid alice 20"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Append(fork.blocks); err != nil {
		t.Fatal(err)
	}
	if got := total("test"); got != "50" {
		t.Fatalf("before InvalidateChain the cache should still answer 50 (same graph length), got %s: the test no longer shows the need", got)
	}
	e.InvalidateChain("test")
	if n := e.cache.len(); n != 1 {
		t.Errorf("after InvalidateChain(test): %d cached entries, want 1 (other's)", n)
	}
	h0, m0 := e.CacheStats()
	if got := total("test"); got != "20" {
		t.Errorf("after the rollback: test %s, want 20", got)
	}
	if got := total("other"); got != "50" {
		t.Errorf("other: %s, want 50", got)
	}
	if h, m := e.CacheStats(); h-h0 != 1 || m-m0 != 1 {
		t.Errorf("after InvalidateChain(test): %d hits %d misses, want other's hit and test's miss", h-h0, m-m0)
	}
}

// TestInvalidateChainStraddlingRequests: two requests for the same address
// straddle a rollback. R1 took its view of the old branch just before the
// rollback and caches its answer just after InvalidateChain dropped the
// chain's entries; R2 read the chain's generation before the rollback and
// takes its view after the new branch brought the graph back to the same
// length. R2 must answer from the new branch, not from R1's entry (same
// length, same generation as R2 read first).
func TestInvalidateChainStraddlingRequests(t *testing.T) {
	w, g := indexedWorld(t, []string{"1 hacker mid 30", "2 carol mid 70", "3 mid alice 50", "label hacker hack"})
	fork, err := parseLedger([]string{"3 mid alice 20"})
	if err != nil {
		t.Fatal(err)
	}
	e := New(g, w.labels, Options{})
	req := Request{Chain: "test", Address: "alice", AsOf: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	r2Waiting, release := make(chan struct{}), make(chan struct{})
	var gens, views atomic.Int32
	e.testHook = func(stage string, _ Request) {
		switch {
		case stage == "generation" && gens.Add(1) == 1: // R2
			close(r2Waiting)
			<-release
		case stage == "view" && views.Add(1) == 1: // R1, holding the old branch
			g.Truncate("test", 3)
			e.InvalidateChain("test")
			if err := g.Append(fork.blocks); err != nil {
				t.Error(err)
			}
		}
	}
	total := func(r *Result) string {
		if len(r.Assets) == 0 {
			return "none"
		}
		return r.Assets[0].Source.Total
	}
	r2 := make(chan string, 1)
	go func() {
		r, err := e.Exposure(context.Background(), req)
		if err != nil {
			t.Error(err)
			r2 <- ""
			return
		}
		r2 <- total(r)
	}()
	<-r2Waiting
	r1, err := e.Exposure(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := total(r1); got != "50" {
		t.Fatalf("R1 (view of the old branch): %s, want 50", got)
	}
	close(release)
	if got := <-r2; got != "20" {
		t.Errorf("R2 (view of the new branch): %s, want 20 (R1's answer from the abandoned branch was served)", got)
	}
	e.testHook = nil
	r3, err := e.Exposure(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := total(r3); got != "20" {
		t.Errorf("after the rollback: %s, want 20", got)
	}
}

// indexedWorld parses a ledger script (parseLedger) and indexes its blocks.
func indexedWorld(t *testing.T, lines []string) (*world, *graph.Index) {
	t.Helper()
	w, err := parseLedger(lines)
	if err != nil {
		t.Fatal(err)
	}
	g := graph.New(graph.Options{KeepTxHashes: true})
	if err := g.Append(w.blocks); err != nil {
		t.Fatal(err)
	}
	return w, g
}
