package api

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// PendingDeposit is a bridge deposit whose payout is not in the ledger
// store (convert.Pending as the server keeps it): its leg, transaction,
// amount, memo and the destination the memo names.
type PendingDeposit struct {
	Leg       model.Leg
	Tx        string
	Amount    uint256.Int
	Memo      string
	DestChain model.Chain
	Dest      string
	DestAsset string
}

// PendingBridge is a tainted pending bridge deposit in a trace result
// (pending_bridges[] of `redthread trace --json` and POST /api/v1/trace).
type PendingBridge struct {
	Leg       string `json:"leg"` // chain:block.position of the deposit transfer
	Tx        string `json:"tx"`
	Asset     string `json:"asset"`
	Value     string `json:"value"`
	Tainted   string `json:"tainted"`
	Memo      string `json:"memo"`
	DestChain string `json:"dest_chain,omitempty"`
	Dest      string `json:"dest,omitempty"`
	DestAsset string `json:"dest_asset,omitempty"`
}

// TaintedDeposits lists the pending deposits that a forward trace's
// tainted transfers include, in the order of the result's edges.
func TaintedDeposits(res *trace.Result, pending []PendingDeposit) []PendingBridge {
	if len(pending) == 0 || res == nil {
		return nil
	}
	byLeg := make(map[model.Leg]*PendingDeposit, len(pending))
	for i := range pending {
		byLeg[pending[i].Leg] = &pending[i]
	}
	return taintedDeposits(res, byLeg)
}

func taintedDeposits(res *trace.Result, byLeg map[model.Leg]*PendingDeposit) []PendingBridge {
	var out []PendingBridge
	for _, e := range res.Edges {
		for _, t := range e.Transfers {
			p, ok := byLeg[model.Leg{Chain: model.Chain(e.Chain), Block: t.Block, Position: model.Position(t.Position)}]
			if !ok {
				continue
			}
			out = append(out, PendingBridge{Leg: p.Leg.String(), Tx: t.Tx, Asset: e.Asset, Value: t.Value, Tainted: t.Tainted,
				Memo: p.Memo, DestChain: string(p.DestChain), Dest: p.Dest, DestAsset: p.DestAsset})
		}
	}
	return out
}

// pendingSet is the server's pending deposits: sorted by leg, and by leg.
type pendingSet struct {
	list  []PendingDeposit
	byLeg map[model.Leg]*PendingDeposit
}

func newPendingSet(p []PendingDeposit) *pendingSet {
	s := &pendingSet{list: append([]PendingDeposit(nil), p...), byLeg: make(map[model.Leg]*PendingDeposit, len(p))}
	sort.Slice(s.list, func(i, j int) bool { return legLess(s.list[i].Leg, s.list[j].Leg) })
	for i := range s.list {
		s.byLeg[s.list[i].Leg] = &s.list[i]
	}
	return s
}

func legLess(a, b model.Leg) bool {
	if a.Chain != b.Chain {
		return a.Chain < b.Chain
	}
	if a.Block != b.Block {
		return a.Block < b.Block
	}
	return a.Position < b.Position
}

// SetPendingDeposits replaces the bridge deposits without payout (after
// new conversions were ingested).
func (s *Server) SetPendingDeposits(p []PendingDeposit) { s.pend.Store(newPendingSet(p)) }

func (s *Server) pending() *pendingSet { return s.pend.Load() }

// Pending deposits listing bounds.
const (
	DefaultPendingLimit = 100
	MaxPendingLimit     = 1000
)

type pendingJSON struct {
	Leg       string `json:"leg"`
	Block     uint64 `json:"block"`
	Position  uint64 `json:"position"`
	Time      string `json:"time,omitempty"`
	Tx        string `json:"tx"`
	From      string `json:"from,omitempty"`
	Asset     string `json:"asset,omitempty"`
	Value     string `json:"value"`
	Memo      string `json:"memo"`
	DestChain string `json:"dest_chain,omitempty"`
	Dest      string `json:"dest,omitempty"`
	DestAsset string `json:"dest_asset,omitempty"`
}

// pendingBridges lists a chain's pending bridge deposits in chain order,
// a page at a time: ?limit=N (1–1000, default 100) and ?cursor=BLOCK.POSITION
// (the next page starts after it; the answer's next_cursor).
func (s *Server) pendingBridges(w http.ResponseWriter, r *http.Request) error {
	chain := model.Chain(strings.ToLower(r.PathValue("chain")))
	q := r.URL.Query()
	limit := DefaultPendingLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPendingLimit {
			return badRequest("limit must be 1..%d, not %q", MaxPendingLimit, l)
		}
		limit = n
	}
	after := model.Leg{Chain: chain}
	hasCursor := false
	if c := q.Get("cursor"); c != "" {
		b, p, ok := strings.Cut(c, ".")
		bn, err1 := strconv.ParseUint(b, 10, 64)
		pn, err2 := strconv.ParseUint(p, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return badRequest("cursor %q: want BLOCK.POSITION as the previous page's next_cursor gives it", c)
		}
		after.Block, after.Position, hasCursor = bn, model.Position(pn), true
	}
	ps := s.pending()
	var list []PendingDeposit
	if ps != nil {
		list = ps.list
	}
	// The chain's run, then the first leg after the cursor.
	lo := sort.Search(len(list), func(i int) bool { return list[i].Leg.Chain >= chain })
	hi := sort.Search(len(list), func(i int) bool { return list[i].Leg.Chain > chain })
	start := lo
	if hasCursor {
		start = lo + sort.Search(hi-lo, func(i int) bool { return legLess(after, list[lo+i].Leg) })
	}
	end := min(hi, start+limit)
	var cg trace.ChainGraph
	if s.opts.Graph != nil {
		gr := s.opts.Graph.Reader()
		defer gr.Close()
		cg, _ = trace.Index(gr).Chain(chain)
	}
	if s.opts.Graph != nil && cg == nil && hi == lo {
		return fmt.Errorf("%w: %s is not indexed", trace.ErrUnknownChain, chain)
	}
	out := struct {
		Chain   string        `json:"chain"`
		Total   int           `json:"total"`
		Pending []pendingJSON `json:"pending"`
		Next    string        `json:"next_cursor,omitempty"`
	}{Chain: string(chain), Total: hi - lo, Pending: make([]pendingJSON, 0, end-start)}
	for _, p := range list[start:end] {
		j := pendingJSON{Leg: p.Leg.String(), Block: p.Leg.Block, Position: uint64(p.Leg.Position), Tx: p.Tx, Value: p.Amount.Dec(),
			Memo: p.Memo, DestChain: string(p.DestChain), Dest: p.Dest, DestAsset: p.DestAsset}
		if cg != nil {
			if seq, ok := cg.Locate(p.Leg.Block, p.Leg.Position); ok {
				tr := cg.Transfer(seq)
				_, t, _, _ := cg.BlockAt(cg.BlockIndex(seq))
				j.Time = time.Unix(t, 0).UTC().Format(time.RFC3339)
				j.From, j.Asset = cg.Address(tr.Src), cg.Asset(tr.Asset)
			}
		}
		out.Pending = append(out.Pending, j)
	}
	if end < hi {
		last := list[end-1].Leg
		out.Next = fmt.Sprintf("%d.%d", last.Block, last.Position)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
