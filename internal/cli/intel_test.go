package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runIntel(t *testing.T, data string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"--data", data}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestIntelShow explains an OFAC-listed Lazarus Group address and a Ronin
// exploiter address from the shipped packs, with their sources.
func TestIntelShow(t *testing.T) {
	data := t.TempDir()
	out, errs, code := runIntel(t, data, "intel", "show", "eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"SANCTIONED LAZARUS GROUP [ofac:27307] — active",
		"source: OFAC SDN List; file sdn.csv.gz; published 2024-05-03",
		"published 2024-09-27", "published 2026-05-26",
		"DPRK       Ronin Bridge: Primary [actor:lazarus-group] — active",
		"tayvano/lazarus-bluenoroff-research",
		"entity ofac:27307: LAZARUS GROUP (company), programs DPRK3",
		"incident ronin-bridge: Ronin Bridge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("intel show lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runIntel(t, data, "intel", "show", "eth", "0x5d84a732b355ada31a36b33c446e3dee28f51555", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Claims []struct {
			Category string
			Label    string
			Status   string `json:"status"`
			Source   struct{ Name string }
		} `json:"claims"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var sources []string
	for _, c := range rep.Claims {
		sources = append(sources, c.Category+"/"+c.Source.Name)
	}
	got := strings.Join(sources, "; ")
	if !strings.Contains(got, "dprk/tayvano/lazarus-bluenoroff-research") || !strings.Contains(got, "hack/Forta") {
		t.Errorf("Ronin exploiter claims: %s", got)
	}
}

func TestIntelShowAsOf(t *testing.T) {
	data := t.TempDir()
	out, _, code := runIntel(t, data, "intel", "show", "eth", "0x8589427373d6d84e98730d7795d8f6f8731fda16", "--as-of", "2025-01-01")
	if code != 0 || !strings.Contains(out, "SANCTIONED TORNADO CASH [ofac:39796] — active") {
		t.Errorf("as of 2025-01-01:\n%s", out)
	}
	out, _, code = runIntel(t, data, "intel", "show", "eth", "0x8589427373d6d84e98730d7795d8f6f8731fda16", "--as-of", "2025-06-01")
	if code != 0 || !strings.Contains(out, "SANCTIONED TORNADO CASH [ofac:39796] — delisted") ||
		!strings.Contains(out, "delisted on 2025-03-21: absent from OFAC SDN Ethereum addresses") ||
		!strings.Contains(out, "official delisting: OFAC recent actions 2025-03-21") {
		t.Errorf("as of 2025-06-01:\n%s", out)
	}
	if _, _, code := runIntel(t, data, "intel", "show", "eth", "0x8589", "--as-of", "2025-06-01"); code != ExitUsage {
		t.Errorf("bad address: exit %d", code)
	}
	if _, _, code := runIntel(t, data, "intel", "show", "eth", "0x8589427373d6d84e98730d7795d8f6f8731fda16", "--as-of", "June"); code != ExitUsage {
		t.Errorf("bad date: exit %d", code)
	}
}

func TestIntelLoadStatsExport(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("title: x\ncreator: y\ntags:\n  - address: 0x12\n    label: l\n    source: s\n    currency: ETH\n    confidence: unknown\n"), 0o644)
	_, errs, code := runIntel(t, data, "intel", "load", "tagpack", bad)
	if code != ExitError || !strings.Contains(errs, "bad.yaml") || !strings.Contains(errs, "field address") {
		t.Errorf("bad load: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "intel")); err == nil {
		t.Error("a failed load created the intel store")
	}
	tp := filepath.Join("..", "intel", "testdata", "tagpack", "graphsense_example.yaml")
	out, errs, code := runIntel(t, data, "intel", "load", "tagpack", tp)
	if code != 0 || !strings.Contains(out, "tagpack loaded: 4 attributions") {
		t.Fatalf("load: %d %s %s", code, out, errs)
	}
	out, _, _ = runIntel(t, data, "intel", "load", "tagpack", tp)
	if !strings.Contains(out, "already loaded, nothing changed") {
		t.Errorf("second load: %s", out)
	}
	out, _, code = runIntel(t, data, "intel", "stats")
	if code != 0 || !strings.Contains(out, "tagpack") || !strings.Contains(out, "attributed addresses") {
		t.Errorf("stats:\n%s", out)
	}
	exp := filepath.Join(dir, "dprk.yaml")
	out, errs, code = runIntel(t, data, "intel", "export", "--entity", "actor:lazarus-group", "--chain", "eth", "-o", exp)
	if code != 0 || !strings.Contains(out, "tags written") {
		t.Fatalf("export: %s %s", out, errs)
	}
	// The export loads back; its claims are already there, so nothing new
	// is attributed, but it is a valid TagPack.
	data2 := t.TempDir()
	if out, errs, code := runIntel(t, data2, "intel", "load", "tagpack", exp); code != 0 || !strings.Contains(out, "tagpack loaded") {
		t.Errorf("re-load export: %s %s", out, errs)
	}
	if _, _, code := runIntel(t, data, "intel", "load", "nonsense", tp); code != ExitUsage {
		t.Errorf("unknown kind: exit %d", code)
	}
}

func TestIntelUpdateCLI(t *testing.T) {
	td := filepath.Join("..", "intel", "testdata")
	files := map[string]string{
		"/sdn.csv": filepath.Join(td, "ofac", "sdn.csv"), "/SDN_ADVANCED.XML": filepath.Join(td, "ofac", "SDN_ADVANCED.XML"),
		"/consolidated.xml": filepath.Join(td, "un_consolidated_small.xml"),
	}
	broken := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := os.ReadFile(p)
		if broken && r.URL.Path == "/consolidated.xml" {
			b = b[:len(b)/3]
		}
		w.Write(b)
	}))
	defer srv.Close()
	data := t.TempDir()
	out, errs, code := runIntel(t, data, "intel", "update", "--base-url", srv.URL)
	if code != 0 || !strings.Contains(out, "official lists updated") {
		t.Fatalf("update: %d %s %s", code, out, errs)
	}
	cur, _ := os.ReadFile(filepath.Join(data, "intel", "official", "CURRENT"))
	broken = true
	_, errs, code = runIntel(t, data, "intel", "update", "--base-url", srv.URL)
	if code != ExitError || !strings.Contains(errs, "current lists kept") || !strings.Contains(errs, "consolidated.xml") {
		t.Errorf("broken update: %d %s", code, errs)
	}
	if now, _ := os.ReadFile(filepath.Join(data, "intel", "official", "CURRENT")); string(now) != string(cur) {
		t.Errorf("CURRENT changed by a failed update: %q → %q", cur, now)
	}
	out, _, _ = runIntel(t, data, "intel", "stats")
	if !strings.Contains(out, "ofac-advanced") {
		t.Errorf("stats after update:\n%s", out)
	}
}
