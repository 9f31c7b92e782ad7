package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/redthread/redthread/internal/api"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

//go:embed static
var staticFS embed.FS

// Ledger is what the UI reads from the ledger store; *store.Store
// satisfies it.
type Ledger interface {
	Summarize(ctx context.Context, chain model.Chain, addr string, top, sample int) (*store.Summary, error)
	Neighbors(ctx context.Context, chain model.Chain, addr string, dir store.Direction, cursor string, limit int, newestFirst bool) (store.Page, error)
}

// Screener screens names; *screen.Index satisfies it.
type Screener interface {
	ScreenBatch(ctx context.Context, qs []screen.Query) ([]screen.Result, error)
}

// Intel is the intelligence the UI shows, replaced as a whole on reload.
type Intel struct {
	Attributor trace.Attributor // attributions (nil: none)
	DB         *intel.DB        // incidents (nil: none)
	Screener   Screener         // name search (nil: none)
}

// Options configure the UI handler. Every engine is optional; the pages
// say what is missing.
type Options struct {
	Graph  *graph.Index
	Ledger Ledger
	// Conversions are the swaps and bridges traces follow at start;
	// SetConversions replaces them.
	Conversions trace.Conversions
	Intel       Intel
	// CaseDir holds the case store (dataDir/cases). Empty: cases are
	// refused.
	CaseDir string
	// RequestTimeout bounds each request's handling (default 30 s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

// Handler serves the UI. Create it with New and mount it as api.Options.UI.
type Handler struct {
	opts  Options
	log   *slog.Logger
	intel atomic.Pointer[Intel]
	conv  atomic.Pointer[convBox]
	csrf  string
	mux   *http.ServeMux
	cases *CaseStore
	txs   *txIndex
	inc   incidentCache
}

// CSRFHeader is the header state-changing requests carry the CSRF token in.
const CSRFHeader = "X-Redthread-CSRF"

// ContentSecurityPolicy is sent with every UI response: scripts only from
// the server's own files, no inline scripts, no plugins, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// New builds the UI handler.
func New(o Options) (*Handler, error) {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("csrf token: %w", err)
	}
	h := &Handler{opts: o, log: o.Logger, csrf: hex.EncodeToString(tok[:]), mux: http.NewServeMux(), txs: newTxIndex()}
	in := o.Intel
	h.intel.Store(&in)
	h.conv.Store(&convBox{o.Conversions})
	if o.CaseDir != "" {
		cs, err := OpenCaseStore(o.CaseDir)
		if err != nil {
			return nil, err
		}
		h.cases = cs
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(sub)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheShort(files)))
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h.route("GET /ui/session", h.session)
	h.route("GET /ui/search", h.search)
	h.route("GET /ui/transfers/{chain}/{address}", h.transfers)
	h.route("GET /ui/tx/{chain}/{hash}", h.tx)
	h.route("GET /ui/entities/{id}", h.entity)
	h.route("GET /ui/incidents", h.incidents)
	h.route("GET /ui/incidents/{id}", h.incident)
	h.route("GET /ui/cases", h.listCases)
	h.route("POST /ui/cases", h.createCase)
	h.route("GET /ui/cases/{id}", h.getCase)
	h.route("PATCH /ui/cases/{id}", h.patchCase)
	h.route("POST /ui/cases/{id}/notes", h.addNote)
	h.route("POST /ui/cases/{id}/addresses", h.addAddress)
	h.route("POST /ui/cases/{id}/traces", h.addTrace)
	h.route("GET /ui/cases/{id}/export/{format}", h.export)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, &httpError{Status: http.StatusNotFound, Msg: "no page " + r.URL.Path})
	})
	return h, nil
}

// SetIntel replaces the intelligence (after a reload).
func (h *Handler) SetIntel(in Intel) { h.intel.Store(&in) }

type convBox struct{ c trace.Conversions }

// SetConversions replaces the swaps and bridges the UI's traces follow
// (after new ones were ingested, e.g. by serve --follow-rpc); traces in
// flight keep the old set.
func (h *Handler) SetConversions(c trace.Conversions) { h.conv.Store(&convBox{c}) }

func (h *Handler) conversions() trace.Conversions { return h.conv.Load().c }

func (h *Handler) current() *Intel { return h.intel.Load() }

// ServeHTTP serves the UI with its security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := h.checkCSRF(r); err != nil {
			writeErr(w, err)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// checkCSRF refuses a state-changing request that does not carry the CSRF
// token, or that a browser says comes from another site.
func (h *Handler) checkCSRF(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return &httpError{Status: http.StatusForbidden, Msg: "cross-site request refused (Sec-Fetch-Site: " + site + ")"}
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return &httpError{Status: http.StatusForbidden, Msg: "cross-origin request refused (Origin does not match Host)"}
		}
	}
	tok := r.Header.Get(CSRFHeader)
	if subtle.ConstantTimeCompare([]byte(tok), []byte(h.csrf)) != 1 {
		return &httpError{Status: http.StatusForbidden, Msg: "missing or stale CSRF token (header " + CSRFHeader + "; reload the page)"}
	}
	return nil
}

func cacheShort(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"csrf": h.csrf, "cases": h.cases != nil})
	return nil
}

// route registers a JSON handler with a deadline, a body limit and error
// writing.
func (h *Handler) route(pattern string, fn func(http.ResponseWriter, *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.RequestTimeout)
		defer cancel()
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := fn(w, r.WithContext(ctx)); err != nil {
			h.fail(w, r, err)
		}
	})
}

// maxBody bounds request bodies of the UI endpoints.
const maxBody = 64 << 10

// httpError is the API's error with a status: api.StatusOf maps every
// error of the UI, as it does the API's.
type httpError = api.Error

func badRequest(format string, a ...any) error {
	return api.Errorf(http.StatusBadRequest, format, a...)
}

func notFound(format string, a ...any) error { return api.Errorf(http.StatusNotFound, format, a...) }

var errNoEngine = &httpError{Status: http.StatusServiceUnavailable, Msg: "not available: the server was started without it"}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := api.StatusOf(err)
	if status == http.StatusInternalServerError {
		h.log.Error("ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeErr(w, err)
}

func writeErr(w http.ResponseWriter, err error) {
	status, msg := api.StatusOf(err)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
