package trace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// benchTransfers is the size of the generated benchmark ledger
// (RT_BENCH_TRANSFERS, default 2,000,000).
func benchTransfers() int {
	if s := os.Getenv("RT_BENCH_TRANSFERS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 2_000_000
}

var (
	benchOnce  sync.Once
	benchIndex *graph.Index
	benchSeeds []string
	benchBuild time.Duration
	benchHeap  uint64
)

// genLedger appends n transfers on chain "eth" to ix: one address per five
// transfers, 200 transfers a block; senders and receivers are half uniform,
// half heavy-tailed (a few hubs); a quarter of the transfers move one of
// three tokens. Deterministic.
func genLedger(ix *graph.Index, n int) error {
	r := rand.New(rand.NewPCG(42, 7))
	na := n / 5
	if na < 100 {
		na = 100
	}
	addrs := make([]string, na)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("0x%040x", uint64(i)*0x9e3779b97f4a7c15)
	}
	tokens := []string{model.NativeAsset, "0x" + fmt.Sprintf("%040x", 0xdac17f), "0x" + fmt.Sprintf("%040x", 0xa0b869), "0x" + fmt.Sprintf("%040x", 0x6b1754)}
	pick := func() string {
		if r.IntN(2) == 0 {
			return addrs[r.IntN(na)]
		}
		i := int(r.ExpFloat64() * float64(na) / 50)
		if i >= na {
			i = na - 1
		}
		return addrs[i]
	}
	const perBlock = 200
	const batch = 500
	blocks := make([]model.Block, 0, batch)
	num := uint64(1)
	for done := 0; done < n; {
		blocks = blocks[:0]
		for len(blocks) < batch && done < n {
			b := model.Block{Chain: "eth", Number: num, Time: 1_700_000_000 + int64(num)*12}
			k := min(perBlock, n-done)
			b.Transfers = make([]model.Transfer, k)
			for i := range b.Transfers {
				asset := model.NativeAsset
				if r.IntN(4) == 0 {
					asset = tokens[1+r.IntN(3)]
				}
				b.Transfers[i] = model.Transfer{Chain: "eth", Block: num, Time: b.Time, Position: model.MakePosition(uint32(i), 0),
					From: pick(), To: pick(), Asset: asset, Amount: *uint256.NewInt(1 + r.Uint64N(1<<40)), Kind: model.KindNative}
			}
			blocks = append(blocks, b)
			done += k
			num++
		}
		if err := ix.Append(blocks); err != nil {
			return err
		}
	}
	ix.Compact()
	return nil
}

// benchHashes stands in for the ledger store as the hash source of the
// generated ledger, whose transaction hashes are a function of (block,
// position): it replays a block's transfers from the index.
type benchHashes struct{ ix *graph.Index }

func (h *benchHashes) ScanTransfers(ctx context.Context, chain model.Chain, from, to uint64, fn func(*model.Transfer) error) error {
	r := h.ix.Reader()
	defer r.Close()
	c, _ := r.Chain(chain)
	for b := from; b <= to; b++ {
		first, end, ok := c.BlockRange(b)
		if !ok {
			continue
		}
		for s := first; s < end; s++ {
			p := c.Position(s)
			t := model.Transfer{Chain: chain, Block: b, Position: p, TxHash: fmt.Sprintf("0x%032x%032x", b, uint64(p))}
			if err := fn(&t); err != nil {
				return err
			}
		}
	}
	return nil
}

// TxHash makes the hash of one transfer (graph.PointHashes).
func (h *benchHashes) TxHash(ctx context.Context, chain model.Chain, block uint64, pos model.Position) (string, bool, error) {
	return fmt.Sprintf("0x%032x%032x", block, uint64(pos)), true, nil
}

func benchSetup(b *testing.B) {
	benchOnce.Do(func() {
		n := benchTransfers()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		hs := &benchHashes{}
		benchIndex = graph.New(graph.Options{Bulk: true, Hashes: hs})
		hs.ix = benchIndex
		if err := genLedger(benchIndex, n); err != nil {
			b.Fatal(err)
		}
		benchBuild = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		benchHeap = m1.HeapAlloc - m0.HeapAlloc
		r := benchIndex.Reader()
		c, _ := r.Chain("eth")
		// Seeds: addresses of middling degree whose first payment is in
		// the first tenth of the ledger, so a trace has room to spread.
		for id := uint32(c.NumAddresses() / 3); len(benchSeeds) < 64 && id < uint32(c.NumAddresses()); id += 997 {
			out := c.Out(id, nil)
			if d := c.Degree(id); d >= 5 && d <= 20 && len(out) > 0 && int(out[0]) < c.Len()/10 {
				benchSeeds = append(benchSeeds, c.Address(id))
			}
		}
		if len(benchSeeds) == 0 {
			b.Fatal("no benchmark seeds")
		}
		r.Close()
	})
}

// BenchmarkGraphBuild reports the graph index size per transfer.
func BenchmarkGraphBuild(b *testing.B) {
	benchSetup(b)
	r := benchIndex.Reader()
	defer r.Close()
	st := r.Stats()[0]
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(float64(st.Bytes)/float64(st.Transfers), "index-bytes/transfer")
	b.ReportMetric(float64(benchHeap)/float64(st.Transfers), "heap-bytes/transfer")
	b.ReportMetric(float64(st.Transfers)/benchBuild.Seconds(), "transfers/s-build")
	b.Logf("%d transfers, %d addresses, %d blocks, index %d bytes, heap growth %d bytes, built in %s",
		st.Transfers, st.Addresses, st.Blocks, st.Bytes, benchHeap, benchBuild.Round(time.Millisecond))
}

var benchWide bool

// BenchmarkTraceForwardWide is BenchmarkTraceForward with all 64 seeds in
// one trace, so that even on a 100 M-transfer ledger the trace spreads to
// the 1,000,000-edge bound.
func BenchmarkTraceForwardWide(b *testing.B) {
	benchWide = true
	defer func() { benchWide = false }()
	BenchmarkTraceForward(b)
}

// BenchmarkTraceForward runs forward traces bounded at 1,000,000 touched
// transfers (no stop rules, no hub bound) and reports touched transfers per
// second, result building included.
func BenchmarkTraceForward(b *testing.B) {
	for _, p := range []Policy{Poison, Haircut, FIFO} {
		b.Run(p.String(), func(b *testing.B) {
			benchSetup(b)
			r := benchIndex.Reader()
			defer r.Close()
			eng := &Engine{Graph: Index(r)}
			var touched int64
			var sweep, sweepCPU time.Duration
			var flows int
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				from := []string{benchSeeds[i%len(benchSeeds)]}
				if benchWide {
					from = benchSeeds // all seeds at once: a trace that spreads to the touched bound
				}
				req := Request{Chain: "eth", From: from, Policy: p, Direction: Forward,
					Limits: Limits{MaxHops: 1000, MaxNodes: 50_000_000, MaxEdges: 50_000_000, MaxTouched: 1_000_000},
					Stops:  Stops{Categories: []model.Category{}, MaxDegree: 1 << 62}}
				t0 := time.Now()
				c0 := cpuTime()
				e, err := eng.start(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.sweep(); err != nil && !errors.Is(err, errStop) {
					b.Fatal(err)
				}
				sweep += time.Since(t0)
				sweepCPU += cpuTime() - c0
				touched += e.touched
				flows += len(e.flows)
				if _, err := e.result(); err != nil {
					b.Fatal(err)
				}
			}
			total := time.Duration(b.Elapsed())
			b.ReportMetric(float64(touched)/sweep.Seconds(), "sweep-edges/s")
			b.ReportMetric(float64(touched)/sweepCPU.Seconds(), "sweep-edges/cpu-s")
			b.ReportMetric(float64(touched)/total.Seconds(), "edges/s")
			b.ReportMetric(float64(touched)/(cpuTime()-cpu0).Seconds(), "edges/cpu-s")
			b.ReportMetric(float64(touched)/float64(b.N), "edges/op")
			b.ReportMetric(float64(flows)/float64(b.N), "tainted/op")
		})
	}
}

// cpuTime returns the process's user+system CPU time (GC included), which
// the shared machine's contention does not inflate the way it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
