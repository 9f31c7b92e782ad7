package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

// health answers /healthz: "ok", "degraded" when a followed chain is
// (FollowStatus.Problem), both with 200 so that a load balancer keeps
// sending queries to a server that still answers from its store, or
// "unavailable" with 503 when the store check fails (the server cannot
// answer). Monitoring reads the status and the per-chain entries.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if s.opts.StoreCheck != nil {
		if err := s.opts.StoreCheck(); err != nil {
			s.log.Error("healthz: the ledger store check failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}{"unavailable", "ledger store: " + err.Error()})
			return nil
		}
	}
	if s.opts.Follower == nil {
		writeRaw(w, http.StatusOK, []byte(`{"status":"ok"}`))
		return nil
	}
	// follows has one entry per followed chain; follow repeats the entry
	// when there is exactly one (the single --follow-rpc form's field).
	sts := followStatuses(s.opts.Follower)
	status := "ok"
	for i := range sts {
		if sts[i].Degraded = sts[i].Problem(); sts[i].Degraded != "" {
			status = "degraded"
		}
	}
	var one *FollowStatus
	if len(sts) == 1 {
		one = &sts[0]
	}
	writeJSON(w, http.StatusOK, struct {
		Status  string         `json:"status"`
		Follow  *FollowStatus  `json:"follow,omitempty"`
		Follows []FollowStatus `json:"follows"`
	}{status, one, sts})
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	s.m.handler.ServeHTTP(w, r)
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeRaw(w, http.StatusOK, s.openapi)
	return nil
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path != "/" {
		return &httpError{http.StatusNotFound, fmt.Sprintf("no page %s", r.URL.Path)}
	}
	writeRaw(w, http.StatusOK, []byte(`{"name":"redthread","api":"/api/v1/openapi.json","health":"/healthz","metrics":"/metrics"}`))
	return nil
}

type chainJSON struct {
	Chain     string `json:"chain"`
	Transfers int    `json:"transfers"`
	Addresses int    `json:"addresses"`
	Assets    int    `json:"assets"`
	Blocks    int    `json:"blocks"`
	Bytes     int64  `json:"index_bytes"`
}

func (s *Server) chains(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Graph == nil {
		return fmt.Errorf("graph index: %w", errNotConfigured)
	}
	gr := s.opts.Graph.Reader()
	st := gr.Stats()
	gr.Close()
	out := struct {
		Chains []chainJSON `json:"chains"`
	}{Chains: []chainJSON{}}
	for _, c := range st {
		out.Chains = append(out.Chains, chainJSON{string(c.Chain), c.Transfers, c.Addresses, c.Assets, c.Blocks, c.Bytes})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exposureItem is one exposure request as JSON (batch items).
type exposureItem struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
	AsOf    string `json:"as_of,omitempty"`
	Hops    int    `json:"hops,omitempty"`
}

func (it exposureItem) request() (exposure.Request, error) {
	d, err := exposure.ParseAsOf(it.AsOf)
	if err != nil {
		return exposure.Request{}, err
	}
	return exposure.Request{Chain: model.Chain(it.Chain), Address: it.Address, AsOf: d, Hops: it.Hops}, nil
}

func (s *Server) exposureOne(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Exposure == nil {
		return fmt.Errorf("exposure: %w", errNotConfigured)
	}
	q := r.URL.Query()
	it := exposureItem{Chain: r.PathValue("chain"), Address: r.PathValue("address"), AsOf: q.Get("as_of")}
	if h := q.Get("hops"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			return badRequest("hops: %q is not an integer", h)
		}
		if n == 0 {
			return badRequest("hops must be 1..%d, not 0", exposure.MaxHops)
		}
		it.Hops = n
	}
	req, err := it.request()
	if err != nil {
		return err
	}
	js, err := s.opts.Exposure.JSON(r.Context(), req)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, js)
	return nil
}

func (s *Server) exposureBatch(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Exposure == nil {
		return fmt.Errorf("exposure: %w", errNotConfigured)
	}
	var body struct {
		Items []exposureItem `json:"items"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if len(body.Items) > exposure.MaxBatch {
		return tooLarge("%d items in one batch, at most %d", len(body.Items), exposure.MaxBatch)
	}
	reqs := make([]exposure.Request, len(body.Items))
	bad := make([]error, len(body.Items))
	for i, it := range body.Items {
		reqs[i], bad[i] = it.request()
		if bad[i] != nil {
			reqs[i] = exposure.Request{} // fails fast inside the batch; its error is replaced below
		}
	}
	items, err := s.opts.Exposure.Batch(r.Context(), reqs)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Grow(len(items) * 512)
	b.WriteString(`{"results":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		err := it.Err
		if bad[i] != nil {
			err = bad[i]
		}
		if err != nil {
			status, msg := StatusOf(err)
			if status == http.StatusInternalServerError {
				s.log.Error("batch item failed", "index", i, "err", err)
			}
			m, _ := json.Marshal(msg)
			fmt.Fprintf(&b, `{"index":%d,"status":%d,"error":%s}`, i, status, m)
			continue
		}
		fmt.Fprintf(&b, `{"index":%d,"status":200,"exposure":`, i)
		b.Write(it.JSON)
		b.WriteByte('}')
	}
	b.WriteString("]}")
	writeRaw(w, http.StatusOK, b.Bytes())
	return nil
}

// MaxTraceSeeds bounds the seed addresses of one trace request.
const MaxTraceSeeds = 1000

func (s *Server) trace(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Graph == nil {
		return fmt.Errorf("trace: %w", errNotConfigured)
	}
	var body struct {
		trace.Params
		// DepositHeuristic: stop at the exchange deposit addresses stored
		// by the deposit-address heuristic (inferred attributions).
		DepositHeuristic bool `json:"deposit_heuristic,omitempty"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if len(body.From) > MaxTraceSeeds {
		return tooLarge("%d seed addresses, at most %d", len(body.From), MaxTraceSeeds)
	}
	req, err := body.Request()
	if err != nil {
		return err
	}
	// One snapshot of the attributions serves the whole request: a reload
	// (SIGHUP, an inference) swapping them meanwhile must not make the
	// trace use a set other than the one it reports.
	attr := s.attributor()
	var inferred []intel.InferredInfo
	if body.DepositHeuristic {
		info, err := depositSet(attr, req.Chain)
		if err != nil {
			return err
		}
		inferred = append(inferred, info)
	}
	gr := s.opts.Graph.Reader()
	defer gr.Close()
	eng := &trace.Engine{Graph: trace.Index(gr), Conversions: s.conversions()}
	if attr != nil {
		if body.DepositHeuristic {
			eng.Attributor = attr
		} else {
			eng.Attributor = intel.WithoutInferred(attr)
		}
	}
	res, err := eng.Run(r.Context(), req)
	if err != nil {
		return err
	}
	if body.DepositHeuristic {
		inferred = append(inferred, crossedSets(attr, res, req.Chain)...)
	}
	var pend []PendingBridge
	if ps := s.pending(); ps != nil && req.Direction != trace.Backward && len(ps.byLeg) > 0 {
		pend = taintedDeposits(res, ps.byLeg)
	}
	writeJSON(w, http.StatusOK, struct {
		*trace.Result
		PendingBridges []PendingBridge      `json:"pending_bridges,omitempty"`
		Inferred       []intel.InferredInfo `json:"inferred_sets,omitempty"`
	}{res, pend, inferred})
	return nil
}

func (s *Server) screen(w http.ResponseWriter, r *http.Request) error {
	sc := s.screener()
	if sc == nil {
		return fmt.Errorf("screening: %w", errNotConfigured)
	}
	var body struct {
		Queries []screen.Query `json:"queries"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if len(body.Queries) > screen.MaxBatch {
		return tooLarge("%d queries in one batch, at most %d", len(body.Queries), screen.MaxBatch)
	}
	res, err := sc.ScreenBatch(r.Context(), body.Queries)
	if err != nil {
		return err
	}
	if res == nil {
		res = []screen.Result{}
	}
	writeJSON(w, http.StatusOK, struct {
		Results []screen.Result `json:"results"`
	}{res})
	return nil
}

// Address summary JSON; amounts are decimal strings.
type (
	blockJSON struct {
		Block uint64 `json:"block"`
		Time  string `json:"time"`
	}
	assetJSON struct {
		Asset    string `json:"asset"`
		CountIn  uint64 `json:"count_in"`
		CountOut uint64 `json:"count_out"`
		Received string `json:"received"`
		Sent     string `json:"sent"`
	}
	counterpartyJSON struct {
		Address  string            `json:"address"`
		In       uint64            `json:"transfers_in"`
		Out      uint64            `json:"transfers_out"`
		Received map[string]string `json:"received"`
		Sent     map[string]string `json:"sent"`
	}
	attrJSON struct {
		Label      string `json:"label,omitempty"`
		Category   string `json:"category"`
		Entity     string `json:"entity,omitempty"`
		Incident   string `json:"incident,omitempty"`
		Role       string `json:"role,omitempty"`
		Source     string `json:"source,omitempty"`
		URL        string `json:"url,omitempty"`
		Confidence int    `json:"confidence"`
		ValidFrom  string `json:"valid_from,omitempty"`
		ValidTo    string `json:"valid_to,omitempty"`
		// Inferred marks redthread's own inference (source heuristic:…),
		// with its evidence when the attributor keeps it.
		Inferred bool            `json:"inferred,omitempty"`
		Evidence *intel.Evidence `json:"evidence,omitempty"`
		// EvidenceError says why the evidence of an inferred claim could
		// not be read (the stored set's file failed or was written over).
		EvidenceError string `json:"evidence_error,omitempty"`
	}
	addressJSON struct {
		Chain          string             `json:"chain"`
		Address        string             `json:"address"`
		AsOf           string             `json:"as_of"`
		Known          bool               `json:"known"`
		FirstSeen      *blockJSON         `json:"first_seen,omitempty"`
		LastSeen       *blockJSON         `json:"last_seen,omitempty"`
		Assets         []assetJSON        `json:"assets"`
		Counterparties []counterpartyJSON `json:"counterparties"`
		Sampled        bool               `json:"counterparties_sampled"`
		SampleLimit    int                `json:"sample_limit"`
		Attributions   []attrJSON         `json:"attributions"`
	}
)

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// AddressReport is the JSON of an address summary with its attributions,
// shared by GET /api/v1/address and `redthread address --json`.
type AddressReport = addressJSON

// NewAddressReport renders a ledger summary and the attributions valid at
// asOf; amounts are decimal strings.
func NewAddressReport(sm *store.Summary, asOf time.Time, attrs []model.Attribution) AddressReport {
	out := addressJSON{Chain: string(sm.Chain), Address: sm.Address, AsOf: asOf.Format(time.DateOnly), Known: sm.Known,
		FirstSeen: blockOf(sm.FirstSeen), LastSeen: blockOf(sm.LastSeen), Sampled: sm.Sampled, SampleLimit: sm.SampleLimit,
		Assets: []assetJSON{}, Counterparties: []counterpartyJSON{}, Attributions: []attrJSON{}}
	for _, a := range sm.Assets {
		out.Assets = append(out.Assets, assetJSON{a.Asset, a.CountIn, a.CountOut, a.Received.String(), a.Sent.String()})
	}
	for _, c := range sm.Counterparties {
		cp := counterpartyJSON{Address: c.Address, In: c.In, Out: c.Out, Received: map[string]string{}, Sent: map[string]string{}}
		for k, v := range c.Received {
			cp.Received[k] = v.String()
		}
		for k, v := range c.Sent {
			cp.Sent[k] = v.String()
		}
		out.Counterparties = append(out.Counterparties, cp)
	}
	for _, at := range attrs {
		out.Attributions = append(out.Attributions, attrJSON{Label: at.Label, Category: string(at.Category), Entity: at.Entity,
			Incident: at.Incident, Role: at.Role, Source: at.Source.Name, URL: at.Source.URL, Confidence: int(at.Confidence),
			ValidFrom: dateOrEmpty(at.ValidFrom), ValidTo: dateOrEmpty(at.ValidTo), Inferred: intel.IsInferred(&at)})
	}
	return out
}

func blockOf(b *store.BlockInfo) *blockJSON {
	if b == nil {
		return nil
	}
	return &blockJSON{Block: b.Number, Time: time.Unix(b.Time, 0).UTC().Format(time.RFC3339)}
}

// AddressSample is how many recent transfers the address route aggregates
// counterparties over.
const AddressSample = 10_000

func (s *Server) address(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Ledger == nil {
		return fmt.Errorf("ledger store: %w", errNotConfigured)
	}
	chain := model.Chain(strings.ToLower(r.PathValue("chain")))
	addr, err := model.NormalizeAddress(chain, r.PathValue("address"))
	if err != nil {
		return badRequest("address: %v", err)
	}
	q := r.URL.Query()
	top := 10
	if t := q.Get("top"); t != "" {
		if top, err = strconv.Atoi(t); err != nil || top < 1 || top > 100 {
			return badRequest("top must be 1..100, not %q", t)
		}
	}
	asOf, err := exposure.ParseAsOf(q.Get("as_of"))
	if err != nil {
		return badRequest("as_of: %q: want YYYY-MM-DD or an RFC 3339 time", q.Get("as_of"))
	}
	if asOf.IsZero() {
		asOf = time.Now().UTC()
	}
	sm, err := s.opts.Ledger.Summarize(r.Context(), chain, addr, top, AddressSample)
	if err != nil {
		return fmt.Errorf("summarize %s: %w", addr, err)
	}
	var attrs []model.Attribution
	a := s.attributor() // one snapshot: the evidence must come from the DB that made the claims
	if a != nil {
		attrs = a.Lookup(chain, addr, asOf)
	}
	out := NewAddressReport(sm, asOf, attrs)
	if ev, ok := a.(Evidencer); ok {
		for i := range attrs {
			if intel.IsInferred(&attrs[i]) {
				e, ok, err := ev.ReadEvidence(&attrs[i])
				switch {
				case err != nil:
					out.Attributions[i].EvidenceError = err.Error()
				case ok:
					out.Attributions[i].Evidence = &e
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
