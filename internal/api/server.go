package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

// Attributor answers who an address belongs to at a date; the intel DB
// satisfies it.
type Attributor interface {
	Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution
}

// Screener screens a batch of names; *screen.Index satisfies it.
type Screener interface {
	ScreenBatch(ctx context.Context, qs []screen.Query) ([]screen.Result, error)
}

// Ledger summarizes an address; *store.Store satisfies it.
type Ledger interface {
	Summarize(ctx context.Context, chain model.Chain, addr string, top, sample int) (*store.Summary, error)
}

// Options configure a Server. Every engine is optional: a route whose
// engine is missing answers 503.
type Options struct {
	Graph       *graph.Index      // trace and chain listing
	Exposure    *exposure.Engine  // exposure routes
	Attributor  Attributor        // attributions for trace and address routes
	Conversions trace.Conversions // swaps and bridges the trace follows
	// PendingDeposits are the bridge deposits without payout in the store:
	// the trace route reports the tainted ones, GET
	// /api/v1/bridges/pending/{chain} lists them (SetPendingDeposits
	// replaces them).
	PendingDeposits []PendingDeposit
	// Infer, if set, serves POST /api/v1/intel/infer/deposits: it
	// recomputes a chain's inferred deposit addresses and reloads the
	// attributions.
	Infer    InferFunc
	Screener Screener
	Ledger   Ledger
	// Follower, if set, is a live ingester writing into the served store:
	// its progress shows in /healthz and /metrics.
	Follower Follower
	// StoreCheck, if set, is a cheap read of the ledger store run by each
	// /healthz: an error makes /healthz answer 503 ("unavailable"), the
	// only case in which it does not answer 200.
	StoreCheck func() error
	// Token, if set, is required as "Authorization: Bearer TOKEN" on every
	// route but /healthz. Serving on a non-loopback address requires it.
	Token string
	// UI serves the web UI at / (and every path not claimed by the API).
	UI http.Handler
	// RequestTimeout bounds each request's handling (default 30 s).
	RequestTimeout time.Duration
	// ReadTimeout bounds reading a request, headers and body (default 60 s;
	// headers alone at most 10 s), so a slow client cannot hold a
	// connection.
	ReadTimeout time.Duration
	// Registry receives the server's metrics (default: a new registry with
	// the Go and process collectors).
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Body limits.
const (
	MaxBodyBytes      = 4 << 20 // exposure batch
	MaxTraceBodyBytes = 64 << 10
	MaxScreenBody     = 1 << 20
)

// Server is the HTTP API. Create it with New; serve Handler() or call Serve.
type Server struct {
	opts    Options
	log     *slog.Logger
	attr    atomic.Pointer[attrBox]
	conv    atomic.Pointer[convBox]
	pend    atomic.Pointer[pendingSet]
	inferMu sync.Mutex
	cop     *http.CrossOriginProtection
	scr     atomic.Pointer[screenerBox]
	mux     *http.ServeMux
	handler http.Handler
	routes  []Route
	m       *metrics
	openapi []byte
}

type attrBox struct{ a Attributor }

type convBox struct{ c trace.Conversions }

// Follower reports the progress of a live ingester (redthread serve
// --follow-rpc).
type Follower interface {
	FollowStatus() FollowStatus
}

// FollowerSet is a Follower of several chains at once (redthread serve
// --follow CHAIN=URL repeated): /healthz and /metrics report every chain.
type FollowerSet interface {
	Follower
	// FollowStatuses returns one status per followed chain, in a stable order.
	FollowStatuses() []FollowStatus
}

// followStatuses returns f's status per chain.
func followStatuses(f Follower) []FollowStatus {
	if fs, ok := f.(FollowerSet); ok {
		return fs.FollowStatuses()
	}
	return []FollowStatus{f.FollowStatus()}
}

// FollowStatus is a live ingester's progress, as /healthz shows it.
type FollowStatus struct {
	Chain string `json:"chain"`
	// NodeHead is the newest block the node reported at the last poll;
	// Indexed the newest block written to the store and the graph index;
	// Lag the difference (confirmations included).
	NodeHead      uint64    `json:"node_head"`
	Indexed       uint64    `json:"indexed_block"`
	Lag           uint64    `json:"lag_blocks"`
	Confirmations uint64    `json:"confirmations"`
	LastPoll      time.Time `json:"last_poll"`
	Polls         uint64    `json:"polls"`
	Blocks        uint64    `json:"blocks"`
	Transfers     uint64    `json:"transfers"`
	Reorgs        uint64    `json:"reorgs"`
	RolledBack    uint64    `json:"rolled_back_blocks"`
	Errors        uint64    `json:"errors"`
	// Error is the last poll's (or connection attempt's) error, empty when
	// it succeeded.
	Error string `json:"error,omitempty"`
	// State is "connecting" (the node has not answered yet: the follower
	// retries with backoff), "following" (the last poll succeeded),
	// "failing" (the last poll failed) or "refused" (the node answered but
	// cannot be followed, e.g. its chain id names another chain: the
	// follower stopped). Empty means following, or failing if Error is set.
	State string `json:"state,omitempty"`
	// MaxLag bounds LagBlocks beyond Confirmations before the chain counts
	// as degraded; 0: no bound.
	MaxLag uint64 `json:"max_lag_blocks,omitempty"`
	// LastProgress is when the follower last reached its node, finished a
	// poll without error or committed a window; StallAfter (seconds) is how
	// long it may go without before the chain counts as degraded (a node
	// that accepts requests but does not answer them); 0: no bound.
	LastProgress time.Time `json:"last_progress,omitzero"`
	StallAfter   uint64    `json:"stall_after_seconds,omitempty"`
	// Degraded says why the chain is not healthy (Problem), empty if it is;
	// filled in by /healthz.
	Degraded string `json:"degraded,omitempty"`
}

// Follow states (FollowStatus.State).
const (
	FollowConnecting = "connecting"
	FollowFollowing  = "following"
	FollowFailing    = "failing"
	FollowRefused    = "refused"
)

// Up reports whether the follower reached its node and its last poll
// succeeded.
func (s FollowStatus) Up() bool {
	switch s.State {
	case FollowConnecting, FollowFailing, FollowRefused:
		return false
	}
	return s.Error == ""
}

// Problem says why a followed chain is degraded, or "" when it is not: the
// node has not been reached yet, was refused, its last poll failed, it has
// made no progress for more than StallAfter, or the newest indexed block is
// more than MaxLag blocks behind the node's head beyond the confirmations.
func (s FollowStatus) Problem() string {
	switch {
	case s.State == FollowRefused:
		return "refused: " + s.Error
	case s.State == FollowConnecting && s.Error != "":
		return "node not reached yet: " + s.Error
	case s.State == FollowConnecting:
		return "node not reached yet"
	case !s.Up():
		return "last poll failed: " + s.Error
	case s.StallAfter > 0 && !s.LastProgress.IsZero() && time.Since(s.LastProgress) > time.Duration(s.StallAfter)*time.Second:
		return fmt.Sprintf("no progress for %s (no poll finished and no block written; more than %ds)",
			time.Since(s.LastProgress).Round(time.Second), s.StallAfter)
	case s.MaxLag > 0 && s.Lag > s.Confirmations+s.MaxLag:
		return fmt.Sprintf("%d blocks behind the node's head, more than %d confirmations + %d (max lag)", s.Lag, s.Confirmations, s.MaxLag)
	}
	return ""
}

type screenerBox struct{ s Screener }

// Route is one API route: its method and path (Go and OpenAPI path syntax).
type Route struct {
	Method, Path string
	Summary      string
	Public       bool // reachable without the token
	handle       func(http.ResponseWriter, *http.Request) error
	bodyLimit    int64
}

// New builds a server.
func New(o Options) (*Server, error) {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, log: o.Logger, mux: http.NewServeMux(), openapi: openapiJSON, cop: http.NewCrossOriginProtection()}
	s.attr.Store(&attrBox{o.Attributor})
	s.conv.Store(&convBox{o.Conversions})
	s.pend.Store(newPendingSet(o.PendingDeposits))
	s.scr.Store(&screenerBox{o.Screener})
	m, err := newMetrics(o.Registry, o.Exposure, o.Graph, o.Follower)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	s.m = m
	s.routes = []Route{
		{Method: "GET", Path: "/healthz", Summary: "Liveness", Public: true, handle: s.health},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics", handle: s.metricsHandler},
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This API's OpenAPI document", handle: s.openAPI},
		{Method: "GET", Path: "/api/v1/chains", Summary: "Indexed chains and their sizes", handle: s.chains},
		{Method: "GET", Path: "/api/v1/exposure/{chain}/{address}", Summary: "Exposure of one address", handle: s.exposureOne},
		{Method: "POST", Path: "/api/v1/exposure/batch", Summary: "Exposure of up to 10,000 addresses", handle: s.exposureBatch, bodyLimit: MaxBodyBytes},
		{Method: "POST", Path: "/api/v1/trace", Summary: "Trace funds forward or backward", handle: s.trace, bodyLimit: MaxTraceBodyBytes},
		{Method: "POST", Path: "/api/v1/screen", Summary: "Screen up to 1,000 names", handle: s.screen, bodyLimit: MaxScreenBody},
		{Method: "GET", Path: "/api/v1/address/{chain}/{address}", Summary: "Ledger summary and attributions of an address", handle: s.address},
		{Method: "GET", Path: "/api/v1/bridges/pending/{chain}", Summary: "Bridge deposits of a chain whose payout is not in the store", handle: s.pendingBridges},
		{Method: "GET", Path: "/api/v1/intel/inferred", Summary: "Stored inferred attribution sets", handle: s.inferredList},
		{Method: "POST", Path: "/api/v1/intel/infer/deposits", Summary: "Recompute and store a chain's inferred exchange deposit addresses", handle: s.inferDeposits, bodyLimit: 4 << 10},
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.Handle("/api/", s.wrap(Route{Path: "/api/", handle: func(w http.ResponseWriter, r *http.Request) error {
		return &httpError{http.StatusNotFound, fmt.Sprintf("no route %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path)}
	}}))
	if o.Token != "" {
		s.mux.HandleFunc("/login", s.login)
	}
	if o.UI != nil {
		s.mux.Handle("/", s.protect(o.UI))
	} else {
		s.mux.Handle("/", s.wrap(Route{Path: "/", handle: s.root}))
	}
	s.handler = s.mux
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists the API routes (the OpenAPI document describes each).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// SetAttributor replaces the attributions (after an intel load or update);
// the exposure engine's cache is dropped with them.
func (s *Server) SetAttributor(a Attributor) {
	s.attr.Store(&attrBox{a})
	if s.opts.Exposure != nil {
		s.opts.Exposure.SetAttributor(a)
	}
}

func (s *Server) attributor() Attributor { return s.attr.Load().a }

// SetConversions replaces the swaps and bridges the trace route follows
// (after new ones were ingested); traces in flight keep the old set.
func (s *Server) SetConversions(c trace.Conversions) { s.conv.Store(&convBox{c}) }

func (s *Server) conversions() trace.Conversions { return s.conv.Load().c }

// SetScreener replaces the screening index (after an intel load or update).
func (s *Server) SetScreener(sc Screener) { s.scr.Store(&screenerBox{sc}) }

func (s *Server) screener() Screener { return s.scr.Load().s }

// authorized checks the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return s.tokenOK(tok)
	}
	c, err := r.Cookie(tokenCookie)
	return err == nil && s.tokenOK(c.Value)
}

var errUnauthorized = &httpError{http.StatusUnauthorized, "missing or wrong access token (want Authorization: Bearer TOKEN)"}

// protect puts the token check in front of a handler that is not a Route.
func (s *Server) protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			if wantsHTML(r) {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="redthread"`)
			s.writeError(w, r, errUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// errCrossOrigin: a browser sent a POST from another site's page.
var errCrossOrigin = &httpError{http.StatusForbidden, "cross-origin request refused: POST routes answer the server's own pages and non-browser clients only"}

// wrap adds to a route: the cross-origin and token checks, the body limit,
// the deadline, metrics and error writing.
func (s *Server) wrap(rt Route) http.Handler {
	obs := s.m.route(rt.Path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() { obs.done(sw.status, time.Since(start)) }()
		// A page on another site can make the user's browser POST a
		// "simple" request (a text/plain form whose body is JSON) to a
		// server on localhost that has no token: refused by the browser's
		// Sec-Fetch-Site / Origin headers (GET and HEAD pass; so do
		// clients that send neither, like curl).
		if err := s.cop.Check(r); err != nil {
			s.writeError(sw, r, errCrossOrigin)
			return
		}
		if !rt.Public && !s.authorized(r) {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="redthread"`)
			s.writeError(sw, r, errUnauthorized)
			return
		}
		if rt.bodyLimit > 0 {
			if r.ContentLength > rt.bodyLimit {
				s.writeError(sw, r, tooLarge("request body of %d bytes is larger than %d bytes", r.ContentLength, rt.bodyLimit))
				return
			}
			r.Body = http.MaxBytesReader(sw, r.Body, rt.bodyLimit)
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := rt.handle(sw, r.WithContext(ctx)); err != nil {
			s.writeError(sw, r, err)
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes a JSON body with its length (no chunked encoding),
// ending it with a newline.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	nl := len(b) == 0 || b[len(b)-1] != '\n'
	n := len(b)
	if nl {
		n++
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(status)
	w.Write(b)
	if nl {
		w.Write(newline)
	}
}

var (
	jsonType = []string{"application/json"}
	newline  = []byte{'\n'}
)

// DecodeJSON reads one JSON value from the body into v: unknown fields and
// trailing data are errors with status 400, an oversized body the
// *http.MaxBytesError of the body's limit.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return badRequest("empty request body, want a JSON object")
		}
		return badRequest("request body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("request body: data after the JSON object")
	}
	return nil
}

// IsLoopback reports whether a listen address binds to loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckListen refuses to serve on a non-loopback address without a token.
func CheckListen(addr, token string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("listen address %q: want HOST:PORT, e.g. 127.0.0.1:8080", addr)
	}
	if !IsLoopback(addr) && token == "" {
		return fmt.Errorf("listen address %s is not loopback: an access token is required (--token)", addr)
	}
	return nil
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully
// (waiting up to 10 s for requests in flight).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := CheckListen(ln.Addr().String(), s.opts.Token); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, s.opts.ReadTimeout),
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.RequestTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
