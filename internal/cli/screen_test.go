package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runScreen(t *testing.T, data string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"--data", data}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestScreenCompareJSON(t *testing.T) {
	out, errs, code := runScreen(t, t.TempDir(), "screen", "compare", "--json", "Kim Chol Sam", "Jin Tiesan")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Score       float64 `json:"score"`
		Explanation struct {
			Mode  string `json:"mode"`
			Parts []struct {
				A, B, Rule string
			} `json:"parts"`
		} `json:"explanation"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Score < 0.8 || r.Score > 0.9 || r.Explanation.Mode != "hanja reading" || len(r.Explanation.Parts) != 3 {
		t.Errorf("compare: %+v", r)
	}
	if _, _, code := runScreen(t, t.TempDir(), "screen", "compare", "Kim", "\x01"); code != ExitUsage {
		t.Errorf("control character: exit %d, want %d", code, ExitUsage)
	}
}

// Name, wallet and batch screening over the packs shipped in the binary.
func TestScreenShippedPacks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the index over the shipped packs")
	}
	data := t.TempDir()
	out, errs, code := runScreen(t, data, "screen", "name", "KIM, Chol Sam", "--dob", "1971-03-11", "--nationality", "KP", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Matches []struct {
			EntityID string  `json:"entity_id"`
			Score    float64 `json:"score"`
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) == 0 || res.Matches[0].Score != 1 {
		t.Fatalf("name with dob: %s", out)
	}

	out, errs, code = runScreen(t, data, "screen", "wallet", "eth", "0xDCBEFFBECCE100CCE9E4B153C4E15CB885643193")
	if code != 0 || !strings.Contains(out, "ofac:44718") {
		t.Errorf("wallet: exit %d: %s %s", code, out, errs)
	}
	if _, _, code = runScreen(t, data, "screen", "wallet", "eth", "0x12"); code != ExitUsage {
		t.Errorf("bad address: exit %d", code)
	}

	f := filepath.Join(data, "q.jsonl")
	if err := os.WriteFile(f, []byte(`{"name":"Kim Jong-un"}`+"\n"+`{"name":""}`+"\n"+`{"name":"Jin Tiesan","type":"person"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runScreen(t, data, "screen", "batch", f)
	if code != 0 {
		t.Fatalf("batch: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "ofac:20157") || !strings.Contains(lines[1], `"error":"empty name"`) || !strings.Contains(lines[2], "KIM, Chol Sam") {
		t.Errorf("batch output:\n%s", out)
	}
}

func TestScreenEval(t *testing.T) {
	out, errs, code := runScreen(t, t.TempDir(), "screen", "eval", "--split", "test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"test\n", "precision", "Kim Song Il / Kim Jong Il"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runScreen(t, t.TempDir(), "screen", "eval", "--split", "x"); code != ExitUsage {
		t.Errorf("bad split: exit %d", code)
	}
}
