package eth

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/model"
)

func lower(a common.Address) string { return strings.ToLower(a.Hex()) }

func eth(milli int64) *big.Int { return new(big.Int).Mul(big.NewInt(milli), big.NewInt(1e15)) }

// TestSimulatedNode sends real transactions to an in-process go-ethereum
// node, ingests its blocks over HTTP JSON-RPC with the geth callTracer and
// checks every transfer and every non-transfer.
func TestSimulatedNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob, carol := ethsim.NewAccount(1), ethsim.NewAccount(2), ethsim.NewAccount(3)
	coinbase := ethsim.NewAccount(9).Addr
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: eth(100_000)}}, coinbase)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()

	var nonce uint64
	send := func(to *common.Address, value *big.Int, data []byte) common.Hash {
		t.Helper()
		h, err := node.Send(ctx, alice, nonce, to, value, 500_000, data)
		if err != nil {
			t.Fatalf("tx %d: %v", nonce, err)
		}
		nonce++
		return h
	}
	deployAt := func(code []byte) (common.Address, common.Hash) {
		addr := crypto.CreateAddress(alice.Addr, nonce)
		return addr, send(nil, nil, code)
	}
	// Block 1: deployments and a plain transfer.
	token, tokenTx := deployAt(ethsim.TokenInit(big.NewInt(1_000_000)))
	f1, _ := deployAt(ethsim.ForwarderInit())
	f2, _ := deployAt(ethsim.ForwarderInit())
	rev, _ := deployAt(ethsim.ReverterInit())
	nft, _ := deployAt(ethsim.NFTEmitterInit())
	factory, _ := deployAt(ethsim.FactoryInit())
	destructor, _ := deployAt(ethsim.DestructorInit())
	plain := send(&bob.Addr, eth(1000), nil)
	node.Commit()

	// Block 2: every kind of movement and non-movement.
	if err := node.AddWithdrawal(ctx, types.Withdrawal{Index: 0, Validator: 7, Address: carol.Addr, Amount: 5}); err != nil {
		t.Fatal(err)
	}
	if err := node.AddWithdrawal(ctx, types.Withdrawal{Index: 1, Validator: 8, Address: bob.Addr, Amount: 32_000_000_000}); err != nil {
		t.Fatal(err)
	}
	txTokenXfer := send(&token, nil, ethsim.TokenTransfer(bob.Addr, big.NewInt(1000)))
	txFwd := send(&f1, eth(1), ethsim.Forward(bob.Addr, ethsim.ModeRequire, nil))
	txNested := send(&f1, eth(2), ethsim.Forward(f2, ethsim.ModeRequire, ethsim.Forward(carol.Addr, ethsim.ModeRequire, nil)))
	txRevert := send(&rev, eth(3), nil)
	txInnerRevert := send(&f1, eth(4), ethsim.Forward(rev, ethsim.ModeIgnore, nil))
	txSubtreeRevert := send(&f1, eth(5), ethsim.Forward(f2, ethsim.ModeIgnore, ethsim.Forward(carol.Addr, ethsim.ModeRevert, nil)))
	txTopRevertAfterMove := send(&f1, eth(6), ethsim.Forward(bob.Addr, ethsim.ModeRevert, nil))
	txZeroToken := send(&token, nil, ethsim.TokenTransfer(bob.Addr, big.NewInt(0)))
	txNFT := send(&nft, nil, nil)
	txFactory := send(&factory, eth(7), nil)
	txDestruct := send(&destructor, eth(8), common.LeftPadBytes(carol.Addr.Bytes(), 32))
	txTokenTooMuch := send(&token, nil, ethsim.TokenTransfer(carol.Addr, big.NewInt(2_000_000)))
	node.Commit()

	// The adapter probes the node: geth has no trace_block, so it must pick the callTracer.
	a := New(node.URL, Options{Batch: 1, Concurrency: 2})
	got, err := a.Blocks(ctx, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if a.Tracer() != TracerGeth {
		t.Fatalf("probed tracer = %s, want geth", a.Tracer())
	}

	// Expected transfers, from the node's own receipts and headers.
	want := make([]model.Block, 2)
	for i := range want {
		n := uint64(i + 1)
		blk, err := node.Client.BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = model.Block{Chain: model.ChainETH, Number: n, Hash: blk.Hash().Hex(), ParentHash: blk.ParentHash().Hex(), Time: int64(blk.Time())}
		want[i].Hash, want[i].ParentHash = strings.ToLower(want[i].Hash), strings.ToLower(want[i].ParentHash)
	}
	type item struct {
		from, to common.Address
		asset    string
		amount   *big.Int
		kind     model.Kind
	}
	native := func(from, to common.Address, v *big.Int, k model.Kind) item {
		return item{from, to, model.NativeAsset, v, k}
	}
	expectTx := func(blockIdx int, h common.Hash, status bool, created common.Address, items ...item) {
		t.Helper()
		r, err := node.Client.TransactionReceipt(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		tx, _, err := node.Client.TransactionByHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := node.Client.HeaderByNumber(ctx, r.BlockNumber)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(blockIdx + 1); r.BlockNumber.Uint64() != want {
			t.Fatalf("tx %s landed in block %d, want %d", h.Hex(), r.BlockNumber, want)
		}
		if (r.Status == types.ReceiptStatusSuccessful) != status {
			t.Fatalf("tx %s: node status %d, test expects success=%v (bad test contract?)", h.Hex(), r.Status, status)
		}
		b := &want[blockIdx]
		idx := uint32(r.TransactionIndex)
		mt := model.Tx{Hash: strings.ToLower(h.Hex()), Index: idx, From: lower(alice.Addr), Status: status}
		if tx.To() != nil {
			mt.To = lower(*tx.To())
		}
		if created != (common.Address{}) {
			mt.Created = lower(created)
		}
		mt.Value.SetFromBig(tx.Value())
		fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
		mt.Fee.SetFromBig(fee)
		b.Txs = append(b.Txs, mt)
		tip := new(big.Int).Sub(r.EffectiveGasPrice, hdr.BaseFee)
		tip.Mul(tip, new(big.Int).SetUint64(r.GasUsed))
		burn := new(big.Int).Mul(hdr.BaseFee, new(big.Int).SetUint64(r.GasUsed))
		all := append([]item{native(alice.Addr, coinbase, tip, model.KindFee), native(alice.Addr, common.Address{}, burn, model.KindFee)}, items...)
		var seq uint32
		for _, it := range all {
			if it.amount.Sign() == 0 {
				continue
			}
			var amt uint256.Int
			amt.SetFromBig(it.amount)
			asset := it.asset
			b.Transfers = append(b.Transfers, model.Transfer{Chain: model.ChainETH, Block: b.Number, Time: b.Time,
				Position: model.MakePosition(idx, seq), TxHash: mt.Hash, From: lower(it.from), To: lower(it.to),
				Asset: asset, Amount: amt, Kind: it.kind})
			seq++
		}
	}
	none := common.Address{}
	tok := lower(token)
	// Block 1.
	expectTx(0, tokenTx, true, token, item{none, alice.Addr, tok, big.NewInt(1_000_000), model.KindToken}) // mint log
	for i, c := range []common.Address{f1, f2, rev, nft, factory, destructor} {
		expectTx(0, mustTx(t, got[0], i+1), true, c)
	}
	expectTx(0, plain, true, none, native(alice.Addr, bob.Addr, eth(1000), model.KindNative))
	// Block 2.
	expectTx(1, txTokenXfer, true, none, item{alice.Addr, bob.Addr, tok, big.NewInt(1000), model.KindToken})
	expectTx(1, txFwd, true, none, native(alice.Addr, f1, eth(1), model.KindNative), native(f1, bob.Addr, eth(1), model.KindInternal))
	expectTx(1, txNested, true, none, native(alice.Addr, f1, eth(2), model.KindNative),
		native(f1, f2, eth(2), model.KindInternal), native(f2, carol.Addr, eth(2), model.KindInternal))
	expectTx(1, txRevert, false, none)                                                         // reverted: the fee only
	expectTx(1, txInnerRevert, true, none, native(alice.Addr, f1, eth(4), model.KindNative))   // F1→R reverted
	expectTx(1, txSubtreeRevert, true, none, native(alice.Addr, f1, eth(5), model.KindNative)) // F1→F2→carol all reverted
	expectTx(1, txTopRevertAfterMove, false, none)
	expectTx(1, txZeroToken, true, none) // zero-amount token transfer: not a transfer
	expectTx(1, txNFT, true, none)       // ERC-721 shape: not a token transfer
	expectTx(1, txFactory, true, none, native(alice.Addr, factory, eth(7), model.KindNative),
		native(factory, crypto.CreateAddress(factory, 1), eth(7), model.KindInternal))
	expectTx(1, txDestruct, true, none, native(alice.Addr, destructor, eth(8), model.KindNative),
		native(destructor, carol.Addr, eth(8), model.KindInternal))
	expectTx(1, txTokenTooMuch, false, none)
	// Withdrawals: Gwei → wei, after every transaction.
	for i, w := range []struct {
		to   common.Address
		gwei int64
	}{{carol.Addr, 5}, {bob.Addr, 32_000_000_000}} {
		var amt uint256.Int
		amt.SetFromBig(new(big.Int).Mul(big.NewInt(w.gwei), big.NewInt(1e9)))
		want[1].Transfers = append(want[1].Transfers, model.Transfer{Chain: model.ChainETH, Block: 2, Time: want[1].Time,
			Position: model.MakePosition(model.WithdrawalTxIndex, uint32(i)), TxHash: want[1].Hash, From: MintAddress,
			To: lower(w.to), Asset: model.NativeAsset, Amount: amt, Kind: model.KindWithdrawal})
	}
	for i := range want {
		if d := cmp.Diff(want[i], got[i]); d != "" {
			t.Errorf("block %d (-want +got):\n%s", i+1, d)
		}
	}

	// Forcing the parity tracer on geth fails clearly, naming the method.
	_, err = New(node.URL, Options{Tracer: TracerParity}).Blocks(ctx, 1, 1)
	var mnf *MethodNotFoundError
	if !errors.As(err, &mnf) || mnf.Method != "trace_block" || !strings.Contains(err.Error(), "node does not support JSON-RPC method trace_block") {
		t.Fatalf("parity tracer on geth: err = %v, want method-not-found for trace_block", err)
	}
	// Head is read from the node.
	if h, err := a.Head(ctx); err != nil || h != 2 {
		t.Fatalf("Head = %d, %v; want 2", h, err)
	}
}

func mustTx(t *testing.T, b model.Block, i int) common.Hash {
	t.Helper()
	if i >= len(b.Txs) {
		t.Fatalf("block %d has %d txs, want > %d", b.Number, len(b.Txs), i)
	}
	return common.HexToHash(b.Txs[i].Hash)
}

// TestPrunedStateHint: a non-archive geth keeps the state of recent blocks
// only; tracing an old block fails, and the error says what to do.
func TestPrunedStateHint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob := ethsim.NewAccount(1), ethsim.NewAccount(2)
	node, err := ethsim.Start(types.GenesisAlloc{alice.Addr: {Balance: eth(1000)}}, common.Address{9})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	for i := 0; i < 140; i++ {
		if _, err := node.Send(ctx, alice, uint64(i), &bob.Addr, big.NewInt(1), 21000, nil); err != nil {
			t.Fatal(err)
		}
		node.Commit()
	}
	_, err = New(node.URL, Options{Tracer: TracerGeth}).Blocks(ctx, 1, 1)
	if err == nil || !strings.Contains(err.Error(), "block 1: ") || !strings.Contains(err.Error(), "use an archive node") {
		t.Fatalf("err = %v, want the pruned-state hint", err)
	}
	// Recent blocks still trace, and --tracer none ingests old ones.
	if _, err := New(node.URL, Options{Tracer: TracerGeth}).Blocks(ctx, 139, 140); err != nil {
		t.Fatal(err)
	}
	if bs, err := New(node.URL, Options{Tracer: TracerNone}).Blocks(ctx, 1, 1); err != nil || len(bs[0].Transfers) != 3 {
		t.Fatalf("tracer none: %v", err)
	}
}
