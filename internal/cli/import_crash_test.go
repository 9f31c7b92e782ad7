package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/redthread/redthread/internal/importer"
	"github.com/redthread/redthread/internal/store"
)

// TestImportCrash builds the real binary, starts an import, kills it with
// SIGKILL after some batches are committed, runs it again to completion and
// checks that the store equals one built by a single uninterrupted run.
func TestImportCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 150,000 rows three times")
	}
	tmp := t.TempDir()
	bin := binary(t)
	csv := filepath.Join(tmp, "big.csv")
	f, err := os.Create(csv)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 150_000
	if err := importer.GenerateTransfers(f, importer.GenOptions{Transfers: rows, Seed: 42, Addresses: 20_000}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	args := func(data string) []string {
		return []string{"import", "transfers", csv, "--data", data, "--batch", "4000", "--verbose", "--quiet"}
	}

	// 1. Start, wait for the third committed batch, kill -9.
	crashed := filepath.Join(tmp, "crashed")
	cmd := exec.Command(bin, args(crashed)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	commits := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "batch committed") {
			commits++
			if commits == 3 {
				break
			}
		}
	}
	if commits < 3 {
		cmd.Wait()
		t.Fatalf("saw %d committed batches before the import ended", commits)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() { // drain so the child never blocks on a full pipe before it dies
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("import was not killed by SIGKILL: %v (it may have finished first)", err)
	}

	// 2. Run it again: it must resume after the checkpoint and finish.
	var out, errb bytes.Buffer
	again := exec.Command(bin, args(crashed)...)
	again.Stdout, again.Stderr = &out, &errb
	if err := again.Run(); err != nil {
		t.Fatalf("restart: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "resuming import") {
		t.Errorf("restart did not resume from a checkpoint:\n%s", errb.String())
	}
	if strings.Contains(out.String(), "imported 150000 transfers") {
		t.Errorf("restart re-imported everything: %s", out.String())
	}

	// 3. The same import in one run.
	single := filepath.Join(tmp, "single")
	one := exec.Command(bin, args(single)...)
	if b, err := one.CombinedOutput(); err != nil {
		t.Fatalf("single run: %v\n%s", err, b)
	}

	digest := func(data string) ([32]byte, uint64) {
		st, err := store.Open(filepath.Join(data, "ledger"), store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		d, err := st.Digest()
		if err != nil {
			t.Fatal(err)
		}
		n, err := st.ChainStats("eth")
		if err != nil {
			t.Fatal(err)
		}
		return d, n
	}
	dc, nc := digest(crashed)
	ds, ns := digest(single)
	if nc != rows || ns != rows {
		t.Errorf("transfer counts: crashed+resumed %d, single %d, want %d", nc, ns, rows)
	}
	if dc != ds {
		t.Errorf("store digests differ: crashed+resumed %x, single run %x", dc, ds)
	}
}
