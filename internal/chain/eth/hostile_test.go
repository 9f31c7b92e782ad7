package eth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mutateJSON decodes a result, lets f change it and encodes it again.
func mutateJSON(t *testing.T, raw json.RawMessage, f func(v map[string]any)) json.RawMessage {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	f(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	blk1755635 = "eth_getblockbynumber_0x1ac9f3_true"
	rcpt0      = "eth_gettransactionreceipt_0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d"
	tx0        = "0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d"
)

// TestHostileResponses feeds the adapter damaged versions of real recorded
// responses; each must fail with an error naming the block, transaction
// and field, and return no blocks.
func TestHostileResponses(t *testing.T) {
	txField := func(field string, val any) func(string, json.RawMessage) json.RawMessage {
		return func(key string, r json.RawMessage) json.RawMessage {
			if key != blk1755635 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) {
				tx := v["transactions"].([]any)[0].(map[string]any)
				if val == nil {
					delete(tx, field)
				} else {
					tx[field] = val
				}
			})
		}
	}
	blockField := func(field string, val any) func(string, json.RawMessage) json.RawMessage {
		return func(key string, r json.RawMessage) json.RawMessage {
			if key != blk1755635 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) {
				if val == nil {
					delete(v, field)
				} else {
					v[field] = val
				}
			})
		}
	}
	receiptField := func(field string, val any) func(string, json.RawMessage) json.RawMessage {
		return func(key string, r json.RawMessage) json.RawMessage {
			if key != rcpt0 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) {
				if val == nil {
					delete(v, field)
				} else {
					v[field] = val
				}
			})
		}
	}
	cases := []struct {
		name    string
		rewrite func(string, json.RawMessage) json.RawMessage
		want    string
	}{
		{"missing timestamp", blockField("timestamp", nil), `block 1755635: field "timestamp": missing`},
		{"bad hex number", blockField("number", "0x1ac9fg"), `block 1755635: field "number": bad hex digit`},
		{"hex without 0x", blockField("timestamp", "576b99fa"), `block 1755635: field "timestamp": want a 0x-prefixed hex quantity`},
		{"timestamp over 64 bits", blockField("timestamp", "0x1"+strings.Repeat("0", 16)), `field "timestamp": value "0x10000000000000000" does not fit 64 bits`},
		{"wrong type", blockField("miner", 12), `block 1755635: decode eth_getBlockByNumber("0x1ac9f3", true) result: json: cannot unmarshal number`},
		{"bad miner", blockField("miner", "0x1234"), `block 1755635: field "miner": invalid address`},
		{"transactions missing", blockField("transactions", nil), `block 1755635: field "transactions": missing`},
		{"tx value over 256 bits", txField("value", "0x1"+strings.Repeat("0", 64)), `block 1755635: tx ` + tx0 + ` (index 0): field "value": value "0x1000`},
		{"tx value bad hex", txField("value", "0xzz"), `tx ` + tx0 + ` (index 0): field "value": bad hex digit`},
		{"tx from missing", txField("from", nil), `tx ` + tx0 + ` (index 0): field "from": missing`},
		{"tx index wrong", txField("transactionIndex", "0x5"), `field "transactionIndex": 5, but the transaction is number 0`},
		{"tx hash bad", txField("hash", "0x12"), `block 1755635: tx 0: field "hash": invalid hash`},
		{"receipt gasUsed missing", receiptField("gasUsed", nil), `tx ` + tx0 + ` (index 0): receipt: field "gasUsed": missing`},
		{"receipt gasUsed wrong type", receiptField("gasUsed", 36418), `decode eth_getTransactionReceipt("` + tx0 + `") result: json: cannot unmarshal number into Go struct field rpcReceipt.gasUsed`},
		{"receipt for another tx", receiptField("transactionHash", "0x"+strings.Repeat("ab", 32)), `receipt: field "transactionHash": 0xabab`},
		{"receipt from another block", receiptField("blockHash", "0x"+strings.Repeat("cd", 32)), `receipt: field "blockHash": 0xcdcd`},
		{"receipt status 2", receiptField("status", "0x2"), `receipt: field "status": want 0x0 or 0x1`},
		{"fee overflows", receiptField("effectiveGasPrice", "0x"+strings.Repeat("f", 64)), `fee gasUsed × effectiveGasPrice overflows 256 bits`},
		{"log index not increasing", func(key string, r json.RawMessage) json.RawMessage {
			if key != rcpt0 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) { v["logs"].([]any)[1].(map[string]any)["logIndex"] = "0x0" })
		}, `receipt: log 1: field "logIndex": 0 not after 0`},
		{"token data bad hex", func(key string, r json.RawMessage) json.RawMessage {
			if key != rcpt0 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) {
				v["logs"].([]any)[0].(map[string]any)["data"] = "0x" + strings.Repeat("zz", 32)
			})
		}, `receipt: log 0: field "data": bad hex`},
		{"removed log", func(key string, r json.RawMessage) json.RawMessage {
			if key != rcpt0 {
				return r
			}
			return mutateJSON(t, r, func(v map[string]any) { v["logs"].([]any)[0].(map[string]any)["removed"] = true })
		}, `log 0: log marked removed`},
		{"block missing", func(key string, r json.RawMessage) json.RawMessage {
			if key == blk1755635 {
				return json.RawMessage("null")
			}
			return r
		}, `block 1755635: not found`},
		{"receipt missing", func(key string, r json.RawMessage) json.RawMessage {
			if key == rcpt0 {
				return json.RawMessage("null")
			}
			return r
		}, `block 1755635: receipt of tx ` + tx0 + ` not found`},
		{"other block number", blockField("number", "0x1ac9f4"), `block 1755635: node returned block 1755636`},
	}
	dir := filepath.Join(etlDir, "test_stream/blocks_1755634_1755635")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node := newFixtureNode(t, 1755635)
			node.loadDir(dir)
			node.rewrite = c.rewrite
			bs, err := New(node.URL(), Options{Tracer: TracerNone, Client: ClientOptions{Retries: -1}}).Blocks(context.Background(), 1755634, 1755635)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
			if bs != nil {
				t.Fatalf("returned %d blocks with the error", len(bs))
			}
		})
	}
}

func TestHostileWithdrawalAndTraces(t *testing.T) {
	base := map[string]any{"number": "0x10", "hash": "0x" + strings.Repeat("11", 32), "parentHash": "0x" + strings.Repeat("22", 32),
		"timestamp": "0x5", "miner": "0x" + strings.Repeat("33", 20), "baseFeePerGas": "0x7", "transactions": []any{}}
	cases := []struct {
		name string
		wds  []any
		want string
	}{
		{"amount over 64 bits", []any{map[string]any{"index": "0x0", "address": "0x" + strings.Repeat("44", 20), "amount": "0x1" + strings.Repeat("0", 16)}},
			`block 16: withdrawal 0: field "amount": value "0x10000000000000000" does not fit 64 bits`},
		{"address missing", []any{map[string]any{"index": "0x0", "amount": "0x1"}}, `block 16: withdrawal 0: field "address": missing`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node := newFixtureNode(t, 16)
			b := map[string]any{}
			for k, v := range base {
				b[k] = v
			}
			b["withdrawals"] = c.wds
			node.add("eth_getBlockByNumber", []any{"0x10", true}, b)
			node.add("eth_getBlockReceipts", []any{"0x10"}, []any{})
			_, err := New(node.URL(), Options{Tracer: TracerNone}).Blocks(context.Background(), 16, 16)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	// Parity traces: child before parent, unknown type, position out of range.
	h := "0x" + strings.Repeat("aa", 32)
	pos := func(p uint32) *uint32 { return &p }
	str := func(s string) *string { return &s }
	call := parityAction{CallType: str("call"), From: str("0x" + strings.Repeat("01", 20)), To: str("0x" + strings.Repeat("02", 20)), Value: str("0x1")}
	for _, c := range []struct {
		name   string
		traces []parityTrace
		want   string
	}{
		{"child first", []parityTrace{{Type: "call", Action: call, TraceAddress: []uint32{0}, TransactionPosition: pos(0), TransactionHash: &h}}, "trace [0]: trace before its parent"},
		{"unknown type", []parityTrace{{Type: "teleport", Action: call, TransactionPosition: pos(0)}}, `field "type": unknown trace type "teleport"`},
		{"position", []parityTrace{{Type: "call", Action: call, TransactionPosition: pos(3)}}, `field "transactionPosition": 3, block has 1 transactions`},
		{"value over 256 bits", []parityTrace{{Type: "call", Action: call, TransactionPosition: pos(0)},
			{Type: "call", Action: parityAction{CallType: str("call"), From: call.From, To: call.To, Value: str("0x1" + strings.Repeat("0", 64))}, TraceAddress: []uint32{0}, TransactionPosition: pos(0)}},
			`trace [0]: field "action.value": value "0x1000`},
	} {
		if _, _, err := parityMoves(9, c.traces, []string{h}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// geth: wrong count, per-tx tracer error, unknown frame type.
	if _, err := gethMoves(9, nil, []string{h}); err == nil || !strings.Contains(err.Error(), "callTracer returned 0 traces for 1 transactions") {
		t.Errorf("count: %v", err)
	}
	if _, err := gethMoves(9, []gethTxTrace{{Error: "execution timeout"}}, []string{h}); err == nil || !strings.Contains(err.Error(), "node could not trace the transaction: execution timeout") {
		t.Errorf("tracer error: %v", err)
	}
	bad := []gethTxTrace{{Result: &gethFrame{Type: "CALL", Calls: []gethFrame{{Type: "WARP"}}}}}
	if _, err := gethMoves(9, bad, []string{h}); err == nil || !strings.Contains(err.Error(), `trace [0]: field "type": unknown call type "WARP"`) {
		t.Errorf("frame type: %v", err)
	}
}

// TestTransport covers retries, the body cap, batch id checks and
// method-not-found.
func TestTransport(t *testing.T) {
	dir := filepath.Join(etlDir, "test_stream/blocks_1755634_1755635")
	fast := ClientOptions{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}
	t.Run("retries 429, 503 and resets", func(t *testing.T) {
		node := newFixtureNode(t, 1755635)
		node.loadDir(dir)
		failures := []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, -1}
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			if len(failures) == 0 {
				return false
			}
			code := failures[0]
			failures = failures[1:]
			if code < 0 { // drop the connection mid-response
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				conn.Close()
				return true
			}
			http.Error(w, "slow down", code)
			return true
		}
		bs, err := New(node.URL(), Options{Tracer: TracerNone, Client: fast}).Blocks(context.Background(), 1755634, 1755635)
		if err != nil || len(bs) != 2 {
			t.Fatalf("blocks %d, err %v", len(bs), err)
		}
		if len(failures) != 0 {
			t.Fatal("not every failure was served")
		}
	})
	t.Run("honours Retry-After", func(t *testing.T) {
		node := newFixtureNode(t, 3)
		first := true
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			if !first {
				return false
			}
			first = false
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		start := time.Now()
		o := fast
		o.BackoffMax = 5 * time.Second
		h, err := New(node.URL(), Options{Tracer: TracerNone, Client: o}).Head(context.Background())
		if err != nil || h != 3 {
			t.Fatalf("head %d, err %v", h, err)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("retried after %v, before the server's Retry-After of 1s", d)
		}
	})
	t.Run("gives up after retries", func(t *testing.T) {
		node := newFixtureNode(t, 1)
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			http.Error(w, "down", http.StatusBadGateway)
			return true
		}
		o := fast
		o.Retries = 2
		err := NewClient(node.URL(), o).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}})
		if err == nil || !strings.Contains(err.Error(), "HTTP 502 Bad Gateway") {
			t.Fatalf("err = %v", err)
		}
		if node.posts != 3 {
			t.Fatalf("%d attempts, want 3", node.posts)
		}
	})
	t.Run("no retry on 400", func(t *testing.T) {
		node := newFixtureNode(t, 1)
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			http.Error(w, "bad", http.StatusBadRequest)
			return true
		}
		err := NewClient(node.URL(), fast).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}})
		if err == nil || node.posts != 1 {
			t.Fatalf("err = %v after %d attempts", err, node.posts)
		}
	})
	t.Run("body cap", func(t *testing.T) {
		node := newFixtureNode(t, 1755635)
		node.loadDir(dir)
		o := fast
		o.MaxBody = 1000
		_, err := New(node.URL(), Options{Tracer: TracerNone, Client: o}).Blocks(context.Background(), 1755635, 1755635)
		if err == nil || !strings.Contains(err.Error(), "response body exceeds the 1000-byte limit") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("mismatched ids", func(t *testing.T) {
		for name, resp := range map[string]string{
			"repeated": `[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":1,"result":"0x2"}]`,
			"unknown":  `[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":7,"result":"0x2"}]`,
			"string":   `[{"jsonrpc":"2.0","id":"1","result":"0x1"},{"jsonrpc":"2.0","id":2,"result":"0x2"}]`,
			"short":    `[{"jsonrpc":"2.0","id":1,"result":"0x1"}]`,
			"no array": `{"jsonrpc":"2.0","id":1,"result":"0x1"}`,
			"garbage":  `[{"jsonrpc":`,
			"empty":    `[{"jsonrpc":"2.0","id":1},{"jsonrpc":"2.0","id":2,"result":"0x2"}]`,
		} {
			node := newFixtureNode(t, 1)
			node.intercept = func(w http.ResponseWriter, body []byte) bool { w.Write([]byte(resp)); return true }
			o := fast
			o.Retries = -1
			err := NewClient(node.URL(), o).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}, {Method: "eth_chainId"}})
			if err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
	t.Run("batch rejected", func(t *testing.T) {
		node := newFixtureNode(t, 1)
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`))
			return true
		}
		err := NewClient(node.URL(), fast).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}})
		var re *RPCError
		if !errors.As(err, &re) || re.Code != -32600 || !strings.Contains(err.Error(), "batch too large") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("method not found", func(t *testing.T) {
		node := newFixtureNode(t, 5)
		_, err := New(node.URL(), Options{Tracer: TracerNone}).Blocks(context.Background(), 1, 1)
		var mnf *MethodNotFoundError
		if !errors.As(err, &mnf) || mnf.Method != "eth_getBlockByNumber" {
			t.Fatalf("err = %v", err)
		}
		// auto with neither tracing method: a clear error.
		err = New(node.URL(), Options{}).Probe(context.Background())
		if err == nil || !strings.Contains(err.Error(), "neither trace_block nor debug_traceBlockByNumber") {
			t.Fatalf("probe err = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		node := newFixtureNode(t, 1)
		node.intercept = func(w http.ResponseWriter, body []byte) bool {
			http.Error(w, "", http.StatusServiceUnavailable)
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		o := ClientOptions{BackoffBase: time.Second, Retries: 100}
		start := time.Now()
		err := NewClient(node.URL(), o).Batch(ctx, []*Call{{Method: "eth_blockNumber"}})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
	})
}

func TestErrorsHideURLSecrets(t *testing.T) {
	node := newFixtureNode(t, 1)
	node.intercept = func(w http.ResponseWriter, body []byte) bool { http.Error(w, "no", http.StatusForbidden); return true }
	err := NewClient(node.URL()+"/v3/SECRETKEY", ClientOptions{}).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}})
	if err == nil || strings.Contains(err.Error(), "SECRETKEY") {
		t.Fatalf("err = %v", err)
	}
	err = NewClient("http://127.0.0.1:1/v3/SECRETKEY", ClientOptions{Retries: -1}).Batch(context.Background(), []*Call{{Method: "eth_blockNumber"}})
	if err == nil || strings.Contains(err.Error(), "SECRETKEY") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}
