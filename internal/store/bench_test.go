package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// benchWorld makes n transfers over a Zipf-distributed address population
// with one hub (address 1) that takes part in about 1 in 8 transfers.
func benchWorld(n, perBlock int, seed uint64) []model.Block {
	r := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(r, 1.1, 4, uint64(n/4))
	var blocks []model.Block
	for i := 0; i < n; i += perBlock {
		num := uint64(1_000_000 + i/perBlock)
		b := model.Block{Chain: "eth", Number: num, Time: int64(1_600_000_000 + num*12)}
		for j := 0; j < perBlock && i+j < n; j++ {
			from, to := int(z.Uint64())+2, int(z.Uint64())+2
			if r.IntN(8) == 0 {
				to = 1
			}
			t := model.Transfer{Chain: "eth", Block: num, Time: b.Time, Position: model.MakePosition(uint32(j), 0),
				TxHash: randHash(r), From: addr(from), To: addr(to), Asset: model.NativeAsset, Kind: model.KindNative}
			t.Amount.SetUint64(r.Uint64() >> 4)
			b.Transfers = append(b.Transfers, t)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// randHash returns a uniformly random 32-byte hash, as real ones are.
func randHash(r *rand.Rand) string {
	var b [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return "0x" + hex.EncodeToString(b[:])
}

func benchN(b *testing.B, def int) int {
	if s := os.Getenv("REDTHREAD_BENCH_TRANSFERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return def
}

// BenchmarkWrite measures store.Write throughput (transfers/s) in batches
// of 1,000 blocks × 100 transfers, excluding generation.
func BenchmarkWrite(b *testing.B) {
	n := benchN(b, 1_000_000)
	world := benchWorld(n, 100, 1)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		s, err := Open(b.TempDir(), Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(world); i += 1000 {
			if err := s.Write(context.Background(), world[i:min(i+1000, len(world))], nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		du, _ := s.DiskUsage()
		b.ReportMetric(float64(du)/float64(n), "bytes/transfer")
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}

// BenchmarkReads measures Summarize and a first Neighbors page on a store of
// REDTHREAD_BENCH_TRANSFERS transfers (default 1M): addresses with up to
// 1,000 transfers, and the hub. It reports p50 and p99 latencies.
func BenchmarkReads(b *testing.B) {
	n := benchN(b, 1_000_000)
	dir := os.Getenv("REDTHREAD_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	o := Options{NoSync: true}
	if os.Getenv("REDTHREAD_BENCH_RESIDENT") != "" {
		o.ResidentBytes = 4 << 30 // as serve: names and block times in memory
	}
	s, err := Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if o.ResidentBytes > 0 {
		t0 := time.Now()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if !s.WaitResident() {
			b.Fatal("resident tables not loaded")
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.Logf("resident tables: %d bytes of heap, loaded in %v", int64(m1.HeapAlloc)-int64(m0.HeapAlloc), time.Since(t0))
	}
	if got, _ := s.ChainStats("eth"); got == 0 {
		world := benchWorld(n, 100, 1)
		for i := 0; i < len(world); i += 1000 {
			if err := s.Write(ctx, world[i:min(i+1000, len(world))], nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Compact(ctx); err != nil {
			b.Fatal(err)
		}
	}
	// Addresses with up to 1,000 transfers, spread over the whole range of degrees.
	var small []string
	degrees := map[int]int{}
	for i := 2; len(small) < 2000 && i < n/4; i += 1 + i/200 {
		sm, err := s.Summarize(ctx, "eth", addr(i), 1, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(sm.Assets) == 0 {
			continue
		}
		d := int(sm.Assets[0].CountIn + sm.Assets[0].CountOut)
		if d <= 1000 {
			small = append(small, addr(i))
			degrees[min(d/100*100, 1000)]++
		}
	}
	b.Logf("%d addresses with ≤1,000 transfers; by degree bucket: %v", len(small), degrees)
	hub := addr(1)
	sm, _ := s.Summarize(ctx, "eth", hub, 10, 1)
	b.Logf("hub transfers in: %d", sm.Assets[0].CountIn)
	measure := func(name string, f func(i int) error) {
		lat := make([]time.Duration, 0, 4000)
		for i := 0; i < 4000; i++ {
			t0 := time.Now()
			if err := f(i); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), name+"-p99-µs")
	}
	if os.Getenv("REDTHREAD_BENCH_WARM") != "" {
		// A server's steady state: every address read once before measuring.
		for _, a := range small {
			if _, err := s.Neighbors(ctx, "eth", a, Both, "", 100, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		measure("summary", func(i int) error {
			_, err := s.Summarize(ctx, "eth", small[i%len(small)], 10, 1000)
			return err
		})
		measure("page", func(i int) error {
			_, err := s.Neighbors(ctx, "eth", small[i%len(small)], Both, "", 100, true)
			return err
		})
		measure("hubpage", func(i int) error {
			_, err := s.Neighbors(ctx, "eth", hub, Both, "", 100, true)
			return err
		})
		measure("hubsummary", func(i int) error {
			_, err := s.Summarize(ctx, "eth", hub, 10, 100)
			return err
		})
	}
}
