package importer

import (
	"os"
	"strconv"
	"testing"
)

// TestGenerateFile writes a synthetic transfers file when
// REDTHREAD_GEN_FILE is set (REDTHREAD_GEN_ROWS rows, default 10,000,000);
// the import benchmark in BENCHMARKS.md uses it. Otherwise it is skipped.
func TestGenerateFile(t *testing.T) {
	path := os.Getenv("REDTHREAD_GEN_FILE")
	if path == "" {
		t.Skip("set REDTHREAD_GEN_FILE to write a synthetic transfers file")
	}
	n := 10_000_000
	if s := os.Getenv("REDTHREAD_GEN_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := GenerateTransfers(f, GenOptions{Transfers: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
