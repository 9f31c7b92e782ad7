package intel

import (
	"encoding/hex"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// syntheticInferredSet makes an inferred set of n deposit addresses of 64
// exchanges as the deposit-address heuristic stores them: 1–3 sweeps each
// with their transactions, a target wallet per exchange, dates in 2024.
func syntheticInferredSet(n int, seed int64) *InferredSet {
	r := rand.New(rand.NewSource(seed))
	hexOf := func(k int) string {
		b := make([]byte, k)
		r.Read(b)
		return "0x" + hex.EncodeToString(b)
	}
	const exchanges = 64
	var ents, labels, targets [exchanges]string
	for i := range exchanges {
		ents[i] = "exchange:x" + strconv.Itoa(i)
		labels[i] = "deposit address of " + ents[i]
		targets[i] = hexOf(20)
	}
	src := model.Source{Name: "heuristic:deposit-address"}
	set := &InferredSet{Method: "deposit-address", Chain: model.ChainETH, Computed: day0("2025-01-01"), Head: 21_000_000,
		Transfers: 10 * n, Params: "max-delay=24h min-collector=10", Inferences: make([]Inference, n)}
	base := day0("2024-01-01")
	for i := range set.Inferences {
		x := r.Intn(exchanges)
		sweeps := 1 + r.Intn(3)
		first := base.Add(time.Duration(r.Intn(300*86400)) * time.Second)
		txs := make([]string, sweeps)
		for j := range txs {
			txs[j] = hexOf(32)
		}
		set.Inferences[i] = Inference{
			Attribution: model.Attribution{Chain: model.ChainETH, Address: hexOf(20), Entity: ents[x], Label: labels[x],
				Category: model.CatExchange, Role: "deposit address", Source: src, Confidence: model.Confidence(40 + 10*sweeps),
				ValidFrom: first.Truncate(24 * time.Hour)},
			Evidence: Evidence{Target: targets[x], Sweeps: sweeps, Senders: 1 + r.Intn(4), Txs: txs, FirstSweep: first,
				LastSweep: first.Add(time.Duration(sweeps-1) * 36 * time.Hour)},
		}
	}
	return set
}

// BenchmarkInferredBytesPerAddress stores a synthetic inferred set of
// INTEL_BENCH_INFERRED deposit addresses (default 1,000,000), opens the
// store's DB (inferred sets only), and reports the live heap the DB keeps
// per inferred address (target: at most 200 bytes, as for listed ones) and
// the p50/p99 of Lookup and of Evidence on random inferred addresses.
func BenchmarkInferredBytesPerAddress(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("INTEL_BENCH_INFERRED"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("INTEL_BENCH_INFERRED=%q: want a positive count", s)
		}
		n = v
	}
	st := NewStore(b.TempDir())
	st.NoShipped = true
	set := syntheticInferredSet(n, 1)
	if err := st.SaveInferred(set); err != nil {
		b.Fatal(err)
	}
	keys := make([]model.Attribution, 4096)
	r := rand.New(rand.NewSource(2))
	for i := range keys {
		keys[i] = set.Inferences[r.Intn(n)].Attribution
	}
	set = nil
	files, _ := filepath.Glob(filepath.Join(st.Dir(), "inferred", "*", "*"))
	size := int64(0)
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.ReportMetric(float64(size)/float64(n), "file-bytes/address")
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		done, peak := make(chan struct{}), make(chan uint64)
		go func() { // sample the heap while the DB opens
			var m runtime.MemStats
			max := uint64(0)
			for {
				runtime.ReadMemStats(&m)
				max = maxU(max, m.HeapAlloc)
				select {
				case <-done:
					peak <- max
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		db, err := st.DB()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Milliseconds()), "open-ms")
		close(done)
		b.ReportMetric(float64(int64(<-peak)-int64(m0.HeapAlloc))/float64(n), "open-peak-bytes/address")
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(n), "bytes/address")
		debug.FreeOSMemory() // return the build's garbage now, not while lookups are timed
		asOf := day0("2025-06-01")
		lat := make([]time.Duration, 0, 200000)
		evLat := make([]time.Duration, 0, 2000)
		for j := 0; j < 200000; j++ {
			k := &keys[j&4095]
			t0 := time.Now()
			as := db.Lookup(k.Chain, k.Address, asOf)
			lat = append(lat, time.Since(t0))
			if len(as) != 1 {
				b.Fatalf("Lookup(%s) = %+v", k.Address, as)
			}
			if j < 2000 {
				t0 = time.Now()
				_, ok := db.Evidence(&as[0])
				evLat = append(evLat, time.Since(t0))
				if !ok {
					b.Fatalf("no evidence for %s", k.Address)
				}
			}
		}
		pct := func(l []time.Duration, p int) float64 {
			sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
			return float64(l[len(l)*p/100].Nanoseconds())
		}
		b.ReportMetric(pct(lat, 50), "lookup-p50-ns")
		b.ReportMetric(pct(lat, 99), "lookup-p99-ns")
		b.ReportMetric(pct(evLat, 50), "evidence-p50-ns")
		b.ReportMetric(float64(n), "addresses")
		runtime.KeepAlive(db)
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// TestInferredHeapPerAddress guards the memory target in normal test runs
// on a smaller set (BENCHMARKS.md has the 1 M figure): a store's DB must keep
// an inferred address in at most 200 bytes of heap, its evidence left in
// the file.
func TestInferredHeapPerAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50,000-address set")
	}
	const n = 50_000
	st := NewStore(t.TempDir())
	st.NoShipped = true
	if err := st.SaveInferred(syntheticInferredSet(n, 3)); err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
	t.Logf("%.0f bytes of heap per inferred address", per)
	if per > 200 {
		t.Errorf("%.0f bytes of heap per inferred address, want at most 200", per)
	}
	if db.Stats().Addresses != n {
		t.Errorf("%d addresses, want %d", db.Stats().Addresses, n)
	}
	runtime.KeepAlive(db)
}
