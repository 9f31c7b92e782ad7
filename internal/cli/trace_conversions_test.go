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
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/redthread/redthread/internal/chain/eth/ethsim"
)

// TestTraceAcrossIngestedSwap ingests a real node's blocks with 'ingest eth'
// and traces ETH forward with 'trace': the taint crosses a WETH-paired
// Uniswap-V2-shaped swap recorded at ingestion into the token the recipient
// then passes on, and a THORChain deposit whose payout is not ingested is
// listed with the memo's destination. --no-stored-conversions stops at the
// swap instead.
func TestTraceAcrossIngestedSwap(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol, vault, dave, erin := ethsim.NewAccount(1), ethsim.NewAccount(2), ethsim.NewAccount(3), ethsim.NewAccount(4), ethsim.NewAccount(5), ethsim.NewAccount(6)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: new(big.Int).Lsh(big.NewInt(1), 80)}, bob.Addr: {Balance: big.NewInt(1e18)},
		dave.Addr: {Balance: big.NewInt(1e18)}, erin.Addr: {Balance: big.NewInt(1e18)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	nonces := map[common.Address]uint64{}
	send := func(from ethsim.Account, to *common.Address, value *big.Int, data []byte) common.Address {
		t.Helper()
		created := crypto.CreateAddress(from.Addr, nonces[from.Addr])
		if _, err := node.Send(ctx, from, nonces[from.Addr], to, value, 2_000_000, data); err != nil {
			t.Fatal(err)
		}
		nonces[from.Addr]++
		return created
	}
	tokB := send(alice, nil, nil, ethsim.TokenInit(big.NewInt(1_000_000)))
	weth := send(alice, nil, nil, ethsim.WETHInit())
	router := send(alice, nil, nil, ethsim.ScriptInit())
	pair := send(alice, nil, nil, ethsim.ScriptInit())
	thor := send(alice, nil, nil, ethsim.ScriptInit())
	tokC := send(alice, nil, nil, ethsim.TokenInit(big.NewInt(1_000_000)))
	pair3 := send(alice, nil, nil, ethsim.ScriptInit()) // B/C
	pool := send(alice, nil, nil, ethsim.ScriptInit())  // V3 WETH/C
	node.Commit()
	send(alice, &tokC, nil, ethsim.TokenTransfer(pool, big.NewInt(10_000)))
	send(alice, &tokB, nil, ethsim.TokenTransfer(pair, big.NewInt(10_000)))
	send(alice, &tokC, nil, ethsim.TokenTransfer(pair3, big.NewInt(10_000)))
	node.Commit()
	wad := big.NewInt(1e18)
	send(alice, &router, wad, ethsim.Script(
		ethsim.Call(weth, wad, ethsim.WETHDeposit()),
		ethsim.Call(weth, nil, ethsim.TokenTransfer(pair, wad)),
		ethsim.Call(pair, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(bob.Addr, big.NewInt(700))),
			ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(bob.Addr)},
				ethsim.Words(big.NewInt(0), wad, big.NewInt(700), big.NewInt(0)))))))
	memo := "=:BTC.BTC:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
	two := big.NewInt(2e18)
	send(alice, &thor, two, ethsim.Script(ethsim.Call(vault.Addr, two, nil),
		ethsim.Log([]common.Hash{ethsim.TCDepositTopic, ethsim.AddrTopic(vault.Addr), {}}, ethsim.ABIString(ethsim.Words(two), memo))))
	node.Commit()
	// A two-hop route: 2 ETH → WETH → pair pays 1000 B to pair3 → pair3 pays 4000 C to dave.
	v2 := func(to common.Address, in0, in1, out0, out1 int64) []byte {
		return ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(to)},
			ethsim.Words(big.NewInt(in0), big.NewInt(in1), big.NewInt(out0), big.NewInt(out1)))
	}
	send(alice, &router, two, ethsim.Script(
		ethsim.Call(weth, two, ethsim.WETHDeposit()),
		ethsim.Call(weth, nil, ethsim.TokenTransfer(pair, two)),
		ethsim.Call(pair, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(pair3, big.NewInt(1000))),
			ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(pair3)},
				ethsim.Words(big.NewInt(0), two, big.NewInt(1000), big.NewInt(0))))),
		ethsim.Call(pair3, nil, ethsim.Script(
			ethsim.Call(tokC, nil, ethsim.TokenTransfer(dave.Addr, big.NewInt(4000))),
			v2(dave.Addr, 1000, 0, 0, 4000)))))
	// A V3 swap: the pool pays 600 C to erin first, then the router's callback
	// wraps 3 ETH and pays the pool in WETH.
	three := big.NewInt(3e18)
	send(alice, &router, three, ethsim.Script(
		ethsim.Call(pool, nil, ethsim.Script(
			ethsim.Call(tokC, nil, ethsim.TokenTransfer(erin.Addr, big.NewInt(600))),
			ethsim.Call(router, nil, ethsim.Script(
				ethsim.Call(weth, three, ethsim.WETHDeposit()),
				ethsim.Call(weth, nil, ethsim.TokenTransfer(pool, three)))),
			ethsim.Log([]common.Hash{ethsim.V3SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(erin.Addr)},
				ethsim.Words(big.NewInt(-600), three, new(big.Int).Lsh(big.NewInt(1), 96), big.NewInt(1), big.NewInt(0)))))))
	node.Commit()
	send(erin, &tokC, nil, ethsim.TokenTransfer(carol.Addr, big.NewInt(60)))
	send(bob, &tokB, nil, ethsim.TokenTransfer(carol.Addr, big.NewInt(300)))
	send(dave, &tokC, nil, ethsim.TokenTransfer(carol.Addr, big.NewInt(50)))
	node.Commit()

	data := t.TempDir()
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(ctx, append([]string{"--data", data}, args...), &out, &errb); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, _ := run("ingest", "eth", "--rpc", node.URL, "--from", "0", "--head", "--json", "-q")
	var sum struct{ Conversions int }
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Conversions != 5 {
		t.Fatalf("ingest summary %s (%v): want 5 conversions (a swap, a deposit, two hops, a V3 swap)", out, err)
	}
	traceArgs := []string{"trace", "--chain", "eth", "--from", alice.Addr.Hex(), "--policy", "haircut", "--direction", "forward", "--no-intel", "--json"}
	out, _ = run(traceArgs...)
	var res struct {
		Conversions []struct {
			Kind string
			Ref  string
			In   struct{ From, To, Asset, Tainted string }
			Out  struct{ From, To, Asset, Tainted string }
		}
		Edges []struct {
			From, To, Asset, Tainted string
		}
		PendingBridges []struct {
			Tainted, Memo, Asset string
		} `json:"pending_bridges"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	low := func(a common.Address) string { return strings.ToLower(a.Hex()) }
	if len(res.Conversions) != 3 || res.Conversions[0].Kind != "swap" || res.Conversions[0].Ref != low(pair) ||
		res.Conversions[0].In.To != low(weth) || res.Conversions[0].In.Tainted != wad.String() ||
		res.Conversions[0].Out.To != low(bob.Addr) || res.Conversions[0].Out.Tainted != "700" {
		t.Errorf("conversions crossed: %+v, want first the swap of 1 ETH (router→WETH) for 700 B to bob", res.Conversions)
	}
	if len(res.Conversions) == 2 {
		if r := res.Conversions[1]; r.Ref != low(pair)+" > "+low(pair3) || r.In.Tainted != two.String() || r.Out.To != low(dave.Addr) ||
			r.Out.Asset != low(tokC) || r.Out.Tainted != "4000" {
			t.Errorf("route crossed: %+v, want 2 ETH through pair and pair3 for 4000 C to dave", r)
		}
	}
	if len(res.Conversions) == 3 {
		if r := res.Conversions[2]; r.Ref != low(pool) || r.In.Tainted != three.String() || r.Out.To != low(erin.Addr) || r.Out.Tainted != "600" {
			t.Errorf("V3 swap crossed: %+v, want 3 ETH for 600 C to erin", r)
		}
	}
	var onward, onwardC, onwardV3 bool
	for _, e := range res.Edges {
		if e.From == low(bob.Addr) && e.To == low(carol.Addr) && e.Asset == low(tokB) && e.Tainted == "300" {
			onward = true
		}
		if e.From == low(dave.Addr) && e.To == low(carol.Addr) && e.Asset == low(tokC) && e.Tainted == "50" {
			onwardC = true
		}
		if e.From == low(erin.Addr) && e.To == low(carol.Addr) && e.Asset == low(tokC) && e.Tainted == "60" {
			onwardV3 = true
		}
	}
	if !onward || !onwardC || !onwardV3 {
		t.Errorf("tainted B bob→carol %v, C dave→carol %v, C erin→carol %v; edges %+v", onward, onwardC, onwardV3, res.Edges)
	}
	if !strings.Contains(out, `"dest_chain": "btc"`) || len(res.PendingBridges) != 1 || res.PendingBridges[0].Memo != memo || res.PendingBridges[0].Tainted != two.String() {
		t.Errorf("pending bridges: %+v; want the 2 ETH deposit to btc", res.PendingBridges)
	}
	// Without the stored conversions the swap is not crossed.
	out, _ = run(append(traceArgs, "--no-stored-conversions")...)
	if strings.Contains(out, low(carol.Addr)) || strings.Contains(out, "pending_bridges") {
		t.Errorf("--no-stored-conversions still crossed the swap or listed deposits:\n%s", out)
	}
	// The text form names the deposit's destination.
	out, _ = run(traceArgs[:len(traceArgs)-1]...)
	if !strings.Contains(out, "payout not ingested") || !strings.Contains(out, "-> btc bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh") {
		t.Errorf("text output lacks the pending deposit:\n%s", out)
	}
}
