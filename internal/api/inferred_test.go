package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// inferredDB is the fixture's intel plus an inferred set that takes alice
// for a deposit address of the test exchange, and one on exch itself (a
// listed exchange: the listed claim must win).
func inferredDB(t *testing.T) *intel.DB {
	t.Helper()
	src := model.Source{Name: "test pack"}
	listed := &intel.Dataset{Kind: "test", Source: src, Attributions: []model.Attribution{
		{Chain: "eth", Address: hacker, Category: model.CatHack, Label: "Test exploiter", Source: src, Confidence: 90},
		{Chain: "eth", Address: exch, Category: model.CatExchange, Label: "Test exchange", Source: src, Confidence: 80},
	}}
	set := depositInferredSet()
	return intel.Build([]*intel.Dataset{listed, set.Dataset()})
}

// depositInferredSet takes alice for a deposit address of the test exchange
// (with evidence), and exch for one of another exchange.
func depositInferredSet() *intel.InferredSet {
	heur := model.Source{Name: "heuristic:deposit-address"}
	return &intel.InferredSet{Method: DepositMethod, Chain: "eth", Computed: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Head: 4, Transfers: 4,
		Inferences: []intel.Inference{
			{Attribution: model.Attribution{Chain: "eth", Address: alice, Label: "deposit address of Test exchange", Category: model.CatExchange,
				Role: "deposit address", Source: heur, Confidence: 50, ValidFrom: time.Unix(epoch, 0).UTC()},
				Evidence: intel.Evidence{Target: exch, Sweeps: 1, Senders: 1, Txs: []string{fmt.Sprintf("0x%064x", 0x1004)}}},
			{Attribution: model.Attribution{Chain: "eth", Address: exch, Label: "deposit address of Other", Category: model.CatExchange,
				Source: heur, Confidence: 85, ValidFrom: time.Unix(epoch, 0).UTC()}},
		}}
}

// TestAddressEvidenceReadError: when the evidence of an inferred claim cannot
// be read (its set file was written over since the DB opened it), the address
// route says why instead of dropping it.
func TestAddressEvidenceReadError(t *testing.T) {
	f := newFixture(t, Options{})
	dir := t.TempDir()
	st := intel.NewStore(dir)
	st.NoShipped = true
	if err := st.SaveInferred(depositInferredSet()); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetAttributor(db)
	get := func() addressJSON {
		t.Helper()
		status, body := f.do(t, "GET", "/api/v1/address/eth/"+alice+"?as_of=2024-06-01", "")
		var ad addressJSON
		if status != 200 || json.Unmarshal(body, &ad) != nil || len(ad.Attributions) != 1 {
			t.Fatalf("address: %d %s", status, body)
		}
		return ad
	}
	if a := get().Attributions[0]; a.Evidence == nil || a.EvidenceError != "" {
		t.Fatalf("before: evidence %+v, error %q", a.Evidence, a.EvidenceError)
	}
	p := filepath.Join(dir, "inferred", "eth", DepositMethod+".set")
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	if a := get().Attributions[0]; a.Evidence != nil || !strings.Contains(a.EvidenceError, p) {
		t.Fatalf("after the file changed: evidence %+v, error %q; want no evidence and an error naming %s", a.Evidence, a.EvidenceError, p)
	}
}

type traceAnswer struct {
	Endpoints []struct {
		Address, Category, Amount string
	} `json:"endpoints"`
	Nodes []struct {
		Address      string `json:"address"`
		Attributions []struct {
			Source, Category string
		} `json:"attributions"`
	} `json:"nodes"`
	PendingBridges []PendingBridge      `json:"pending_bridges"`
	InferredSets   []intel.InferredInfo `json:"inferred_sets"`
}

func (f *fixture) traceJSON(t *testing.T, body string) traceAnswer {
	t.Helper()
	status, b := f.do(t, "POST", "/api/v1/trace", body)
	if status != 200 {
		t.Fatalf("trace %s: %d %s", body, status, b)
	}
	var a traceAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTraceDepositHeuristic(t *testing.T) {
	f := newFixture(t, Options{})
	req := `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward"%s}`
	// No stored set: asking for it is a conflict that says how to make one.
	status, body := f.do(t, "POST", "/api/v1/trace", fmt.Sprintf(req, `,"deposit_heuristic":true`))
	wantError(t, status, body, http.StatusConflict, "no inferred deposit addresses are stored for eth (POST /api/v1/intel/infer/deposits")

	f.srv.SetAttributor(inferredDB(t))
	// Without the field the trace uses listed attributions only: alice is
	// passed through, the listed exchange is the endpoint.
	a := f.traceJSON(t, fmt.Sprintf(req, ""))
	if len(a.Endpoints) != 1 || a.Endpoints[0].Address != exch || a.Endpoints[0].Amount != "6" || a.InferredSets != nil {
		t.Fatalf("listed only: %+v", a)
	}
	// With it, the inferred deposit address ends the trace, and the answer
	// names the set used.
	a = f.traceJSON(t, fmt.Sprintf(req, `,"deposit_heuristic":true`))
	if len(a.Endpoints) != 1 || a.Endpoints[0].Address != alice || a.Endpoints[0].Amount != "15" || a.Endpoints[0].Category != "exchange" {
		t.Fatalf("with deposit_heuristic: endpoints %+v", a.Endpoints)
	}
	if len(a.InferredSets) != 1 || a.InferredSets[0].Method != DepositMethod || a.InferredSets[0].Attributions != 2 {
		t.Fatalf("inferred_sets %+v", a.InferredSets)
	}
	var srcs []string
	for _, n := range a.Nodes {
		if n.Address == alice {
			for _, x := range n.Attributions {
				srcs = append(srcs, x.Source+"/"+x.Category)
			}
		}
	}
	if d := cmp.Diff([]string{"heuristic:deposit-address/exchange"}, srcs); d != "" {
		t.Errorf("alice's attributions (-want +got):\n%s", d)
	}

	// The address route shows the inferred claim as inferred, with its
	// evidence; on exch the listed claim outranks the inferred one.
	status, body = f.do(t, "GET", "/api/v1/address/eth/"+alice+"?as_of=2024-06-01", "")
	var ad addressJSON
	if status != 200 || json.Unmarshal(body, &ad) != nil {
		t.Fatalf("address: %d %s", status, body)
	}
	if len(ad.Attributions) != 1 || !ad.Attributions[0].Inferred || ad.Attributions[0].Source != "heuristic:deposit-address" ||
		ad.Attributions[0].Evidence == nil || ad.Attributions[0].Evidence.Target != exch || len(ad.Attributions[0].Evidence.Txs) != 1 {
		t.Fatalf("address alice: %s", body)
	}
	status, body = f.do(t, "GET", "/api/v1/address/eth/"+exch+"?as_of=2024-06-01", "")
	ad = addressJSON{}
	if status != 200 || json.Unmarshal(body, &ad) != nil {
		t.Fatalf("address: %d %s", status, body)
	}
	if len(ad.Attributions) != 1 || ad.Attributions[0].Inferred || ad.Attributions[0].Source != "test pack" {
		t.Fatalf("address exch: the listed claim must be the only one: %s", body)
	}
	// Exposure sees the inferred claim like any other intel: mid's 50 sent
	// to alice went to an exchange directly.
	status, body = f.do(t, "GET", "/api/v1/exposure/eth/"+mid+"?as_of=2024-06-01", "")
	var ex struct {
		Assets []struct {
			Destination struct {
				Categories []struct{ Category, Direct string }
			}
		}
	}
	if status != 200 || json.Unmarshal(body, &ex) != nil || len(ex.Assets) != 1 {
		t.Fatalf("exposure: %d %s", status, body)
	}
	if d := cmp.Diff([]struct{ Category, Direct string }{{"exchange", "50"}}, ex.Assets[0].Destination.Categories); d != "" {
		t.Errorf("mid's destination categories (-want +got):\n%s", d)
	}
	status, body = f.do(t, "GET", "/api/v1/intel/inferred", "")
	if status != 200 {
		t.Fatalf("inferred list: %d %s", status, body)
	}
	var sets struct{ Sets []intel.InferredInfo }
	if err := json.Unmarshal(body, &sets); err != nil || len(sets.Sets) != 1 || sets.Sets[0].Chain != "eth" || sets.Sets[0].Head != 4 {
		t.Fatalf("inferred list: %s", body)
	}
}

func TestPendingBridges(t *testing.T) {
	pend := func(block uint64, memo string) PendingDeposit {
		p := PendingDeposit{Leg: model.Leg{Chain: "eth", Block: block, Position: model.MakePosition(0, 0)},
			Tx: fmt.Sprintf("0x%064x", 0x1000+block), Memo: memo, DestChain: "btc", Dest: "bc1qtest", DestAsset: "BTC.BTC"}
		p.Amount.SetUint64([]uint64{0, 30, 70, 50, 20}[block])
		return p
	}
	// Given out of order; listed in chain order.
	f := newFixture(t, Options{PendingDeposits: []PendingDeposit{pend(4, "=:BTC.BTC:bc1qtest"), pend(3, "=:BTC.BTC:bc1qtest"), pend(2, "SWAP:BTC.BTC:bc1qtest")}})
	a := f.traceJSON(t, `{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward"}`)
	want := []PendingBridge{
		{Leg: "eth:3.0", Tx: fmt.Sprintf("0x%064x", 0x1003), Asset: "native", Value: "50", Tainted: "15", Memo: "=:BTC.BTC:bc1qtest", DestChain: "btc", Dest: "bc1qtest", DestAsset: "BTC.BTC"},
		{Leg: "eth:4.0", Tx: fmt.Sprintf("0x%064x", 0x1004), Asset: "native", Value: "20", Tainted: "6", Memo: "=:BTC.BTC:bc1qtest", DestChain: "btc", Dest: "bc1qtest", DestAsset: "BTC.BTC"},
	}
	if d := cmp.Diff(want, a.PendingBridges); d != "" {
		t.Errorf("pending_bridges (-want +got):\n%s", d)
	}
	// A backward trace lists none.
	if a := f.traceJSON(t, `{"chain":"eth","from":["`+exch+`"],"policy":"haircut","direction":"backward"}`); a.PendingBridges != nil {
		t.Errorf("backward trace: pending_bridges %+v", a.PendingBridges)
	}

	type page struct {
		Chain   string
		Total   int
		Next    string `json:"next_cursor"`
		Pending []struct {
			Leg, Tx, Time, From, Asset, Value, Memo string
			Block                                   uint64
			DestChain                               string `json:"dest_chain"`
		}
	}
	get := func(q string) page {
		t.Helper()
		status, body := f.do(t, "GET", "/api/v1/bridges/pending/eth"+q, "")
		if status != 200 {
			t.Fatalf("pending %s: %d %s", q, status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := get("?limit=2")
	if p1.Total != 3 || len(p1.Pending) != 2 || p1.Next != "3.0" || p1.Pending[0].Leg != "eth:2.0" || p1.Pending[1].Leg != "eth:3.0" {
		t.Fatalf("page 1: %+v", p1)
	}
	if x := p1.Pending[0]; x.From != carol || x.Asset != "native" || x.Value != "70" || x.Block != 2 || x.DestChain != "btc" ||
		x.Time != time.Unix(epoch+2*3600, 0).UTC().Format(time.RFC3339) || x.Memo != "SWAP:BTC.BTC:bc1qtest" {
		t.Errorf("page 1 item 0: %+v", x)
	}
	p2 := get("?limit=2&cursor=" + p1.Next)
	if len(p2.Pending) != 1 || p2.Pending[0].Leg != "eth:4.0" || p2.Next != "" {
		t.Fatalf("page 2: %+v", p2)
	}
	if p := get(""); len(p.Pending) != 3 || p.Next != "" {
		t.Fatalf("default page: %+v", p)
	}
	for _, c := range []struct {
		q, msg string
		status int
	}{
		{"?limit=0", "limit must be 1..1000", 400},
		{"?limit=1001", "limit must be 1..1000", 400},
		{"?cursor=abc", `cursor "abc": want BLOCK.POSITION`, 400},
	} {
		status, body := f.do(t, "GET", "/api/v1/bridges/pending/eth"+c.q, "")
		wantError(t, status, body, c.status, c.msg)
	}
	status, body := f.do(t, "GET", "/api/v1/bridges/pending/doge", "")
	wantError(t, status, body, 404, "unknown chain: doge is not indexed")

	// Replaced as a whole: a payout ingested later drops the deposit.
	f.srv.SetPendingDeposits([]PendingDeposit{pend(4, "=:BTC.BTC:bc1qtest")})
	if p := get(""); p.Total != 1 || p.Pending[0].Leg != "eth:4.0" {
		t.Fatalf("after SetPendingDeposits: %+v", p)
	}
	a = f.traceJSON(t, `{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward"}`)
	if len(a.PendingBridges) != 1 || a.PendingBridges[0].Leg != "eth:4.0" {
		t.Errorf("after SetPendingDeposits: pending_bridges %+v", a.PendingBridges)
	}
}

func TestInferEndpoint(t *testing.T) {
	// Without an Infer function the route is not configured.
	f := newFixture(t, Options{})
	status, body := f.do(t, "POST", "/api/v1/intel/infer/deposits", `{"chain":"eth"}`)
	wantError(t, status, body, 503, "not")

	started, release := make(chan struct{}), make(chan struct{})
	var calls []model.Chain
	var mu sync.Mutex
	var srv *Server
	infer := func(ctx context.Context, chain model.Chain) (intel.InferredInfo, error) {
		mu.Lock()
		calls = append(calls, chain)
		first := len(calls) == 1
		mu.Unlock()
		if first {
			close(started)
			<-release
		}
		db := inferredDB(t)
		srv.SetAttributor(db)
		info, _ := db.HasInferred(chain, DepositMethod)
		return info, nil
	}
	f = newFixture(t, Options{Infer: infer})
	srv = f.srv
	for _, c := range []struct {
		body, msg string
		status    int
	}{
		{`{}`, "chain is required", 400},
		{`{"chain":"doge"}`, "unknown chain: doge is not indexed", 404},
		{`{"chain":"eth","x":1}`, `unknown field "x"`, 400},
	} {
		status, body := f.do(t, "POST", "/api/v1/intel/infer/deposits", c.body)
		wantError(t, status, body, c.status, c.msg)
	}
	done := make(chan []byte)
	go func() {
		_, b := f.do(t, "POST", "/api/v1/intel/infer/deposits", `{"chain":"eth"}`)
		done <- b
	}()
	<-started
	// One run at a time.
	status, body = f.do(t, "POST", "/api/v1/intel/infer/deposits", `{"chain":"eth"}`)
	wantError(t, status, body, http.StatusConflict, "already running")
	close(release)
	var res struct {
		Set intel.InferredInfo
	}
	if b := <-done; json.Unmarshal(b, &res) != nil || res.Set.Chain != "eth" || res.Set.Attributions != 2 {
		t.Fatalf("infer answer: %s", b)
	}
	// The new attributions are served at once.
	a := f.traceJSON(t, `{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward","deposit_heuristic":true}`)
	if len(a.Endpoints) != 1 || a.Endpoints[0].Address != alice {
		t.Fatalf("trace after inference: %+v", a.Endpoints)
	}
}
