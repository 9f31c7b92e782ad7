package web

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
)

// Search hit kinds.
const (
	HitAddress  = "address"
	HitTx       = "tx"
	HitIncident = "incident"
	HitEntity   = "entity"
)

// Hit is one search result.
type Hit struct {
	Kind    string  `json:"kind"`
	Chain   string  `json:"chain,omitempty"`
	Address string  `json:"address,omitempty"`
	Tx      string  `json:"tx,omitempty"`
	ID      string  `json:"id,omitempty"`
	Title   string  `json:"title"`
	Detail  string  `json:"detail,omitempty"`
	Score   float64 `json:"score,omitempty"`
}

// MaxQuery bounds the length of a search query.
const MaxQuery = 200

func (h *Handler) search(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return badRequest("q: empty query")
	}
	if len(q) > MaxQuery {
		return badRequest("q: %d bytes, at most %d", len(q), MaxQuery)
	}
	hits, err := h.Search(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": q, "hits": hits})
	return nil
}

// Search resolves a query: an address on any indexed chain, a transaction
// hash, an incident (id or name) or a person or company name (screening).
func (h *Handler) Search(ctx context.Context, q string) ([]Hit, error) {
	hits := []Hit{}
	in := h.current()
	isHex := strings.HasPrefix(lower(q), "0x")
	if h.opts.Graph != nil && isHex {
		gr := h.opts.Graph.Reader()
		for _, c := range gr.Chains() {
			ch, _ := gr.Chain(c)
			addr, err := model.NormalizeAddress(c, q)
			if err == nil {
				if _, ok := ch.Lookup(addr); ok {
					hits = append(hits, Hit{Kind: HitAddress, Chain: string(c), Address: addr, Title: addr,
						Detail: fmt.Sprintf("address on %s, %d transfers", c, ch.Degree(mustID(ch, addr)))})
				}
			}
		}
		gr.Close()
		if len(q) == 66 {
			locs, err := h.findTx(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, l := range locs {
				hits = append(hits, Hit{Kind: HitTx, Chain: string(l.chain), Tx: lower(q), Title: lower(q),
					Detail: fmt.Sprintf("transaction on %s, block %d", l.chain, l.block)})
			}
		}
		if len(hits) == 0 {
			// Valid but unseen addresses still get a page (attributions may exist).
			for _, c := range h.chains() {
				if addr, err := model.NormalizeAddress(c, q); err == nil {
					hits = append(hits, Hit{Kind: HitAddress, Chain: string(c), Address: addr, Title: addr, Detail: "no transfers on " + string(c)})
				}
			}
		}
	}
	if !isHex || len(hits) == 0 {
		hits = append(hits, h.searchIncidents(q)...)
	}
	if !isHex && in.Screener != nil {
		res, err := in.Screener.ScreenBatch(ctx, []screen.Query{{Name: q}})
		if err != nil {
			return nil, err
		}
		for _, rs := range res {
			if rs.Error != "" {
				return nil, badRequest("name: %s", rs.Error)
			}
			for i, m := range rs.Matches {
				if i == 20 {
					break
				}
				d := m.Type
				if len(m.Programs) > 0 {
					d += " · " + strings.Join(m.Programs, ", ")
				}
				if m.Source != "" {
					d += " · " + m.Source
				}
				if m.MatchedName != m.Name {
					d += " · matched " + m.MatchedName
				}
				hits = append(hits, Hit{Kind: HitEntity, ID: m.EntityID, Title: m.Name, Detail: d, Score: m.Score})
			}
		}
	}
	return hits, nil
}

func mustID(ch *graph.Chain, addr string) uint32 {
	id, _ := ch.Lookup(addr)
	return id
}

func (h *Handler) chains() []model.Chain {
	if h.opts.Graph == nil {
		return nil
	}
	gr := h.opts.Graph.Reader()
	defer gr.Close()
	return gr.Chains()
}

// transferJSON is one transfer seen from an address.
type transferJSON struct {
	Block        uint64 `json:"block"`
	Position     uint64 `json:"position"`
	Time         string `json:"time"`
	Dir          string `json:"dir"`
	Counterparty string `json:"counterparty"`
	Asset        string `json:"asset"`
	Kind         string `json:"kind"`
	Amount       string `json:"amount"`
	Tx           string `json:"tx,omitempty"`
}

// TransfersPage bounds one page of an address's transfers.
const TransfersPage = 200

// transfers pages through an address's transfers, newest first; the cost is
// bounded by the page size whatever the address's degree.
func (h *Handler) transfers(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Ledger == nil {
		return errNoEngine
	}
	chain := model.Chain(lower(r.PathValue("chain")))
	addr, err := model.NormalizeAddress(chain, r.PathValue("address"))
	if err != nil {
		return badRequest("address: %v", err)
	}
	q := r.URL.Query()
	limit := 50
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > TransfersPage {
			return badRequest("limit must be 1..%d, not %q", TransfersPage, s)
		}
	}
	dir := store.Both
	switch q.Get("dir") {
	case "", "both":
	case "in":
		dir = store.In
	case "out":
		dir = store.Out
	default:
		return badRequest("dir must be in, out or both, not %q", q.Get("dir"))
	}
	cursor := q.Get("cursor")
	if len(cursor) > 200 {
		return badRequest("cursor: too long")
	}
	pg, err := h.opts.Ledger.Neighbors(r.Context(), chain, addr, dir, cursor, limit, true)
	if err != nil {
		if strings.Contains(err.Error(), "cursor") {
			return badRequest("cursor: %v", err)
		}
		return err
	}
	out := make([]transferJSON, len(pg.Edges))
	for i, e := range pg.Edges {
		d := "in"
		if e.Dir == store.Out {
			d = "out"
		}
		out[i] = transferJSON{Block: e.Block, Position: uint64(e.Position), Time: time.Unix(e.Time, 0).UTC().Format(time.RFC3339),
			Dir: d, Counterparty: e.Counterparty, Asset: e.Asset, Kind: e.Kind.String(), Amount: e.Amount.Dec()}
	}
	if err := h.fillHashes(r.Context(), chain, pg.Edges, out); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"chain": chain, "address": addr, "transfers": out, "next": pg.Next})
	return nil
}

// fillHashes adds transaction hashes from the graph index.
func (h *Handler) fillHashes(ctx context.Context, chain model.Chain, es []store.Edge, out []transferJSON) error {
	if h.opts.Graph == nil || len(es) == 0 {
		return nil
	}
	gr := h.opts.Graph.Reader()
	defer gr.Close()
	ch, ok := gr.Chain(chain)
	if !ok {
		return nil
	}
	var seqs []uint32
	var at []int
	for i, e := range es {
		if s, ok := ch.Locate(e.Block, e.Position); ok {
			seqs = append(seqs, s)
			at = append(at, i)
		}
	}
	hs, err := ch.TxHashes(ctx, seqs)
	if err != nil {
		return fmt.Errorf("tx hashes: %w", err)
	}
	for j, i := range at {
		out[i].Tx = hs[j]
	}
	return nil
}

// txLoc is where a transaction's transfers are.
type txLoc struct {
	chain model.Chain
	block uint64
}

// txIndex maps transaction hash prefixes to transfer seqs, per chain,
// built on the first transaction search of a chain.
type txIndex struct {
	mu     sync.Mutex
	chains map[model.Chain]*chainTx
}

type chainTx struct {
	n    int               // transfers indexed
	seqs map[uint64]uint32 // hashKey → first seq of the transaction (verified on use)
	coll map[string]uint32 // transactions whose key another transaction took first: hash → first seq
	err  error
}

// MaxTxIndex bounds the transfers of a chain the UI indexes by hash in
// memory; bigger chains answer transaction searches with an error.
const MaxTxIndex = 5_000_000

func newTxIndex() *txIndex { return &txIndex{chains: map[model.Chain]*chainTx{}} }

// hashKey is the 64-bit FNV-1a hash of a transaction hash's canonical
// text; ok is false when h is not 0x and 64 hex digits.
func hashKey(h string) (uint64, bool) {
	h = lower(h)
	if len(h) != 66 || !strings.HasPrefix(h, "0x") {
		return 0, false
	}
	if _, err := hex.DecodeString(h[2:]); err != nil {
		return 0, false
	}
	f := fnv.New64a()
	f.Write([]byte(h))
	return f.Sum64(), true
}

// findTx returns the chains and blocks holding a transaction.
func (h *Handler) findTx(ctx context.Context, hash string) ([]txLoc, error) {
	if h.opts.Graph == nil {
		return nil, nil
	}
	k, ok := hashKey(hash)
	if !ok {
		return nil, nil
	}
	gr := h.opts.Graph.Reader()
	defer gr.Close()
	var out []txLoc
	for _, c := range gr.Chains() {
		ch, _ := gr.Chain(c)
		seqs, err := h.txSeqs(ctx, ch, k, hash)
		if err != nil {
			return nil, err
		}
		if len(seqs) > 0 {
			bi := ch.BlockIndex(seqs[0])
			num, _, _, _ := ch.BlockAt(bi)
			out = append(out, txLoc{c, num})
		}
	}
	return out, nil
}

// txSeqs returns the seqs of a transaction's transfers on one chain.
func (h *Handler) txSeqs(ctx context.Context, ch *graph.Chain, k uint64, hash string) ([]uint32, error) {
	ct, err := h.txs.chain(ctx, ch)
	if err != nil {
		return nil, err
	}
	first, ok := ct.coll[lower(hash)]
	if !ok {
		if first, ok = ct.seqs[k]; !ok {
			return nil, nil
		}
	}
	// A transaction's transfers share a block: check the block's transfers.
	num, _, _, _ := ch.BlockAt(ch.BlockIndex(first))
	lo, hi, _ := ch.BlockRange(num)
	var cand []uint32
	for s := lo; s < hi; s++ {
		cand = append(cand, s)
	}
	hs, err := ch.TxHashes(ctx, cand)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for i, s := range cand {
		if strings.EqualFold(hs[i], hash) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (ix *txIndex) chain(ctx context.Context, ch *graph.Chain) (*chainTx, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ct, ok := ix.chains[ch.Name()]; ok && ct.n == ch.Len() && ct.err == nil {
		return ct, nil
	}
	n := ch.Len()
	if n > MaxTxIndex {
		return nil, badRequest("transaction search: %s has %d transfers, more than the %d the UI indexes; trace with its address instead", ch.Name(), n, MaxTxIndex)
	}
	ct := &chainTx{n: n, seqs: make(map[uint64]uint32, n), coll: map[string]uint32{}}
	last := ""
	const run = 1 << 16
	seqs := make([]uint32, 0, run)
	for lo := 0; lo < n; lo += run {
		seqs = seqs[:0]
		for s := lo; s < min(n, lo+run); s++ {
			seqs = append(seqs, uint32(s))
		}
		hs, err := ch.TxHashes(ctx, seqs)
		if err != nil {
			return nil, fmt.Errorf("index tx hashes of %s: %w", ch.Name(), err)
		}
		for i, hh := range hs {
			k, ok := hashKey(hh)
			if !ok || hh == last {
				continue
			}
			last = hh
			if _, taken := ct.seqs[k]; !taken {
				ct.seqs[k] = seqs[i]
			} else if _, seen := ct.coll[hh]; !seen {
				ct.coll[hh] = seqs[i] // a key collision, or a transaction seen again out of order
			}
		}
	}
	ix.chains[ch.Name()] = ct
	return ct, nil
}

// txTransfer is one transfer of a transaction.
type txTransfer struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Asset    string `json:"asset"`
	Amount   string `json:"amount"`
	Position uint64 `json:"position"`
}

func (h *Handler) tx(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Graph == nil {
		return errNoEngine
	}
	chain := model.Chain(lower(r.PathValue("chain")))
	hash := lower(r.PathValue("hash"))
	k, ok := hashKey(hash)
	if !ok || !strings.HasPrefix(hash, "0x") {
		return badRequest("hash: %q: want 0x and 64 hex digits", hash)
	}
	gr := h.opts.Graph.Reader()
	defer gr.Close()
	ch, ok := gr.Chain(chain)
	if !ok {
		return notFound("unknown chain %q", chain)
	}
	seqs, err := h.txSeqs(r.Context(), ch, k, hash)
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		return notFound("no transaction %s on %s", hash, chain)
	}
	num, t, _, _ := ch.BlockAt(ch.BlockIndex(seqs[0]))
	out := []txTransfer{}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, s := range seqs {
		tr := ch.Transfer(s)
		amt := ch.Amount(s)
		out = append(out, txTransfer{From: ch.Address(tr.Src), To: ch.Address(tr.Dst), Asset: ch.Asset(tr.Asset),
			Amount: amt.Dec(), Position: uint64(ch.Position(s))})
	}
	writeJSON(w, http.StatusOK, map[string]any{"chain": chain, "tx": hash, "block": num,
		"time": time.Unix(t, 0).UTC().Format(time.RFC3339), "transfers": out})
	return nil
}
