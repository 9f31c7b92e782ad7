package synth

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
)

// ledgerOnly writes the ledger CSV of both chains to w and drops the rest.
type ledgerOnly struct {
	Discard
	lw *LedgerWriter
}

func (l ledgerOnly) Block(b *Block) error { return l.lw.Block(b) }

func benchGenerate(b *testing.B, sink func() Sink) {
	scale := int64(1_000_000)
	if v, err := strconv.ParseInt(os.Getenv("SYNTH_BENCH_SCALE"), 10, 64); err == nil {
		scale = v
	}
	var total int64
	for i := 0; i < b.N; i++ {
		_, st, err := Generate(context.Background(), Params{Seed: uint64(i), Scale: scale}, sink())
		if err != nil {
			b.Fatal(err)
		}
		total += st.Total()
		b.Logf("scale %d: %d transfers, %d no-op actions", scale, st.Total(), st.noop)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "transfers/s")
}

// BenchmarkGenerate measures generation alone (Discard sink).
func BenchmarkGenerate(b *testing.B) {
	benchGenerate(b, func() Sink { return Discard{} })
}

// BenchmarkGenerateCSV measures generation with the ledger CSV formatted to io.Discard.
func BenchmarkGenerateCSV(b *testing.B) {
	benchGenerate(b, func() Sink {
		lw, _ := NewLedgerWriter(io.Discard)
		return ledgerOnly{lw: lw}
	})
}

// BenchmarkWriteDir measures the whole DirSink (ledger CSVs formatted on a
// second goroutine, events and ground truth) into a temporary directory.
func BenchmarkWriteDir(b *testing.B) {
	scale := int64(1_000_000)
	if v, err := strconv.ParseInt(os.Getenv("SYNTH_BENCH_SCALE"), 10, 64); err == nil {
		scale = v
	}
	var total int64
	for i := 0; i < b.N; i++ {
		_, st, err := WriteDir(context.Background(), Params{Seed: uint64(i), Scale: scale}, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		total += st.Total()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "transfers/s")
}
