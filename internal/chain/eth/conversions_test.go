package eth

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// The event topics are computed from their signatures; these are the values
// published with the contracts' ABIs (Uniswap V2 pair, Uniswap V3 pool,
// THORChain router, WETH9) and seen in mainnet logs.
func TestEventTopics(t *testing.T) {
	for _, c := range []struct{ got, want, name string }{
		{topicV2Swap, "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822", "V2 Swap"},
		{topicV3Swap, "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67", "V3 Swap"},
		{topicWrap, "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c", "WETH Deposit"},
		{topicUnwrap, "0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65", "WETH Withdrawal"},
		{topicTCDeposit, "0xef519b7eb82aaf6ac376a6df2d793843ebfd593de5f1a0601d3cc6ab49ebb395", "THORChain Deposit"},
		{topicTCTransferOut, "0xa9cd03aa3c1b4515114539cd53d22085129d495cb9e9f9af77864526240f1bf7", "THORChain TransferOut"},
		{topicTCTransferOutAndCall, "0x8e5841bcd195b858d53b38bcf91b38d47f3bc800469b6812d35451ab619c6f6c", "THORChain TransferOutAndCall"},
		{eventTopic("Transfer(address,address,uint256)"), transferTopic, "ERC-20 Transfer"},
	} {
		if c.got != c.want {
			t.Errorf("%s topic = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// TestRealSwaps decodes the Uniswap V2 and V3 swaps of mainnet blocks
// 17173049–17173050 (rebuilt node responses, as in
// TestConformanceWithdrawalBlocks) and checks that every conversion's legs
// are transfers of the pool with the event's amounts.
func TestRealSwaps(t *testing.T) {
	dir := filepath.Join(etlDir, "test_stream/blocks_17173049_17173050")
	blocks := readJSONLines[etlBlock](t, filepath.Join(dir, "expected_blocks.json"))
	txs := readJSONLines[etlTx](t, filepath.Join(dir, "expected_transactions.json"))
	logs := readJSONLines[etlLog](t, filepath.Join(dir, "expected_logs.json"))
	got, _ := runRebuilt(t, blocks, txs, logs)
	swaps := map[string]int{}
	for _, l := range logs {
		if len(l.Topics) > 0 && (l.Topics[0] == topicV2Swap || l.Topics[0] == topicV3Swap) {
			swaps[l.Topics[0]]++
		}
	}
	var n int
	for _, b := range got {
		at := map[model.Position]*model.Transfer{}
		for i := range b.Transfers {
			at[b.Transfers[i].Position] = &b.Transfers[i]
		}
		for _, c := range b.Conversions {
			n++
			in, out := at[c.In.Position], at[c.Out.Position]
			if c.Kind != model.ConvSwap || in == nil || out == nil {
				t.Errorf("block %d: conversion %+v: not a swap with two legs in the block", b.Number, c)
				continue
			}
			if in.TxHash != out.TxHash || in.To != c.Ref || out.From != c.Ref || in.Asset == out.Asset ||
				!in.Amount.Eq(&c.AmountIn) || !out.Amount.Eq(&c.AmountOut) {
				t.Errorf("block %d: swap %s: in %+v out %+v do not fit amounts %s→%s", b.Number, c.Ref, in, out, c.AmountIn.Dec(), c.AmountOut.Dec())
			}
		}
		checkConversions(t, &b)
	}
	// Every swap of these blocks is linked; 7 of them sell WETH for a
	// fee-on-transfer token, whose payout is less than the event's amount.
	if total := swaps[topicV2Swap] + swaps[topicV3Swap]; n != total || total != 79 {
		t.Errorf("linked %d conversions, want all %d swap logs (69 V2, 10 V3)", n, total)
	}
	// One of those, checked by hand against the logs of tx 0xda227aee…: the
	// Uniswap V2 router paid 0.2 WETH (log 51) into pair 0xcd34…, which paid
	// 339851404498493 units of token 0x8394… (log 52) to 0xd7e6….
	var found bool
	for _, b := range got {
		for _, c := range b.Conversions {
			if c.Ref != "0xcd34b7adca16edd98f5db135bfd45c86026d89c6" {
				continue
			}
			for _, tr := range b.Transfers {
				if tr.Position == c.In.Position && tr.TxHash == "0xda227aee543ccd4e5c6d0364518647f2ef120bd96e221a4bd3531257a84c0184" {
					found = true
					if tr.Asset != "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2" || c.AmountIn.Dec() != "200000000000000000" || c.AmountOut.Dec() != "339851404498493" {
						t.Errorf("swap in tx 0xda227aee…: in %s of %s, out %s; want 200000000000000000 WETH in, 339851404498493 out", c.AmountIn.Dec(), tr.Asset, c.AmountOut.Dec())
					}
				}
			}
		}
	}
	if !found {
		t.Error("swap of tx 0xda227aee… by pair 0xcd34… not found")
	}
}

// checkConversions asserts the invariants of an accepted block's
// conversions: known legs locate transfers of the block, swap legs are the
// pool's transfers with the conversion's amounts, bridge halves have one
// leg, and no transfer is the In leg, the Out leg or the stored key of two
// conversions.
func checkConversions(t *testing.T, b *model.Block) {
	t.Helper()
	at := map[model.Position]*model.Transfer{}
	for i := range b.Transfers {
		at[b.Transfers[i].Position] = &b.Transfers[i]
	}
	in, out, key := map[model.Leg]bool{}, map[model.Leg]bool{}, map[model.Leg]bool{}
	for _, c := range b.Conversions {
		for _, l := range []model.Leg{c.In, c.Out} {
			if l.Known() && (l.Chain != b.Chain || l.Block != b.Number || at[l.Position] == nil) {
				t.Fatalf("conversion %+v: leg %s is not a transfer of block %d", c, l, b.Number)
			}
		}
		k := c.In
		if !k.Known() {
			k = c.Out
		}
		if (c.In.Known() && in[c.In]) || (c.Out.Known() && out[c.Out]) || key[k] {
			t.Fatalf("conversion %+v reuses a leg", c)
		}
		in[c.In], out[c.Out], key[k] = c.In.Known(), c.Out.Known(), true
		switch c.Kind {
		case model.ConvSwap:
			if !c.In.Known() || !c.Out.Known() {
				t.Fatalf("swap %+v lacks a leg", c)
			}
			ti, to := at[c.In.Position], at[c.Out.Position]
			if ti.TxHash != to.TxHash || !ti.Amount.Eq(&c.AmountIn) || !to.Amount.Eq(&c.AmountOut) || ti.Asset == to.Asset {
				t.Fatalf("swap %+v: legs %+v, %+v", c, ti, to)
			}
		case model.ConvBridge:
			if c.In.Known() == c.Out.Known() {
				t.Fatalf("bridge half %+v must have exactly one leg", c)
			}
		default:
			t.Fatalf("conversion kind %q", c.Kind)
		}
	}
}

// FuzzConversionLogs runs one transaction whose receipt holds the fuzzed
// logs (JSON) through the normalizer; seeds are the logs of real mainnet
// swap transactions and hand-made THORChain router and WETH logs.
func FuzzConversionLogs(f *testing.F) {
	logs := readJSONLines[etlLog](f, filepath.Join(etlDir, "test_stream/blocks_17173049_17173050/expected_logs.json"))
	byTx := map[string][]etlLog{}
	var order []string
	for _, l := range logs {
		if _, ok := byTx[l.TxHash]; !ok {
			order = append(order, l.TxHash)
		}
		byTx[l.TxHash] = append(byTx[l.TxHash], l)
	}
	seeded := 0
	for _, h := range order {
		ls := byTx[h]
		swap := false
		for _, l := range ls {
			swap = swap || l.Topics[0] == topicV2Swap || l.Topics[0] == topicV3Swap
		}
		if !swap || seeded >= 12 {
			continue
		}
		seeded++
		var rl []map[string]any
		for _, l := range ls {
			rl = append(rl, map[string]any{"address": l.Address, "topics": l.Topics, "data": l.Data, "logIndex": hexNum(l.LogIndex)})
		}
		data, _ := json.Marshal(rl)
		f.Add(data)
	}
	word := func(s string) string { return fmt.Sprintf("%064s", s) }
	addr := func(b byte) string { return "0x" + strings.Repeat(fmt.Sprintf("%02x", b), 20) }
	topicAddr := func(b byte) string {
		return "0x" + strings.Repeat("0", 24) + strings.Repeat(fmt.Sprintf("%02x", b), 20)
	}
	memo := hex.EncodeToString([]byte("=:BTC.BTC:bc1qxyz"))
	f.Add([]byte(`[{"address":"` + addr(0xee) + `","topics":["` + transferTopic + `","` + topicAddr(1) + `","` + topicAddr(0xee) + `"],"data":"0x` + word("64") + `","logIndex":"0x0"},` +
		`{"address":"` + addr(0xee) + `","topics":["` + topicTCDeposit + `","` + topicAddr(7) + `","` + topicAddr(0xee) + `"],"data":"0x` + word("64") + word("40") + word("11") + memo + strings.Repeat("0", 64-len(memo)) + `","logIndex":"0x1"},` +
		`{"address":"` + addr(0xee) + `","topics":["` + transferTopic + `","` + topicAddr(0xee) + `","` + topicAddr(3) + `"],"data":"0x` + word("32") + `","logIndex":"0x2"},` +
		`{"address":"` + addr(0xee) + `","topics":["` + topicTCTransferOut + `","` + topicAddr(7) + `","` + topicAddr(3) + `"],"data":"0x` + word(strings.Repeat("ee", 20)) + word("32") + word("60") + word("11") + memo + strings.Repeat("0", 64-len(memo)) + `","logIndex":"0x3"},` +
		`{"address":"` + addr(0xcc) + `","topics":["` + topicWrap + `","` + topicAddr(1) + `"],"data":"0x` + word("5") + `","logIndex":"0x4"}]`))
	hash := "0x" + strings.Repeat("ab", 32)
	block := []byte(`{"number":"0x10","hash":"` + "0x" + strings.Repeat("11", 32) + `","parentHash":"0x` + strings.Repeat("22", 32) +
		`","timestamp":"0x5","miner":"0x` + strings.Repeat("33", 20) + `","baseFeePerGas":"0x7","transactions":[{"hash":"` + hash +
		`","transactionIndex":"0x0","from":"` + addr(1) + `","to":"` + addr(0xee) + `","value":"0x64"}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		var ls []rpcLog
		if err := json.Unmarshal(data, &ls); err != nil {
			return
		}
		gas, price, status := "0x5208", "0x9", "0x1"
		r := rpcReceipt{TransactionHash: &hash, GasUsed: &gas, EffectiveGasPrice: &price, Status: &status, Logs: ls}
		var b *rpcBlock
		if err := json.Unmarshal(block, &b); err != nil {
			t.Fatal(err)
		}
		out, err := normalize(model.ChainETH, &rawBlock{number: 16, block: b, receipts: []rpcReceipt{r}})
		if err != nil {
			return
		}
		checkBlock(t, &out)
		checkConversions(t, &out)
	})
}

// BenchmarkNormalizeMainnet normalizes real mainnet blocks 17173049–17173050
// (298 transactions, 79 swaps), conversions included.
func BenchmarkNormalizeMainnet(b *testing.B) {
	dir := filepath.Join(etlDir, "test_stream/blocks_17173049_17173050")
	blocks := readJSONLines[etlBlock](b, filepath.Join(dir, "expected_blocks.json"))
	txs := readJSONLines[etlTx](b, filepath.Join(dir, "expected_transactions.json"))
	logs := readJSONLines[etlLog](b, filepath.Join(dir, "expected_logs.json"))
	var raws []rawBlock
	for _, bl := range blocks {
		blk, receipts := rebuildResponses(b, bl, txs, logs)
		rb := rawBlock{number: bl.Number}
		for _, x := range []struct{ from, to any }{{blk, &rb.block}, {receipts, &rb.receipts}} {
			data, err := json.Marshal(x.from)
			if err != nil {
				b.Fatal(err)
			}
			if err := json.Unmarshal(data, x.to); err != nil {
				b.Fatal(err)
			}
		}
		raws = append(raws, rb)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range raws {
			if _, err := normalize(model.ChainETH, &raws[j]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raws)), "ns/block")
}

// TestTransferOutAndCall: a THORChain vault pays ETH out through the router
// to an aggregator (an internal transfer seen by the tracer); the payout
// half's Out leg is that transfer. When the aggregator call failed and the
// router paid the final recipient instead, that transfer is the leg.
func TestTransferOutAndCall(t *testing.T) {
	addr := func(b byte) string { return "0x" + strings.Repeat(fmt.Sprintf("%02x", b), 20) }
	word := func(s string) string { return fmt.Sprintf("%064s", s) }
	vault, router, agg, user := addr(1), addr(2), addr(3), addr(4)
	memo := "OUT:" + strings.Repeat("AB", 32)
	data := "0x" + word(agg[2:]) + word("64") + word(addr(5)[2:]) + word(user[2:]) + word("1") + word("c0") +
		word(fmt.Sprintf("%x", len(memo))) + hex.EncodeToString([]byte(memo)) + strings.Repeat("0", 2*(96-len(memo)))
	for _, c := range []struct {
		name string
		to   string
	}{{"aggregator", agg}, {"fallback to the recipient", user}} {
		hash := "0x" + strings.Repeat("ab", 32)
		block := `{"number":"0x10","hash":"0x` + strings.Repeat("11", 32) + `","parentHash":"0x` + strings.Repeat("22", 32) +
			`","timestamp":"0x5","miner":"0x` + strings.Repeat("33", 20) + `","baseFeePerGas":"0x7","transactions":[{"hash":"` + hash +
			`","transactionIndex":"0x0","from":"` + vault + `","to":"` + router + `","value":"0x64"}]}`
		var b *rpcBlock
		if err := json.Unmarshal([]byte(block), &b); err != nil {
			t.Fatal(err)
		}
		gas, price, status, idx := "0x5208", "0x9", "0x1", "0x0"
		topic1 := "0x" + strings.Repeat("0", 24) + vault[2:]
		r := rpcReceipt{TransactionHash: &hash, GasUsed: &gas, EffectiveGasPrice: &price, Status: &status,
			Logs: []rpcLog{{Address: &router, Topics: []string{topicTCTransferOutAndCall, topic1}, Data: &data, LogIndex: &idx}}}
		var v uint256.Int
		v.SetUint64(100)
		tr := []txTrace{{present: true, moves: []move{{from: router, to: c.to, value: v}}}}
		out, err := normalize(model.ChainETH, &rawBlock{number: 16, block: b, receipts: []rpcReceipt{r}, traces: tr})
		if err != nil {
			t.Fatal(err)
		}
		checkConversions(t, &out)
		var leg model.Leg
		for _, x := range out.Transfers {
			if x.Kind == model.KindInternal {
				leg = model.Leg{Chain: "eth", Block: 16, Position: x.Position}
			}
		}
		want := []model.Conversion{{Kind: model.ConvBridge, Out: leg, AmountOut: v, Ref: memo}}
		if d := cmp.Diff(want, out.Conversions); d != "" || !leg.Known() {
			t.Errorf("%s: conversions (-want +got):\n%s", c.name, d)
		}
	}
}

// TestTHORChainRouterV1Layout: the first router indexed only the vault, so
// Deposit carries the asset and TransferOut the recipient and asset in data.
// A native deposit and a token payout in that layout become bridge halves.
func TestTHORChainRouterV1Layout(t *testing.T) {
	addr := func(b byte) string { return "0x" + strings.Repeat(fmt.Sprintf("%02x", b), 20) }
	word := func(s string) string { return fmt.Sprintf("%064s", s) }
	str := func(s string) string {
		h := hex.EncodeToString([]byte(s))
		return word(fmt.Sprintf("%x", len(s))) + h + strings.Repeat("0", (64-len(h)%64)%64)
	}
	user, router, vault, token, to := addr(1), addr(2), addr(3), addr(4), addr(5)
	topicAddr := func(a string) string { return "0x" + strings.Repeat("0", 24) + a[2:] }
	depMemo, outMemo := "ADD:ETH.ETH:tthor1xyz", "OUT:"+strings.Repeat("F6", 32)
	depData := "0x" + word("0") + word("f4240") + word("60") + str(depMemo)
	outData := "0x" + word(to[2:]) + word(token[2:]) + word("a900") + word("80") + str(outMemo)
	amt := "0x" + word("a900")
	h1, h2 := "0x"+strings.Repeat("a1", 32), "0x"+strings.Repeat("a2", 32)
	block := `{"number":"0x10","hash":"0x` + strings.Repeat("11", 32) + `","parentHash":"0x` + strings.Repeat("22", 32) +
		`","timestamp":"0x5","miner":"0x` + strings.Repeat("33", 20) + `","baseFeePerGas":"0x7","transactions":[` +
		`{"hash":"` + h1 + `","transactionIndex":"0x0","from":"` + user + `","to":"` + router + `","value":"0xf4240"},` +
		`{"hash":"` + h2 + `","transactionIndex":"0x1","from":"` + vault + `","to":"` + router + `","value":"0x0"}]}`
	var b *rpcBlock
	if err := json.Unmarshal([]byte(block), &b); err != nil {
		t.Fatal(err)
	}
	gas, price, status, i0, i1, i2 := "0x5208", "0x9", "0x1", "0x0", "0x1", "0x2"
	rs := []rpcReceipt{
		{TransactionHash: &h1, GasUsed: &gas, EffectiveGasPrice: &price, Status: &status,
			Logs: []rpcLog{{Address: &router, Topics: []string{topicTCDeposit, topicAddr(vault)}, Data: &depData, LogIndex: &i0}}},
		{TransactionHash: &h2, GasUsed: &gas, EffectiveGasPrice: &price, Status: &status,
			Logs: []rpcLog{{Address: &token, Topics: []string{transferTopic, topicAddr(router), topicAddr(to)}, Data: &amt, LogIndex: &i1},
				{Address: &router, Topics: []string{topicTCTransferOut, topicAddr(vault)}, Data: &outData, LogIndex: &i2}}},
	}
	var fwd uint256.Int
	fwd.SetUint64(0xf4240)
	tr := []txTrace{{present: true, moves: []move{{from: router, to: vault, value: fwd}}}, {present: true}}
	out, err := normalize(model.ChainETH, &rawBlock{number: 16, block: b, receipts: rs, traces: tr})
	if err != nil {
		t.Fatal(err)
	}
	checkConversions(t, &out)
	find := func(from, to, asset string) model.Leg {
		for _, x := range out.Transfers {
			if x.From == from && x.To == to && x.Asset == asset {
				return model.Leg{Chain: "eth", Block: 16, Position: x.Position}
			}
		}
		t.Fatalf("no transfer %s→%s of %s", from, to, asset)
		return model.Leg{}
	}
	var pay uint256.Int
	pay.SetUint64(0xa900)
	want := []model.Conversion{
		{Kind: model.ConvBridge, In: find(user, router, model.NativeAsset), AmountIn: fwd, Ref: depMemo},
		{Kind: model.ConvBridge, Out: find(router, to, token), AmountOut: pay, Ref: outMemo},
	}
	if d := cmp.Diff(want, out.Conversions); d != "" {
		t.Errorf("conversions (-want +got):\n%s", d)
	}
}
