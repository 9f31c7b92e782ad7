package ingest

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/model"
)

// TestRewardsReconcile runs a real go-ethereum node on a proof-of-work
// chain (ethash rules: three reward eras, uncles of depth 1 to 6, a miner
// including its own uncle, plain transfers paying fees to the miners),
// ingests it with both tracers' reward paths and checks, for every address
// involved, that received − sent in the store equals the node's balance
// minus the genesis allocation: block and uncle rewards are what makes the
// miners reconcile.
func TestRewardsReconcile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	sender := ethsim.NewAccount(7)
	addr := func(b byte) common.Address { return common.BytesToAddress([]byte{0xe0, b}) }
	miners := []common.Address{addr(1), addr(2), addr(3)}
	uncleMiners := []common.Address{addr(0x11), addr(0x12), addr(0x13)}
	recipient := addr(0x21)
	alloc := big.NewInt(1e18)
	cfg := ethsim.PoWConfig(4, 8)
	genesis := ethsim.PoWGenesis(cfg, types.GenesisAlloc{sender.Addr: {Balance: alloc}})
	type unc struct {
		depth int
		miner common.Address
	}
	uncles := map[int][]unc{
		3: {{1, uncleMiners[0]}}, 5: {{2, uncleMiners[1]}, {1, uncleMiners[2]}},
		8: {{6, miners[1]}}, 9: {{3, miners[0]}}, 11: {{1, uncleMiners[0]}},
	}
	signer := types.LatestSignerForChainID(cfg.ChainID)
	var nonce uint64
	blocks := ethsim.GeneratePoW(genesis, 12, func(i int, b *core.BlockGen) {
		n := i + 1
		b.SetCoinbase(miners[n%3])
		if n%2 == 0 { // a plain transfer: its fee goes to this block's miner
			tx := types.MustSignNewTx(sender.Key, signer, &types.LegacyTx{Nonce: nonce, To: &recipient, Value: big.NewInt(int64(1000 * n)),
				Gas: 21000, GasPrice: big.NewInt(10_000_000_000)})
			b.AddTx(tx)
			nonce++
		}
		for _, u := range uncles[n] {
			h := types.CopyHeader(b.PrevBlock(i - u.depth).Header())
			h.Extra = []byte(fmt.Sprintf("uncle of %d", n))
			h.Coinbase = u.miner
			b.AddUncle(h)
		}
	})
	node, err := ethsim.StartPoW(genesis, blocks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })

	sched := eth.RewardSchedule{Steps: []eth.RewardStep{
		{From: 0, Amount: *ethash.FrontierBlockReward},
		{From: 4, Amount: *ethash.ByzantiumBlockReward},
		{From: 8, Amount: *ethash.ConstantinopleBlockReward},
	}}
	st := openStore(t)
	stats, err := Run(ctx, eth.New(node.URL, eth.Options{Tracer: eth.TracerGeth, Rewards: &sched, Batch: 3}), st, Options{From: 0, To: 12, Window: 5})
	if err != nil {
		t.Fatal(err)
	}
	var rewards int
	if err := st.ScanTransfers(ctx, model.ChainETH, 0, 12, func(tr *model.Transfer) error {
		if tr.Kind == model.KindReward {
			rewards++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rewards != 12+6 || stats.Blocks != 13 {
		t.Fatalf("%d reward transfers in %d blocks, want 18 in 13", rewards, stats.Blocks)
	}
	all := append(append([]common.Address{sender.Addr, recipient}, miners...), uncleMiners...)
	for _, a := range all {
		bal, err := node.Client.BalanceAt(ctx, a, big.NewInt(12))
		if err != nil {
			t.Fatal(err)
		}
		if a == sender.Addr {
			bal.Sub(bal, alloc)
		}
		s, err := st.Summarize(ctx, model.ChainETH, strings.ToLower(a.Hex()), 5, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var net big.Int
		for _, at := range s.Assets {
			if at.Asset == model.NativeAsset {
				net.Sub(&at.Received, &at.Sent)
			}
		}
		if net.Cmp(bal) != 0 {
			t.Errorf("%s: store received − sent = %s, node balance change = %s", a.Hex(), net.String(), bal.String())
		}
		if bal.Sign() == 0 {
			t.Errorf("%s: balance unchanged: the test chain does not exercise it", a.Hex())
		}
	}
}
