package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
)

func addr(n int) string { return fmt.Sprintf("0x%040x", n) }

var (
	hacker = addr(0xbad)
	mid    = addr(0x111)
	carol  = addr(0xc0)
	alice  = addr(0xa1)
	exch   = addr(0xe0)
)

const epoch = 1704067200 // 2024-01-01T00:00:00Z

// ledger: the hacker and carol pay mid, mid pays alice, alice pays an
// exchange. alice's source of funds is floor(50*30/100) = 15 hack out of 50.
func ledger() []model.Block {
	rows := []struct {
		from, to string
		amt      uint64
	}{{hacker, mid, 30}, {carol, mid, 70}, {mid, alice, 50}, {alice, exch, 20}}
	var bs []model.Block
	for i, r := range rows {
		n := uint64(i + 1)
		b := model.Block{Chain: "eth", Number: n, Hash: fmt.Sprintf("0x%064x", n), ParentHash: fmt.Sprintf("0x%064x", n-1), Time: epoch + 3600*int64(n)}
		t := model.Transfer{Chain: "eth", Block: n, Time: b.Time, Position: model.MakePosition(0, 0), TxHash: fmt.Sprintf("0x%064x", 0x1000+n),
			From: r.from, To: r.to, Asset: model.NativeAsset, Kind: model.KindNative}
		t.Amount.SetUint64(r.amt)
		b.Transfers = []model.Transfer{t}
		bs = append(bs, b)
	}
	return bs
}

type fixture struct {
	srv  *Server
	http *httptest.Server
	ex   *exposure.Engine
	st   *store.Store
}

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "ledger"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Write(ctx, ledger(), nil); err != nil {
		t.Fatal(err)
	}
	g := graph.New(graph.Options{Hashes: st})
	if err := g.Load(ctx, st, "eth"); err != nil {
		t.Fatal(err)
	}
	src := model.Source{Name: "test pack"}
	db := intel.Build([]*intel.Dataset{{Kind: "test", Source: src, Attributions: []model.Attribution{
		{Chain: "eth", Address: hacker, Category: model.CatHack, Label: "Test exploiter", Source: src, Confidence: 90},
		{Chain: "eth", Address: exch, Category: model.CatExchange, Label: "Test exchange", Source: src, Confidence: 80},
	}}})
	ents := []model.Entity{{ID: "un:1", Type: model.EntityPerson, Names: []model.Name{{Full: "KIM Chol Sam"}}, Source: model.Source{Name: "UN"}}}
	ex := exposure.New(g, db, exposure.Options{})
	o.Graph, o.Exposure, o.Attributor, o.Ledger = g, ex, db, st
	o.Screener = screen.NewIndex(ents, nil, screen.Options{})
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &fixture{srv: s, http: hs, ex: ex, st: st}
}

// do sends a request and returns the status and body.
func (f *fixture) do(t *testing.T, method, path, body string, hdr ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func wantError(t *testing.T, status int, body []byte, wantStatus int, wantMsg string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if status != wantStatus || !strings.Contains(e.Error, wantMsg) {
		t.Fatalf("got %d %q, want %d with %q", status, e.Error, wantStatus, wantMsg)
	}
}

func TestExposure(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.do(t, "GET", "/api/v1/exposure/eth/"+strings.ToUpper(alice[2:4])+alice[4:]+"?as_of=2024-06-01", "")
	if status != http.StatusBadRequest {
		t.Fatalf("address without 0x: %d %s", status, body)
	}
	status, body = f.do(t, "GET", "/api/v1/exposure/ETH/0x"+strings.ToUpper(alice[2:])+"?as_of=2024-06-01&hops=3", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var r exposure.Result
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	src := r.Assets[0].Source
	got := fmt.Sprintf("%s %s %s/%s direct %s, path via %s", r.Address, src.Categories[0].Category, src.Categories[0].Indirect, src.Total,
		src.Categories[0].Direct, src.Paths[0].Steps[0].Tx)
	want := fmt.Sprintf("%s hack 15/50 direct 0, path via 0x%064x", alice, 0x1001)
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// The same request again comes from the cache.
	_, again := f.do(t, "GET", "/api/v1/exposure/eth/"+alice+"?as_of=2024-06-01", "")
	if !bytes.Equal(bytes.TrimSpace(again), bytes.TrimSpace(body)) {
		t.Fatalf("second answer differs")
	}
	if h, _ := f.ex.CacheStats(); h != 1 {
		t.Fatalf("cache hits %d, want 1", h)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, Options{})
	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/api/v1/exposure/eth/0x1234", "", 400, `invalid address: "0x1234": want 0x and 40 hex digits`},
		{"GET", "/api/v1/exposure/eth/" + alice + "?hops=x", "", 400, `hops: "x" is not an integer`},
		{"GET", "/api/v1/exposure/eth/" + alice + "?hops=9", "", 400, "hops must be 1..6, not 9"},
		{"GET", "/api/v1/exposure/eth/" + alice + "?as_of=yesterday", "", 400, `as-of date "yesterday"`},
		{"GET", "/api/v1/exposure/btc/" + alice, "", 404, "unknown chain: btc is not indexed"},
		{"GET", "/api/v1/address/eth/nope", "", 400, "invalid address"},
		{"GET", "/api/v1/address/eth/" + alice + "?top=0", "", 400, "top must be 1..100"},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"magic","direction":"forward"}`, 400, `unknown policy "magic"`},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + addr(0x999) + `"],"policy":"haircut","direction":"forward"}`, 404, "has no indexed transfers"},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["0xzz"],"policy":"haircut","direction":"forward"}`, 400, "invalid address"},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","max_nodes":1000000}`, 400, "max_nodes must be 0 (default) to 100000"},
		{"POST", "/api/v1/trace", `{"chain":"eth","bogus":1}`, 400, `unknown field "bogus"`},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","asset":"` + addr(0x7777) + `"}`, 404, "unknown asset"},
		{"POST", "/api/v1/trace", `{"chain":"doge","from":["D5"],"policy":"haircut","direction":"forward"}`, 404, "unknown chain"},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"sideways"}`, 400, `unknown direction "sideways"`},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","max_hops":-1}`, 400, "max_hops must be 0 (default) to 100"},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","since":"later"}`, 400, `since: "later"`},
		{"POST", "/api/v1/trace", `{"chain":"eth","from":["` + hacker + `"],"policy":"haircut","direction":"forward","stop_categories":["banks"]}`, 400, `unknown category "banks"`},
		{"POST", "/api/v1/trace", ``, 400, "empty request body"},
		{"POST", "/api/v1/trace", `{"chain":"eth"} {}`, 400, "data after the JSON object"},
		{"POST", "/api/v1/screen", `{"queries":[{"name":"x"}`, 400, "request body"},
		{"POST", "/api/v1/exposure/batch", `{"items":"no"}`, 400, "cannot unmarshal"},
		{"GET", "/api/v1/nothing", "", 404, "no route GET /api/v1/nothing"},
		{"GET", "/nothing", "", 404, "no page /nothing"},
	} {
		status, body := f.do(t, c.method, c.path, c.body)
		t.Run(c.method+c.path, func(t *testing.T) { wantError(t, status, body, c.status, c.msg) })
	}
}

func TestOversized(t *testing.T) {
	f := newFixture(t, Options{})
	big := `{"items":[` + strings.Repeat(`{"chain":"eth","address":"`+alice+`"},`, MaxBodyBytes/60) + `{"chain":"eth","address":"` + alice + `"}]}`
	status, body := f.do(t, "POST", "/api/v1/exposure/batch", big)
	wantError(t, status, body, 413, "larger than 4194304 bytes")
	// Without a Content-Length the body limit still holds.
	req, _ := http.NewRequest("POST", f.http.URL+"/api/v1/trace", io.MultiReader(strings.NewReader(`{"chain":"`), strings.NewReader(strings.Repeat("x", MaxTraceBodyBytes+10)), strings.NewReader(`"}`)))
	req.ContentLength = -1
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp.StatusCode, b, 413, "request body larger than 65536 bytes")
	// Too many items, in a body that is small enough.
	many := `{"items":[` + strings.Repeat(`{"chain":"eth","address":"x"},`, exposure.MaxBatch) + `{"chain":"eth","address":"x"}]}`
	status, body = f.do(t, "POST", "/api/v1/exposure/batch", many)
	wantError(t, status, body, 413, "10001 items in one batch, at most 10000")
	qs := `{"queries":[` + strings.Repeat(`{"name":"a"},`, screen.MaxBatch) + `{"name":"a"}]}`
	status, body = f.do(t, "POST", "/api/v1/screen", qs)
	wantError(t, status, body, 413, "1001 queries in one batch, at most 1000")
}

func TestBatch(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.do(t, "POST", "/api/v1/exposure/batch", `{"items":[{"chain":"eth","address":"`+alice+`","as_of":"2024-06-01"},
		{"chain":"eth","address":"0x12"},{"chain":"doge","address":"`+alice+`"},{"chain":"eth","address":"`+exch+`","hops":1},
		{"chain":"eth","address":"`+alice+`","as_of":"soon"}]}`)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var out struct {
		Results []struct {
			Index    int              `json:"index"`
			Status   int              `json:"status"`
			Error    string           `json:"error"`
			Exposure *exposure.Result `json:"exposure"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var got []string
	for _, r := range out.Results {
		s := fmt.Sprintf("%d %d", r.Index, r.Status)
		if r.Exposure != nil {
			s += " " + r.Exposure.Address
		}
		if r.Error != "" {
			s += " " + r.Error
		}
		got = append(got, s)
	}
	want := []string{"0 200 " + alice, `1 400 bad exposure request: address: invalid address: "0x12": want 0x and 40 hex digits`,
		"2 404 unknown chain: doge is not indexed", "3 200 " + exch,
		`4 400 bad exposure request: as-of date "soon": want YYYY-MM-DD or an RFC 3339 time`}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("batch results (-want +got):\n%s", d)
	}
}

func TestTraceScreenAddress(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.do(t, "POST", "/api/v1/trace", `{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward"}`)
	if status != 200 {
		t.Fatalf("trace: %d %s", status, body)
	}
	var tr struct {
		Schema    string `json:"schema"`
		Endpoints []struct {
			Address, Category, Amount string
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	// 30 of mid's 100 → 15 of the 50 to alice → floor(15*20/50) = 6 to the exchange.
	if tr.Schema != "redthread.trace/v1" || len(tr.Endpoints) != 1 || tr.Endpoints[0].Address != exch || tr.Endpoints[0].Amount != "6" {
		t.Fatalf("trace endpoints: %s", body)
	}
	status, body = f.do(t, "POST", "/api/v1/screen", `{"queries":[{"name":"Kim Chol Sam"},{"name":""}]}`)
	if status != 200 {
		t.Fatalf("screen: %d %s", status, body)
	}
	var sc struct {
		Results []screen.Result `json:"results"`
	}
	if err := json.Unmarshal(body, &sc); err != nil {
		t.Fatal(err)
	}
	if len(sc.Results) != 2 || len(sc.Results[0].Matches) == 0 || sc.Results[0].Matches[0].EntityID != "un:1" || sc.Results[1].Error == "" {
		t.Fatalf("screen results: %s", body)
	}
	status, body = f.do(t, "GET", "/api/v1/address/eth/"+hacker+"?as_of=2024-06-01", "")
	if status != 200 {
		t.Fatalf("address: %d %s", status, body)
	}
	var ad addressJSON
	if err := json.Unmarshal(body, &ad); err != nil {
		t.Fatal(err)
	}
	if !ad.Known || len(ad.Assets) != 1 || ad.Assets[0].Sent != "30" || len(ad.Attributions) != 1 || ad.Attributions[0].Category != "hack" ||
		len(ad.Counterparties) != 1 || ad.Counterparties[0].Address != mid {
		t.Fatalf("address: %s", body)
	}
	status, body = f.do(t, "GET", "/api/v1/chains", "")
	if status != 200 || !strings.Contains(string(body), `"chain":"eth","transfers":4`) {
		t.Fatalf("chains: %d %s", status, body)
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t, Options{Token: "s3cret"})
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "s3cret"}, {"Authorization", "Basic s3cret"}} {
		status, body := f.do(t, "GET", "/api/v1/exposure/eth/"+alice, "", h...)
		wantError(t, status, body, 401, "missing or wrong access token")
	}
	if status, body := f.do(t, "GET", "/api/v1/exposure/eth/"+alice, "", "Authorization", "Bearer s3cret"); status != 200 {
		t.Fatalf("with the token: %d %s", status, body)
	}
	if status, _ := f.do(t, "GET", "/metrics", ""); status != 401 {
		t.Fatalf("metrics without the token: %d", status)
	}
	if status, _ := f.do(t, "GET", "/healthz", ""); status != 200 {
		t.Fatalf("healthz must stay public: %d", status)
	}
}

func TestListen(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{{"127.0.0.1:8080", "", true}, {"localhost:8080", "", true}, {"[::1]:8080", "", true}, {"127.0.0.2:80", "", true},
		{"0.0.0.0:8080", "", false}, {":8080", "", false}, {"10.1.2.3:8080", "", false}, {"example.com:80", "", false},
		{"0.0.0.0:8080", "t", true}, {"8080", "", false}} {
		if err := CheckListen(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %q) = %v, want ok=%v", c.addr, c.token, err, c.ok)
		}
	}
	// Serving on all interfaces without a token is refused.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("cannot listen on 0.0.0.0:", err)
	}
	defer ln.Close()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "token is required") {
		t.Fatalf("Serve on %s without a token: %v", ln.Addr(), err)
	}
	// On loopback it serves, and stops when the context ends.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln2) }()
	resp, err := http.Get("http://" + ln2.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	f := newFixture(t, Options{})
	status, body := f.do(t, "GET", "/api/v1/openapi.json", "")
	if status != 200 {
		t.Fatalf("%d", status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	ids := map[string]bool{}
	for p, ms := range doc.Paths {
		for m, op := range ms {
			var o struct {
				OperationID string `json:"operationId"`
				Summary     string `json:"summary"`
			}
			if err := json.Unmarshal(op, &o); err != nil || o.OperationID == "" || o.Summary == "" || ids[o.OperationID] {
				t.Errorf("%s %s: missing, duplicate or unparsable operationId or summary (%v)", m, p, err)
			}
			ids[o.OperationID] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range f.srv.Routes() {
		k := strings.ToLower(rt.Method) + " " + rt.Path
		served[k] = true
		if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s %s is not in the OpenAPI document", rt.Method, rt.Path)
		}
	}
	for p, ms := range doc.Paths {
		for m := range ms {
			if !served[m+" "+p] {
				t.Errorf("OpenAPI document lists %s %s, which the server does not serve", m, p)
			}
		}
	}
	// And every route answers at its path (not the catch-all's 404).
	for _, rt := range f.srv.Routes() {
		path := strings.NewReplacer("{chain}", "eth", "{address}", alice).Replace(rt.Path)
		status, body := f.do(t, rt.Method, path, "{}")
		if status == 404 && strings.Contains(string(body), "no route") || status == 405 {
			t.Errorf("%s %s: %d %s", rt.Method, path, status, body)
		}
	}
}

func TestMetricsAndUIHook(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ui "+r.URL.Path) })
	f := newFixture(t, Options{UI: ui})
	f.do(t, "GET", "/api/v1/exposure/eth/"+alice, "")
	f.do(t, "GET", "/api/v1/exposure/eth/0x12", "")
	status, body := f.do(t, "GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("metrics: %d", status)
	}
	for _, want := range []string{`redthread_http_requests_total{code="200",route="/api/v1/exposure/{chain}/{address}"} 1`,
		`redthread_http_requests_total{code="400",route="/api/v1/exposure/{chain}/{address}"} 1`,
		`redthread_exposure_cache_misses_total 1`, `redthread_http_request_duration_seconds_bucket`, `go_goroutines`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if _, body := f.do(t, "GET", "/cases/7", ""); string(body) != "ui /cases/7" {
		t.Fatalf("UI hook: %q", body)
	}
	if status, _ := f.do(t, "GET", "/api/v1/nope", ""); status != 404 {
		t.Fatalf("unknown API path went to the UI: %d", status)
	}
}

func TestTimeoutAndInternalErrors(t *testing.T) {
	f := newFixture(t, Options{RequestTimeout: time.Nanosecond})
	status, body := f.do(t, "POST", "/api/v1/trace", `{"chain":"eth","from":["`+hacker+`"],"policy":"haircut","direction":"forward"}`)
	wantError(t, status, body, 503, "request timed out")
	// A storage failure is a bare 500: the client never sees its text.
	g := newFixture(t, Options{})
	g.st.Close()
	status, body = g.do(t, "GET", "/api/v1/address/eth/"+alice, "")
	wantError(t, status, body, 500, "internal error")
	if strings.Contains(string(body), "closed") || strings.Contains(string(body), "pebble") {
		t.Fatalf("storage error leaked: %s", body)
	}
	// An engine the server was started without answers 503.
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/exposure/eth/"+alice, nil))
	wantError(t, rec.Code, rec.Body.Bytes(), 503, "exposure: not configured")
}

// On a non-loopback address the server needs the token: without it a
// request gets 401, with it 200.
func TestNonLoopbackNeedsToken(t *testing.T) {
	var ip net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skip("cannot listen on ", ip, ": ", err)
	}
	f := newFixture(t, Options{Token: "s3cret"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/api/v1/exposure/eth/" + alice
	for _, c := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer nope", 401}, {"Bearer s3cret", 200}} {
		req, _ := http.NewRequest("GET", url, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s on %s with %q: %d, want %d", url, ip, c.auth, resp.StatusCode, c.status)
		}
	}
}

// A client that stops sending mid-request is cut off: the server never
// hangs on it.
func TestSlowClientIsCutOff(t *testing.T) {
	f := newFixture(t, Options{ReadTimeout: 300 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	for _, partial := range []string{
		"GET /api/v1/exposure/eth/" + alice + " HTTP/1.1\r\nHost: x\r\n",                  // headers never end
		"POST /api/v1/trace HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"chain\"", // body never ends
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c) // returns when the server closes the connection
		c.Close()
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("server held a stalled connection for %v", d)
		}
	}
}
