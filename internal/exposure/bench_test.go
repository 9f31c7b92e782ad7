package exposure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// benchWorld is a random ledger of nTransfers over nAddrs EVM addresses
// (uniform counterparties, so an address's 3-hop neighbourhood holds a few
// thousand transfers), 1% of addresses attributed.
func benchWorld(tb testing.TB, nAddrs, nTransfers int) (*graph.Index, labels, []string) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	addrs := make([]string, nAddrs)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("0x%040x", i+1)
	}
	lb := labels{}
	cats := []model.Category{model.CatHack, model.CatSanctioned, model.CatExchange, model.CatMixer, model.CatScam}
	for i := 0; i < nAddrs/100; i++ {
		a := addrs[rng.IntN(nAddrs)]
		lb["bench/"+a] = append(lb["bench/"+a], model.Attribution{Chain: "bench", Address: a, Category: cats[i%len(cats)]})
	}
	g := graph.New(graph.Options{KeepTxHashes: true})
	const perBlock = 200
	var blocks []model.Block
	for i := 0; i < nTransfers; i += perBlock {
		bn := uint64(i / perBlock)
		b := model.Block{Chain: "bench", Number: bn, Time: 1_600_000_000 + 12*int64(bn)}
		for j := 0; j < perBlock; j++ {
			t := model.Transfer{Chain: "bench", Block: bn, Time: b.Time, Position: model.MakePosition(uint32(j), 0),
				TxHash: fmt.Sprintf("0x%064x", i+j), From: addrs[rng.IntN(nAddrs)], To: addrs[rng.IntN(nAddrs)],
				Asset: model.NativeAsset, Kind: model.KindNative}
			t.Amount.SetUint64(1 + rng.Uint64N(1e18))
			b.Transfers = append(b.Transfers, t)
		}
		blocks = append(blocks, b)
		if len(blocks) == 256 {
			if err := g.Append(blocks); err != nil {
				tb.Fatal(err)
			}
			blocks = blocks[:0]
		}
	}
	if err := g.Append(blocks); err != nil {
		tb.Fatal(err)
	}
	return g, lb, addrs
}

// BenchmarkExposure3Hops computes (uncached) 3-hop exposures of random
// addresses of a 1M-transfer world (mean degree, in + out, 40 or 100) and
// reports latency percentiles (wall clock, and CPU time of the computing
// thread, which a loaded machine does not inflate) and the transfers each
// read. Run:
//
//	go test -run '^$' -bench Exposure3Hops -benchtime 2000x ./internal/exposure
func BenchmarkExposure3Hops(b *testing.B) {
	for _, c := range []struct {
		name   string
		nAddrs int
	}{{"degree40", 50_000}, {"degree100", 20_000}} {
		b.Run(c.name, func(b *testing.B) { benchExposure(b, c.nAddrs, 1_000_000) })
	}
}

func benchExposure(b *testing.B, nAddrs, nTransfers int) {
	g, lb, addrs := benchWorld(b, nAddrs, nTransfers)
	e := New(g, lb, Options{CacheEntries: -1})
	rng := rand.New(rand.NewPCG(9, 9))
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	var read, maxRead int64
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0, c0 := time.Now(), threadCPU()
		res, err := e.Compute(ctx, Request{Chain: "bench", Address: addrs[rng.IntN(len(addrs))], Hops: 3})
		if err != nil {
			b.Fatal(err)
		}
		cpu = append(cpu, threadCPU()-c0)
		lat = append(lat, time.Since(t0))
		read += res.Stats.TransfersRead
		maxRead = max(maxRead, res.Stats.TransfersRead)
	}
	b.StopTimer()
	q := func(l []time.Duration, p float64) float64 {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return float64(l[min(len(l)-1, int(p*float64(len(l))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(lat, 0.5), "p50-ms")
	b.ReportMetric(q(lat, 0.99), "p99-ms")
	b.ReportMetric(q(cpu, 0.99), "p99-cpu-ms")
	b.ReportMetric(float64(read)/float64(b.N), "transfers-read/op")
	b.ReportMetric(float64(maxRead), "max-transfers-read")
}

// BenchmarkExposureCached is the cache-hit path (JSON bytes of a computed
// exposure).
func BenchmarkExposureCached(b *testing.B) {
	g, lb, addrs := benchWorld(b, 10_000, 100_000)
	e := New(g, lb, Options{})
	ctx := context.Background()
	for _, a := range addrs[:1000] {
		if _, err := e.JSON(ctx, Request{Chain: "bench", Address: a}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.JSON(ctx, Request{Chain: "bench", Address: addrs[i%1000]}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
