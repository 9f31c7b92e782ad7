package eth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fixtureNode is a JSON-RPC server that answers from recorded responses,
// routed by method and params the way ethereum-etl names its fixture files:
// web3_response.<method>_<param>_<param>.json. It speaks real JSON-RPC 2.0
// over HTTP, batches included; a method with no recorded response at all is
// answered with -32601 like a node that lacks it.
type fixtureNode struct {
	t         testing.TB
	mu        sync.Mutex
	results   map[string]json.RawMessage // call key → result
	methods   map[string]bool
	head      uint64
	posts     int // HTTP requests served
	calls     int // JSON-RPC calls served
	maxBatch  int
	intercept func(w http.ResponseWriter, body []byte) bool // fault injection; true: handled
	rewrite   func(key string, result json.RawMessage) json.RawMessage
	srv       *httptest.Server
}

func newFixtureNode(t testing.TB, head uint64) *fixtureNode {
	n := &fixtureNode{t: t, results: map[string]json.RawMessage{}, methods: map[string]bool{"eth_blockNumber": true}, head: head}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fixtureNode) URL() string { return n.srv.URL }

// add records a result for method(params).
func (n *fixtureNode) add(method string, params []any, result any) {
	raw, err := json.Marshal(result)
	if err != nil {
		n.t.Fatal(err)
	}
	ps := make([]json.RawMessage, len(params))
	for i, p := range params {
		ps[i], _ = json.Marshal(p)
	}
	n.results[callKey(method, ps)] = raw
	n.methods[method] = true
}

// loadDir adds every web3_response.*.json file of dir.
func (n *fixtureNode) loadDir(dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "web3_response.*.json"))
	if err != nil || len(files) == 0 {
		n.t.Fatalf("no fixtures in %s (%v)", dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			n.t.Fatal(err)
		}
		var r struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			n.t.Fatalf("%s: %v", f, err)
		}
		key := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "web3_response."), ".json"))
		n.results[key] = r.Result
		for m := range knownMethods {
			if strings.HasPrefix(key, strings.ToLower(m)+"_") {
				n.methods[m] = true
			}
		}
	}
}

var knownMethods = map[string]bool{"eth_getBlockByNumber": true, "eth_getTransactionReceipt": true, "eth_getBlockReceipts": true,
	"trace_block": true, "debug_traceBlockByNumber": true}

// callKey names a call like the fixture files: method, then each param;
// objects contribute their "tracer" field as tracer_<name>.
func callKey(method string, params []json.RawMessage) string {
	parts := []string{method}
	for _, p := range params {
		var v any
		_ = json.Unmarshal(p, &v)
		switch x := v.(type) {
		case string:
			parts = append(parts, x)
		case bool:
			if x {
				parts = append(parts, "true")
			} else {
				parts = append(parts, "false")
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				if k == "tracer" {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				parts = append(parts, k, x[k].(string))
			}
		default:
			parts = append(parts, string(p))
		}
	}
	return strings.ToLower(strings.Join(parts, "_"))
}

type fixtureReq struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func (n *fixtureNode) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	n.posts++
	icpt := n.intercept
	n.mu.Unlock()
	if icpt != nil && icpt(w, body) {
		return
	}
	body = bytes.TrimSpace(body)
	batch := len(body) > 0 && body[0] == '['
	var reqs []fixtureReq
	if batch {
		if err := json.Unmarshal(body, &reqs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		var q fixtureReq
		if err := json.Unmarshal(body, &q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reqs = []fixtureReq{q}
	}
	n.mu.Lock()
	n.calls += len(reqs)
	n.maxBatch = max(n.maxBatch, len(reqs))
	n.mu.Unlock()
	out := make([]map[string]any, len(reqs))
	for i, q := range reqs {
		resp := map[string]any{"jsonrpc": "2.0", "id": q.ID}
		key := callKey(q.Method, q.Params)
		switch {
		case q.Method == "eth_blockNumber":
			resp["result"] = hexNum(n.head)
		case !n.methods[q.Method]:
			resp["error"] = map[string]any{"code": -32601, "message": "the method " + q.Method + " does not exist/is not available"}
		default:
			res, ok := n.results[key]
			if !ok {
				res = json.RawMessage("null")
			}
			if n.rewrite != nil {
				res = n.rewrite(key, res)
			}
			resp["result"] = res
		}
		out[i] = resp
	}
	w.Header().Set("Content-Type", "application/json")
	if batch {
		_ = json.NewEncoder(w).Encode(out)
	} else {
		_ = json.NewEncoder(w).Encode(out[0])
	}
}
