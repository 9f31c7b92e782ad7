package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

// TestServeFollowsNode runs `redthread serve --follow-rpc` against go-ethereum's
// simulated node over HTTP JSON-RPC: transactions sent on the node show in
// GET /api/v1/exposure and POST /api/v1/trace within a few polls; a
// reorganization (a forked branch replacing the newest block) is rolled back
// in the store and the graph index, so the abandoned payment disappears and
// the branch's one appears; /healthz and /metrics report progress; stopping
// the server leaves a store that reopens with the followed blocks.
func TestServeFollowsNode(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol := ethsim.NewAccount(1), ethsim.NewAccount(2), ethsim.NewAccount(3)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	nonce := uint64(0)
	send := func(to common.Address, wei int64) common.Hash {
		t.Helper()
		h, err := node.Send(ctx, alice, nonce, &to, big.NewInt(wei), 21000, nil)
		if err != nil {
			t.Fatal(err)
		}
		nonce++
		return h
	}
	send(carol.Addr, 1) // block 1: alice appears before the server starts
	block1 := node.Commit()

	data := t.TempDir()
	labels := filepath.Join(t.TempDir(), "labels.csv")
	alic := strings.ToLower(alice.Addr.Hex())
	if err := os.WriteFile(labels, []byte("chain,address,category,label\neth,"+alic+",hack,Test Heist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--data", data, "--labels", labels,
		"--follow-rpc", node.URL, "--tracer", "geth", "--follow-from", "0", "--poll", "100ms")
	base, get := s.base, s.get
	health := func() api.FollowStatus {
		code, body := get("/healthz")
		var h struct {
			Status string
			Follow api.FollowStatus
		}
		if err := json.Unmarshal([]byte(body), &h); code != 200 || err != nil || h.Status != "ok" {
			t.Fatalf("/healthz: %d %s (%v)", code, body, err)
		}
		return h.Follow
	}
	// waitFor polls until cond holds and returns how many follower polls
	// that took; it fails after maxPolls polls.
	waitFor := func(what string, maxPolls uint64, cond func() bool) uint64 {
		t.Helper()
		p0 := health().Polls
		deadline := time.Now().Add(15 * time.Second)
		for {
			if cond() {
				return health().Polls - p0
			}
			if h := health(); h.Polls-p0 > maxPolls || time.Now().After(deadline) {
				t.Fatalf("%s: not seen after %d polls (status %+v)\nserver log:\n%s", what, h.Polls-p0, h, s.log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	exposure := func(addr common.Address) (code int, total string, hack string) {
		code, body := get("/api/v1/exposure/eth/" + addr.Hex() + "?hops=2&as_of=2099-01-01")
		if code != 200 {
			return code, "", ""
		}
		var res struct {
			Assets []struct {
				Asset  string
				Source struct {
					Total      string
					Categories []struct{ Category, Direct string }
				}
			}
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("exposure: %v: %s", err, body)
		}
		for _, a := range res.Assets {
			if a.Asset == "native" {
				total = a.Source.Total
				for _, c := range a.Source.Categories {
					if c.Category == "hack" {
						hack = c.Direct
					}
				}
			}
		}
		return code, total, hack
	}
	trace := func() string {
		req := fmt.Sprintf(`{"chain":"eth","from":[%q],"policy":"poison","direction":"forward","stop_categories":[]}`, alic)
		resp, err := http.Post(base+"/api/v1/trace", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("trace: %d %s", resp.StatusCode, b)
		}
		return strings.ToLower(string(b))
	}

	// Catch-up: the block sent before the server started.
	waitFor("block 1 indexed", 20, func() bool { return health().Indexed >= 1 })
	if _, total, _ := exposure(carol.Addr); total != "1" {
		t.Fatalf("carol's received total after block 1 is %q, want 1", total)
	}
	if code, _, _ := exposure(bob.Addr); code != 404 && code != 200 {
		t.Fatalf("bob before any payment: status %d", code)
	}

	// A payment sent while serving shows within a few polls, in exposure
	// (cached answers for bob are refreshed as the graph grows) and trace.
	tx2 := send(bob.Addr, 12345)
	node.Commit() // block 2
	polls := waitFor("payment to bob", 4, func() bool {
		_, total, hack := exposure(bob.Addr)
		return total == "12345" && hack == "12345"
	})
	t.Logf("payment visible in exposure after %d polls", polls)
	if tr := trace(); !strings.Contains(tr, strings.ToLower(bob.Addr.Hex())) || !strings.Contains(tr, strings.ToLower(tx2.Hex())) {
		t.Fatalf("trace from alice lacks bob or tx %s:\n%s", tx2.Hex(), tr)
	}
	if h := health(); h.NodeHead != 2 || h.Indexed != 2 || h.Lag != 0 || h.Error != "" {
		t.Fatalf("health after block 2: %+v", h)
	}

	// Reorganization: block 2 is replaced by a branch paying carol instead.
	if err := node.Fork(block1); err != nil {
		t.Fatal(err)
	}
	nonce = 1
	tx2b := send(carol.Addr, 777)
	node.Commit() // block 2'
	node.Commit() // block 3': the branch is longer, the ingester sees the fork
	polls = waitFor("reorg rolled back", 6, func() bool {
		_, total, _ := exposure(carol.Addr)
		return total == "778"
	})
	t.Logf("reorg rolled back and the branch visible after %d polls", polls)
	if code, total, _ := exposure(bob.Addr); code == 200 && total != "0" && total != "" {
		t.Fatalf("bob still has %s after the reorg removed his payment", total)
	}
	tr := trace()
	if strings.Contains(tr, strings.ToLower(tx2.Hex())) || !strings.Contains(tr, strings.ToLower(tx2b.Hex())) {
		t.Fatalf("trace after the reorg: want tx %s, not %s:\n%s", tx2b.Hex(), tx2.Hex(), tr)
	}
	h := health()
	if h.Reorgs < 1 || h.RolledBack < 1 || h.Indexed != 3 || h.Lag != 0 {
		t.Fatalf("health after the reorg: %+v", h)
	}
	// Block 3' is empty: the graph's newest block with transfers is 2'
	// (3 transfers a payment: value, tip, burn).
	code, metrics := get("/metrics")
	for _, m := range []string{`redthread_follow_indexed_block{chain="eth"} 3`, `redthread_follow_reorgs_total{chain="eth"} 1`, `redthread_graph_last_block{chain="eth"} 2`, `redthread_graph_transfers{chain="eth"} 6`} {
		if code != 200 || !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %q:\n%s", m, grepLines(metrics, "redthread_"))
		}
	}

	// Shutdown (what SIGINT/SIGTERM do through the context): the follower
	// stops, the store closes, and it reopens with the followed blocks.
	s.shutdown()
	if !strings.Contains(s.log.String(), "follower stopped") {
		t.Errorf("no clean follower stop in the log:\n%s", s.log.String())
	}
	c, out, errs := runCLI(t, "address", "eth", carol.Addr.Hex(), "--json", "--data", data)
	if c != ExitOK || !strings.Contains(out, `"778"`) {
		t.Fatalf("address after shutdown: exit %d\n%s\n%s", c, out, errs)
	}
}

// TestServeFollowFlags: follow flags without --follow-rpc, and bad values,
// are usage errors.
func TestServeFollowFlags(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--confirmations", "3"},
		{"serve", "--tracer", "geth"},
		{"serve", "--follow-rpc", "ftp://x"},
		{"serve", "--follow-rpc", "http://127.0.0.1:1", "--tracer", "magic"},
		{"serve", "--follow-rpc", "http://127.0.0.1:1", "--poll", "1ns"},
	} {
		if code, _, errs := runCLI(t, append(args, "--data", data)...); code != ExitUsage {
			t.Errorf("%v: exit %d, want usage error: %s", args, code, errs)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeFollowPicksUpSwaps: a Uniswap-V2-shaped swap mined while the
// server follows the node is recorded at ingestion, the trace route's
// conversions are reloaded from the store, and a trace of the ETH that paid
// for it continues into the token the pair paid out.
func TestServeFollowPicksUpSwaps(t *testing.T) {
	ctx := context.Background()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: new(big.Int).Lsh(big.NewInt(1), 80)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	nonce := uint64(0)
	send := func(to *common.Address, value *big.Int, data []byte) common.Address {
		t.Helper()
		created := crypto.CreateAddress(alice.Addr, nonce)
		if _, err := node.Send(ctx, alice, nonce, to, value, 2_000_000, data); err != nil {
			t.Fatal(err)
		}
		nonce++
		return created
	}
	tok := send(nil, nil, ethsim.TokenInit(big.NewInt(1_000_000)))
	weth := send(nil, nil, ethsim.WETHInit())
	router := send(nil, nil, ethsim.ScriptInit())
	pair := send(nil, nil, ethsim.ScriptInit())
	node.Commit()
	send(&tok, nil, ethsim.TokenTransfer(pair, big.NewInt(10_000)))
	node.Commit()

	base, health, stop := startFollowing(t, node.URL)
	defer stop()
	for deadline := time.Now().Add(15 * time.Second); health().Indexed < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("setup blocks not indexed: %+v", health())
		}
		time.Sleep(20 * time.Millisecond)
	}
	wad := big.NewInt(1e18)
	send(&router, wad, ethsim.Script(
		ethsim.Call(weth, wad, ethsim.WETHDeposit()),
		ethsim.Call(weth, nil, ethsim.TokenTransfer(pair, wad)),
		ethsim.Call(pair, nil, ethsim.Script(
			ethsim.Call(tok, nil, ethsim.TokenTransfer(bob.Addr, big.NewInt(700))),
			ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(bob.Addr)},
				ethsim.Words(big.NewInt(0), wad, big.NewInt(700), big.NewInt(0)))))))
	node.Commit()
	req := `{"chain":"eth","from":["` + strings.ToLower(alice.Addr.Hex()) + `"],"policy":"haircut","direction":"forward","stop_categories":[]}`
	tokL, bobL := strings.ToLower(tok.Hex()), strings.ToLower(bob.Addr.Hex())
	var body string
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Post(base+"/api/v1/trace", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = strings.ToLower(string(b))
		var res struct {
			Conversions []json.RawMessage
			Edges       []struct{ To, Asset, Tainted string }
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("trace: %v: %s", err, b)
		}
		crossed := false
		for _, e := range res.Edges {
			if e.Asset == tokL && e.To == bobL && e.Tainted == "700" {
				crossed = true
			}
		}
		if crossed && len(res.Conversions) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace never crossed the swap into %s (status %+v):\n%s", tokL, health(), body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The web UI's traces follow the swap recorded after the server started.
	uiCall := func(method, path, csrf, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if csrf != "" {
			req.Header.Set("X-Redthread-CSRF", csrf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	var sess struct{ CSRF string }
	if err := json.Unmarshal(uiCall("GET", "/ui/session", "", ""), &sess); err != nil {
		t.Fatal(err)
	}
	var cs struct{ ID string }
	if err := json.Unmarshal(uiCall("POST", "/ui/cases", sess.CSRF, `{"title":"swap"}`), &cs); err != nil {
		t.Fatal(err)
	}
	uiCall("POST", "/ui/cases/"+cs.ID+"/traces", sess.CSRF, `{"request":`+req+`}`)
	if out := strings.ToLower(string(uiCall("GET", "/ui/cases/"+cs.ID+"/export/csv", "", ""))); !strings.Contains(out, bobL) || !strings.Contains(out, tokL) {
		t.Errorf("the UI's trace does not cross the swap ingested while serving:\n%s", out)
	}
	// No bridge deposits here: the pending list is empty, not missing.
	if b := uiCall("GET", "/api/v1/bridges/pending/eth", "", ""); !strings.Contains(string(b), `"total":0`) {
		t.Errorf("pending bridges: %s", b)
	}
}

// startFollowing runs serve --follow-rpc in process and returns its base
// URL, a /healthz reader and a stop function that waits for a clean exit.
func startFollowing(t *testing.T, rpc string) (string, func() api.FollowStatus, func()) {
	t.Helper()
	s := startServe(t, "--data", t.TempDir(), "--follow-rpc", rpc, "--tracer", "geth", "--follow-from", "0", "--poll", "50ms")
	return s.base, func() api.FollowStatus { _, h := s.health(); return h["eth"] }, s.shutdown
}
