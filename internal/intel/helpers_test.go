package intel

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redthread/redthread/internal/model"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files in testdata")

func readInput(t testing.TB, path string) Input {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: filepath.Base(path), Data: b}
}

// golden compares v, as indented JSON, with testdata/name; -rewrite updates it.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	p := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, d)
	}
}

func cmpIgnoreFields(names ...string) cmp.Option {
	return cmpopts.IgnoreFields(model.Entity{}, names...)
}

var shipped struct {
	once sync.Once
	db   *DB
	err  error
}

// shippedDB builds the DB of the embedded packs once per test binary.
func shippedDB(t testing.TB) *DB {
	t.Helper()
	shipped.once.Do(func() {
		ds, err := LoadShipped()
		if err != nil {
			shipped.err = err
			return
		}
		shipped.db = Build(ds)
	})
	if shipped.err != nil {
		t.Fatal(shipped.err)
	}
	return shipped.db
}

func cmpIgnoreAttr(names ...string) cmp.Option {
	return cmpopts.IgnoreFields(model.Attribution{}, names...)
}

var cmpEmptyNil = cmpopts.EquateEmpty()
