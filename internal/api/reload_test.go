package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// reloadingDB is an intel DB whose first use swaps the server's
// attributions for next, as a SIGHUP reload or an inference finishing in
// the middle of a request does.
type reloadingDB struct {
	*intel.DB
	srv  *Server
	next Attributor
	once sync.Once
}

func (r *reloadingDB) reload() { r.once.Do(func() { r.srv.SetAttributor(r.next) }) }

func (r *reloadingDB) HasInferred(c model.Chain, method string) (intel.InferredInfo, bool) {
	r.reload()
	return r.DB.HasInferred(c, method)
}

func (r *reloadingDB) Lookup(c model.Chain, addr string, asOf time.Time) []model.Attribution {
	r.reload()
	return r.DB.Lookup(c, addr, asOf)
}

// A request answers from one snapshot of the attributions: a reload in
// the middle of it neither makes a deposit_heuristic trace run without the
// set it reports nor drops the evidence of the claims the address route
// returns.
func TestReloadMidRequest(t *testing.T) {
	f := newFixture(t, Options{})
	src := model.Source{Name: "test pack"}
	listedOnly := intel.Build([]*intel.Dataset{{Kind: "test", Source: src, Attributions: []model.Attribution{
		{Chain: "eth", Address: hacker, Category: model.CatHack, Label: "Test exploiter", Source: src, Confidence: 90},
		{Chain: "eth", Address: exch, Category: model.CatExchange, Label: "Test exchange", Source: src, Confidence: 80},
	}}})

	f.srv.SetAttributor(&reloadingDB{DB: inferredDB(t), srv: f.srv, next: listedOnly})
	a := f.traceJSON(t, fmt.Sprintf(`{"chain":"eth","from":[%q],"policy":"haircut","direction":"forward","deposit_heuristic":true}`, hacker))
	if len(a.InferredSets) != 1 || len(a.Endpoints) != 1 || a.Endpoints[0].Address != alice {
		t.Errorf("trace reports inferred_sets %+v but ends at %+v; want the inferred deposit address %s", a.InferredSets, a.Endpoints, alice)
	}

	f.srv.SetAttributor(&reloadingDB{DB: inferredDB(t), srv: f.srv, next: listedOnly})
	status, body := f.do(t, "GET", "/api/v1/address/eth/"+alice+"?as_of=2024-06-01", "")
	var ad addressJSON
	if status != 200 || json.Unmarshal(body, &ad) != nil {
		t.Fatalf("address: %d %s", status, body)
	}
	if len(ad.Attributions) != 1 || !ad.Attributions[0].Inferred || ad.Attributions[0].Evidence == nil {
		t.Errorf("address route: the inferred claim without its evidence: %s", body)
	}
}

// A page on another site cannot make a browser run an inference (or any
// POST route) on a server without a token: a text/plain form whose body
// is JSON is a "simple" request the browser sends without asking.
func TestCrossOriginPost(t *testing.T) {
	var calls int
	infer := func(ctx context.Context, chain model.Chain) (intel.InferredInfo, error) {
		calls++
		return intel.InferredInfo{Chain: chain, Method: DepositMethod}, nil
	}
	f := newFixture(t, Options{Infer: infer})
	body := `{"chain":"=","chain":"eth"}` // what <form enctype="text/plain"> sends for name {"chain":" and value ","chain":"eth"}
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"},
		{"Origin", "https://evil.example", "Content-Type", "text/plain"},
	} {
		status, b := f.do(t, "POST", "/api/v1/intel/infer/deposits", body, hdr...)
		wantError(t, status, b, http.StatusForbidden, "cross-origin request refused")
		status, b = f.do(t, "POST", "/api/v1/trace", fmt.Sprintf(`{"chain":"eth","from":[%q],"policy":"haircut","direction":"forward"}`, hacker), hdr...)
		wantError(t, status, b, http.StatusForbidden, "cross-origin request refused")
	}
	if calls != 0 {
		t.Fatalf("cross-origin POSTs ran %d inferences", calls)
	}
	// The server's own pages, and clients that are not browsers, pass; so
	// do cross-site GETs.
	for _, hdr := range [][]string{nil, {"Sec-Fetch-Site", "same-origin"}} {
		if status, b := f.do(t, "POST", "/api/v1/intel/infer/deposits", `{"chain":"eth"}`, hdr...); status != 200 {
			t.Errorf("POST with %v: %d %s", hdr, status, b)
		}
	}
	if calls != 2 {
		t.Errorf("%d inferences, want 2", calls)
	}
	if status, b := f.do(t, "GET", "/api/v1/intel/inferred", "", "Sec-Fetch-Site", "cross-site"); status != 200 {
		t.Errorf("cross-site GET: %d %s", status, b)
	}
}

// A deposit_heuristic trace that crossed a bridge stopped at the other
// chain's inferred deposit addresses too: the answer names that chain's set
// beside the traced chain's, and no set of a chain it did not reach.
func TestCrossedSets(t *testing.T) {
	var ds []*intel.Dataset
	for _, c := range []model.Chain{"eth", "bsc", "arb"} {
		set := &intel.InferredSet{Method: DepositMethod, Chain: c, Head: 7}
		ds = append(ds, set.Dataset())
	}
	db := intel.Build(ds)
	res := &trace.Result{Edges: []trace.Edge{{Chain: "eth"}, {Chain: "bsc"}, {Chain: "eth"}, {Chain: "bsc"}, {Chain: "op"}}}
	var got []model.Chain
	for _, x := range crossedSets(db, res, "eth") {
		got = append(got, x.Chain)
	}
	if d := cmp.Diff([]model.Chain{"bsc"}, got); d != "" {
		t.Errorf("crossed sets (-want +got):\n%s", d)
	}
	if got := crossedSets(intel.WithoutInferred(db), res, "eth"); got != nil {
		t.Errorf("an attributor without sets: %+v", got)
	}
}
