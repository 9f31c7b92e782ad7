package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/importer"
	"github.com/redthread/redthread/internal/store"
)

// BenchmarkImportTransfers imports a synthetic generic transfers CSV into a
// fresh ledger store end to end (parse, validate, write with checkpoints,
// index, flush) and reports transfers/s (wall clock), transfers per
// CPU-second and the store's bytes per transfer after a full compaction.
//
// Environment: REDTHREAD_BENCH_ROWS (default 10,000,000),
// REDTHREAD_BENCH_BATCH (transfers per batch, default
// importer.DefaultBatchTransfers), REDTHREAD_BENCH_DIR (where the generated
// file is kept between runs; default a temporary directory).
//
//	go test ./internal/cli -run XXX -bench ImportTransfers -benchtime 1x -timeout 60m
func BenchmarkImportTransfers(b *testing.B) {
	rows := 10_000_000
	if s := os.Getenv("REDTHREAD_BENCH_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	batch := 0 // importer.DefaultBatchTransfers
	if s := os.Getenv("REDTHREAD_BENCH_BATCH"); s != "" {
		var err error
		if batch, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dir := os.Getenv("REDTHREAD_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "transfers-"+strconv.Itoa(rows)+".csv")
	if _, err := os.Stat(path); err != nil {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := importer.GenerateTransfers(f, importer.GenOptions{Transfers: rows, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sdir := filepath.Join(b.TempDir(), "ledger")
		st, err := store.Open(sdir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		began, cpu0 := time.Now(), cpuTime()
		res, err := importer.Run(context.Background(), storeSink{st}, importer.Options{Format: "transfers", Files: []string{path}, BatchTransfers: batch})
		if err != nil {
			b.Fatal(err)
		}
		// Flush indexes what bulk writes deferred and writes the memtable,
		// as closing the store at the end of `redthread import` does.
		if err := st.Flush(); err != nil {
			b.Fatal(err)
		}
		el, cpu := time.Since(began), cpuTime()-cpu0
		b.StopTimer()
		if res.Transfers != int64(rows) {
			b.Fatalf("imported %d transfers, want %d", res.Transfers, rows)
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "transfers/s")
		// Transfers per CPU-second (user+system, all threads): what the import
		// costs, independent of other load on a shared machine.
		b.ReportMetric(float64(rows)/cpu.Seconds(), "transfers/cpu-s")
		if err := st.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		sst, err := st.DiskUsage()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sst)/float64(rows), "sst-bytes/transfer")
		kinds, err := st.UsageByKind()
		if err != nil {
			b.Fatal(err)
		}
		for k, v := range kinds {
			b.Logf("%s: %.2f bytes/transfer", k, float64(v)/float64(rows))
		}
		// Close first: Pebble deletes obsolete files in the background.
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		size, err := dirSize(sdir)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/float64(rows), "store-bytes/transfer")
		b.StartTimer()
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
