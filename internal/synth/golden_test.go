package synth

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/golden-*.sha256 from the current generator")

// TestGolden pins the output of a small world: any change to the model shows
// up here, and is accepted by rerunning with -rewrite and reviewing the
// summary diff (testdata/golden-summary.json).
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := WriteDir(context.Background(), Params{Seed: 1, Scale: 5_000}, dir); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(files[n]), filepath.ToSlash(n))
	}
	sumPath := filepath.Join("testdata", "golden-seed1-scale5000.sha256")
	jsonPath := filepath.Join("testdata", "golden-summary.json")
	if *rewrite {
		if err := os.WriteFile(sumPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(jsonPath, files[filepath.FromSlash(FileSummary)], 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		wj, _ := os.ReadFile(jsonPath)
		t.Errorf("output of seed 1, scale 5000 changed; if intended, run go test -run Golden -rewrite.\nfile digests:\n%s\nwant:\n%s\nsummary now:\n%s\nwas:\n%s",
			b.String(), want, files[filepath.FromSlash(FileSummary)], wj)
	}
}
