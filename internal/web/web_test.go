package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/trace"
)

func newTestHandler(t *testing.T, dir string) *Handler {
	t.Helper()
	h, err := New(Options{CaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type reqOpt func(*http.Request)

func do(t *testing.T, h http.Handler, method, path, body string, opts ...reqOpt) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Host = "127.0.0.1:8080"
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var js map[string]any
	json.Unmarshal(w.Body.Bytes(), &js)
	return w.Code, js
}

func withCSRF(h *Handler) reqOpt { return func(r *http.Request) { r.Header.Set(CSRFHeader, h.csrf) } }
func withHeader(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func TestCSRF(t *testing.T) {
	h := newTestHandler(t, t.TempDir())
	body := `{"title":"t"}`
	for _, tc := range []struct {
		name string
		opts []reqOpt
		want int
	}{
		{"no token", nil, 403},
		{"wrong token", []reqOpt{withHeader(CSRFHeader, "x")}, 403},
		{"foreign origin", []reqOpt{withCSRF(h), withHeader("Origin", "http://evil.example")}, 403},
		{"cross-site fetch", []reqOpt{withCSRF(h), withHeader("Sec-Fetch-Site", "cross-site")}, 403},
		{"same origin", []reqOpt{withCSRF(h), withHeader("Origin", "http://127.0.0.1:8080"), withHeader("Sec-Fetch-Site", "same-origin")}, 201},
		{"no origin (curl)", []reqOpt{withCSRF(h)}, 201},
	} {
		code, js := do(t, h, "POST", "/ui/cases", body, tc.opts...)
		if code != tc.want {
			t.Errorf("%s: status %d (%v), want %d", tc.name, code, js, tc.want)
		}
	}
	// The session endpoint hands the token to same-origin pages.
	_, js := do(t, h, "GET", "/ui/session", "")
	if js["csrf"] != h.csrf {
		t.Errorf("session csrf %v", js["csrf"])
	}
}

func TestHeadersAndIndex(t *testing.T) {
	h := newTestHandler(t, t.TempDir())
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("GET / = %d", w.Code)
	}
	if got := w.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy || !strings.Contains(got, "script-src 'self'") {
		t.Errorf("CSP %q", got)
	}
	if w.Header().Get("X-Frame-Options") != "DENY" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", w.Header())
	}
	// No inline script in the page: every script has a src.
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(w.Body.String(), -1) {
		if !strings.Contains(m, "src=") {
			t.Errorf("inline script %s", m)
		}
	}
	// The app never assigns HTML.
	js, err := staticFS.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	for _, p := range []string{"/static/app.js", "/static/vendor/cytoscape/cytoscape.min.js", "/static/vendor/echarts/echarts.min.js",
		"/static/vendor/cytoscape/LICENSE", "/static/vendor/echarts/LICENSE"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("GET %s = %d, %d bytes", p, w.Code, w.Body.Len())
		}
	}
}

func TestCasesPersist(t *testing.T) {
	dir := t.TempDir()
	h := newTestHandler(t, dir)
	code, c := do(t, h, "POST", "/ui/cases", `{"title":"Ronin <script>x</script>","tags":["dprk","dprk"," bridge "]}`, withCSRF(h))
	if code != 201 {
		t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(string)
	if code, js := do(t, h, "POST", "/ui/cases/"+id+"/notes", `{"text":"line 1\nline 2 <b>bold</b>"}`, withCSRF(h)); code != 200 {
		t.Fatalf("note: %d %v", code, js)
	}
	if code, js := do(t, h, "POST", "/ui/cases/"+id+"/addresses", `{"chain":"eth","address":"0x098B716B8Aaf21512996dC57EB0615e2383E2f96"}`, withCSRF(h)); code != 200 {
		t.Fatalf("address: %d %v", code, js)
	}
	if code, js := do(t, h, "PATCH", "/ui/cases/"+id, `{"tags":["lazarus"]}`, withCSRF(h)); code != 200 {
		t.Fatalf("patch: %d %v", code, js)
	}
	// A new handler on the same directory: a restart.
	h2 := newTestHandler(t, dir)
	code, got := do(t, h2, "GET", "/ui/cases/"+id, "")
	if code != 200 {
		t.Fatalf("get after restart: %d %v", code, got)
	}
	notes := got["notes"].([]any)
	addrs := got["addresses"].([]any)
	if diff := cmp.Diff([]any{"lazarus"}, got["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if len(notes) != 1 || notes[0].(map[string]any)["text"] != "line 1\nline 2 <b>bold</b>" {
		t.Errorf("notes %v", notes)
	}
	if len(addrs) != 1 || addrs[0].(map[string]any)["address"] != "0x098b716b8aaf21512996dc57eb0615e2383e2f96" {
		t.Errorf("addresses %v", addrs)
	}
	if got["title"] != "Ronin <script>x</script>" {
		t.Errorf("title %v", got["title"])
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Join(dir, id))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}

func TestCaseErrors(t *testing.T) {
	h := newTestHandler(t, t.TempDir())
	_, c := do(t, h, "POST", "/ui/cases", `{"title":"t"}`, withCSRF(h))
	id := c["id"].(string)
	for _, tc := range []struct {
		method, path, body string
		want               int
		msg                string
	}{
		{"POST", "/ui/cases", `{"title":""}`, 400, "title: empty"},
		{"POST", "/ui/cases", `{"title":"a\u0007b"}`, 400, "title: control character U+0007"},
		{"POST", "/ui/cases", `{"title":"t","extra":1}`, 400, `unknown field "extra"`},
		{"POST", "/ui/cases", `{"title":"t"} {}`, 400, "data after the JSON object"},
		{"POST", "/ui/cases", `{"title":"` + strings.Repeat("x", MaxTitle+1) + `"}`, 400, "title: 201 bytes, at most 200"},
		{"POST", "/ui/cases/" + id + "/notes", `{"text":"  "}`, 400, "text: empty note"},
		{"POST", "/ui/cases/" + id + "/notes", `{"text":"` + strings.Repeat("x", MaxNote+1) + `"}`, 400, "text: 20001 bytes"},
		{"POST", "/ui/cases/" + id + "/addresses", `{"chain":"eth","address":"0x12"}`, 400, "address: "},
		{"POST", "/ui/cases/0123456789abcdef/notes", `{"text":"x"}`, 404, "no such case"},
		{"GET", "/ui/cases/NOT-AN-ID", "", 404, "no such case"},
		{"GET", "/ui/cases/" + id + "/export/pdf", "", 400, "format must be json, csv, tagpack or html"},
		{"POST", "/ui/cases", `{"title":"` + strings.Repeat("x", maxBody) + `"}`, 413, "request body larger than"},
	} {
		code, js := do(t, h, tc.method, tc.path, tc.body, withCSRF(h))
		msg, _ := js["error"].(string)
		if code != tc.want || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.path[:min(len(tc.path), 40)], code, msg, tc.want, tc.msg)
		}
	}
	// Failed requests changed nothing.
	_, got := do(t, h, "GET", "/ui/cases/"+id, "")
	if n := len(got["notes"].([]any)); n != 0 {
		t.Errorf("%d notes after failed requests", n)
	}
}

// sampleResult is a small trace result with hostile labels.
func sampleResult() *trace.Result {
	return &trace.Result{
		Schema:  "redthread.trace/v1",
		Request: trace.RequestEcho{Chain: "synth", From: []string{"0x00000000000000000000000000000000000000aa"}, Policy: "haircut", Direction: "forward"},
		Totals:  []trace.Total{{Chain: "synth", Asset: "native", Seeded: "300", Endpoints: "300", Held: "0", Pending: "0"}},
		Nodes: []trace.Node{{Chain: "synth", Address: "0x00000000000000000000000000000000000000aa", Role: "seed"},
			{Chain: "synth", Address: "0x00000000000000000000000000000000000000bb", Role: "endpoint", Stop: "exchange"}},
		Edges: []trace.Edge{{Chain: "synth", From: "0x00000000000000000000000000000000000000aa", To: "0x00000000000000000000000000000000000000bb",
			Asset: "native", Tainted: "300", Value: "300", First: "2025-01-01T00:00:00Z", Last: "2025-01-02T00:00:00Z",
			Transfers: []trace.EdgeTransfer{{Tx: "0x01", Block: 7, Position: 2, Time: "2025-01-01T00:00:00Z", Value: "100", Tainted: "100"},
				{Tx: "0x02", Block: 9, Position: 0, Time: "2025-01-02T00:00:00Z", Value: "200", Tainted: "200"}}}},
		Endpoints: []trace.Endpoint{{Chain: "synth", Address: "0x00000000000000000000000000000000000000bb", Service: `<img src=x onerror=alert(1)>`,
			Category: "exchange", Asset: "native", Amount: "300", Transfers: 2, First: "2025-01-01T00:00:00Z", Last: "2025-01-02T00:00:00Z", FirstTx: "0x01", LastTx: "0x02"}},
	}
}

func sampleCase() *Case {
	return &Case{Schema: CaseSchema, ID: "00000000000000aa", Title: `<script>alert("t")</script>`, Tags: []string{"<b>tag</b>"},
		Notes: []Note{{ID: 1, Text: "note <script>alert(1)</script>\nsecond line"}},
		Traces: []CaseTrace{{ID: 1, Request: TraceRequest{Chain: "synth", From: []string{"0x00000000000000000000000000000000000000aa"}, Policy: "haircut", Direction: "forward"},
			Nodes: 2, Edges: 1, Result: sampleResult()}}}
}

func TestExportCSV(t *testing.T) {
	b, err := ExportCSV(sampleCase())
	if err != nil {
		t.Fatal(err)
	}
	want := CSVHeader + "\n" +
		"00000000000000aa,1,synth,0x00000000000000000000000000000000000000aa,0x00000000000000000000000000000000000000bb,native,0x01,7,2,2025-01-01T00:00:00Z,100,100\n" +
		"00000000000000aa,1,synth,0x00000000000000000000000000000000000000aa,0x00000000000000000000000000000000000000bb,native,0x02,9,0,2025-01-02T00:00:00Z,200,200\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
}

func TestReportEscapes(t *testing.T) {
	h := newTestHandler(t, t.TempDir())
	b, err := h.Report(sampleCase())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>tag</b>"} {
		if strings.Contains(s, bad) {
			t.Errorf("report contains raw %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", `<svg class="flow"`, "0x01", "0x02", "second line"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestCaseTraceFile(t *testing.T) {
	cs, err := OpenCaseStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Create("t", nil)
	if err != nil {
		t.Fatal(err)
	}
	res := sampleResult()
	if _, err := cs.AddTrace(c.ID, "first", TraceRequest{Chain: "synth"}, res); err != nil {
		t.Fatal(err)
	}
	got, err := cs.TraceResult(c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, got); diff != "" {
		t.Errorf("saved trace (-want +got):\n%s", diff)
	}
	c2, _ := cs.Get(c.ID)
	if len(c2.Traces) != 1 || c2.Traces[0].Nodes != 2 || c2.Traces[0].Result != nil {
		t.Errorf("case traces %+v", c2.Traces)
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"Ronin Bridge", "a\nb", "<script>alert(1)</script>", "\x00", "\u202e", "é"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multi bool) {
		out, err := cleanText("f", s, 100, multi)
		if err != nil {
			return
		}
		if len(out) > 100 {
			t.Fatalf("%d bytes", len(out))
		}
		for _, r := range out {
			if unicode.IsControl(r) && !(multi && (r == '\n' || r == '\t' || r == '\r')) {
				t.Fatalf("control %U kept", r)
			}
		}
	})
}

func FuzzCaseFile(f *testing.F) {
	c := sampleCase()
	c.Traces[0].Result = nil
	b, _ := json.Marshal(c)
	f.Add(b)
	f.Add([]byte(`{"schema":"redthread.case/v1","id":"00000000000000aa"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		cs, err := OpenCaseStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		os.Mkdir(filepath.Join(dir, "00000000000000aa"), 0o700)
		os.WriteFile(filepath.Join(dir, "00000000000000aa", "case.json"), data, 0o600)
		got, err := cs.Get("00000000000000aa")
		if err != nil {
			if !strings.Contains(err.Error(), "case") {
				t.Fatalf("error does not name the case: %v", err)
			}
			return
		}
		if got.Schema != CaseSchema || got.ID != "00000000000000aa" {
			t.Fatalf("accepted %+v", got)
		}
	})
}
