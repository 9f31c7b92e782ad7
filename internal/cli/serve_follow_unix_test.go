//go:build unix

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

// TestServeFollowSIGTERM runs the real binary following a node that keeps
// producing blocks, stops it with SIGTERM while it ingests, and restarts it:
// the first run exits 0 after stopping its follower, and the second resumes
// from the store and ends with every payment counted exactly once — nothing
// was half-written or lost by the signal.
func TestServeFollowSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := binary(t)
	ctx := context.Background()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	var mu sync.Mutex // node access
	nonce, paid := uint64(0), int64(0)
	pay := func() {
		mu.Lock()
		defer mu.Unlock()
		if _, err := node.Send(ctx, alice, nonce, &bob.Addr, big.NewInt(1000+int64(nonce)), 21000, nil); err != nil {
			t.Error(err)
			return
		}
		paid += 1000 + int64(nonce)
		nonce++
		node.Commit()
	}
	for i := 0; i < 5; i++ {
		pay()
	}
	data := filepath.Join(tmp, "data")
	args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--no-screen", "--follow-rpc", node.URL,
		"--tracer", "geth", "--follow-from", "0", "--poll", "20ms", "--follow-window", "1"}

	// Run 1: blocks keep coming while the server follows; SIGTERM mid-way.
	cmd := exec.Command(bin, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("serve printed nothing: %v\n%s", err, errb.String())
	}
	go io.Copy(io.Discard, out)
	base, _, _ := strings.Cut(strings.TrimPrefix(line, "serving on "), " ")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				pay()
			}
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for followStatus(t, base).Indexed < 20 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("follower did not reach block 20:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM:\n%s", errb.String())
	}
	close(stop)
	wg.Wait()
	if !strings.Contains(errb.String(), "follower stopped") {
		t.Errorf("no clean follower stop in the log:\n%s", errb.String())
	}

	// Run 2 (in process): resumes from the store and catches up; bob's
	// received total is every payment exactly once.
	mu.Lock()
	want, head := paid, nonce+0
	mu.Unlock()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	var errb2 bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(sctx, args, pw, &errb2)
		pw.Close()
	}()
	line, err = bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("second serve printed nothing: %v\n%s", err, errb2.String())
	}
	go io.Copy(io.Discard, pr)
	base, _, _ = strings.Cut(strings.TrimPrefix(line, "serving on "), " ")
	deadline = time.Now().Add(15 * time.Second)
	for followStatus(t, base).Indexed < head { // one payment a block, blocks 1..head
		if time.Now().After(deadline) {
			t.Fatalf("second run did not catch up to block %d: %+v\n%s", head, followStatus(t, base), errb2.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(base + "/api/v1/exposure/eth/" + bob.Addr.Hex() + "?as_of=2099-01-01&hops=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		Assets []struct {
			Asset  string
			Source struct {
				Total     string
				Transfers int
			}
		}
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.Assets) == 0 {
		t.Fatalf("exposure: %v: %s", err, body)
	}
	if got := res.Assets[0].Source; got.Total != big.NewInt(want).String() || got.Transfers != int(head) {
		t.Errorf("bob received %s in %d transfers, want %d in %d", got.Total, got.Transfers, want, head)
	}
	if st := followStatus(t, base); st.Errors != 0 {
		t.Errorf("second run had poll errors: %+v\n%s", st, errb2.String())
	}
	cancel()
	if c := <-done; c != ExitOK {
		t.Fatalf("second serve exit %d:\n%s", c, errb2.String())
	}
}
