package eth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MethodNotFoundError says the node does not offer a JSON-RPC method that
// ingestion needs (JSON-RPC error -32601).
type MethodNotFoundError struct {
	Method  string
	Message string // the node's own words
}

func (e *MethodNotFoundError) Error() string {
	return fmt.Sprintf("node does not support JSON-RPC method %s (%s)", e.Method, e.Message)
}

// RPCError is an error object a node returned for one call.
type RPCError struct {
	Method  string
	Code    int
	Message string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("%s: node error %d: %s", e.Method, e.Code, e.Message)
}

// transientError marks a failure worth retrying (HTTP 429/5xx, timeouts,
// connection resets, node rate limits). after, if set, is the server's
// Retry-After.
type transientError struct {
	err   error
	after time.Duration
}

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// ClientOptions tunes the JSON-RPC client. Zero fields take the defaults.
type ClientOptions struct {
	HTTPClient  *http.Client  // default: a client with Timeout
	Timeout     time.Duration // per HTTP request; default 2 minutes
	MaxBody     int64         // largest response body accepted; default 512 MiB
	Retries     int           // retries after the first attempt; default 5; negative: none
	BackoffBase time.Duration // first retry delay, doubled each time; default 250 ms
	BackoffMax  time.Duration // cap on one delay; default 15 s
	Header      http.Header   // extra request headers (e.g. an API key)
}

// Client speaks JSON-RPC 2.0 over HTTP, sending many calls in one batch.
type Client struct {
	url  string
	name string // url without credentials, path or query (API keys live there), for messages
	o    ClientOptions
	hc   *http.Client
}

// NewClient returns a client for the node at url.
func NewClient(url string, o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 512 << 20
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 250 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 15 * time.Second
	}
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64 // keep connections of concurrent batches alive
		hc = &http.Client{Timeout: o.Timeout, Transport: tr}
	}
	name := "the node"
	if u, err := neturl.Parse(url); err == nil && u.Host != "" {
		name = u.Scheme + "://" + u.Host
	}
	return &Client{url: url, name: name, o: o, hc: hc}
}

// Call is one JSON-RPC call of a batch. After Batch returns, Result holds the
// raw result (JSON null included) or Err the node's error for this call.
type Call struct {
	Method string
	Params []any
	Result json.RawMessage
	Err    error
}

// String names the call for error messages, e.g. `trace_block("0xf4240")`.
func (c *Call) String() string {
	var b strings.Builder
	b.WriteString(c.Method)
	b.WriteByte('(')
	for i, p := range c.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		j, _ := json.Marshal(p)
		b.Write(j)
	}
	b.WriteByte(')')
	return b.String()
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// Batch sends calls as one JSON-RPC batch (one HTTP POST with an array) and
// fills each call's Result or Err. The returned error is for the batch as a
// whole: transport failures after all retries, or a malformed response.
// Per-call node errors are in Call.Err; -32601 becomes *MethodNotFoundError.
func (c *Client) Batch(ctx context.Context, calls []*Call) error {
	if len(calls) == 0 {
		return nil
	}
	reqs := make([]request, len(calls))
	for i, call := range calls {
		params := call.Params
		if params == nil {
			params = []any{}
		}
		reqs[i] = request{JSONRPC: "2.0", ID: uint64(i + 1), Method: call.Method, Params: params}
	}
	body, err := json.Marshal(reqs)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	var resp []byte
	delay := c.o.BackoffBase
	for attempt := 0; ; attempt++ {
		resp, err = c.post(ctx, body)
		if err == nil {
			err = c.decodeBatch(resp, calls)
		}
		var te transientError
		if err == nil || !errors.As(err, &te) || attempt >= c.o.Retries {
			break
		}
		wait := delay
		if te.after > wait {
			wait = min(te.after, c.o.BackoffMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay *= 2
		if delay > c.o.BackoffMax {
			delay = c.o.BackoffMax
		}
	}
	if err != nil {
		return fmt.Errorf("json-rpc batch of %d calls (first %s) to %s: %w", len(calls), calls[0], c.name, err)
	}
	return nil
}

func (c *Client) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range c.o.Header {
		req.Header[k] = v
	}
	res, err := c.hc.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			ue.URL = c.name // keep API keys in the path out of messages
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isTransientNetErr(err) {
			return nil, transientError{err: err}
		}
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.o.MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, transientError{err: fmt.Errorf("read response: %w", err)}
	}
	if int64(len(data)) > c.o.MaxBody {
		return nil, fmt.Errorf("response body exceeds the %d-byte limit (raise --max-response or lower --batch)", c.o.MaxBody)
	}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
		te := transientError{err: fmt.Errorf("HTTP %s: %s", res.Status, snippet(data))}
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
			te.after = time.Duration(secs) * time.Second
		}
		return nil, te
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s: %s", res.Status, snippet(data))
	}
	return data, nil
}

func isTransientNetErr(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}

func (c *Client) decodeBatch(data []byte, calls []*Call) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		// A single error object instead of an array: the node rejected the batch.
		var r response
		if err := json.Unmarshal(data, &r); err != nil || r.Error == nil {
			return fmt.Errorf("want a JSON array of %d responses, got an object: %s", len(calls), snippet(data))
		}
		err := &RPCError{Method: "batch", Code: r.Error.Code, Message: r.Error.Message}
		if isTransientCode(r.Error.Code, r.Error.Message) {
			return transientError{err: err}
		}
		return err
	}
	var rs []response
	if err := json.Unmarshal(data, &rs); err != nil {
		return fmt.Errorf("decode batch response: %w", err)
	}
	if len(rs) != len(calls) {
		return fmt.Errorf("batch response has %d entries for %d calls", len(rs), len(calls))
	}
	seen := make([]bool, len(calls))
	var transient error
	for i := range rs {
		r := &rs[i]
		id, err := strconv.ParseUint(string(r.ID), 10, 64)
		if err != nil || id < 1 || id > uint64(len(calls)) || seen[id-1] {
			return fmt.Errorf("batch response entry %d has unknown or repeated id %s", i, snippet(r.ID))
		}
		seen[id-1] = true
		call := calls[id-1]
		call.Result, call.Err = nil, nil
		if r.Error != nil {
			switch {
			case r.Error.Code == -32601:
				call.Err = &MethodNotFoundError{Method: call.Method, Message: r.Error.Message}
			default:
				call.Err = &RPCError{Method: call.String(), Code: r.Error.Code, Message: r.Error.Message}
				if isTransientCode(r.Error.Code, r.Error.Message) {
					transient = call.Err
				}
			}
			continue
		}
		if r.Result == nil {
			return fmt.Errorf("%s: response has neither result nor error", call)
		}
		call.Result = r.Result
	}
	if transient != nil {
		return transientError{err: transient}
	}
	return nil
}

// isTransientCode reports node errors that mean "try again later": rate
// limits and overload (-32005 by EIP-1474 and most providers, 429 by some).
func isTransientCode(code int, msg string) bool {
	if code == -32005 || code == 429 {
		return true
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "rate limit") || strings.Contains(m, "too many requests")
}
