package synth

import (
	"context"
	"io"
	"testing"
)

// ledgerOnly writes the ledger CSV of both chains to w and drops the rest.
type ledgerOnly struct {
	Discard
	lw *LedgerWriter
}

func (l ledgerOnly) Block(b *Block) error { return l.lw.Block(b) }

func benchGenerate(b *testing.B, sink func() Sink) {
	const scale = 1_000_000
	var total int64
	for i := 0; i < b.N; i++ {
		_, st, err := Generate(context.Background(), Params{Seed: uint64(i), Scale: scale}, sink())
		if err != nil {
			b.Fatal(err)
		}
		total += st.Total()
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
