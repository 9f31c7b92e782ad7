package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/redthread/redthread/internal/model"
)

// essentials drops what Etherscan imports derive differently from
// ethereum-etl ones (positions, and times where fixtures use placeholders).
var essentials = cmpopts.IgnoreFields(model.Transfer{}, "Position")

func TestEtherscanNormal(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etherscan-normal", Files: []string{td("etherscan", "normal.csv")}})
	got := m.transfers()
	// The same two value transfers as the ethereum-etl import of block 483920.
	e := newMemSink()
	run(t, e, Options{Format: "etl-transactions", Files: []string{td("etl", "b483920_transactions.csv")}, Receipts: []string{td("etl", "b483920_receipts.csv")}})
	if d := cmp.Diff(e.transfers(), got, essentials, cmpopts.SortSlices(func(a, b model.Transfer) bool { return a.TxHash < b.TxHash })); d != "" {
		t.Errorf("etherscan vs etl (-etl +etherscan):\n%s", d)
	}
	for _, tr := range got {
		if tr.Position.Seq() != 0 || tr.Position.TxIndex() != txIndexOf(tr.TxHash) {
			t.Errorf("%s: position %x, want the hash-derived index and sequence 0", tr.TxHash, uint64(tr.Position))
		}
	}
	// The failed transaction and the contract creation are kept as
	// transactions without transfers; fees are exact.
	fail := m.blocks["eth/1000895"].Txs
	if len(fail) != 1 || fail[0].Status || fail[0].Fee != u256("420000000000000") {
		t.Errorf("failed tx: %+v", fail)
	}
	create := m.blocks["eth/1000690"].Txs
	if len(create) != 1 || create[0].Created != "0xa7e3cf952ea8d9438a26ee346c295f1ada328ae1" || create[0].To != "" {
		t.Errorf("creation tx: %+v", create)
	}
}

func txIndexOf(h string) uint32 {
	var v uint32
	for i := 0; i < 4; i++ {
		v = v<<8 | uint32(hexNibble(h[2+2*i])<<4|hexNibble(h[3+2*i]))
	}
	return v >> 1
}

func TestEtherscanInternal(t *testing.T) {
	m := newMemSink()
	run(t, m, Options{Format: "etherscan-internal", Files: []string{td("etherscan", "internal.csv")}})
	got := m.transfers()
	// The callcode row moves nothing; the selfdestruct matches the traces import.
	want := []model.Transfer{{Chain: "eth", Block: 1011973, Time: 1455600301,
		TxHash: "0x91acb43c5f141c393a189e091c190c9ffb20e4e8a502e4cc3087be9587bdbc89",
		From:   "0x474faa5018639791952fae334e2911700ac7fe9b", To: "0x83973747eec131bf9a08ac64fb1a518e891bdf4b",
		Asset: "native", Amount: u256("50000000000000000"), Kind: model.KindInternal}}
	if d := cmp.Diff(want, got, essentials); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(got) == 1 && (got[0].Position.Seq() == 0 || got[0].Position.Seq() >= tokenSeq) {
		t.Errorf("internal position %x: sequence outside the internal range", uint64(got[0].Position))
	}
}

func TestEtherscanToken(t *testing.T) {
	m := newMemSink()
	usdt := "USDT=0xdac17f958d2ee523a2206206994597c13d831ec7:6"
	weth := "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2:18"
	var specs []TokenSpec
	for _, s := range []string{usdt, weth} {
		sp, err := ParseTokenSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, sp)
	}
	run(t, m, Options{Format: "etherscan-token", Files: []string{td("etherscan", "token.csv")}, Tokens: specs})
	run(t, m, Options{Format: "etherscan-token", Files: []string{td("etherscan", "token_quantity.csv")}, Tokens: specs[:1]})
	// Every row matches ethereum-etl's token transfer of the same transaction.
	e := newMemSink()
	run(t, e, Options{Format: "etl-token-transfers", Files: []string{td("etl", "s17173049_token_transfers.json")}, Transactions: []string{td("etl", "s17173049_transactions.json")}})
	etl := map[string]model.Transfer{}
	for _, tr := range e.transfers() {
		etl[tr.TxHash+tr.From+tr.To] = tr
	}
	got := m.transfers()
	if len(got) != 5 {
		t.Fatalf("got %d token transfers, want 5", len(got))
	}
	for _, tr := range got {
		w, ok := etl[tr.TxHash+tr.From+tr.To]
		if !ok {
			t.Errorf("%s %s→%s: not in the etl export", tr.TxHash, tr.From, tr.To)
			continue
		}
		if d := cmp.Diff(w, tr, essentials); d != "" {
			t.Errorf("(-etl +etherscan):\n%s", d)
		}
	}
	// Without decimals the import stops and says how to give them.
	_, err := Run(context.Background(), newMemSink(), Options{Format: "etherscan-token", Files: []string{td("etherscan", "token.csv")}})
	if err == nil || !strings.Contains(err.Error(), "token.csv:2") || !strings.Contains(err.Error(), "--token USDT=0xdac17f958d2ee523a2206206994597c13d831ec7:DECIMALS") {
		t.Errorf("got %v, want an error naming line 2 and the --token flag", err)
	}
	// Too few decimals for the value's fraction is an error, never rounding.
	_, err = Run(context.Background(), newMemSink(), Options{Format: "etherscan-token", Files: []string{td("etherscan", "token.csv")}, Decimals: intp(2)})
	if err == nil || !strings.Contains(err.Error(), "field TokenValue \"108,714.272823\": has 6 decimal places; the asset has 2") {
		t.Errorf("got %v", err)
	}
}

// TestEtherscanOverlap imports the same transfer from two exports (of its
// sender and of its receiver): content-derived positions store it once.
func TestEtherscanOverlap(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(td("etherscan", "normal.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\r\n")
	a := filepath.Join(dir, "a.csv")
	b := filepath.Join(dir, "b.csv")
	os.WriteFile(a, []byte(lines[0]+lines[1]+lines[2]), 0o644)
	os.WriteFile(b, []byte(lines[0]+lines[2]+lines[3]), 0o644)
	m := newMemSink()
	run(t, m, Options{Format: "etherscan-normal", Files: []string{a, b}})
	whole := newMemSink()
	run(t, whole, Options{Format: "etherscan-normal", Files: []string{td("etherscan", "normal.csv")}})
	if d := cmp.Diff(whole.transfers(), m.transfers()); d != "" {
		t.Errorf("(-one file +two overlapping):\n%s", d)
	}
}

func intp(n int) *int { return &n }

func TestEtherscanWrongExport(t *testing.T) {
	for _, c := range []struct{ format, file, want string }{
		{"etherscan-normal", "internal.csv", "use etherscan-internal"},
		{"etherscan-normal", "token.csv", "use etherscan-token"},
		{"etherscan-internal", "token_quantity.csv", "use etherscan-token"},
		{"etherscan-token", "normal.csv", "missing column TokenValue"},
	} {
		_, err := Run(context.Background(), newMemSink(), Options{Format: c.format, Files: []string{td("etherscan", c.file)}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.file+":1: header") {
			t.Errorf("%s %s: got %v, want a header error saying %q", c.format, c.file, err, c.want)
		}
	}
}
