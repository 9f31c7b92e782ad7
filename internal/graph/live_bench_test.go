package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// Benchmarks of the live index: the cost of appending new blocks to an
// index with a large base, and whether trace and exposure keep their speed
// when part of the ledger sits in the delta. The ledger has RT_BENCH_TRANSFERS
// transfers (default 2,000,000), 200 a block, one address per five
// transfers, half the endpoints heavy-tailed (hubs).

func benchN() int {
	if s := os.Getenv("RT_BENCH_TRANSFERS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 2_000_000
}

// ledgerGen makes deterministic blocks of 200 transfers.
type ledgerGen struct {
	r     *rand.Rand
	addrs []string
	num   uint64
}

func newLedgerGen(n int) *ledgerGen {
	na := max(100, n/5)
	g := &ledgerGen{r: rand.New(rand.NewPCG(42, 7)), addrs: make([]string, na), num: 1}
	for i := range g.addrs {
		g.addrs[i] = fmt.Sprintf("0x%040x", uint64(i)*0x9e3779b97f4a7c15)
	}
	return g
}

func (g *ledgerGen) pick() string {
	if g.r.IntN(2) == 0 {
		return g.addrs[g.r.IntN(len(g.addrs))]
	}
	return g.addrs[min(len(g.addrs)-1, int(g.r.ExpFloat64()*float64(len(g.addrs))/50))]
}

var tokens = []string{model.NativeAsset, fmt.Sprintf("0x%040x", 0xdac17f), fmt.Sprintf("0x%040x", 0xa0b869)}

// block returns the next block; fresh is the share of transfers paying a
// never-seen address (new addresses keep appearing on a live chain).
func (g *ledgerGen) block(fresh float64) model.Block {
	b := model.Block{Chain: "eth", Number: g.num, Time: 1_700_000_000 + int64(g.num)*12}
	b.Transfers = make([]model.Transfer, 200)
	for i := range b.Transfers {
		to := g.pick()
		if g.r.Float64() < fresh {
			to = fmt.Sprintf("0x%040x", uint64(1<<62)+g.num*1000+uint64(i))
		}
		asset := model.NativeAsset
		if g.r.IntN(4) == 0 {
			asset = tokens[1+g.r.IntN(2)]
		}
		b.Transfers[i] = model.Transfer{Chain: "eth", Block: g.num, Time: b.Time, Position: model.MakePosition(uint32(i), 0),
			From: g.pick(), To: to, Asset: asset, Amount: *uint256.NewInt(1 + g.r.Uint64N(1<<40)), Kind: model.KindNative}
	}
	g.num++
	return b
}

func (g *ledgerGen) fill(ix *graph.Index, n int) {
	for done := 0; done < n; {
		bs := make([]model.Block, 0, 500)
		for len(bs) < 500 && done < n {
			bs = append(bs, g.block(0))
			done += 200
		}
		if err := ix.Append(bs); err != nil {
			panic(err)
		}
	}
}

// hashes makes a transaction hash from (block, position) for result
// building (graph.PointHashes), standing in for the ledger store.
type hashes struct{}

func (hashes) ScanTransfers(context.Context, model.Chain, uint64, uint64, func(*model.Transfer) error) error {
	return nil
}

func (hashes) TxHash(_ context.Context, _ model.Chain, block uint64, pos model.Position) (string, bool, error) {
	return fmt.Sprintf("0x%032x%032x", block, uint64(pos)), true, nil
}

// BenchmarkLiveAppend appends 200-transfer blocks (a fifth of them paying
// new addresses) to an index whose base holds the benchmark ledger, one
// block per Append call as the follower does. "delta" never merges;
// "merging" uses the default tail limit, so background merges into a new
// base run during the benchmark and are waited for inside the timing.
func BenchmarkLiveAppend(b *testing.B) {
	for _, mode := range []string{"delta", "merging"} {
		b.Run(mode, func(b *testing.B) {
			n := benchN()
			o := graph.Options{Hashes: hashes{}}
			if mode == "delta" {
				o.TailLimit = 1 << 30
			}
			ix := graph.New(o)
			g := newLedgerGen(n)
			g.fill(ix, n)
			ix.Compact()
			pool := make([]model.Block, 1000)
			for i := range pool {
				pool[i] = g.block(0.2)
			}
			next := g.num
			r0 := ix.Reader()
			bytes0 := r0.Stats()[0].Bytes
			r0.Close()
			runtime.GC()
			b.ResetTimer()
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				blk := &pool[i%len(pool)]
				blk.Number = next
				for j := range blk.Transfers {
					blk.Transfers[j].Block = next
				}
				next++
				if err := ix.Append([]model.Block{*blk}); err != nil {
					b.Fatal(err)
				}
			}
			ix.Wait()
			el := time.Since(t0)
			b.StopTimer()
			r := ix.Reader()
			st := r.Stats()[0]
			r.Close()
			b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*200), "ns/transfer")
			b.ReportMetric(float64(b.N*200)/el.Seconds(), "transfers/s")
			b.ReportMetric(float64(st.Merges), "merges")
			b.ReportMetric(float64(st.Delta), "delta-transfers")
			if mode == "delta" {
				// Index growth per appended transfer: columns, new addresses
				// and the delta vectors.
				b.ReportMetric(float64(st.Bytes-bytes0)/float64(b.N*200), "bytes/appended-transfer")
			}
		})
	}
}

// Two indexes of the same ledger: "base" with everything in the CSR base,
// "delta" whose newest transfers are in the delta, as many as the default
// merge threshold lets a delta grow to (max(65,536, 1/32 of the ledger)).
var (
	twinOnce  sync.Once
	twins     map[string]*graph.Index
	twinSeeds []string
	twinAddrs []string
)

func twinSetup(b *testing.B) {
	twinOnce.Do(func() {
		n := benchN()
		d := max(1<<16, n/32) / 200 * 200 // the default merge threshold: the largest delta a live index holds
		twins = map[string]*graph.Index{}
		for _, name := range []string{"base", "delta"} {
			ix := graph.New(graph.Options{Hashes: hashes{}, TailLimit: 1 << 30})
			g := newLedgerGen(n)
			if name == "delta" {
				g.fill(ix, n-d)
				ix.Compact()
				for done := 0; done < d; done += 200 { // one block per Append, like the follower
					if err := ix.Append([]model.Block{g.block(0)}); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				g.fill(ix, n)
				ix.Compact()
			}
			twins[name] = ix
		}
		r := twins["delta"].Reader()
		defer r.Close()
		c, _ := r.Chain("eth")
		if st := c.Stats(); st.Delta != d {
			b.Fatalf("delta index has %d delta transfers, want %d", st.Delta, d)
		}
		// Trace seeds: middling addresses active early, so the trace runs
		// through the whole ledger, delta included.
		for id := uint32(c.NumAddresses() / 3); len(twinSeeds) < 64 && id < uint32(c.NumAddresses()); id += 997 {
			out := c.Out(id, nil)
			if dg := c.Degree(id); dg >= 5 && dg <= 20 && len(out) > 0 && int(out[0]) < c.Len()/10 {
				twinSeeds = append(twinSeeds, c.Address(id))
			}
		}
		// Exposure targets: addresses with transfers in the delta.
		for s := uint32(c.Len() - d); len(twinAddrs) < 256 && s < uint32(c.Len()); s += 211 {
			twinAddrs = append(twinAddrs, c.Address(c.Transfer(s).Dst))
		}
	})
}

// BenchmarkLiveTrace runs the forward trace of BenchmarkTraceForward
// (internal/trace; poison, 1,000,000 touched transfers, no stop rules) on
// both indexes: edges/s with the newest transfers in the delta vs none.
func BenchmarkLiveTrace(b *testing.B) {
	for _, name := range []string{"base", "delta"} {
		b.Run(name, func(b *testing.B) {
			twinSetup(b)
			r := twins[name].Reader()
			defer r.Close()
			eng := &trace.Engine{Graph: trace.Index(r)}
			var touched int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := trace.Request{Chain: "eth", From: []string{twinSeeds[i%len(twinSeeds)]}, Policy: trace.Poison, Direction: trace.Forward,
					Limits: trace.Limits{MaxHops: 1000, MaxNodes: 50_000_000, MaxEdges: 50_000_000, MaxTouched: 1_000_000},
					Stops:  trace.Stops{Categories: []model.Category{}, MaxDegree: 1 << 62}}
				res, err := eng.Run(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				touched += res.Stats.TransfersRead
			}
			b.ReportMetric(float64(touched)/b.Elapsed().Seconds(), "edges/s")
			b.ReportMetric(float64(touched)/float64(b.N), "edges/op")
		})
	}
}

// BenchmarkLiveExposure scores addresses with transfers in the delta
// (3 hops, no cache) on both indexes and reports the p50 and p99 latency.
func BenchmarkLiveExposure(b *testing.B) {
	for _, name := range []string{"base", "delta"} {
		b.Run(name, func(b *testing.B) {
			twinSetup(b)
			eng := exposure.New(twins[name], nil, exposure.Options{CacheEntries: -1})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := eng.Compute(context.Background(), exposure.Request{Chain: "eth", Address: twinAddrs[i%len(twinAddrs)], Hops: 3,
					AsOf: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkLiveAdjacency isolates the adjacency hot path: a breadth-first
// walk over Out() from the trace seeds until 1,000,000 edges are read, on
// both indexes (edges/s).
func BenchmarkLiveAdjacency(b *testing.B) {
	for _, name := range []string{"base", "delta"} {
		b.Run(name, func(b *testing.B) {
			twinSetup(b)
			r := twins[name].Reader()
			defer r.Close()
			c, _ := r.Chain("eth")
			seen := make([]bool, c.NumAddresses())
			var buf, queue []uint32
			var edges int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clear(seen)
				id, _ := c.Lookup(twinSeeds[i%len(twinSeeds)])
				queue = append(queue[:0], id)
				seen[id] = true
				read := 0
				for q := 0; q < len(queue) && read < 1_000_000; q++ {
					buf = c.Out(queue[q], buf[:0]) // results passed back as buffers, as trace does
					for _, s := range buf {
						d := c.Transfer(s).Dst
						if !seen[d] {
							seen[d] = true
							queue = append(queue, d)
						}
					}
					read += len(buf)
				}
				edges += int64(read)
			}
			b.ReportMetric(float64(edges)/b.Elapsed().Seconds(), "edges/s")
			b.ReportMetric(float64(edges)/float64(b.N), "edges/op")
		})
	}
}
