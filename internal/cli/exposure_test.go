package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/exposure"
)

// exposureWorld imports a small ledger (the hacker and carol pay mid, mid
// pays alice) and writes a labels file naming the hacker.
func exposureWorld(t *testing.T) (data, labels string, addr func(int) string) {
	t.Helper()
	addr = func(n int) string { return fmt.Sprintf("0x%040x", n) }
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	csv := "chain,tx_hash,block_number,block_timestamp,position,from_address,to_address,asset,amount\n"
	for i, r := range []struct{ from, to, amt int }{{0xbad, 0x111, 30}, {0xc0, 0x111, 70}, {0x111, 0xa1, 50}} {
		csv += fmt.Sprintf("eth,0x%064x,%d,%d,0,%s,%s,native,%d\n", 0x1000+i, 100+i, 1704067200+3600*i, addr(r.from), addr(r.to), r.amt)
	}
	ledger := filepath.Join(dir, "ledger.csv")
	labels = filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(ledger, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, []byte("chain,address,category,label\neth,"+addr(0xbad)+",hack,Test exploiter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "import", "transfers", ledger, "--data", data, "--quiet"); code != ExitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	return data, labels, addr
}

func TestExposureCommand(t *testing.T) {
	data, labels, addr := exposureWorld(t)
	alice := addr(0xa1)
	code, out, errs := runCLI(t, "exposure", "--chain", "eth", strings.ToUpper(alice[:2])+alice[2:], "--labels", labels, "--no-intel", "--data", data)
	if code != ExitOK || !strings.Contains(out, "within 3 hops 15/50") || !strings.Contains(out, "path hack 15: "+addr(0xbad)) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "exposure", "--chain", "eth", alice, "--labels", labels, "--no-intel", "--hops", "1", "--json", "--data", data)
	var r exposure.Result
	if code != ExitOK || json.Unmarshal([]byte(out), &r) != nil || r.Hops != 1 || len(r.Assets[0].Source.Categories) != 0 {
		t.Fatalf("--json --hops 1: exit %d\n%s\n%s", code, out, errs)
	}
	// With the intel store (shipped packs only) the ledger has no attributed address.
	code, out, errs = runCLI(t, "exposure", "--chain", "eth", alice, "--data", data, "--as-of", "2024-06-01")
	if code != ExitOK || !strings.Contains(out, "as of 2024-06-01") || strings.Contains(out, "hack") {
		t.Fatalf("intel only: exit %d\n%s\n%s", code, out, errs)
	}
	// A file of addresses gives one JSON line each, in order.
	list := filepath.Join(t.TempDir(), "addrs.txt")
	os.WriteFile(list, []byte("# deposits\n"+alice+"\n\n"+strings.ToUpper(addr(0x111)[2:])+"\n"), 0o644)
	code, out, errs = runCLI(t, "exposure", "--chain", "eth", "--file", list, "--labels", labels, "--no-intel", "--data", data)
	// Line 4 lacks 0x: the whole file is refused, nothing printed.
	if code != ExitUsage || out != "" || !strings.Contains(errs, list+":4: address: invalid address") {
		t.Fatalf("--file with a bad line: exit %d\n%s\n%s", code, out, errs)
	}
	os.WriteFile(list, []byte("# deposits\n"+alice+"\n\n"+addr(0x111)+"\n"), 0o644)
	code, out, errs = runCLI(t, "exposure", "--chain", "eth", "--file", list, "--labels", labels, "--no-intel", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r1, r2 exposure.Result
	if code != ExitOK || len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &r1) != nil || json.Unmarshal([]byte(lines[1]), &r2) != nil ||
		r1.Address != alice || r2.Address != addr(0x111) {
		t.Fatalf("--file: exit %d\n%s\n%s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"exposure", "--chain", "eth", alice, "--file", list}, "not both"},
		{[]string{"exposure", "--chain", "eth", "0x12"}, `invalid address: "0x12"`},
		{[]string{"exposure", alice}, "--chain is required"},
		{[]string{"exposure", "--chain", "eth"}, "want one address"},
		{[]string{"exposure", "--chain", "eth", alice, "--hops", "9"}, "--hops must be 1..6"},
		{[]string{"exposure", "--chain", "eth", alice, "--as-of", "2024-02-30"}, "--as-of"},
		{[]string{"exposure", "--chain", "btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}, "unknown chain: btc has no transfers"},
	} {
		code, _, errs := runCLI(t, append(c.args, "--data", data)...)
		if code != ExitUsage || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %s", c.args, code, errs)
		}
	}
}

func TestServeCommand(t *testing.T) {
	data, _, addr := exposureWorld(t)
	code, _, errs := runCLI(t, "serve", "--listen", "0.0.0.0:8080", "--data", data)
	if code != ExitUsage || !strings.Contains(errs, "an access token is required") {
		t.Fatalf("non-loopback without a token: exit %d, %s", code, errs)
	}
	s := startServe(t, "--data", data)
	base := s.base
	resp, err := http.Get(base + "/api/v1/exposure/eth/" + addr(0xa1) + "?as_of=2024-06-01")
	if err != nil {
		t.Fatal(err)
	}
	var r exposure.Result
	err = json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || r.Assets[0].Source.Total != "50" {
		t.Fatalf("exposure over HTTP: %d %v %+v", resp.StatusCode, err, r)
	}
	resp, err = http.Post(base+"/api/v1/screen", "application/json", strings.NewReader(`{"queries":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("screen with --no-screen: %d", resp.StatusCode)
	}
	s.shutdown()
}
