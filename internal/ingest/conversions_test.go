package ingest

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/convert"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// dexChain is a simulated node with senders keyed by account.
type dexChain struct {
	t      *testing.T
	ctx    context.Context
	node   *ethsim.Node
	nonces map[common.Address]uint64
}

func startDexChain(ctx context.Context, t *testing.T, funded ...ethsim.Account) *dexChain {
	t.Helper()
	alloc := types.GenesisAlloc{}
	for _, a := range funded {
		alloc[a.Addr] = types.Account{Balance: new(big.Int).Lsh(big.NewInt(1), 100)}
	}
	node, err := ethsim.Start(alloc, ethsim.NewAccount(99).Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	return &dexChain{t: t, ctx: ctx, node: node, nonces: map[common.Address]uint64{}}
}

func (c *dexChain) send(from ethsim.Account, to common.Address, value *big.Int, data []byte) common.Hash {
	c.t.Helper()
	h, err := c.node.Send(c.ctx, from, c.nonces[from.Addr], &to, value, 2_000_000, data)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nonces[from.Addr]++
	return h
}

func (c *dexChain) deploy(from ethsim.Account, code []byte) common.Address {
	c.t.Helper()
	addr := crypto.CreateAddress(from.Addr, c.nonces[from.Addr])
	if _, err := c.node.Send(c.ctx, from, c.nonces[from.Addr], nil, nil, 3_000_000, code); err != nil {
		c.t.Fatal(err)
	}
	c.nonces[from.Addr]++
	return addr
}

// commit seals a block and checks that every transaction in it succeeded.
func (c *dexChain) commit(txs ...common.Hash) {
	c.t.Helper()
	c.node.Commit()
	for _, h := range txs {
		r, err := c.node.Client.TransactionReceipt(c.ctx, h)
		if err != nil || r.Status != 1 {
			c.t.Fatalf("tx %s: receipt %+v, %v", h, r, err)
		}
	}
}

func ether(milli int64) *big.Int { return new(big.Int).Mul(big.NewInt(milli), big.NewInt(1e15)) }

func lowerHex(a common.Address) string { return strings.ToLower(a.Hex()) }

// TestIngestConversions runs Uniswap-V2- and V3-shaped swaps (direct, WETH
// in, WETH out, two hops) and THORChain router deposits and payouts on two
// real in-process nodes, ingests both over JSON-RPC with the geth tracer as
// chains eth and bsc into a real store, and checks every conversion the
// store holds and what convert.FromStore matches across the chains.
func TestIngestConversions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob, vault, dave, erin := ethsim.NewAccount(1), ethsim.NewAccount(2), ethsim.NewAccount(3), ethsim.NewAccount(4), ethsim.NewAccount(5)
	c := startDexChain(ctx, t, alice, vault)
	b := startDexChain(ctx, t, vault)

	// Block 1: tokens, WETH, a router, two V2 pairs, a V3 pool, a THORChain router.
	tokA := c.deploy(alice, ethsim.TokenInit(big.NewInt(1_000_000)))
	tokB := c.deploy(alice, ethsim.TokenInit(big.NewInt(1_000_000)))
	weth := c.deploy(alice, ethsim.WETHInit())
	router := c.deploy(alice, ethsim.ScriptInit())
	pair := c.deploy(alice, ethsim.ScriptInit())
	pair2 := c.deploy(alice, ethsim.ScriptInit()) // WETH/B
	pool := c.deploy(alice, ethsim.ScriptInit())
	thor := c.deploy(alice, ethsim.ScriptInit())
	c.commit()
	// Block 2: liquidity.
	c.commit(
		c.send(alice, tokA, nil, ethsim.TokenTransfer(router, big.NewInt(10_000))),
		c.send(alice, tokB, nil, ethsim.TokenTransfer(router, big.NewInt(10_000))),
		c.send(alice, tokB, nil, ethsim.TokenTransfer(pair, big.NewInt(10_000))),
		c.send(alice, tokB, nil, ethsim.TokenTransfer(pool, big.NewInt(10_000))),
		c.send(alice, tokB, nil, ethsim.TokenTransfer(pair2, big.NewInt(10_000))),
		c.send(alice, weth, ether(5000), ethsim.WETHDeposit()),
	)
	c.commit(c.send(alice, weth, nil, ethsim.TokenTransfer(pair2, ether(5000))))

	n := big.NewInt
	v2 := func(to common.Address, in0, in1, out0, out1 *big.Int) []byte {
		return ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(to)}, ethsim.Words(in0, in1, out0, out1))
	}
	z := n(0)
	// Block 4: swaps.
	txV2 := c.send(alice, router, nil, ethsim.Script(
		ethsim.Call(tokA, nil, ethsim.TokenTransfer(pair, n(1000))),
		ethsim.Call(pair, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(bob.Addr, n(900))),
			v2(bob.Addr, n(1000), z, z, n(900))))))
	txV3 := c.send(alice, router, nil, ethsim.Script(
		ethsim.Call(pool, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(bob.Addr, n(500))),
			ethsim.Call(router, nil, ethsim.Script( // the swap callback pays the pool
				ethsim.Call(tokA, nil, ethsim.TokenTransfer(pool, n(600))))),
			ethsim.Log([]common.Hash{ethsim.V3SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(bob.Addr)},
				ethsim.Words(n(600), n(-500), new(big.Int).Lsh(n(1), 96), n(12345), n(-7)))))))
	txWETHIn := c.send(alice, router, ether(1000), ethsim.Script(
		ethsim.Call(weth, ether(1000), ethsim.WETHDeposit()),
		ethsim.Call(weth, nil, ethsim.TokenTransfer(pair2, ether(1000))),
		ethsim.Call(pair2, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(bob.Addr, n(700))),
			v2(bob.Addr, z, ether(1000), n(700), z)))))
	txWETHOut := c.send(alice, router, nil, ethsim.Script(
		ethsim.Call(tokB, nil, ethsim.TokenTransfer(pair2, n(800))),
		ethsim.Call(pair2, nil, ethsim.Script(
			ethsim.Call(weth, nil, ethsim.TokenTransfer(router, ether(500))),
			v2(router, n(800), z, z, ether(500)))),
		ethsim.Call(weth, nil, ethsim.WETHWithdraw(ether(500))),
		ethsim.Call(dave.Addr, ether(500), nil)))
	txHops := c.send(alice, router, nil, ethsim.Script(
		ethsim.Call(tokA, nil, ethsim.TokenTransfer(pair, n(100))),
		ethsim.Call(pair, nil, ethsim.Script(
			ethsim.Call(tokB, nil, ethsim.TokenTransfer(pair2, n(90))),
			v2(pair2, n(100), z, z, n(90)))),
		ethsim.Call(pair2, nil, ethsim.Script(
			ethsim.Call(weth, nil, ethsim.TokenTransfer(bob.Addr, ether(10))),
			v2(bob.Addr, z, n(90), ether(10), z)))))
	txBare := c.send(alice, router, nil, ethsim.Script( // a Swap log with no transfers: not linked
		ethsim.Call(pair, nil, ethsim.Script(v2(bob.Addr, n(5), z, z, n(6))))))
	c.commit(txV2, txV3, txWETHIn, txWETHOut, txHops, txBare)

	// Block 5: THORChain deposits: native to BSC, native to BTC, token to ETH.
	deposit := func(asset common.Address, amount *big.Int, memo string) []byte {
		return ethsim.Log([]common.Hash{ethsim.TCDepositTopic, ethsim.AddrTopic(vault.Addr), ethsim.AddrTopic(asset)},
			ethsim.ABIString(ethsim.Words(amount), memo))
	}
	memoBSC := "=:BSC.BNB:" + lowerHex(erin.Addr)
	memoBTC := "=:b:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
	memoETH := "SWAP:ETH.ETH:" + lowerHex(dave.Addr) + ":0"
	txDepBSC := c.send(alice, thor, ether(2000), ethsim.Script(ethsim.Call(vault.Addr, ether(2000), nil), deposit(common.Address{}, ether(2000), memoBSC)))
	txDepBTC := c.send(alice, thor, ether(3000), ethsim.Script(ethsim.Call(vault.Addr, ether(3000), nil), deposit(common.Address{}, ether(3000), memoBTC)))
	txDepTok := c.send(alice, router, nil, ethsim.Script(
		ethsim.Call(tokA, nil, ethsim.TokenTransfer(thor, n(300))),
		ethsim.Call(thor, nil, ethsim.Script(deposit(tokA, n(300), memoETH)))))
	c.commit(txDepBSC, txDepBTC, txDepTok)

	// Block 6 (eth) and block 1 (bsc): payouts by the vault through the router.
	transferOut := func(router, to, asset common.Address, amount *big.Int, memo string) []byte {
		return ethsim.Log([]common.Hash{ethsim.TCTransferOutTop, ethsim.AddrTopic(vault.Addr), ethsim.AddrTopic(to)},
			ethsim.ABIString(append(ethsim.AddrWord(asset), ethsim.Words(amount)...), memo))
	}
	outMemo := func(h common.Hash) string { return "OUT:" + strings.ToUpper(h.Hex()[2:]) }
	txOutETH := c.send(vault, thor, ether(250), ethsim.Script(ethsim.Call(dave.Addr, ether(250), nil),
		transferOut(thor, dave.Addr, common.Address{}, ether(250), outMemo(txDepTok))))
	// A second payout of the same deposit, in the token: a refund (the matcher keeps the OUT).
	refundMemo := "REFUND:" + strings.ToUpper(txDepTok.Hex()[2:])
	txRefundTok := c.send(vault, thor, nil, ethsim.Script(ethsim.Call(tokA, nil, ethsim.TokenTransfer(dave.Addr, n(120))),
		transferOut(thor, dave.Addr, tokA, n(120), refundMemo)))
	c.commit(txOutETH, txRefundTok)
	bThor := b.deploy(vault, ethsim.ScriptInit())
	b.commit()
	txOutBSC := b.send(vault, bThor, ether(40_000), ethsim.Script(ethsim.Call(erin.Addr, ether(40_000), nil),
		transferOut(bThor, erin.Addr, common.Address{}, ether(40_000), outMemo(txDepBSC))))
	b.commit(txOutBSC)

	st := openStore(t)
	for _, x := range []struct {
		c     *dexChain
		chain model.Chain
		to    uint64
	}{{c, "eth", 6}, {b, "bsc", 2}} {
		src := eth.New(x.c.node.URL, eth.Options{Chain: x.chain, Tracer: eth.TracerGeth})
		if _, err := Run(ctx, src, st, Options{From: 0, To: x.to}); err != nil {
			t.Fatalf("ingest %s: %v", x.chain, err)
		}
	}

	// Locate transfers by what they moved.
	var all []model.Transfer
	for _, ch := range []model.Chain{"eth", "bsc"} {
		if err := st.ScanTransfers(ctx, ch, 0, 100, func(tr *model.Transfer) error { all = append(all, *tr); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	leg := func(tx common.Hash, from, to common.Address, asset string, amt *big.Int) model.Leg {
		t.Helper()
		var found []model.Leg
		for _, tr := range all {
			if tr.TxHash == strings.ToLower(tx.Hex()) && tr.From == lowerHex(from) && tr.To == lowerHex(to) && tr.Asset == asset && tr.Amount.ToBig().Cmp(amt) == 0 {
				found = append(found, model.Leg{Chain: tr.Chain, Block: tr.Block, Position: tr.Position})
			}
		}
		if len(found) != 1 {
			t.Fatalf("tx %s: %d transfers %s→%s of %s %s, want 1", tx.Hex(), len(found), from.Hex(), to.Hex(), asset, amt)
		}
		return found[0]
	}
	A, B, W, native := lowerHex(tokA), lowerHex(tokB), lowerHex(weth), model.NativeAsset
	u := func(x *big.Int) uint256.Int { v, _ := uint256.FromBig(x); return *v }
	swap := func(in, out model.Leg, ai, ao *big.Int, ref common.Address) model.Conversion {
		return model.Conversion{Kind: model.ConvSwap, In: in, Out: out, AmountIn: u(ai), AmountOut: u(ao), Ref: lowerHex(ref)}
	}
	hop1Out := leg(txHops, pair, pair2, B, n(90))
	depBSC := leg(txDepBSC, alice.Addr, thor, native, ether(2000))
	depBTC := leg(txDepBTC, alice.Addr, thor, native, ether(3000))
	depTok := leg(txDepTok, router, thor, A, n(300))
	payETH := leg(txOutETH, thor, dave.Addr, native, ether(250))
	payBSC := leg(txOutBSC, bThor, erin.Addr, native, ether(40_000))
	wantStored := []model.Conversion{
		swap(leg(txV2, router, pair, A, n(1000)), leg(txV2, pair, bob.Addr, B, n(900)), n(1000), n(900), pair),
		swap(leg(txV3, router, pool, A, n(600)), leg(txV3, pool, bob.Addr, B, n(500)), n(600), n(500), pool),
		// ETH wrapped by the router: the In leg is the native value into WETH.
		swap(leg(txWETHIn, router, weth, native, ether(1000)), leg(txWETHIn, pair2, bob.Addr, B, n(700)), ether(1000), n(700), pair2),
		// WETH unwrapped by the recipient: the Out leg is the native value out of WETH.
		swap(leg(txWETHOut, router, pair2, B, n(800)), leg(txWETHOut, weth, router, native, ether(500)), n(800), ether(500), pair2),
		swap(leg(txHops, router, pair, A, n(100)), hop1Out, n(100), n(90), pair),
		swap(hop1Out, leg(txHops, pair2, bob.Addr, W, ether(10)), n(90), ether(10), pair2),
		{Kind: model.ConvBridge, In: depBSC, AmountIn: u(ether(2000)), Ref: memoBSC},
		{Kind: model.ConvBridge, In: depBTC, AmountIn: u(ether(3000)), Ref: memoBTC},
		{Kind: model.ConvBridge, In: depTok, AmountIn: *uint256.NewInt(300), Ref: memoETH},
		{Kind: model.ConvBridge, Out: payETH, AmountOut: u(ether(250)), Ref: outMemo(txDepTok)},
		{Kind: model.ConvBridge, Out: leg(txRefundTok, thor, dave.Addr, A, n(120)), AmountOut: *uint256.NewInt(120), Ref: refundMemo},
		{Kind: model.ConvBridge, Out: payBSC, AmountOut: u(ether(40_000)), Ref: outMemo(txDepBSC)},
	}
	var stored []model.Conversion
	for _, ch := range []model.Chain{"eth", "bsc"} {
		if err := st.ScanConversions(ctx, ch, 0, 100, func(cv *model.Conversion) error { stored = append(stored, *cv); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	key := func(cv model.Conversion) model.Leg {
		if cv.In.Known() {
			return cv.In
		}
		return cv.Out
	}
	sortConv := func(cs []model.Conversion) {
		slices.SortFunc(cs, func(a, b model.Conversion) int {
			ka, kb := key(a), key(b)
			return strings.Compare(ka.String(), kb.String())
		})
	}
	sortConv(stored)
	sortConv(wantStored)
	if d := cmp.Diff(wantStored, stored); d != "" {
		t.Errorf("stored conversions (-want +got):\n%s", d)
	}

	res, err := convert.FromStore(ctx, st, "eth", "bsc")
	if err != nil {
		t.Fatal(err)
	}
	// The two hops become one route: A into pair, WETH out of pair2.
	var wantConv []model.Conversion
	for _, cv := range wantStored {
		switch {
		case cv.Kind != model.ConvSwap || cv.In == hop1Out:
		case cv.Out == hop1Out:
			wantConv = append(wantConv, swap(cv.In, leg(txHops, pair2, bob.Addr, W, ether(10)), n(100), ether(10), pair))
			wantConv[len(wantConv)-1].Ref += " > " + lowerHex(pair2)
		default:
			wantConv = append(wantConv, cv)
		}
	}
	wantConv = append(wantConv,
		model.Conversion{Kind: model.ConvBridge, In: depBSC, Out: payBSC, AmountIn: u(ether(2000)), AmountOut: u(ether(40_000)), Ref: memoBSC + " -> " + outMemo(txDepBSC)},
		model.Conversion{Kind: model.ConvBridge, In: depTok, Out: payETH, AmountIn: *uint256.NewInt(300), AmountOut: u(ether(250)), Ref: memoETH + " -> " + outMemo(txDepTok)})
	wantConv, _ = convert.Dedupe(wantConv) // FromStore's order: by In leg
	want := &convert.Result{Conversions: wantConv, Pending: []convert.Pending{{In: depBTC, TxHash: strings.ToLower(txDepBTC.Hex()),
		Amount: u(ether(3000)), Memo: memoBTC, Action: convert.ActionSwap, DestChain: "btc", Dest: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Asset: "BTC.BTC"}},
		ExtraPayouts: 1}
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("FromStore (-want +got):\n%s", d)
	}
}

// TestReorgReplacesConversions: a swap in a block the node abandons is gone
// from the store after the reorg, and the store's conversions equal a fresh
// ingest's of the new branch.
func TestReorgReplacesConversions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	c := startDexChain(ctx, t, alice)
	tokA := c.deploy(alice, ethsim.TokenInit(big.NewInt(1_000_000)))
	tokB := c.deploy(alice, ethsim.TokenInit(big.NewInt(1_000_000)))
	router := c.deploy(alice, ethsim.ScriptInit())
	pair := c.deploy(alice, ethsim.ScriptInit())
	c.commit()
	c.commit(c.send(alice, tokA, nil, ethsim.TokenTransfer(router, big.NewInt(10_000))),
		c.send(alice, tokB, nil, ethsim.TokenTransfer(pair, big.NewInt(10_000))))
	swapTx := func(in, out int64) common.Hash {
		return c.send(alice, router, nil, ethsim.Script(
			ethsim.Call(tokA, nil, ethsim.TokenTransfer(pair, big.NewInt(in))),
			ethsim.Call(pair, nil, ethsim.Script(
				ethsim.Call(tokB, nil, ethsim.TokenTransfer(bob.Addr, big.NewInt(out))),
				ethsim.Log([]common.Hash{ethsim.V2SwapTopic, ethsim.AddrTopic(router), ethsim.AddrTopic(bob.Addr)},
					ethsim.Words(big.NewInt(in), big.NewInt(0), big.NewInt(0), big.NewInt(out)))))))
	}
	c.commit(swapTx(1000, 900))
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth})
	st := openStore(t)
	if _, err := Run(ctx, src, st, Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	convs := func(st *store.Store) []model.Conversion {
		var out []model.Conversion
		if err := st.ScanConversions(ctx, "eth", 0, ^uint64(0), func(cv *model.Conversion) error { out = append(out, *cv); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := convs(st); len(got) != 1 || got[0].AmountOut.Uint64() != 900 {
		t.Fatalf("before the reorg: %+v, want the 1000→900 swap", got)
	}
	h2, err := c.node.Client.HeaderByNumber(ctx, big.NewInt(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.node.Fork(h2.Hash()); err != nil {
		t.Fatal(err)
	}
	c.nonces[alice.Addr]--
	c.commit(swapTx(500, 400))
	c.commit()
	s, err := Run(ctx, src, st, Options{From: 0, ToHead: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Reorgs != 1 {
		t.Fatalf("stats %+v: want one reorg", s)
	}
	fresh := openStore(t)
	if _, err := Run(ctx, src, fresh, Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	got, want := convs(st), convs(fresh)
	if d := cmp.Diff(want, got); d != "" || len(got) != 1 || got[0].AmountOut.Uint64() != 400 {
		t.Fatalf("conversions after the reorg (-fresh +reorged):\n%s\ngot %+v, want only the 500→400 swap", d, got)
	}
}
