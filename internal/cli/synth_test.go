package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/synth"
)

func scanAll(t *testing.T, dataDir string) map[model.Chain][]model.Transfer {
	t.Helper()
	st, err := store.Open(filepath.Join(dataDir, "ledger"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[model.Chain][]model.Transfer{}
	for _, c := range []model.Chain{synth.Chain1, synth.Chain2} {
		err := st.ScanTransfers(context.Background(), c, 0, ^uint64(0), func(tr *model.Transfer) error {
			x := *tr
			x.Kind = 0 // the CSV has no kind
			out[c] = append(out[c], x)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSynthLoadEqualsImport generates a world straight into a store and
// imports its CSV files into another: both ledgers must be the same.
func TestSynthLoadEqualsImport(t *testing.T) {
	tmp := t.TempDir()
	out, loaded, imported := filepath.Join(tmp, "world"), filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	var so, se bytes.Buffer
	if code := Main(context.Background(), []string{"synth", "-q", "--seed", "5", "--scale", "6000", "--out", out, "--load", "--data", loaded}, &so, &se); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "generated") || !strings.Contains(so.String(), "scenario exchange-hot-wallet") {
		t.Errorf("synth output:\n%s", so.String())
	}
	for _, c := range []model.Chain{synth.Chain1, synth.Chain2} {
		so.Reset()
		se.Reset()
		args := []string{"import", "-q", "transfers", filepath.Join(out, synth.TransfersFile(c)), "--chain", string(c), "--data", imported}
		if code := Main(context.Background(), args, &so, &se); code != 0 {
			t.Fatalf("import %s: exit %d: %s", c, code, se.String())
		}
	}
	a, b := scanAll(t, loaded), scanAll(t, imported)
	if len(a[synth.Chain1]) < 4000 || len(a[synth.Chain2]) < 800 {
		t.Fatalf("loaded %d + %d transfers", len(a[synth.Chain1]), len(a[synth.Chain2]))
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("--load and import of the CSV differ (-load +import):\n%s", d)
	}
}

func TestSynthUsage(t *testing.T) {
	tmp := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"synth", "--scale", "5000"}, ExitUsage, "--out is required"},
		{[]string{"synth", "--scale", "10", "--out", tmp}, ExitUsage, "--scale 10"},
		{[]string{"synth", "--scale", "5000", "--out", tmp, "--scenarios", "heist"}, ExitUsage, `unknown scenario "heist"`},
		{[]string{"synth", "--scale", "5000", "--out", tmp, "--labels", "300"}, ExitError, "label percentages"},
	} {
		var so, se bytes.Buffer
		code := Main(context.Background(), append(tc.args, "-q", "--data", tmp), &so, &se)
		if code != tc.code || !strings.Contains(se.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, se.String(), tc.code, tc.want)
		}
	}
	// bad parameters create nothing
	if _, err := os.Stat(filepath.Join(tmp, "x")); err == nil {
		t.Error("unexpected")
	}
	var so0, se0 bytes.Buffer
	if code := Main(context.Background(), []string{"synth", "-q", "--scale", "5000", "--days", "1", "--out", filepath.Join(tmp, "x")}, &so0, &se0); code != ExitError {
		t.Errorf("--days 1: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(tmp, "x")); err == nil {
		t.Error("--days 1 created the output directory")
	}
	// a non-empty output directory is refused and left alone
	full := filepath.Join(tmp, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "keep"), []byte("x"), 0o644)
	var so, se bytes.Buffer
	if code := Main(context.Background(), []string{"synth", "-q", "--scale", "5000", "--out", full}, &so, &se); code != ExitError ||
		!strings.Contains(se.String(), "not empty") {
		t.Errorf("non-empty --out: exit %d, %q", code, se.String())
	}
	if ents, _ := os.ReadDir(full); len(ents) != 1 {
		t.Errorf("non-empty --out was changed: %d entries", len(ents))
	}
}

// TestSynthOptInScenario generates the opt-in mixer-burst scenario by name,
// alone and beside a stock one.
func TestSynthOptInScenario(t *testing.T) {
	for _, names := range []string{"mixer-burst", "bridge-drain,mixer-burst"} {
		out := filepath.Join(t.TempDir(), "w")
		var so, se bytes.Buffer
		if code := Main(context.Background(), []string{"synth", "-q", "--seed", "4", "--scale", "20000", "--out", out, "--scenarios", names}, &so, &se); code != 0 {
			t.Fatalf("synth --scenarios %s: exit %d: %s", names, code, se.String())
		}
		b, err := os.ReadFile(filepath.Join(out, "truth", "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range strings.Split(names, ",") {
			if !strings.Contains(string(b), `"`+n+`"`) {
				t.Errorf("--scenarios %s: truth/summary.json does not name %s", names, n)
			}
		}
		if strings.Contains(names, "exchange") == strings.Contains(string(b), `"exchange-hot-wallet"`) {
			continue
		}
		t.Errorf("--scenarios %s: truth/summary.json has exchange-hot-wallet", names)
	}
}
