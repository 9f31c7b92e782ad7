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

// The same call tree in both trace formats gives the same moves:
//
//	tx: A → C (top)
//	  [0]   C → D call 5
//	  [1]   C delegatecall E 7   (moves nothing)
//	  [2]   C → new F create 3
//	  [3]   C → G call 2, fails
//	    [3,0] G → H call 1       (under a failed call: moves nothing)
//	  [4]   C callcode E 4       (moves nothing)
//	  [5]   C selfdestruct → A 9
func TestTracersAgreeOnCallTree(t *testing.T) {
	ad := func(b byte) string { return "0x" + strings.Repeat(string("0123456789abcdef"[b])+"0", 20) }
	A, C, D, E, F, G, H := ad(1), ad(2), ad(3), ad(4), ad(5), ad(6), ad(7)
	h := "0x" + strings.Repeat("99", 32)
	pos := uint32(0)
	call := func(ct, from, to, value string, addr []uint32, errText string) parityTrace {
		return parityTrace{Type: "call", Action: parityAction{CallType: sp(ct), From: sp(from), To: sp(to), Value: sp(value)},
			TraceAddress: addr, Error: errText, TransactionPosition: &pos, TransactionHash: &h}
	}
	parity := []parityTrace{
		call("call", A, C, "0x0", []uint32{}, ""),
		call("call", C, D, "0x5", []uint32{0}, ""),
		call("delegatecall", C, E, "0x7", []uint32{1}, ""),
		{Type: "create", Action: parityAction{From: sp(C), Value: sp("0x3")}, Result: &parityResult{Address: sp(F)}, TraceAddress: []uint32{2}, TransactionPosition: &pos},
		call("call", C, G, "0x2", []uint32{3}, "Reverted"),
		call("call", G, H, "0x1", []uint32{3, 0}, ""),
		call("callcode", C, C, "0x4", []uint32{4}, ""),
		{Type: "suicide", Action: parityAction{Address: sp(C), RefundAddress: sp(A), Balance: sp("0x9")}, TraceAddress: []uint32{5}, TransactionPosition: &pos},
	}
	geth := []gethTxTrace{{TxHash: &h, Result: &gethFrame{Type: "CALL", From: sp(A), To: sp(C), Value: sp("0x0"), Calls: []gethFrame{
		{Type: "CALL", From: sp(C), To: sp(D), Value: sp("0x5")},
		{Type: "DELEGATECALL", From: sp(C), To: sp(E), Value: sp("0x7")},
		{Type: "CREATE2", From: sp(C), To: sp(F), Value: sp("0x3")},
		{Type: "CALL", From: sp(C), To: sp(G), Value: sp("0x2"), Error: "execution reverted", Calls: []gethFrame{
			{Type: "CALL", From: sp(G), To: sp(H), Value: sp("0x1")},
		}},
		{Type: "CALLCODE", From: sp(C), To: sp(E), Value: sp("0x4")},
		{Type: "SELFDESTRUCT", From: sp(C), To: sp(A), Value: sp("0x9")},
	}}}}
	want := []gotMove{{0, C, D, "5"}, {0, C, F, "3"}, {0, C, A, "9"}}
	pt, _, err := parityMoves(1, parity, []string{h})
	if err != nil {
		t.Fatal(err)
	}
	gt, err := gethMoves(1, geth, []string{h})
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := flatten(pt)
	gm, _ := flatten(gt)
	if d := cmp.Diff(want, pm); d != "" {
		t.Errorf("parity (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, gm); d != "" {
		t.Errorf("geth (-want +got):\n%s", d)
	}
	if pt[0].failed || gt[0].failed {
		t.Error("transaction marked failed")
	}
}
