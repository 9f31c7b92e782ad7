package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

func TestIngestEthCommand(t *testing.T) {
	ctx := context.Background()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	for i := 0; i < 3; i++ {
		if _, err := node.Send(ctx, alice, uint64(i), &bob.Addr, big.NewInt(int64(1000+i)), 21000, nil); err != nil {
			t.Fatal(err)
		}
		node.Commit()
	}
	data := t.TempDir()
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(ctx, append([]string{"--data", data}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	out, errs, code := run("ingest", "eth", "--rpc", node.URL, "--from", "0", "--head", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sum struct {
		Blocks, Txs, Transfers uint64
		Tracer                 string
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// 3 txs: value + tip + burn each.
	if sum.Blocks != 4 || sum.Txs != 3 || sum.Transfers != 9 || sum.Tracer != "geth" {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(errs, "msg=done") {
		t.Fatalf("no progress log on a non-terminal stderr: %s", errs)
	}
	out, _, code = run("ingest", "eth", "--rpc", node.URL, "--from", "0", "--to", "3")
	if code != ExitOK || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second run: exit %d, %s", code, out)
	}
	// The ingested value shows in the address summary.
	out, errs, code = run("address", "eth", bob.Addr.Hex(), "--json")
	if code != ExitOK || !strings.Contains(out, "3003") {
		t.Fatalf("address: exit %d %s %s", code, out, errs)
	}
	// A node without trace_block, forced: a clear error naming the method.
	_, errs, code = run("ingest", "eth", "--rpc", node.URL, "--from", "1", "--to", "1", "--tracer", "parity")
	if code != ExitError || !strings.Contains(errs, "trace_block") {
		t.Fatalf("parity on geth: exit %d: %s", code, errs)
	}
	for _, bad := range [][]string{
		{"ingest", "eth", "--from", "1", "--to", "2"},
		{"ingest", "eth", "--rpc", node.URL, "--from", "5", "--to", "2"},
		{"ingest", "eth", "--rpc", node.URL, "--from", "1"},
		{"ingest", "eth", "--rpc", node.URL, "--from", "1", "--to", "2", "--tracer", "magic"},
	} {
		if _, errs, code := run(bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want usage error: %s", bad, code, errs)
		}
	}
}
