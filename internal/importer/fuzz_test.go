package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func seedFiles(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 64<<10 {
			b = b[:64<<10]
		}
		f.Add(b)
	}
}

// FuzzRecordReader checks the hand-written splitter against encoding/csv:
// the same records where encoding/csv accepts the input, an error where it
// rejects it.
func FuzzRecordReader(f *testing.F) {
	seedFiles(f, td("transfers", "sample.csv"), td("etherscan", "normal.csv"), td("etherscan", "token.csv"), td("etl", "parity_create_traces.csv"))
	f.Add([]byte("a,\"b\nc\",d\r\n\n\"x\"\"y\",z"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.IndexByte(data, '\r') >= 0 {
			return // the reader strips a byte order mark and accepts lone CRs; encoding/csv does neither
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		want, werr := cr.ReadAll()
		rr := newRecordReader(bytes.NewReader(data), "f.csv")
		var got [][]string
		var gerr error
		for {
			fs, err := rr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				gerr = err
				break
			}
			var rec []string
			for _, x := range fs {
				rec = append(rec, string(x))
			}
			got = append(got, rec)
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("encoding/csv error %v, reader error %v on %q", werr, gerr, data)
		}
		if werr == nil {
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("records differ on %q (-csv +reader):\n%s", data, d)
			}
			if rr.offset() != int64(len(data)) {
				t.Fatalf("offset %d after the last record, want %d", rr.offset(), len(data))
			}
		}
	})
}

// The import fuzzers write a file and run a whole import per input; run them
// with a short minimization time, or the fuzzer spends minutes minimizing
// each new input:
//
//	go test ./internal/importer -run XXX -fuzz '^FuzzETL$' -fuzztime 60s -fuzzminimizetime 2s
//
// fuzzImport runs one import over data written to a file and checks that a
// failure wrote nothing past the committed batches and a success produced
// valid blocks (memSink validates them).
func fuzzImport(t *testing.T, name string, data []byte, o Options) {
	watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("import %s hangs on %q", o.Format, data)) })
	defer watchdog.Stop()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	o.Files = []string{p}
	o.BatchTransfers = 3
	m := newMemSink()
	_, err := Run(context.Background(), m, o)
	if err != nil {
		var re *RowError
		if errors.As(err, &re) && (re.File != p || re.Line < 1) {
			t.Fatalf("row error without its file and line: %v", err)
		}
		if strings.Contains(err.Error(), "conflict") {
			t.Fatalf("the importer handed the sink conflicting transfers: %v", err)
		}
		return
	}
	// A second run over the same store changes nothing.
	before := m.transfers()
	if _, err := Run(context.Background(), m, Options{Format: o.Format, Files: o.Files, Restart: true, Chain: o.Chain, Tokens: o.Tokens, Decimals: o.Decimals,
		Receipts: o.Receipts, Transactions: o.Transactions, Blocks: o.Blocks, NoReceipts: o.NoReceipts}); err != nil {
		t.Fatalf("re-import failed: %v", err)
	}
	if d := cmp.Diff(before, m.transfers()); d != "" {
		t.Fatalf("re-import changed the store:\n%s", d)
	}
}

func FuzzTransfers(f *testing.F) {
	seedFiles(f, td("transfers", "sample.csv"))
	f.Add([]byte(hdr + okRow + okRow))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, "t.csv", data, Options{Format: "transfers"})
	})
}

func FuzzETL(f *testing.F) {
	seedFiles(f, td("etl", "b483920_transactions.csv"), td("etl", "b483920_token_transfers.csv"), td("etl", "parity_suicide_traces.csv"),
		td("etl", "geth_error_traces.csv"), td("etl", "s508110_traces.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		side := []string{td("etl", "traces_transactions.csv"), td("etl", "b483920_transactions.csv")}
		fuzzImport(t, "x.csv", data, Options{Format: "etl-transactions", NoReceipts: true})
		fuzzImport(t, "x.csv", data, Options{Format: "etl-token-transfers", Transactions: side})
		fuzzImport(t, "x.csv", data, Options{Format: "etl-traces", Transactions: side, Blocks: []string{td("etl", "traces_blocks.csv")}})
		fuzzImport(t, "x.json", data, Options{Format: "etl-traces", Transactions: side})
	})
}

func FuzzEtherscan(f *testing.F) {
	seedFiles(f, td("etherscan", "normal.csv"), td("etherscan", "internal.csv"), td("etherscan", "token.csv"), td("etherscan", "token_quantity.csv"))
	usdt, _ := ParseTokenSpec("USDT=0xdac17f958d2ee523a2206206994597c13d831ec7:6")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, "e.csv", data, Options{Format: "etherscan-normal"})
		fuzzImport(t, "e.csv", data, Options{Format: "etherscan-internal"})
		fuzzImport(t, "e.csv", data, Options{Format: "etherscan-token", Tokens: []TokenSpec{usdt}, Decimals: intp(18)})
	})
}
