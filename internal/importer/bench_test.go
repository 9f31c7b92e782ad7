package importer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseTransfers measures the generic CSV reader alone (no store).
func BenchmarkParseTransfers(b *testing.B) {
	path := filepath.Join(b.TempDir(), "t.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	if err := GenerateTransfers(f, GenOptions{Transfers: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := openSource(path, &transfersParser{file: path}, false, 0, 0, 1)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			bt, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got += bt.Transfers
			bt.Release()
		}
		src.Close()
		if got != n {
			b.Fatalf("got %d transfers, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}
