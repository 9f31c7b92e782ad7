package web

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

func addr(n int) string { return fmt.Sprintf("0x%040x", n) }
func txh(n int) string  { return fmt.Sprintf("0x%064x", n) }

// tinyLedger writes a small ledger to a real store and graph index:
// A→B 100 (tx 1), then in tx 2: B→C 60 and B→D 40; then 30 more
// transfers B→E so B's transfers need several pages.
func tinyLedger(t *testing.T) (*store.Store, *graph.Index, *trace.Labels) {
	t.Helper()
	tr := func(block uint64, pos int, tx int, from, to int, amt uint64) model.Transfer {
		return model.Transfer{Chain: "synth", Block: block, Time: 1_736_000_000 + int64(block)*12, Position: model.Position(pos),
			TxHash: txh(tx), From: addr(from), To: addr(to), Asset: model.NativeAsset, Amount: *uint256.NewInt(amt), Kind: model.KindNative}
	}
	blocks := []model.Block{
		{Chain: "synth", Number: 1, Time: 1_736_000_012, Transfers: []model.Transfer{tr(1, 0, 1, 0xa, 0xb, 100)}},
		{Chain: "synth", Number: 2, Time: 1_736_000_024, Transfers: []model.Transfer{tr(2, 0, 2, 0xb, 0xc, 60), tr(2, 1, 2, 0xb, 0xd, 40)}},
	}
	var more []model.Transfer
	for i := 0; i < 30; i++ {
		more = append(more, tr(3, i, 100+i, 0xe, 0xb, 1))
	}
	blocks = append(blocks, model.Block{Chain: "synth", Number: 3, Time: 1_736_000_036, Transfers: more})
	for i := range blocks {
		blocks[i].Hash = txh(1000 + i)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "ledger"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Write(context.Background(), blocks, nil); err != nil {
		t.Fatal(err)
	}
	ix := graph.New(graph.Options{Hashes: st})
	if err := ix.Load(context.Background(), st, "synth"); err != nil {
		t.Fatal(err)
	}
	lab := trace.NewLabels()
	lab.Add(model.Attribution{Chain: "synth", Address: addr(0xd), Category: model.CatExchange, Label: "<script>x</script> Desk",
		Confidence: 80, Source: model.Source{Name: "test labels", URL: "https://example.invalid/labels"}})
	return st, ix, lab
}

func get(t *testing.T, h *Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(w.Body)
	return w.Code, string(b)
}

func TestEngines(t *testing.T) {
	st, ix, lab := tinyLedger(t)
	h, err := New(Options{Graph: ix, Ledger: st, Intel: Intel{Attributor: lab}, CaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	hits, err := h.Search(ctx, strings.ToUpper(addr(0xb))[0:2]+addr(0xb)[2:])
	if err != nil || len(hits) != 1 || hits[0].Kind != HitAddress || hits[0].Address != addr(0xb) {
		t.Errorf("address search: %+v %v", hits, err)
	}
	hits, err = h.Search(ctx, txh(2))
	if err != nil || len(hits) != 1 || hits[0].Kind != HitTx || !strings.Contains(hits[0].Detail, "block 2") {
		t.Errorf("tx search: %+v %v", hits, err)
	}
	if hits, _ := h.Search(ctx, txh(999)); len(hits) != 0 {
		t.Errorf("unknown tx found: %+v", hits)
	}

	code, body := get(t, h, "/ui/tx/synth/"+txh(2))
	if code != 200 || strings.Count(body, `"from":"`+addr(0xb)) != 2 || !strings.Contains(body, `"amount":"40"`) {
		t.Errorf("tx: %d %s", code, body)
	}
	if code, body := get(t, h, "/ui/tx/synth/0x12"); code != 400 {
		t.Errorf("bad hash: %d %s", code, body)
	}

	// Pages of B's transfers, newest first, each with its tx hash.
	var seen int
	cursor := ""
	for page := 0; page < 10; page++ {
		code, body := get(t, h, "/ui/transfers/synth/"+addr(0xb)+"?limit=10&cursor="+cursor)
		if code != 200 {
			t.Fatalf("transfers: %d %s", code, body)
		}
		seen += strings.Count(body, `"tx":"0x`)
		i := strings.Index(body, `"next":"`)
		if i < 0 {
			break
		}
		cursor = body[i+8 : i+8+strings.Index(body[i+8:], `"`)]
		if cursor == "" {
			break
		}
	}
	if seen != 33 {
		t.Errorf("paged through %d transfers with hashes, want 33", seen)
	}
	if code, body := get(t, h, "/ui/transfers/synth/"+addr(0xb)+"?limit=1000"); code != 400 {
		t.Errorf("limit 1000: %d %s", code, body)
	}

	// A case with a server-run trace; its exports carry the evidence.
	code, c := do(t, h, "POST", "/ui/cases", `{"title":"tiny"}`, withCSRF(h))
	if code != 201 {
		t.Fatal(code, c)
	}
	id := c["id"].(string)
	code, c = do(t, h, "POST", "/ui/cases/"+id+"/traces", fmt.Sprintf(`{"request":{"chain":"synth","from":[%q],"policy":"haircut","direction":"forward"}}`, addr(0xa)), withCSRF(h))
	if code != 200 {
		t.Fatalf("save trace: %d %v", code, c)
	}
	if code, c := do(t, h, "POST", "/ui/cases/"+id+"/traces", `{"request":{"chain":"synth","from":["0x12"],"policy":"haircut","direction":"forward"}}`, withCSRF(h)); code != 400 {
		t.Errorf("bad trace request: %d %v", code, c)
	}
	_, csvOut := get(t, h, "/ui/cases/"+id+"/export/csv")
	for _, want := range []string{txh(1), txh(2), addr(0xd)} {
		if !strings.Contains(csvOut, want) {
			t.Errorf("CSV lacks %s:\n%s", want, csvOut)
		}
	}
	_, tp := get(t, h, "/ui/cases/"+id+"/export/tagpack")
	if !strings.Contains(tp, "Desk") || !strings.Contains(tp, addr(0xd)) || !strings.Contains(tp, "https://example.invalid/labels") {
		t.Errorf("TagPack lacks the endpoint's label:\n%s", tp)
	}
	_, report := get(t, h, "/ui/cases/"+id+"/export/html")
	if strings.Contains(report, "<script>x") || !strings.Contains(report, "&lt;script&gt;x&lt;/script&gt; Desk") || !strings.Contains(report, txh(2)) {
		t.Errorf("report escaping or evidence wrong")
	}
}

func TestTheftSeeds(t *testing.T) {
	_, ix, _ := tinyLedger(t)
	gr := ix.Reader()
	defer gr.Close()
	ch, _ := gr.Chain("synth")
	indexed := map[model.Chain]*graph.Chain{"synth": ch}
	m := func(a int, label, role string) incidentAddr {
		return incidentAddr{Chain: "synth", Address: addr(a), Label: label, Role: role, Indexed: true}
	}
	// A → B → {C, D}; E → B. A, C and D are attributed: only A is a root.
	got := theftSeeds([]incidentAddr{m(0xc, "", ""), m(0xa, "", ""), m(0xd, "", ""), {Chain: "eth", Address: addr(1)}}, indexed)
	if diff := cmp.Diff([]incidentSeed{{"synth", addr(0xa)}}, got); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}
	// A theft role wins over the flow.
	got = theftSeeds([]incidentAddr{m(0xa, "", ""), m(0xd, "", "theft")}, indexed)
	if diff := cmp.Diff([]incidentSeed{{"synth", addr(0xd)}}, got); diff != "" {
		t.Errorf("theft role (-want +got):\n%s", diff)
	}
}

// TestConversionsReplaced: conversions stored after the UI started (as
// serve --follow-rpc ingests them) are followed by the UI's next trace.
func TestConversionsReplaced(t *testing.T) {
	st, ix, lab := tinyLedger(t)
	// Block 4: C pays F 30 of a token: the payout of a swap of B's 60
	// native paid into C (a pool) in block 2.
	token := addr(0x70)
	b4 := model.Block{Chain: "synth", Number: 4, Time: 1_736_000_048, Hash: txh(1003), Transfers: []model.Transfer{{Chain: "synth", Block: 4,
		Time: 1_736_000_048, TxHash: txh(4), From: addr(0xc), To: addr(0xf), Asset: token, Amount: *uint256.NewInt(30), Kind: model.KindToken}}}
	if err := st.Write(context.Background(), []model.Block{b4}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix.Append([]model.Block{b4}); err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Graph: ix, Ledger: st, Intel: Intel{Attributor: lab}, CaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// reached saves a trace from A in a new case and says whether its
	// evidence (the CSV export) reaches F.
	reached := func() bool {
		t.Helper()
		code, c := do(t, h, "POST", "/ui/cases", `{"title":"swap"}`, withCSRF(h))
		if code != 201 {
			t.Fatal(code, c)
		}
		id := c["id"].(string)
		code, c = do(t, h, "POST", "/ui/cases/"+id+"/traces", fmt.Sprintf(
			`{"request":{"chain":"synth","from":[%q],"policy":"haircut","direction":"forward"}}`, addr(0xa)), withCSRF(h))
		if code != 200 {
			t.Fatalf("trace: %d %v", code, c)
		}
		_, csvOut := get(t, h, "/ui/cases/"+id+"/export/csv")
		return strings.Contains(csvOut, addr(0xf)) && strings.Contains(csvOut, txh(4))
	}
	if reached() {
		t.Fatal("without the swap the trace reached F")
	}
	swap := trace.Conversion{Kind: model.ConvSwap, In: model.Leg{Chain: "synth", Block: 2, Position: 0}, Out: model.Leg{Chain: "synth", Block: 4, Position: 0}}
	cs, err := trace.NewConversionSet([]trace.Conversion{swap})
	if err != nil {
		t.Fatal(err)
	}
	h.SetConversions(cs)
	if !reached() {
		t.Fatal("after SetConversions the trace does not cross the swap to F")
	}
}
