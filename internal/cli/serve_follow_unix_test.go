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
func TestServeFollowSIGTERM(t *testing.T) { testServeFollowSIGTERM(t, "eth") }

// TestServeFollowTwoChainsSIGTERM: the same with two nodes followed at once
// (--follow eth=URL --follow bsc=URL), both producing blocks when SIGTERM
// arrives: both followers stop cleanly, and the restart counts every payment
// of each chain exactly once.
func TestServeFollowTwoChainsSIGTERM(t *testing.T) { testServeFollowSIGTERM(t, "eth", "bsc") }

func testServeFollowSIGTERM(t *testing.T, chains ...string) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := binary(t)
	ctx := context.Background()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	type chainNode struct {
		name        string
		node        *ethsim.Node
		nonce       uint64
		paid        int64
		lastPayment uint64
	}
	var nodes []*chainNode
	for _, c := range chains {
		node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
		if err != nil {
			t.Fatal(err)
		}
		defer node.Close()
		nodes = append(nodes, &chainNode{name: c, node: node})
	}
	var mu sync.Mutex // node access
	pay := func(n *chainNode) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := n.node.Send(ctx, alice, n.nonce, &bob.Addr, big.NewInt(1000+int64(n.nonce)), 21000, nil); err != nil {
			t.Error(err)
			return
		}
		n.paid += 1000 + int64(n.nonce)
		n.nonce++
		n.node.Commit()
	}
	for i := 0; i < 5; i++ {
		for _, n := range nodes {
			pay(n)
		}
	}
	data := filepath.Join(tmp, "data")
	flags := []string{"--data", data, "--tracer", "geth", "--follow-from", "0", "--poll", "20ms", "--follow-window", "1"}
	if len(nodes) == 1 {
		flags = append(flags, "--follow-rpc", nodes[0].node.URL) // the single-node form
	} else {
		for _, n := range nodes {
			flags = append(flags, "--follow", n.name+"="+n.node.URL)
		}
	}
	// indexed returns the newest indexed block per chain.
	indexed := func(base string) map[string]uint64 {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h struct {
			Follows []struct {
				Chain   string
				Indexed uint64 `json:"indexed_block"`
				Errors  uint64
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		out := map[string]uint64{}
		for _, f := range h.Follows {
			if f.Errors != 0 {
				t.Errorf("%s follower had poll errors: %+v", f.Chain, f)
			}
			out[f.Chain] = f.Indexed
		}
		return out
	}
	allAtLeast := func(base string, want func(*chainNode) uint64) bool {
		got := indexed(base)
		for _, n := range nodes {
			if got[n.name] < want(n) {
				return false
			}
		}
		return true
	}

	// Run 1: blocks keep coming while the server follows; SIGTERM mid-way.
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--no-screen"}, flags...)...)
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
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					pay(n)
				}
			}
		}()
	}
	deadline := time.Now().Add(15 * time.Second)
	for !allAtLeast(base, func(*chainNode) uint64 { return 20 }) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("followers did not reach block 20:\n%s", errb.String())
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
	for _, n := range nodes {
		if !strings.Contains(errb.String(), `msg="follower stopped" chain=`+n.name) {
			t.Errorf("no clean stop of the %s follower in the log:\n%s", n.name, errb.String())
		}
	}

	// Run 2 (in process): resumes from the store and catches up; bob's
	// received total on each chain is every payment exactly once.
	mu.Lock()
	for _, n := range nodes {
		n.lastPayment = n.nonce // one payment a block, blocks 1..nonce
	}
	mu.Unlock()
	s2 := startServe(t, flags...)
	base = s2.base
	deadline = time.Now().Add(15 * time.Second)
	for !allAtLeast(base, func(n *chainNode) uint64 { return n.lastPayment }) {
		if time.Now().After(deadline) {
			t.Fatalf("second run did not catch up: %v\n%s", indexed(base), s2.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, n := range nodes {
		resp, err := http.Get(base + "/api/v1/exposure/" + n.name + "/" + bob.Addr.Hex() + "?as_of=2099-01-01&hops=1")
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
			t.Fatalf("exposure on %s: %v: %s", n.name, err, body)
		}
		if got := res.Assets[0].Source; got.Total != big.NewInt(n.paid).String() || got.Transfers != int(n.lastPayment) {
			t.Errorf("bob received %s in %d transfers on %s, want %d in %d", got.Total, got.Transfers, n.name, n.paid, n.lastPayment)
		}
	}
	indexed(base) // no poll errors
	s2.shutdown()
}
