package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// inferWorld generates a small synthetic world with an exchange whose
// deposit addresses sweep into hot wallets, loads it into a store and its
// intel pack (exchange wallets, no deposit addresses) into the intel store.
func inferWorld(t *testing.T) (data, theft string) {
	t.Helper()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "world")
	data = filepath.Join(tmp, "data")
	if code, _, errs := runCLI(t, "synth", "-q", "--seed", "3", "--scale", "20000", "--out", out, "--load", "--no-sync", "--data", data,
		"--scenarios", "exchange-hot-wallet"); code != ExitOK {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "intel", "load", "tagpack", filepath.Join(out, "intel", "synth.tagpack.yaml"), "--data", data); code != ExitOK {
		t.Fatalf("intel load: exit %d: %s", code, errs)
	}
	for _, r := range readCSV(t, filepath.Join(out, "truth", "addresses.csv"))[1:] {
		if r[4] == "theft" && r[0] == "synth" {
			theft = r[1]
		}
	}
	if theft == "" {
		t.Fatal("no theft address in the ground truth")
	}
	return data, theft
}

var inferredRE = regexp.MustCompile(`^synth: (\d+) deposit addresses and (\d+) exchange wallets inferred from (\d+) transfers up to block (\d+) in `)

// TestIntelInferDeposits stores the heuristic's findings, checks that a
// re-run replaces them with the same set, that a failed run changes
// nothing, that trace --deposit-heuristic gives the same answer from the
// stored findings as computing them afresh, and that intel show explains
// them with their evidence.
func TestIntelInferDeposits(t *testing.T) {
	data, theft := inferWorld(t)
	infer := func() (deps, wallets int) {
		t.Helper()
		code, out, errs := runCLI(t, "intel", "infer", "deposits", "--chain", "synth", "--data", data)
		m := inferredRE.FindStringSubmatch(out)
		if code != ExitOK || m == nil {
			t.Fatalf("infer: exit %d: %s%s", code, out, errs)
		}
		deps, _ = strconv.Atoi(m[1])
		wallets, _ = strconv.Atoi(m[2])
		return deps, wallets
	}
	stored := func() *intel.InferredSet {
		t.Helper()
		sets, err := intel.NewStore(filepath.Join(data, "intel")).InferredSets()
		if err != nil || len(sets) != 1 {
			t.Fatalf("stored sets: %d, %v", len(sets), err)
		}
		return sets[0]
	}
	deps, wallets := infer()
	if deps < 10 {
		t.Fatalf("only %d deposit addresses inferred", deps)
	}
	first := stored()
	if len(first.Inferences) != deps+wallets || first.Chain != "synth" || first.Method != depositMethod || first.Head == 0 || first.Transfers == 0 {
		t.Fatalf("stored set: %+v", first.Info())
	}
	for _, x := range first.Inferences {
		a, ev := x.Attribution, x.Evidence
		if !intel.IsInferred(&a) || a.ValidFrom.IsZero() || ev.Sweeps < 1 || ev.Target == "" {
			t.Fatalf("inference without its provenance or evidence: %+v", x)
		}
		if a.Role == "deposit address" && (len(ev.Txs) == 0 || len(ev.Txs) > min(ev.Sweeps, 3) || ev.FirstSweep.Before(a.ValidFrom) || ev.LastSweep.Before(ev.FirstSweep)) {
			t.Fatalf("deposit address evidence inconsistent: %+v", x)
		}
	}
	// A re-run replaces the set with the same findings.
	if d2, w2 := infer(); d2 != deps || w2 != wallets {
		t.Fatalf("re-run found %d+%d, first run %d+%d", d2, w2, deps, wallets)
	}
	second := stored()
	if d := cmp.Diff(first.Inferences, second.Inferences); d != "" || !second.Computed.After(first.Computed) {
		t.Fatalf("re-run differs (-first +second):\n%s", d)
	}
	// A failed run changes nothing.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("chain,address,category\nsynth,0x12,exchange\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"intel", "infer", "deposits", "--chain", "nochain", "--data", data},
		{"intel", "infer", "deposits", "--chain", "synth", "--labels", bad, "--data", data},
		{"intel", "infer", "deposits", "--data", data},
	} {
		if code, out, errs := runCLI(t, args...); code == ExitOK {
			t.Errorf("%v: exit 0: %s%s", args, out, errs)
		}
	}
	if got := stored(); !got.Computed.Equal(second.Computed) {
		t.Errorf("a failed run replaced the stored set")
	}

	// intel show explains a deposit address with its evidence.
	var dep intel.Inference
	for _, x := range second.Inferences {
		if x.Attribution.Role == "deposit address" && x.Evidence.Sweeps >= 2 {
			dep = x
			break
		}
	}
	if dep.Attribution.Address == "" {
		t.Fatal("no deposit address with two sweeps")
	}
	code, out, errs := runCLI(t, "intel", "show", "synth", dep.Attribution.Address, "--data", data)
	for _, want := range []string{"source: heuristic:deposit-address", "inferred by redthread from the ledger",
		"evidence: " + strconv.Itoa(dep.Evidence.Sweeps) + " sweep(s) into " + dep.Evidence.Target, "sweep transactions: " + strings.Join(dep.Evidence.Txs, ", ")} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("intel show lacks %q (exit %d):\n%s%s", want, code, out, errs)
		}
	}
	code, out, _ = runCLI(t, "intel", "show", "synth", dep.Attribution.Address, "--json", "--data", data)
	var shown struct{ Claims []intel.ClaimJSON }
	if code != ExitOK || json.Unmarshal([]byte(out), &shown) != nil || len(shown.Claims) != 1 || !shown.Claims[0].Inferred ||
		shown.Claims[0].GraphSense != "heuristic" || shown.Claims[0].Evidence == nil || shown.Claims[0].Evidence.Sweeps != dep.Evidence.Sweeps {
		t.Errorf("intel show --json: exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "intel", "infer", "list", "--json", "--data", data)
	var infos []intel.InferredInfo
	if code != ExitOK || json.Unmarshal([]byte(out), &infos) != nil || len(infos) != 1 || infos[0].Attributions != deps+wallets {
		t.Errorf("infer list: exit %d: %s", code, out)
	}

	// trace --deposit-heuristic: the stored findings, or computed afresh
	// when none are stored, give the same trace; without the flag the
	// inferred attributions are not used.
	traceArgs := []string{"trace", "--data", data, "--chain", "synth", "--from", theft, "--policy", "haircut", "--direction", "forward", "--json"}
	run := func(args ...string) (trace.Result, string) {
		t.Helper()
		code, out, errs := runCLI(t, append(traceArgs, args...)...)
		if code != ExitOK {
			t.Fatalf("trace %v: exit %d: %s", args, code, errs)
		}
		var r trace.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r, errs
	}
	fromStore, logs := run("--deposit-heuristic")
	if !strings.Contains(logs, "stored findings") {
		t.Errorf("trace --deposit-heuristic did not use the stored findings:\n%s", logs)
	}
	plain, _ := run()
	atDeposit := func(r trace.Result) int {
		n := 0
		for _, ep := range r.Endpoints {
			for _, nd := range r.Nodes {
				if nd.Address == ep.Address && len(nd.Attributions) > 0 && nd.Attributions[0].Source == "heuristic:deposit-address" {
					n++
				}
			}
		}
		return n
	}
	t.Logf("%d deposit addresses, %d wallets inferred; trace endpoints at them: %d of %d", deps, wallets, atDeposit(fromStore), len(fromStore.Endpoints))
	if atDeposit(fromStore) == 0 || atDeposit(plain) != 0 {
		t.Errorf("endpoints at inferred deposit addresses: %d with the flag (want > 0), %d without (want 0)", atDeposit(fromStore), atDeposit(plain))
	}
	if code, out, errs := runCLI(t, "intel", "infer", "deposits", "--chain", "synth", "--remove", "--data", data); code != ExitOK || !strings.Contains(out, "removed") {
		t.Fatalf("remove: exit %d: %s%s", code, out, errs)
	}
	computed, logs := run("--deposit-heuristic")
	if !strings.Contains(logs, "computed now") {
		t.Errorf("without stored findings the heuristic did not run:\n%s", logs)
	}
	if d := cmp.Diff(computed.Endpoints, fromStore.Endpoints); d != "" {
		t.Errorf("endpoints from stored findings differ from computed ones (-computed +stored):\n%s", d)
	}
}

// TestServeInferDeposits recomputes the inferred deposit addresses through
// the running server, which then traces with them on request and lists
// them with their evidence.
func TestServeInferDeposits(t *testing.T) {
	data, theft := inferWorld(t)
	s := startServe(t, "--data", data)
	base := s.base
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	traceReq := `{"chain":"synth","from":["` + theft + `"],"policy":"haircut","direction":"forward","deposit_heuristic":true}`
	if status, body := call("POST", "/api/v1/trace", traceReq); status != http.StatusConflict {
		t.Fatalf("trace with deposit_heuristic before inference: %d %s", status, body)
	}
	status, body := call("POST", "/api/v1/intel/infer/deposits", `{"chain":"synth"}`)
	var inf struct{ Set intel.InferredInfo }
	if status != 200 || json.Unmarshal(body, &inf) != nil || inf.Set.Attributions == 0 || inf.Set.Chain != "synth" {
		t.Fatalf("infer: %d %s", status, body)
	}
	// Stored in the intel store like the command does.
	sets, err := intel.NewStore(filepath.Join(data, "intel")).InferredSets()
	if err != nil || len(sets) != 1 || len(sets[0].Inferences) != inf.Set.Attributions {
		t.Fatalf("stored sets after the route: %d, %v", len(sets), err)
	}
	status, body = call("POST", "/api/v1/trace", traceReq)
	var tr struct {
		Endpoints    []struct{ Address string }
		InferredSets []intel.InferredInfo `json:"inferred_sets"`
	}
	if status != 200 || json.Unmarshal(body, &tr) != nil || len(tr.InferredSets) != 1 {
		t.Fatalf("trace with deposit_heuristic: %d %s", status, body[:min(len(body), 2000)])
	}
	var dep intel.Inference
	for _, x := range sets[0].Inferences {
		if x.Attribution.Role == "deposit address" {
			dep = x
			break
		}
	}
	status, body = call("GET", "/api/v1/address/synth/"+dep.Attribution.Address, "")
	var ad struct {
		Attributions []struct {
			Source   string
			Inferred bool
			Evidence *intel.Evidence
		}
	}
	if status != 200 || json.Unmarshal(body, &ad) != nil || len(ad.Attributions) != 1 || !ad.Attributions[0].Inferred ||
		ad.Attributions[0].Source != "heuristic:deposit-address" || ad.Attributions[0].Evidence == nil || ad.Attributions[0].Evidence.Target != dep.Evidence.Target {
		t.Fatalf("address route: %d %s", status, body)
	}
	if status, body := call("GET", "/api/v1/bridges/pending/synth?limit=5", ""); status != 200 || !strings.Contains(string(body), `"chain":"synth"`) {
		t.Fatalf("pending bridges: %d %s", status, body)
	}
	s.shutdown()
}

// With --labels the server's attributor is a composition of the labels and
// the intel DB: it still reports the stored sets and the evidence, and a
// label (a listed claim) outranks an inferred claim on the same address.
func TestAttributorsInferred(t *testing.T) {
	dir := t.TempDir()
	st := intel.NewStore(dir)
	st.NoShipped = true
	a := model.Attribution{Chain: "eth", Address: "0x00000000000000000000000000000000000000a1", Category: model.CatExchange,
		Label: "deposit address of X", Source: model.Source{Name: "heuristic:deposit-address"}, Confidence: 60, ValidFrom: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	b := a
	b.Address = "0x00000000000000000000000000000000000000b2"
	set := &intel.InferredSet{Method: depositMethod, Chain: "eth", Head: 7, Inferences: []intel.Inference{
		{Attribution: a, Evidence: intel.Evidence{Target: "0x00000000000000000000000000000000000000e0", Sweeps: 2}}, {Attribution: b}}}
	if err := st.SaveInferred(set); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	lab := trace.NewLabels()
	lab.Add(model.Attribution{Chain: "eth", Address: b.Address, Category: model.CatOTC, Label: "Desk", Source: model.Source{Name: "my labels"}, Confidence: 60})
	attr := attributors{lab, db}
	now := time.Now()
	if got := attr.Lookup("eth", a.Address, now); len(got) != 1 || got[0].Source.Name != "heuristic:deposit-address" {
		t.Errorf("inferred alone: %+v", got)
	}
	if got := attr.Lookup("eth", b.Address, now); len(got) != 1 || got[0].Source.Name != "my labels" {
		t.Errorf("a label must outrank the inferred claim: %+v", got)
	}
	if info, ok := attr.HasInferred("eth", depositMethod); !ok || info.Head != 7 || len(attr.Inferred()) != 1 {
		t.Errorf("HasInferred %+v %v, Inferred %+v", info, ok, attr.Inferred())
	}
	if ev, ok, err := attr.ReadEvidence(&a); !ok || err != nil || ev.Sweeps != 2 {
		t.Errorf("Evidence %+v %v", ev, ok)
	}
}
