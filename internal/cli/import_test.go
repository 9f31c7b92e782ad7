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

// TestImportAllFormatsIntoStore runs every format through the real store.
func TestImportAllFormatsIntoStore(t *testing.T) {
	etl := filepath.Join("..", "importer", "testdata", "etl")
	es := filepath.Join("..", "importer", "testdata", "etherscan")
	data := t.TempDir()
	for _, args := range [][]string{
		{"import", "etl-transactions", filepath.Join(etl, "b483920_transactions.csv"), "--receipts", filepath.Join(etl, "b483920_receipts.csv")},
		{"import", "etl-token-transfers", filepath.Join(etl, "b483920_token_transfers.csv"), "--transactions", filepath.Join(etl, "b483920_transactions.csv")},
		{"import", "etl-traces", filepath.Join(etl, "parity_subtraces_traces.csv"), filepath.Join(etl, "parity_suicide_traces.csv"), "--blocks", filepath.Join(etl, "traces_blocks.csv")},
		{"import", "etl-transactions", filepath.Join(etl, "s17173049_transactions.json")},
		{"import", "etl-token-transfers", filepath.Join(etl, "s17173049_token_transfers.json"), "--transactions", filepath.Join(etl, "s17173049_transactions.json")},
	} {
		code, out, errs := runCLI(t, append(args, "--data", data, "--quiet")...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	es1 := t.TempDir()
	for _, args := range [][]string{
		{"import", "etherscan-normal", filepath.Join(es, "normal.csv")},
		{"import", "etherscan-internal", filepath.Join(es, "internal.csv")},
		{"import", "etherscan-token", filepath.Join(es, "token.csv"), "--token", "USDT=0xdac17f958d2ee523a2206206994597c13d831ec7:6", "--decimals", "18"},
	} {
		code, out, errs := runCLI(t, append(args, "--data", es1, "--quiet")...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	count := func(dir string) map[string]int {
		st, err := store.Open(filepath.Join(dir, "ledger"), store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n := map[string]int{}
		err = st.ScanTransfers(context.Background(), "eth", 0, 1<<62, func(tr *model.Transfer) error {
			n[tr.Kind.String()]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// ethereum-etl: 2 native + 2 token in block 483920; 2 rewards + 1
	// selfdestruct from the traces; the stream blocks add 127 successful
	// transactions with value and 288 non-zero token transfers.
	if d := cmp.Diff(map[string]int{"native": 2 + 127, "token": 2 + 288, "reward": 2, "internal": 1}, count(data)); d != "" {
		t.Errorf("etl store (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"native": 2, "internal": 1, "token": 3}, count(es1)); d != "" {
		t.Errorf("etherscan store (-want +got):\n%s", d)
	}
}
