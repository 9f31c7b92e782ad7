package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestImportCommand(t *testing.T) {
	data := t.TempDir()
	sample := filepath.Join("..", "importer", "testdata", "transfers", "sample.csv")
	code, out, errs := runCLI(t, "import", "transfers", sample, "--data", data, "--quiet")
	if code != ExitOK || !strings.Contains(out, "imported 5 transfers from 5 rows of 1 file(s)") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	code, out, _ = runCLI(t, "import", "transfers", sample, "--data", data, "--quiet")
	if code != ExitOK || !strings.Contains(out, "imported 0 transfers") || !strings.Contains(out, "1 file(s) already complete") {
		t.Errorf("second run: exit %d, %s", code, out)
	}
	// The imported transfers are visible to the address summary.
	code, out, errs = runCLI(t, "address", "eth", "0x2A65ACA4D5FC5B5C859090A6C34D164135398226", "--data", data)
	if code != ExitOK || !strings.Contains(out, "1530219620000000000") {
		t.Errorf("address: exit %d\n%s\n%s", code, out, errs)
	}

	code, _, errs = runCLI(t, "import", "nosuch", sample, "--data", data)
	if code != ExitUsage || !strings.Contains(errs, `unknown import format "nosuch"`) {
		t.Errorf("unknown format: exit %d, %s", code, errs)
	}
	code, _, errs = runCLI(t, "import", "etherscan-token", sample, "--data", data, "--token", "USDT=0x12:6")
	if code != ExitUsage || !strings.Contains(errs, "--token") {
		t.Errorf("bad --token: exit %d, %s", code, errs)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("chain,tx_hash,block_number,block_timestamp,position,from_address,to_address,asset,amount\neth,0x01,1,2,3,4,5,6,7\n"), 0o644)
	code, _, errs = runCLI(t, "import", "transfers", bad, "--data", data, "--quiet")
	if code != ExitError || !strings.Contains(errs, bad+`:2: field tx_hash "0x01"`) {
		t.Errorf("bad row: exit %d, %s", code, errs)
	}

	code, out, _ = runCLI(t, "import", "--help")
	for _, f := range []string{"transfers", "etl-transactions", "etl-receipts", "etl-token-transfers", "etl-traces", "etherscan-normal", "etherscan-internal", "etherscan-token", "docs/formats.md", "--receipts", "--token"} {
		if !strings.Contains(out, f) {
			t.Errorf("--help lacks %q", f)
		}
	}
	if code != ExitOK {
		t.Errorf("--help: exit %d", code)
	}
}
