package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

func TestETLTransactionsWithReceipts(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etl-transactions", Files: []string{td("etl", "b483920_transactions.csv")}, Receipts: []string{td("etl", "b483920_receipts.csv")}})
	blk := m.blocks["eth/483920"]
	if blk.Hash != "0x246edb4b351d93c27926f4649bcf6c24366e2a7c7c718dc9158eea20c03bc6ae" || blk.Time != 1446561880 {
		t.Errorf("block facts: hash %s time %d", blk.Hash, blk.Time)
	}
	if len(blk.Txs) != 4 {
		t.Fatalf("got %d txs, want 4", len(blk.Txs))
	}
	// Receipts of block 483920 are pre-Byzantium (status empty): counted as
	// successful. Fee = gas_used × effective_gas_price (50 gwei).
	for _, tx := range blk.Txs {
		if !tx.Status {
			t.Errorf("tx %s: status false", tx.Hash)
		}
	}
	fee := uint256.NewInt(50853 * 50_000_000_000)
	if blk.Txs[0].Hash != "0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8" || blk.Txs[0].Fee != *fee {
		t.Errorf("tx 0: %s fee %s, want fee %s", blk.Txs[0].Hash, blk.Txs[0].Fee.Dec(), fee.Dec())
	}
	want := []model.Transfer{
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(2, 0),
			TxHash: "0x463d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c",
			From:   "0x9df428a91ff0f3635c8f0ce752933b9788926804", To: "0x9e669f970ec0f49bb735f20799a7e7c4a1c274e2",
			Asset: "native", Amount: u256("11000440000000000"), Kind: model.KindNative},
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(3, 0),
			TxHash: "0x05287a561f218418892ab053adfb3d919860988b19458c570c5c30f51c146f02",
			From:   "0x2a65aca4d5fc5b5c859090a6c34d164135398226", To: "0x743b8aeedc163c0e3a0fe9f3910d146c48e70da8",
			Asset: "native", Amount: u256("1530219620000000000"), Kind: model.KindNative},
	}
	if d := cmp.Diff(want, m.transfers()); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}

	// The same join from JSON receipts, and the same import driven from the
	// receipts side, give the same store.
	for _, o := range []Options{
		{Format: "etl-transactions", Files: []string{td("etl", "b483920_transactions.csv")}, Receipts: []string{td("etl", "b483920_receipts.json")}},
		{Format: "etl-receipts", Files: []string{td("etl", "b483920_receipts.csv")}, Transactions: []string{td("etl", "b483920_transactions.csv")}},
	} {
		m2 := newMemSink()
		run(t, m2, o)
		if d := cmp.Diff(m.transfers(), m2.transfers()); d != "" {
			t.Errorf("%s: transfers differ (-csv +other):\n%s", o.Format, d)
		}
		if d := cmp.Diff(m.blocks, m2.blocks); d != "" {
			t.Errorf("%s: blocks differ (-csv +other):\n%s", o.Format, d)
		}
	}
}

func TestETLTransactionsNeedReceipts(t *testing.T) {
	_, err := Run(context.Background(), newMemSink(), Options{Format: "etl-transactions", Files: []string{td("etl", "b47218_transactions.csv")}})
	if err == nil || !strings.Contains(err.Error(), "--receipts") || !strings.Contains(err.Error(), "b47218_transactions.csv:1") {
		t.Fatalf("got %v, want an error asking for --receipts or --no-receipts naming the header line", err)
	}
	m := newMemSink()
	run(t, m, Options{Format: "etl-transactions", Files: []string{td("etl", "b47218_transactions.csv")}, NoReceipts: true})
	got := m.transfers()
	if len(got) != 4 {
		t.Fatalf("got %d transfers, want 4 (every transaction has value)", len(got))
	}
	if got[0].Amount != u256("110000000000000000000") || got[0].Block != 47218 || got[0].Time != 1438936285 {
		t.Errorf("first transfer: %+v", got[0])
	}
	for _, tx := range m.blocks["eth/47218"].Txs {
		if !tx.Fee.IsZero() || !tx.Status {
			t.Errorf("tx %s without receipts: fee %s status %v, want 0 and true", tx.Hash, tx.Fee.Dec(), tx.Status)
		}
	}
}

func TestETLTokenTransfers(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etl-token-transfers", Files: []string{td("etl", "b483920_token_transfers.csv")}, Transactions: []string{td("etl", "b483920_transactions.csv")}})
	got := m.transfers()
	want := []model.Transfer{
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(0, tokenSeq+0),
			TxHash: "0x04cbcb236043d8fb7839e07bbc7f5eed692fb2ca55d897f1101eac3e3ad4fab8",
			From:   "0x1b63142628311395ceafeea5667e7c9026c862ca", To: "0xac4df82fe37ea2187bc8c011a23d743b4f39019a",
			Asset: "0xf4eced2f682ce333f96f2d8966c613ded8fc95dd", Amount: u256("100000"), Kind: model.KindToken},
		{Chain: "eth", Block: 483920, Time: 1446561880, Position: model.MakePosition(1, tokenSeq+1),
			TxHash: "0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49",
			From:   "0x9b22a80d5c7b3374a05b446081f97d0a34079e7f", To: "0x66f183060253cfbe45beff1e6e7ebbe318c81e56",
			Asset: "0xf4eced2f682ce333f96f2d8966c613ded8fc95dd", Amount: u256("200000"), Kind: model.KindToken},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}
	// Without a join there is no transaction index.
	_, err := Run(context.Background(), newMemSink(), Options{Format: "etl-token-transfers", Files: []string{td("etl", "b483920_token_transfers.csv")}})
	if err == nil || !strings.Contains(err.Error(), "--transactions") {
		t.Errorf("got %v, want an error asking for --transactions", err)
	}
}

// TestETLStreamJSON imports ethereum-etl stream output (JSON lines, receipts
// inline) and checks the counts against the file read independently.
func TestETLStreamJSON(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etl-transactions", Files: []string{td("etl", "s17173049_transactions.json")}})
	run(t, m, Options{Format: "etl-token-transfers", Files: []string{td("etl", "s17173049_token_transfers.json")}, Transactions: []string{td("etl", "s17173049_transactions.json")}})
	var wantNative, wantToken, wantTx int
	var failed []string
	eachJSON(t, td("etl", "s17173049_transactions.json"), func(o map[string]any) {
		wantTx++
		if o["receipt_status"].(float64) == 1 && o["value"].(float64) != 0 {
			wantNative++
		}
		if o["receipt_status"].(float64) == 0 {
			failed = append(failed, o["hash"].(string))
		}
	})
	eachJSON(t, td("etl", "s17173049_token_transfers.json"), func(o map[string]any) {
		if o["value"].(float64) != 0 {
			wantToken++
		}
	})
	var gotNative, gotToken int
	for _, tr := range m.transfers() {
		switch tr.Kind {
		case model.KindNative:
			gotNative++
		case model.KindToken:
			gotToken++
		}
		if tr.Time != 1683029999 && tr.Time != 1683030011 {
			t.Errorf("transfer %s: time %d", tr.TxHash, tr.Time)
		}
	}
	if gotNative != wantNative || gotToken != wantToken {
		t.Errorf("got %d native and %d token transfers, want %d and %d", gotNative, gotToken, wantNative, wantToken)
	}
	gotTx := len(m.blocks["eth/17173049"].Txs) + len(m.blocks["eth/17173050"].Txs)
	if gotTx != wantTx {
		t.Errorf("got %d txs, want %d", gotTx, wantTx)
	}
	for _, b := range m.blocks {
		for _, tx := range b.Txs {
			for _, h := range failed {
				if tx.Hash == h && tx.Status {
					t.Errorf("failed tx %s stored as successful", h)
				}
			}
		}
	}
}

func eachJSON(t *testing.T, path string, fn func(map[string]any)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		fn(o)
	}
}

func TestETLTracesParity(t *testing.T) {
	m := newMemSink()
	var files []string
	for _, d := range []string{"subtraces", "create", "error", "suicide"} {
		files = append(files, td("etl", "parity_"+d+"_traces.csv"))
	}
	run(t, m, Options{Format: "etl-traces", Files: files, Blocks: []string{td("etl", "traces_blocks.csv")}})
	eth5 := u256("5000000000000000000")
	reward := func(block uint64, hash, to string) model.Transfer {
		return model.Transfer{Chain: "eth", Block: block, Time: 1_000_000_000 + int64(block-1_000_000), Position: model.MakePosition(rewardTxIndex, 0),
			TxHash: hash, From: ZeroAddress, To: to, Asset: "native", Amount: eth5, Kind: model.KindReward}
	}
	want := []model.Transfer{
		// 1000000: the callcode child moves nothing; top-level calls belong to the transactions import.
		reward(1000000, "0x8e38b4dbf6b11fcc3b9dee84fb7986e29ca0a02cecd8977c161ff7333329681e", "0x2a65aca4d5fc5b5c859090a6c34d164135398226"),
		reward(1000690, "0x140d89c4fcaa42e691e68d1003c2d3adb294335e93c6c1aa734170ab028016b3", "0xf8b483dba2c3b7176a3da549ad41a48bb3121069"),
		// 1000895: the errored call is skipped.
		reward(1000895, "0x775cd2dd582a6def1e649862592d5c0449e6eb7384c7d6677768b0b3087dbccc", "0x63a9975ba31b0b9626b34300f7f627147df1f526"),
		// 1011973: the selfdestruct sends the balance to the refund address (trace 0, pre-order index 1).
		{Chain: "eth", Block: 1011973, Time: 1_000_011_973, Position: model.MakePosition(0, 2),
			TxHash: "0x91acb43c5f141c393a189e091c190c9ffb20e4e8a502e4cc3087be9587bdbc89",
			From:   "0x474faa5018639791952fae334e2911700ac7fe9b", To: "0x83973747eec131bf9a08ac64fb1a518e891bdf4b",
			Asset: "native", Amount: u256("50000000000000000"), Kind: model.KindInternal},
		reward(1011973, "0x3bedf784f81ff55e3a8c04f8b3b3a5e7421b2f5ba139d8e5696e4622bb37467b", "0x738db714c08b8a32a29e0e68af00215079aa9c5c"),
	}
	if d := cmp.Diff(want, m.transfers()); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}
}

// TestETLTracesGeth reads traces extracted from geth's callTracer, which have
// no transaction hashes and no statuses: hashes come from the joined
// transactions, statuses from the errors.
func TestETLTracesGeth(t *testing.T) {
	m := newMemSink()
	var files []string
	for _, d := range []string{"subtraces", "create", "error", "suicide"} {
		files = append(files, td("etl", "geth_"+d+"_traces.csv"))
	}
	run(t, m, Options{Format: "etl-traces", Files: files, Transactions: []string{td("etl", "traces_transactions.csv")}})
	// Every value-moving trace here is a top-level call, a callcode or an
	// errored call, and geth's selfdestruct rows carry no value: nothing internal.
	if got := m.transfers(); len(got) != 0 {
		t.Errorf("got %d transfers, want none: %+v", len(got), got)
	}
	_, err := Run(context.Background(), newMemSink(), Options{Format: "etl-traces", Files: files[:1], Blocks: []string{td("etl", "traces_blocks.csv")}})
	if err == nil || !strings.Contains(err.Error(), "transaction_hash") {
		t.Errorf("got %v, want an error about the missing transaction hash", err)
	}
}

func TestETLTracesStreamJSON(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etl-traces", Files: []string{td("etl", "s508110_traces.json")}})
	h := "0xc881ee96ddf8b5be74d7680ccda437466b14b9d942aa0161f139fe920690f665"
	miner := "0x2a65aca4d5fc5b5c859090a6c34d164135398226"
	want := []model.Transfer{
		{Chain: "eth", Block: 508110, Time: 1446973196, Position: model.MakePosition(rewardTxIndex, 0), TxHash: h, From: ZeroAddress, To: miner,
			Asset: "native", Amount: u256("5156250000000000000"), Kind: model.KindReward},
		{Chain: "eth", Block: 508110, Time: 1446973196, Position: model.MakePosition(rewardTxIndex, 1), TxHash: h, From: ZeroAddress, To: miner,
			Asset: "native", Amount: u256("3750000000000000000"), Kind: model.KindReward},
	}
	if d := cmp.Diff(want, m.transfers()); d != "" {
		t.Errorf("transfers (-want +got):\n%s", d)
	}
}

// TestETLTracesNotContiguous: positions number a transaction's traces, so a
// block whose traces are split across the file is refused.
func TestETLTracesNotContiguous(t *testing.T) {
	a, err := os.ReadFile(td("etl", "parity_subtraces_traces.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(td("etl", "parity_error_traces.csv"))
	if err != nil {
		t.Fatal(err)
	}
	al := strings.SplitAfter(string(a), "\n")
	bl := strings.SplitAfter(string(b), "\n")
	mixed := al[0] + al[1] + bl[1] + al[2]
	p := t.TempDir() + "/mixed.csv"
	os.WriteFile(p, []byte(mixed), 0o644)
	_, err = Run(context.Background(), newMemSink(), Options{Format: "etl-traces", Files: []string{p}, Blocks: []string{td("etl", "traces_blocks.csv")}})
	if err == nil || !strings.Contains(err.Error(), "mixed.csv:4: field block_number \"1000000\": traces of block 1000000 are not contiguous (it also has line 2)") {
		t.Errorf("got %v", err)
	}
}
