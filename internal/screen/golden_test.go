package screen

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files in testdata")

// The explained JSON of a few pairs, reviewed as diffs (go test -rewrite).
func TestCompareGolden(t *testing.T) {
	pairs := [][2]string{
		{"Kim Chol Sam", "Jin Tiesan"},
		{"Jang Myong Jin", "Chang Myong Chin"},
		{"Kim Song Il", "Kim Jong Il"},
		{"KIM, Jong Un", "김정은"},
		{"Ri Pyong Chul", "Lee Byung-chul"},
		{"Mao Zedong", "Mao Tse-tung"},
		{"金鐵三", "Kim Chol Sam"},
	}
	var got []PairResult
	for _, p := range pairs {
		r, err := Compare(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/compare.golden.json"
	if *rewrite {
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(b)+"\n"); d != "" {
		t.Errorf("%s differs (-want +got; go test -rewrite to accept):\n%s", path, d)
	}
}

// An Index is used from many goroutines at once (run with -race).
func TestScreenConcurrent(t *testing.T) {
	ix := NewIndex(fixtureEntities(), nil, Options{})
	want, err := ix.Screen(Query{Name: "Jin Tiesan"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := ix.Screen(Query{Name: "Jin Tiesan"})
				if err != nil || !cmp.Equal(got, want) {
					t.Errorf("concurrent result differs: %v", err)
					return
				}
				ix.Screen(Query{Name: "Trading Company Xin"})
			}
		}()
	}
	wg.Wait()

	// A batch gives the same answers as one query at a time, in order.
	var qs []Query
	for _, n := range []string{"Jin Tiesan", "Kim Jong-un", "", "Kim Chol Nam", "KOMID", "x\x00"} {
		for i := 0; i < 20; i++ {
			qs = append(qs, Query{Name: n})
		}
	}
	res, err := ix.ScreenBatch(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		ms, err := ix.Screen(q)
		if res[i].Query.Name != q.Name || (err != nil) != (res[i].Error != "") || (err == nil && !cmp.Equal(ms, res[i].Matches)) {
			t.Fatalf("batch result %d differs: %+v", i, res[i])
		}
	}
}
