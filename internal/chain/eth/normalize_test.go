package eth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
)

func sp(s string) *string { return &s }

// A blob-carrying (EIP-4844) transaction burns its blob fee after the tip
// and the base fee; the crafted block follows the JSON-RPC shapes.
func TestBlobFeeAndBaseFeeRules(t *testing.T) {
	a1, a2, miner := "0x"+strings.Repeat("a1", 20), "0x"+strings.Repeat("a2", 20), "0x"+strings.Repeat("ee", 20)
	h := "0x" + strings.Repeat("77", 32)
	mk := func(price string) *rawBlock {
		return &rawBlock{number: 20, block: &rpcBlock{Number: sp("0x14"), Hash: sp("0x" + strings.Repeat("01", 32)),
			ParentHash: sp("0x" + strings.Repeat("02", 32)), Timestamp: sp("0x64"), Miner: sp(miner), BaseFeePerGas: sp("0xa"),
			Transactions: []rpcTx{{Hash: sp(h), TransactionIndex: sp("0x0"), From: sp(a1), To: sp(a2), Value: sp("0x5")}}},
			receipts: []rpcReceipt{{TransactionHash: sp(h), GasUsed: sp("0x3"), EffectiveGasPrice: sp(price), Status: sp("0x1"),
				BlobGasUsed: sp("0x20000"), BlobGasPrice: sp("0x2")}}}
	}
	b, err := normalize(model.ChainETH, mk("0xc"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Seq      uint32
		From, To string
		Amount   string
		Kind     model.Kind
	}
	var got []row
	for _, tr := range b.Transfers {
		got = append(got, row{tr.Position.Seq(), tr.From, tr.To, tr.Amount.Dec(), tr.Kind})
	}
	want := []row{
		{0, a1, miner, "6", model.KindFee},            // 3 gas × (12 − 10)
		{1, a1, BurnAddress, "30", model.KindFee},     // 3 gas × 10
		{2, a1, BurnAddress, "262144", model.KindFee}, // 131072 blob gas × 2
		{3, a1, a2, "5", model.KindNative},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("transfers (-want +got):\n%s", d)
	}
	if b.Txs[0].Fee.Dec() != "36" {
		t.Fatalf("Tx.Fee = %s, want gasUsed × effectiveGasPrice = 36", b.Txs[0].Fee.Dec())
	}
	// A price below the base fee cannot happen on a real chain.
	if _, err := normalize(model.ChainETH, mk("0x9")); err == nil || !strings.Contains(err.Error(), "effective gas price 9 is below the block's base fee 10") {
		t.Fatalf("err = %v", err)
	}
}
