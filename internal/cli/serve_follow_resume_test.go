package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/ingest"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// TestFollowFinishesInterruptedRollback: a follower stopped (a crash, or a
// SIGTERM cancelling the chunked store rollback) after the ingester recorded
// a rollback of blocks 4–6 but before the store removed them. The next poll
// finishes the rollback and must ingest the node's new branch from block 4,
// not from after the newest stored block (7): store and graph index then
// equal a fresh ingest of the node, with no hole at 4–6.
func TestFollowFinishesInterruptedRollback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	from := ethsim.NewAccount(1)
	node, err := ethsim.Start(types.GenesisAlloc{from.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	nonce := uint64(0)
	mine := func(n int, salt byte) {
		for i := range n {
			to := common.BytesToAddress([]byte{salt, byte(i), 1})
			if _, err := node.Send(ctx, from, nonce, &to, big.NewInt(int64(100+i)), 21000, nil); err != nil {
				t.Fatal(err)
			}
			nonce++
			node.Commit()
		}
	}
	mine(6, 1) // blocks 1–6
	src := eth.New(node.URL, eth.Options{Tracer: eth.TracerNone})
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := ingest.Run(ctx, src, st, ingest.Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	// The ingester's rollback intent (its checkpoint format), as written
	// before Store.Rollback; blocks 4–6 are still stored.
	intent := &store.Checkpoint{Name: "ingest/eth", Value: []byte(`{"last":3,"rollback_from":4,"rollback_to":6}`)}
	if err := st.Write(ctx, nil, intent); err != nil {
		t.Fatal(err)
	}
	// The node abandons 4–6 for a longer branch 4'–8'.
	h3, err := node.Client.HeaderByNumber(ctx, big.NewInt(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Fork(h3.Hash()); err != nil {
		t.Fatal(err)
	}
	nonce = 3
	mine(5, 2)

	ix := graph.New(graph.Options{Hashes: st})
	if err := ix.Load(ctx, st, model.ChainETH); err != nil {
		t.Fatal(err)
	}
	f := &follower{chain: model.ChainETH, src: src, st: st, ix: ix, wmu: &sync.Mutex{},
		log: slog.New(slog.DiscardHandler), poll: time.Second, win: 100}
	if err := f.pollOnce(ctx); err != nil {
		t.Fatal(err)
	}

	fresh, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := ingest.Run(ctx, src, fresh, ingest.Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(followDump(t, fresh), followDump(t, st)); d != "" {
		t.Fatalf("store after the finished rollback differs from a fresh ingest of the node (-fresh +followed):\n%s", d)
	}
	want := graph.New(graph.Options{Hashes: fresh})
	if err := want.Load(ctx, fresh, model.ChainETH); err != nil {
		t.Fatal(err)
	}
	if w, g := graphTransfers(want), graphTransfers(ix); w != g {
		t.Fatalf("graph index has %d transfers, a fresh index of the node %d", g, w)
	}
}

// followDump lists the stored eth block hashes and transfers of blocks 0–20.
func followDump(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for n := uint64(0); n <= 20; n++ {
		h, ok, err := st.BlockHash(model.ChainETH, n)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, fmt.Sprintf("block %d %s", n, h))
		}
	}
	err := st.ScanTransfers(context.Background(), model.ChainETH, 0, 20, func(tr *model.Transfer) error {
		out = append(out, fmt.Sprintf("%d/%d %s %s→%s %s %s", tr.Block, tr.Position, tr.TxHash, tr.From, tr.To, tr.Amount.Dec(), tr.Kind))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func graphTransfers(ix *graph.Index) int {
	r := ix.Reader()
	defer r.Close()
	c, ok := r.Chain(model.ChainETH)
	if !ok {
		return 0
	}
	return c.Stats().Transfers
}

// TestServeFollowStallBoundFollowsPoll: --follow-stall's default grows
// with a long --poll (serve --follow-rpc URL --poll 3m used to be refused
// because the 2m default was shorter than --poll), and an explicit bound
// under 3 × --poll, which would report a healthy follower as stalled
// between its polls, is refused.
func TestServeFollowStallBoundFollowsPoll(t *testing.T) {
	data := t.TempDir()
	s := startServe(t, "--data", data, "--follow-rpc", "http://"+closedPort(t), "--poll", "3m")
	if _, h := s.health(); h["eth"].StallAfter != 540 {
		t.Errorf("stall bound with --poll 3m: %d s, want 540 (3 × --poll)", h["eth"].StallAfter)
	}
	s.shutdown()
	s = startServe(t, "--data", data, "--follow-rpc", "http://"+closedPort(t), "--poll", "1s")
	if _, h := s.health(); h["eth"].StallAfter != 120 {
		t.Errorf("stall bound with --poll 1s: %d s, want the 120 s default", h["eth"].StallAfter)
	}
	s.shutdown()
	for _, args := range [][]string{
		{"--poll", "1m", "--follow-stall", "1m"},
		{"--poll", "1m", "--follow-stall", "2m"},
	} {
		args = append([]string{"serve", "--data", data, "--follow-rpc", "http://127.0.0.1:1"}, args...)
		if code, _, errs := runCLI(t, args...); code != ExitUsage || !strings.Contains(errs, "3 × --poll") {
			t.Errorf("%v: exit %d, want a usage error naming 3 × --poll: %s", args, code, errs)
		}
	}
}

// TestServeStoppedWhileStarting: SIGINT/SIGTERM while serve waits for a
// followed node's answer at start (a node that accepts the connection and
// never answers) is a clean stop, exit 0, not "context canceled", exit 1.
func TestServeStoppedWhileStarting(t *testing.T) {
	asked := make(chan struct{}, 1)
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the client hanging up
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer hung.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--no-screen",
			"--follow", "eth=" + hung.URL, "--tracer", "geth"}, io.Discard, &errb)
	}()
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("serve never asked the node")
	}
	stop()
	select {
	case c := <-done:
		if c != ExitOK {
			t.Fatalf("stopped while starting: exit %d, want 0:\n%s", c, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeFollowNodeDownDuringProbe: a node that answers its chain id and
// then stops answering (HTTP 403 from its proxy) before the probe is
// unreachable, not refused: the server starts, the follower retries, and
// once the node answers again it is followed.
func TestServeFollowNodeDownDuringProbe(t *testing.T) {
	alice := ethsim.NewAccount(1)
	bob := ethsim.NewAccount(2).Addr
	c := newSimChain(t, "eth", alice)
	c.pay(bob, 9)
	c.node.Commit()
	fwd := forwardTo(t, c.node.URL)
	var requests atomic.Int64
	var healed atomic.Bool
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 1 && !healed.Load() { // the first request is eth_chainId
			http.Error(w, "node restarting", http.StatusForbidden)
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	defer node.Close()
	s := startServe(t, "--data", t.TempDir(), "--follow", "eth="+node.URL, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	s.waitFor("a retry", func() bool { _, h := s.health(); return h["eth"].Errors >= 2 })
	if st, h := s.health(); st != "degraded" || h["eth"].State != api.FollowConnecting || !strings.Contains(h["eth"].Error, "403") {
		t.Errorf("node down during the probe: want degraded, connecting with the 403; got %s %+v", st, h["eth"])
	}
	healed.Store(true)
	s.waitFor("followed once the node answers", func() bool {
		st, h := s.health()
		return st == "ok" && h["eth"].Indexed == 1 && s.received("eth", bob) == "9"
	})
	s.shutdown()
}
