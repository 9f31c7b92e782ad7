package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

// closedPort returns the address of a TCP port that was just free (nothing
// listens there: connecting is refused).
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveAt starts serving h at addr (the port closedPort returned): the
// node "comes up".
func serveAt(t *testing.T, addr string, h http.Handler) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func forwardTo(t *testing.T, nodeURL string) http.Handler {
	t.Helper()
	u, err := url.Parse(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// TestServeFollowNodeDownAtStart: serve follows eth and bsc, and bsc's node
// is a closed port at start. The server starts anyway and serves the bsc
// blocks the store already holds; /healthz says "degraded", naming bsc as
// not reached (state connecting, errors counted), and /metrics has
// redthread_follow_up{chain="bsc"} 0, while eth is followed as usual. Once
// a node answers on that port, the follower probes it, catches up, bsc's new
// payment appears and /healthz says "ok". Then the server stops cleanly.
func TestServeFollowNodeDownAtStart(t *testing.T) {
	alice := ethsim.NewAccount(1)
	bob, carol, dave := ethsim.NewAccount(2).Addr, ethsim.NewAccount(3).Addr, ethsim.NewAccount(4).Addr
	ethC, bscC := newSimChain(t, "eth", alice), newSimChain(t, "bsc", alice)
	data := t.TempDir()

	// First run: bsc block 1 (alice pays carol 222) goes into the store.
	bscC.pay(carol, 222)
	bscC.node.Commit()
	s := startServe(t, "--data", data, "--follow", "bsc="+bscC.url, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	s.waitFor("bsc block 1", func() bool { _, h := s.health(); return h["bsc"].Indexed >= 1 })
	s.shutdown()

	// Second run: the bsc node is down (nothing listens on its port).
	ethC.pay(bob, 111)
	ethC.node.Commit()
	down := closedPort(t)
	s = startServe(t, "--data", data, "--follow", "eth="+ethC.url, "--follow", "bsc=http://"+down,
		"--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	if !strings.Contains(s.log.String(), "node unreachable at start") {
		t.Errorf("no warning about the unreachable node in the log:\n%s", s.log.String())
	}
	if got := s.received("bsc", carol); got != "222" {
		t.Errorf("carol on bsc (stored) received %q, want 222", got)
	}
	s.waitFor("eth block 1", func() bool { return s.received("eth", bob) == "111" })
	s.waitFor("a retry of the bsc node", func() bool { _, h := s.health(); return h["bsc"].Errors >= 2 })
	status, h := s.health()
	if status != "degraded" || h["bsc"].State != api.FollowConnecting || !strings.Contains(h["bsc"].Degraded, "node not reached yet") ||
		!strings.Contains(h["bsc"].Error, "connection refused") || h["bsc"].Indexed != 1 {
		t.Errorf("health with the bsc node down: want degraded, bsc connecting (connection refused), indexed 1; got %s %+v", status, h["bsc"])
	}
	if h["eth"].State != api.FollowFollowing || h["eth"].Degraded != "" {
		t.Errorf("eth while bsc is down: %+v", h["eth"])
	}
	_, metrics := s.get("/metrics")
	for _, m := range []string{`redthread_follow_up{chain="bsc"} 0`, `redthread_follow_degraded{chain="bsc"} 1`,
		`redthread_follow_up{chain="eth"} 1`, `redthread_follow_indexed_block{chain="bsc"} 1`} {
		if !strings.Contains(metrics, m+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", m, grepLines(metrics, "redthread_follow"))
		}
	}
	if !strings.Contains(s.log.String(), `msg="follow: node unreachable; retrying" chain=bsc`) {
		t.Errorf("no retry logged:\n%s", s.log.String())
	}

	// bsc block 2 (alice pays dave 333) is mined, then the node answers.
	bscC.pay(dave, 333)
	bscC.node.Commit()
	serveAt(t, down, forwardTo(t, bscC.node.URL))
	s.waitFor("bsc followed once its node answers", func() bool {
		st, h := s.health()
		return s.received("bsc", dave) == "333" && st == "ok" && h["bsc"].State == api.FollowFollowing && h["bsc"].Indexed == 2
	})
	if !strings.Contains(s.log.String(), `msg="follow: node reached; following" chain=bsc`) {
		t.Errorf("no 'node reached' line in the log:\n%s", s.log.String())
	}
	s.shutdown()
}

// TestServeFollowRefusedLater: a node unreachable at start that then
// answers with the chain id of another chain (1, eth, given as bsc) is
// refused: the follower stops and writes nothing, /healthz says degraded
// with state "refused" naming the chain id, and the server keeps serving
// and stops cleanly.
func TestServeFollowRefusedLater(t *testing.T) {
	alice := ethsim.NewAccount(1)
	carol := ethsim.NewAccount(3).Addr
	node := newSimChain(t, "bsc", alice)
	node.pay(carol, 5)
	node.node.Commit()
	down := closedPort(t)
	s := startServe(t, "--data", t.TempDir(), "--follow", "bsc=http://"+down, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	serveAt(t, down, chainIDProxy(t, node.node.URL, "0x1"))
	s.waitFor("the follower refused", func() bool { _, h := s.health(); return h["bsc"].State == api.FollowRefused })
	status, h := s.health()
	if status != "degraded" || !strings.Contains(h["bsc"].Degraded, "refused") || !strings.Contains(h["bsc"].Error, "chain id 1, which is eth, not bsc") {
		t.Errorf("health after the refusal: %s %+v", status, h["bsc"])
	}
	polls := h["bsc"].Polls
	time.Sleep(300 * time.Millisecond) // six --poll periods: a stopped follower neither polls nor retries
	if _, h2 := s.health(); h2["bsc"].Polls != polls || h2["bsc"].Errors != h["bsc"].Errors || h2["bsc"].Indexed != 0 || h2["bsc"].Blocks != 0 {
		t.Errorf("the refused follower went on: before %+v, after %+v", h["bsc"], h2["bsc"])
	}
	if got := s.received("bsc", carol); got != "" {
		t.Errorf("carol on bsc received %q from a refused node", got)
	}
	if !strings.Contains(s.log.String(), "cannot be followed") {
		t.Errorf("no refusal in the log:\n%s", s.log.String())
	}
	s.shutdown()
}

// TestServeFollowStalledNode: a node that accepts requests but stops
// answering them (no error, the poll just hangs) makes /healthz say
// degraded ("no progress") after --follow-stall, and ok again once it
// answers and the follower goes on.
func TestServeFollowStalledNode(t *testing.T) {
	alice := ethsim.NewAccount(1)
	bob := ethsim.NewAccount(2).Addr
	c := newSimChain(t, "eth", alice)
	c.pay(bob, 7)
	c.node.Commit()
	var hang atomic.Bool
	release := make(chan struct{})
	var once sync.Once
	fwd := forwardTo(t, c.url)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // runs before srv.Close
	s := startServe(t, "--data", t.TempDir(), "--follow", "eth="+srv.URL, "--tracer", "geth", "--follow-from", "0",
		"--poll", "50ms", "--follow-stall", "1s")
	s.waitFor("block 1", func() bool { st, h := s.health(); return st == "ok" && h["eth"].Indexed == 1 })
	if _, h := s.health(); h["eth"].StallAfter != 1 || h["eth"].LastProgress.IsZero() {
		t.Errorf("stall bound and progress time not reported: %+v", h["eth"])
	}
	hang.Store(true)
	s.waitFor("degraded by the stall", func() bool {
		st, h := s.health()
		return st == "degraded" && strings.Contains(h["eth"].Degraded, "no progress for") && h["eth"].State == api.FollowFollowing
	})
	_, metrics := s.get("/metrics")
	if !strings.Contains(metrics, `redthread_follow_degraded{chain="eth"} 1`+"\n") {
		t.Errorf("/metrics: want eth degraded:\n%s", grepLines(metrics, "redthread_follow"))
	}
	hang.Store(false)
	once.Do(func() { close(release) })
	c.pay(bob, 8)
	c.node.Commit()
	s.waitFor("ok again with block 2", func() bool {
		st, h := s.health()
		return st == "ok" && h["eth"].Indexed == 2 && s.received("eth", bob) == "15"
	})
	s.shutdown()
}
