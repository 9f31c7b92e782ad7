package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/trace"
)

// TestTraceSyntheticWorld generates a small synthetic world into a store and
// traces the exchange theft forward with haircut, following swaps and
// bridges: the endpoints must account for most of what the ground truth
// says was cashed out, and the output formats must parse.
func TestTraceSyntheticWorld(t *testing.T) {
	tmp := t.TempDir()
	out, data := filepath.Join(tmp, "world"), filepath.Join(tmp, "data")
	var so, se bytes.Buffer
	if code := Main(context.Background(), []string{"synth", "-q", "--seed", "3", "--scale", "20000", "--out", out, "--load", "--no-sync", "--data", data, "--scenarios", "exchange-hot-wallet"}, &so, &se); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, se.String())
	}
	theft := ""
	rows := readCSV(t, filepath.Join(out, "truth", "addresses.csv"))
	for _, r := range rows[1:] {
		if r[4] == "theft" && r[0] == "synth" {
			theft = r[1]
		}
	}
	if theft == "" {
		t.Fatal("no theft address in the ground truth")
	}
	truth := new(big.Int)
	for _, r := range readCSV(t, filepath.Join(out, "truth", "endpoints.csv"))[1:] {
		if r[1] == "synth" && r[5] == "native" {
			v, _ := new(big.Int).SetString(r[6], 10)
			truth.Add(truth, v)
		}
	}
	base := []string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "haircut", "--direction", "forward",
		"--swaps", filepath.Join(out, "swaps.csv"), "--bridges", filepath.Join(out, "bridges.csv"), "--labels", filepath.Join(out, "truth", "addresses.csv")}
	so.Reset()
	se.Reset()
	if code := Main(context.Background(), append(base, "--json"), &so, &se); code != 0 {
		t.Fatalf("trace: exit %d: %s", code, se.String())
	}
	var res trace.Result
	if err := json.Unmarshal(so.Bytes(), &res); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if res.Schema != trace.SchemaVersion || res.Truncated {
		t.Fatalf("schema %q truncated %v %s", res.Schema, res.Truncated, res.Reason)
	}
	reached := new(big.Int)
	for _, ep := range res.Endpoints {
		if ep.Chain == "synth" && ep.Asset == "native" && (ep.Category == "exchange" || ep.Category == "otc") {
			v, _ := new(big.Int).SetString(ep.Amount, 10)
			reached.Add(reached, v)
		}
	}
	// reached/truth ≥ 0.9
	if truth.Sign() == 0 || new(big.Int).Mul(reached, big.NewInt(10)).Cmp(new(big.Int).Mul(truth, big.NewInt(9))) < 0 {
		t.Errorf("exchange and OTC endpoints on synth got %s of the %s the ground truth cashed out", reached, truth)
	}
	t.Logf("endpoints reached %s of %s cashed out (synth native)", reached, truth)

	// An explicit dust threshold above every transfer: nothing leaves the
	// theft address, the result says why and echoes the threshold.
	so.Reset()
	huge := "1" + strings.Repeat("0", 40)
	if code := Main(context.Background(), append(base, "--mixer", "fifo", "--min-taint", huge, "--json"), &so, &se); code != 0 {
		t.Fatalf("trace --min-taint: exit %d: %s", code, se.String())
	}
	var dust trace.Result
	if err := json.Unmarshal(so.Bytes(), &dust); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	// below_min ≥ 99 % of the seeded taint
	below := false
	for _, tt := range dust.Totals {
		b, _ := new(big.Int).SetString(tt.BelowMin, 10)
		seeded, _ := new(big.Int).SetString(tt.Seeded, 10)
		below = below || b != nil && seeded != nil && seeded.Sign() > 0 && b.Mul(b, big.NewInt(100)).Cmp(seeded.Mul(seeded, big.NewInt(99))) >= 0
	}
	if dust.Request.MinTaint != huge || dust.Request.Mixer != "fifo" || !below {
		t.Errorf("with --min-taint %s: request %+v, totals %+v; want the threshold echoed and nearly all taint below it",
			huge, dust.Request, dust.Totals)
	}

	for _, f := range []string{"--csv", "--dot"} {
		so.Reset()
		if code := Main(context.Background(), append(base, f), &so, &se); code != 0 {
			t.Fatalf("trace %s: exit %d: %s", f, code, se.String())
		}
	}
	if !strings.HasPrefix(so.String(), "digraph trace {") {
		t.Errorf("dot output starts %q", so.String()[:min(40, so.Len())])
	}
	// Explain an endpoint.
	so.Reset()
	if code := Main(context.Background(), append(base, "--explain", res.Endpoints[0].Address), &so, &se); code != 0 {
		t.Fatalf("explain: exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), theft) {
		t.Errorf("explanation path does not start at the theft address:\n%s", so.String())
	}

	// Bad invocations exit 2 with a message naming the problem.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "nochain", "--from", theft, "--policy", "fifo"}, "unknown chain"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "sideways"}, "unknown policy"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", "0x0000000000000000000000000000000000000bad", "--policy", "fifo"}, "unknown address"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", "0xnothex", "--policy", "fifo"}, "invalid address"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "fifo", "--max-hops", "-2"}, "--max-hops"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "fifo", "--since", "yesterday"}, "--since"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "fifo", "--json", "--csv"}, "at most one"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "fifo", "--min-taint", "1e18"}, "--min-taint"},
		{[]string{"trace", "--data", data, "--no-intel", "--chain", "synth", "--from", theft, "--policy", "fifo", "--mixer", "tumble"}, "--mixer"},
	} {
		so.Reset()
		se.Reset()
		if code := Main(context.Background(), tc.args, &so, &se); code != ExitUsage || !strings.Contains(se.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args[5:], code, se.String(), ExitUsage, tc.want)
		}
	}
}

func readCSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
