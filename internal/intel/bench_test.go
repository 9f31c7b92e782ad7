package intel

import (
	"math/rand"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/redthread/redthread/internal/model"
)

// BenchmarkLoadShipped parses every embedded pack and builds the DB
// (target: at most 2 s).
func BenchmarkLoadShipped(b *testing.B) {
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		ds, err := LoadShipped()
		if err != nil {
			b.Fatal(err)
		}
		db := Build(ds)
		if db.Stats().Addresses == 0 {
			b.Fatal("empty")
		}
	}
}

// BenchmarkParseShipped is the parsing part of BenchmarkLoadShipped.
func BenchmarkParseShipped(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := LoadShipped(); err != nil {
			b.Fatal(err)
		}
	}
}

func lookupKeys(db *DB, n int) []model.Attribution {
	var all []model.Attribution
	db.Each(func(a model.Attribution) bool { all = append(all, a); return true })
	r := rand.New(rand.NewSource(1))
	out := make([]model.Attribution, n)
	for i := range out {
		out[i] = all[r.Intn(len(all))]
	}
	return out
}

// BenchmarkLookup measures Lookup on random attributed addresses of the
// shipped packs (target: p50 at most 2 µs); it reports p50 and p99.
func BenchmarkLookup(b *testing.B) {
	db := shippedDB(b)
	keys := lookupKeys(db, 4096)
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := &keys[i&4095]
		t0 := time.Now()
		as := db.Lookup(k.Chain, k.Address, asOf)
		lat = append(lat, time.Since(t0))
		if as == nil && k.ValidAt(asOf) {
			b.Fatal("miss")
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkLookupMiss measures Lookup of addresses no source attributes,
// the common case in a trace or a KYT check.
func BenchmarkLookupMiss(b *testing.B) {
	db := shippedDB(b)
	r := rand.New(rand.NewSource(2))
	keys := make([]string, 4096)
	for i := range keys {
		var k [20]byte
		r.Read(k[:])
		keys[i] = evmString(k)
	}
	asOf := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if db.Lookup(model.ChainETH, keys[i&4095], asOf) != nil {
			b.Fatal("hit")
		}
	}
}

// BenchmarkBytesPerAddress reports the heap the index takes per attributed
// address (target: at most 200 bytes), measured as the live heap after
// Build minus the live heap of the parsed datasets alone.
func BenchmarkBytesPerAddress(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ds, err := LoadShipped()
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		db := Build(ds)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		// The index is what Build adds (address maps, records, interned
		// string headers) minus the entity and incident tables it copies,
		// plus the bytes of the interned strings, which the datasets still
		// share here but which the index alone keeps alive in use.
		strBytes := 0
		for _, s := range db.strs {
			strBytes += len(s)
		}
		tables := cap(db.entities)*int(unsafe.Sizeof(model.Entity{})) + cap(db.incs)*int(unsafe.Sizeof(Incident{}))
		index := int(m1.HeapAlloc-m0.HeapAlloc) - tables + strBytes
		b.ReportMetric(float64(index)/float64(db.Stats().Addresses), "bytes/address")
		b.ReportMetric(float64(int(m1.HeapAlloc-m0.HeapAlloc)+strBytes)/float64(db.Stats().Addresses), "bytes/address-incl-entity-table")
		b.ReportMetric(float64(db.Stats().Addresses), "addresses")
		runtime.KeepAlive(ds)
		runtime.KeepAlive(db)
	}
}

// TestLookupLatency guards the lookup target loosely in normal test runs
// (a loaded CI machine gets 10× slack; BENCHMARKS.md has the real figure).
func TestLookupLatency(t *testing.T) {
	db := shippedDB(t)
	keys := lookupKeys(db, 2000)
	asOf := time.Now()
	lat := make([]time.Duration, len(keys))
	for i := range keys {
		t0 := time.Now()
		db.Lookup(keys[i].Chain, keys[i].Address, asOf)
		lat[i] = time.Since(t0)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if p50 := lat[len(lat)/2]; p50 > 20*time.Microsecond {
		t.Errorf("lookup p50 %v", p50)
	}
}

// cpuTime is the process's user+system CPU time, so a benchmark on a
// shared machine can report its own cost beside its wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
