package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/model"
)

// simChain is one simulated node followed as a named chain, behind a proxy
// that can refuse every request (a node gone bad: HTTP 403, not retried).
type simChain struct {
	t     *testing.T
	name  string
	node  *ethsim.Node
	url   string // the proxy's
	down  atomic.Bool
	nonce uint64
	from  ethsim.Account
}

func newSimChain(t *testing.T, name string, from ethsim.Account) *simChain {
	t.Helper()
	node, err := ethsim.Start(types.GenesisAlloc{from.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	c := &simChain{t: t, name: name, node: node, from: from}
	target, err := url.Parse(node.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.down.Load() {
			http.Error(w, "node disabled by the test", http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// pay sends wei to addr; the next Commit mines it.
func (c *simChain) pay(to common.Address, wei int64) common.Hash {
	c.t.Helper()
	h, err := c.node.Send(context.Background(), c.from, c.nonce, &to, big.NewInt(wei), 21000, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nonce++
	return h
}

// TestServeFollowsTwoChains runs one server following two simulated nodes as
// chains eth and bsc (--follow CHAIN=URL twice): a payment on each is in
// that chain's exposure and trace answers within a few polls and on no other
// chain; a reorganization on bsc is rolled back on bsc alone while eth keeps
// going; a bsc node that starts refusing requests shows its errors in
// /healthz and /metrics while eth payments keep arriving, and bsc catches up
// once its node answers again; stopping the server stops both followers and
// the store reopens with both chains.
func TestServeFollowsTwoChains(t *testing.T) {
	alice := ethsim.NewAccount(1)
	bob, carol, dave, erin := ethsim.NewAccount(2).Addr, ethsim.NewAccount(3).Addr, ethsim.NewAccount(4).Addr, ethsim.NewAccount(5).Addr
	ethC, bscC := newSimChain(t, "eth", alice), newSimChain(t, "bsc", alice)

	// Block 1 on each before the server starts.
	ethC.pay(bob, 111)
	ethC.node.Commit()
	bscC.pay(carol, 222)
	bsc1 := bscC.node.Commit()

	data := t.TempDir()
	labels := filepath.Join(t.TempDir(), "labels.csv")
	alic := strings.ToLower(alice.Addr.Hex())
	if err := os.WriteFile(labels, []byte("chain,address,category,label\neth,"+alic+",hack,Test Heist\nbsc,"+alic+",hack,Test Heist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--data", data, "--labels", labels,
		"--follow", "eth="+ethC.url, "--follow", "BSC="+bscC.url, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	base, get, received, waitFor := s.base, s.get, s.received, s.waitFor
	var status string // /healthz's status at the last health()
	health := func() map[string]api.FollowStatus {
		t.Helper()
		code, body := get("/healthz")
		var h struct {
			Status  string
			Follow  *api.FollowStatus
			Follows []api.FollowStatus
		}
		if err := json.Unmarshal([]byte(body), &h); code != 200 || err != nil || (h.Status != "ok" && h.Status != "degraded") {
			t.Fatalf("/healthz: %d %s (%v)", code, body, err)
		}
		status = h.Status
		if h.Follow != nil || len(h.Follows) != 2 || h.Follows[0].Chain != "eth" || h.Follows[1].Chain != "bsc" {
			t.Fatalf("/healthz: want follows for eth then bsc and no single follow: %s", body)
		}
		return map[string]api.FollowStatus{"eth": h.Follows[0], "bsc": h.Follows[1]}
	}
	trace := func(chain string) string {
		t.Helper()
		req := fmt.Sprintf(`{"chain":%q,"from":[%q],"policy":"poison","direction":"forward","stop_categories":[]}`, chain, alic)
		resp, err := http.Post(base+"/api/v1/trace", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("trace %s: %d %s", chain, resp.StatusCode, b)
		}
		return strings.ToLower(string(b))
	}
	lower := func(a common.Address) string { return strings.ToLower(a.Hex()) }

	// Catch-up on both chains; each payment only on its own chain.
	waitFor("block 1 on both chains", func() bool { h := health(); return h["eth"].Indexed >= 1 && h["bsc"].Indexed >= 1 })
	if got := received("eth", bob); got != "111" {
		t.Errorf("bob on eth received %q, want 111", got)
	}
	if got := received("bsc", carol); got != "222" {
		t.Errorf("carol on bsc received %q, want 222", got)
	}
	if got := received("bsc", bob); got != "" && got != "0" {
		t.Errorf("bob on bsc received %q: eth's payment leaked into bsc", got)
	}

	// A payment on each chain while serving.
	txE := ethC.pay(bob, 1000)
	ethC.node.Commit() // eth block 2
	txB := bscC.pay(dave, 333)
	bscC.node.Commit() // bsc block 2
	waitFor("block 2 payments", func() bool { return received("eth", bob) == "1111" && received("bsc", dave) == "333" })
	if tr := trace("eth"); !strings.Contains(tr, strings.ToLower(txE.Hex())) || strings.Contains(tr, lower(dave)) {
		t.Errorf("eth trace: want tx %s and not bsc's dave:\n%s", txE.Hex(), tr)
	}
	if tr := trace("bsc"); !strings.Contains(tr, strings.ToLower(txB.Hex())) || !strings.Contains(tr, lower(dave)) {
		t.Errorf("bsc trace lacks tx %s to dave:\n%s", txB.Hex(), tr)
	}

	// Reorganization on bsc: block 2 (to dave) is replaced by a branch paying
	// erin, while eth mines on.
	if err := bscC.node.Fork(bsc1); err != nil {
		t.Fatal(err)
	}
	bscC.nonce = 1
	txB2 := bscC.pay(erin, 444)
	bscC.node.Commit() // bsc block 2'
	bscC.node.Commit() // bsc block 3'
	ethC.pay(bob, 5)
	ethC.node.Commit() // eth block 3
	waitFor("bsc reorg and eth block 3", func() bool {
		return received("bsc", erin) == "444" && received("eth", bob) == "1116"
	})
	if got := received("bsc", dave); got != "" && got != "0" {
		t.Errorf("dave on bsc still received %q after the reorg abandoned his payment", got)
	}
	if tr := trace("bsc"); strings.Contains(tr, strings.ToLower(txB.Hex())) || !strings.Contains(tr, strings.ToLower(txB2.Hex())) {
		t.Errorf("bsc trace after the reorg: want tx %s, not %s:\n%s", txB2.Hex(), txB.Hex(), tr)
	}
	h := health()
	if h["bsc"].Reorgs != 1 || h["bsc"].Indexed != 3 || h["eth"].Reorgs != 0 || h["eth"].Indexed != 3 || status != "ok" {
		t.Errorf("health after the bsc reorg: %s %+v", status, h)
	}

	// The bsc node fails: its polls fail and say so; eth goes on.
	bscC.down.Store(true)
	waitFor("bsc errors in /healthz", func() bool { h := health()["bsc"]; return h.Errors > 0 && h.Error != "" })
	ethC.pay(carol, 7)
	ethC.node.Commit() // eth block 4
	bscC.pay(carol, 8)
	bscC.node.Commit() // bsc block 4', not reachable yet
	waitFor("eth block 4 while bsc is down", func() bool { return received("eth", carol) == "7" && health()["eth"].Indexed == 4 })
	h = health()
	if h["eth"].Error != "" || h["eth"].Errors != 0 || h["bsc"].Indexed != 3 || !strings.Contains(h["bsc"].Error, "403") {
		t.Errorf("health while the bsc node fails: %+v", h)
	}
	if status != "degraded" || h["bsc"].State != api.FollowFailing || !strings.Contains(h["bsc"].Degraded, "last poll failed") ||
		h["eth"].Degraded != "" || h["eth"].State != api.FollowFollowing {
		t.Errorf("health while the bsc node fails: want degraded naming bsc only, got %s %+v", status, h)
	}
	code, metrics := get("/metrics")
	for _, m := range []string{`redthread_follow_indexed_block{chain="eth"} 4`, `redthread_follow_indexed_block{chain="bsc"} 3`,
		`redthread_follow_reorgs_total{chain="bsc"} 1`, `redthread_follow_reorgs_total{chain="eth"} 0`, `redthread_follow_errors_total{chain="eth"} 0`,
		`redthread_graph_last_block{chain="bsc"} 2`, `redthread_graph_last_block{chain="eth"} 4`,
		`redthread_follow_up{chain="bsc"} 0`, `redthread_follow_degraded{chain="bsc"} 1`, `redthread_follow_up{chain="eth"} 1`, `redthread_follow_degraded{chain="eth"} 0`} {
		if code != 200 || !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %q:\n%s", m, grepLines(metrics, "redthread_follow"))
		}
	}
	if !strings.Contains(metrics, `redthread_follow_errors_total{chain="bsc"} `) || strings.Contains(metrics, `redthread_follow_errors_total{chain="bsc"} 0`) {
		t.Errorf("/metrics: want bsc errors counted:\n%s", grepLines(metrics, "redthread_follow_errors"))
	}

	// The node answers again: bsc catches up and its error clears.
	bscC.down.Store(false)
	waitFor("bsc back", func() bool {
		h := health()["bsc"]
		return received("bsc", carol) == "230" && h.Error == "" && h.Indexed == 4
	})
	if health(); status != "ok" {
		t.Errorf("/healthz status %q once bsc is back, want ok", status)
	}

	// Shutdown stops both followers; the store reopens with both chains.
	s.shutdown()
	for _, c := range []string{"eth", "bsc"} {
		if !strings.Contains(s.log.String(), `msg="follower stopped" chain=`+c) {
			t.Errorf("no clean stop of the %s follower in the log:\n%s", c, s.log.String())
		}
	}
	if c, out, errs := runCLI(t, "address", "bsc", erin.Hex(), "--json", "--data", data); c != ExitOK || !strings.Contains(out, `"444"`) {
		t.Errorf("address bsc erin after shutdown: exit %d\n%s\n%s", c, out, errs)
	}
	if c, out, errs := runCLI(t, "address", "eth", bob.Hex(), "--json", "--data", data); c != ExitOK || !strings.Contains(out, `"1116"`) {
		t.Errorf("address eth bob after shutdown: exit %d\n%s\n%s", c, out, errs)
	}
}

// TestServeFollowMultiFlags: bad --follow values and a chain followed twice
// are usage errors, found before any node is contacted.
func TestServeFollowMultiFlags(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--follow", "http://127.0.0.1:1"},
		{"serve", "--follow", "eth="},
		{"serve", "--follow", "btc=http://127.0.0.1:1"},
		{"serve", "--follow", "mars=http://127.0.0.1:1"},
		{"serve", "--follow", "bsc=ftp://127.0.0.1:1"},
		{"serve", "--follow", "bsc=http://127.0.0.1:1", "--follow", "bsc=http://127.0.0.1:2"},
		{"serve", "--follow-rpc", "http://127.0.0.1:1", "--follow", "eth=http://127.0.0.1:2"},
		{"serve", "--follow", "bsc=http://127.0.0.1:1", "--poll", "1ns"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--confirmations", "bsc=3"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--confirmations", "eth=-1"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--follow-from", "mars=3"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--tracer", "eth=magic"},
		{"serve", "--confirmations", "eth=3"},
		{"serve", "--follow-max-lag", "10"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--follow-max-lag", "bsc=10"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--follow-max-lag", "many"},
		{"serve", "--follow", "eth=http://127.0.0.1:1", "--follow-stall", "10ms"},
		{"serve", "--follow-stall", "5m"},
	} {
		if code, _, errs := runCLI(t, append(args, "--data", data)...); code != ExitUsage {
			t.Errorf("%v: exit %d, want usage error: %s", args, code, errs)
		}
	}
}

// TestServeFollowPerChainSettings: --tracer, --confirmations and
// --follow-from take VALUE for every node and CHAIN=VALUE for one chain's;
// each follower gets its chain's value.
func TestServeFollowPerChainSettings(t *testing.T) {
	type want struct {
		conf, from uint64
		start      bool
		tracer     string
	}
	for _, tc := range []struct {
		args []string
		want map[model.Chain]want
	}{
		{[]string{"--follow-rpc", "http://127.0.0.1:1"},
			map[model.Chain]want{"eth": {0, 0, false, "auto"}}},
		{[]string{"--follow-rpc", "http://127.0.0.1:1", "--confirmations", "12", "--follow-from", "100", "--tracer", "geth"},
			map[model.Chain]want{"eth": {12, 100, true, "geth"}}},
		{[]string{"--follow", "eth=http://127.0.0.1:1", "--follow", "bsc=http://127.0.0.1:2", "--confirmations", "12",
			"--confirmations", "bsc=15", "--follow-from", "bsc=35000000", "--tracer", "BSC=parity", "--tracer", "none", "--follow-max-lag", "bsc=400"},
			map[model.Chain]want{"eth": {12, 0, false, "none"}, "bsc": {15, 35000000, true, "parity"}}},
	} {
		var fo followFlags
		cmd := &cobra.Command{}
		fo.register(cmd)
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if err := fo.check(cmd); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got := map[model.Chain]want{}
		for _, n := range fo.nodes {
			f := fo.follower(n.chain, eth.New(n.rpc, eth.Options{Chain: n.chain}), nil, nil, nil, nil, slog.New(slog.DiscardHandler))
			tr, _ := fo.tracer.get(n.chain)
			got[n.chain] = want{f.conf, f.from, f.start, tr}
			wantLag := uint64(defaultFollowMaxLag)
			if n.chain == "bsc" {
				wantLag = 400
			}
			if f.status.MaxLag != wantLag || f.status.State != api.FollowFollowing {
				t.Errorf("%v: %s follower max lag %d state %q, want %d following", tc.args, n.chain, f.status.MaxLag, f.status.State, wantLag)
			}
			if f.status.Chain != string(n.chain) || f.status.Confirmations != f.conf {
				t.Errorf("%v: %s follower status %+v", tc.args, n.chain, f.status)
			}
		}
		if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); d != "" {
			t.Errorf("%v: settings (-want +got):\n%s", tc.args, d)
		}
	}
}

// TestServeFollowChecksChainID: a node whose eth_chainId names another
// chain than the one given is refused by --follow (its blocks would be
// stored as the wrong chain) and only warned about by the older
// --follow-rpc form, which keeps storing it as eth. The node is a real
// simulated one; a proxy rewrites its chain id to 56 (BNB Smart Chain).
func TestServeFollowChecksChainID(t *testing.T) {
	node, err := ethsim.Start(types.GenesisAlloc{}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	srv := httptest.NewServer(chainIDProxy(t, node.URL, "0x38"))
	defer srv.Close()

	// serve runs serve with args until it prints its address (then stops
	// it) or exits.
	serve := func(args ...string) (code int, line, log string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var errb syncBuffer
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() {
			done <- Main(ctx, append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--no-screen", "--tracer", "geth"}, args...), pw, &errb)
			pw.Close()
		}()
		line, _ = bufio.NewReader(pr).ReadString('\n')
		go io.Copy(io.Discard, pr)
		cancel()
		select {
		case code = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: serve did not stop", args)
		}
		return code, line, errb.String()
	}
	if code, line, log := serve("--follow", "eth="+srv.URL); code != ExitUsage || line != "" || !strings.Contains(log, "chain id 56, which is bsc, not eth") {
		t.Errorf("--follow eth= on a bsc node: exit %d, printed %q; want a usage error naming the chain id:\n%s", code, line, log)
	}
	// --follow bsc= is accepted, and so is --follow-rpc (as eth, warned).
	for _, args := range [][]string{{"--follow", "bsc=" + srv.URL}, {"--follow-rpc", srv.URL}} {
		code, line, log := serve(args...)
		if !strings.HasPrefix(line, "serving on ") || code != ExitOK {
			t.Errorf("%v: exit %d, printed %q:\n%s", args, code, line, log)
		}
		if warned := strings.Contains(log, "chain id names another chain"); warned != (args[0] == "--follow-rpc") {
			t.Errorf("%v: chain id warning %v:\n%s", args, warned, log)
		}
	}
}

// chainIDProxy forwards JSON-RPC to the simulated node at nodeURL and
// rewrites its eth_chainId answer to hexID, so the node looks like another
// chain's.
func chainIDProxy(t *testing.T, nodeURL, hexID string) *httputil.ReverseProxy {
	t.Helper()
	target, err := url.Parse(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		r.Header.Del("Accept-Encoding") // plain JSON to rewrite
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var msgs []map[string]json.RawMessage
		batch := json.Unmarshal(b, &msgs) == nil
		if !batch {
			var one map[string]json.RawMessage
			if json.Unmarshal(b, &one) == nil {
				msgs = []map[string]json.RawMessage{one}
			}
		}
		for _, m := range msgs {
			if string(m["result"]) == `"`+fmt.Sprintf("%#x", ethsim.ChainID)+`"` {
				m["result"] = json.RawMessage(`"` + hexID + `"`)
			}
		}
		if batch {
			b, _ = json.Marshal(msgs)
		} else if len(msgs) == 1 {
			b, _ = json.Marshal(msgs[0])
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return nil
	}
	return proxy
}
