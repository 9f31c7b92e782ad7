package eth

import (
	"path/filepath"
	"testing"

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
	node := newFixtureNode(t, 17173050)
	for _, b := range blocks {
		blk, receipts := rebuildResponses(t, b, txs, logs)
		node.add("eth_getBlockByNumber", []any{hexNum(b.Number), true}, blk)
		node.add("eth_getBlockReceipts", []any{hexNum(b.Number)}, receipts)
	}
	got := runAdapter(t, node.URL(), Options{Tracer: TracerNone, Batch: 1, Concurrency: 2}, 17173049, 17173050)
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
