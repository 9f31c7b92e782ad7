package exposure

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// The computation (docs/exposure.md, "Method"). For a direction, an
// address y, an asset and a level k ≥ 1, node (y, k) lists y's transfers of
// the asset in that direction (backward: received, in chain order; forward:
// sent, in reverse chain order), up to the as-of cutoff, self-transfers
// excluded. Along that list it keeps prefix sums of the values (cumR) and,
// per category, of the exposed amounts (cum). The exposed amount of edge e
// (value v, counterparty z, sequence s) is, for each category c:
//
//	v                          if z is attributed to c at the as-of date
//	floor(v · X_c / R)         else, if k > 1 and z is expanded, where R and X_c
//	                           are node (z, k−1)'s prefix sums over its edges
//	                           before s (backward: seq < s; forward: seq > s)
//	0                          otherwise
//
// Nodes are extended lazily, only as far as some parent needs, and
// memoized; the recursion strictly lowers k, so it ends.

type nkey struct {
	addr  uint32
	asset uint32
	level uint8
	fwd   bool
}

type catCum struct {
	cat uint8
	cum []uint256.Int // len done+1
}

type node struct {
	addr  uint32
	asset uint32
	level int
	fwd   bool
	raw   []uint32 // the address's transfers on this side, all assets, chain order
	next  int      // next raw index to filter (backward: upward; forward: downward to lo)
	lo    int      // first raw index in scope (the scored address: its most recent MaxTargetTransfers)
	edges []uint32 // seqs of the filtered transfers in processing order
	done  int
	cumR  []uint256.Int // len done+1
	cats  []catCum
}

// before returns how many of n's edges precede seq in processing order
// (backward: seq' < seq; forward: seq' > seq).
func (n *node) before(seq uint32) int {
	if n.fwd {
		return sort.Search(len(n.edges), func(i int) bool { return n.edges[i] <= seq })
	}
	return sort.Search(len(n.edges), func(i int) bool { return n.edges[i] >= seq })
}

func (n *node) cat(c uint8) *catCum {
	for i := range n.cats {
		if n.cats[i].cat == c {
			return &n.cats[i]
		}
	}
	return nil
}

// who is a counterparty's attribution at the as-of date.
type who struct {
	mask  uint16 // bit i: taxonomy[i]
	attrs []model.Attribution
}

type catAmt struct {
	cat uint8
	amt uint256.Int
}

type run struct {
	ctx     context.Context
	e       *Engine
	c       *graph.Chain
	attr    Attributor
	req     *Request
	cutoff  uint32 // transfers with seq < cutoff count
	nodes   map[nkey]*node
	whos    map[uint32]*who
	hubs    map[uint32]bool
	work    int64
	trunc   string
	target  uint32
	err     error // context error, sticky
	steps   int
	pending []pendingPath
	bits    []uint64 // attributed address ids; nil: look every address up
}

var nobody = &who{}

func (r *run) truncate(reason string) {
	if r.trunc == "" {
		r.trunc = reason
	}
}

func (r *run) who(id uint32) *who {
	if r.bits != nil && (int(id/64) >= len(r.bits) || r.bits[id/64]&(1<<(id%64)) == 0) {
		return nobody
	}
	if w, ok := r.whos[id]; ok {
		return w
	}
	w := &who{}
	if r.attr != nil {
		w.attrs = r.attr.Lookup(r.req.Chain, r.c.Address(id), r.req.AsOf)
		for _, a := range w.attrs {
			w.mask |= 1 << catOf(a.Category)
		}
	}
	r.whos[id] = w
	return w
}

func (r *run) amount(t graph.Transfer, seq uint32) uint256.Int {
	if !t.Big {
		return *uint256.NewInt(t.Amount)
	}
	return r.c.Amount(seq)
}

// node returns the state of (addr, asset, level, direction), creating it;
// nil when the address is not expanded (hub, or a limit was reached).
func (r *run) node(addr, asset uint32, level int, fwd bool) *node {
	k := nkey{addr, asset, uint8(level), fwd}
	if n, ok := r.nodes[k]; ok {
		return n
	}
	if addr != r.target {
		if r.c.Degree(addr) > r.e.opts.MaxDegree {
			r.hubs[addr] = true
			return nil
		}
		if r.work >= int64(r.e.opts.MaxWork) {
			r.truncate(fmt.Sprintf("max work: read %d transfers, limit %d", r.work, r.e.opts.MaxWork))
			return nil
		}
		if len(r.nodes) >= r.e.opts.MaxNodes {
			r.truncate(fmt.Sprintf("max nodes: %d", r.e.opts.MaxNodes))
			return nil
		}
	}
	n := &node{addr: addr, asset: asset, level: level, fwd: fwd}
	// The address's transfers in chain order; with a nil buffer the list
	// aliases the index or is a fresh copy, so it stays valid while the run
	// holds its read view. Edges are filtered from it lazily (pull).
	if fwd {
		n.raw = r.c.Out(addr, nil)
	} else {
		n.raw = r.c.In(addr, nil)
	}
	end := sort.Search(len(n.raw), func(i int) bool { return n.raw[i] >= r.cutoff })
	if max := r.e.opts.MaxTargetTransfers; addr == r.target && end > max {
		// A huge address is scored over its most recent transfers only.
		n.lo = end - max
		side := "received"
		if fwd {
			side = "sent"
		}
		r.truncate(fmt.Sprintf("scored over the most recent %d of the %d transfers the address %s", max, end, side))
	}
	if fwd {
		n.next = end - 1
	} else {
		n.next = n.lo
	}
	n.cumR = make([]uint256.Int, 1, 8)
	r.nodes[k] = n
	return n
}

// pull filters n's raw transfers into its edges, in processing order, until
// the next one is not before seq (all: to the end).
func (r *run) pull(n *node, seq uint32, all bool) {
	start := n.next
	if n.fwd {
		for ; n.next >= n.lo && (all || n.raw[n.next] > seq); n.next-- {
			n.take(r.c, n.raw[n.next])
		}
		r.work += int64(start - n.next)
		return
	}
	for ; n.next < len(n.raw) && n.raw[n.next] < r.cutoff && (all || n.raw[n.next] < seq); n.next++ {
		n.take(r.c, n.raw[n.next])
	}
	r.work += int64(n.next - start)
}

func (n *node) take(c *graph.Chain, s uint32) {
	t := c.Transfer(s)
	if t.Asset == n.asset && t.Src != t.Dst {
		n.edges = append(n.edges, s)
	}
}

// extend processes n's edges up to (not including) index upto.
func (r *run) extend(n *node, asset uint32, upto int) {
	var exps [nCats]catAmt
	for n.done < upto {
		i := n.done
		seq := n.edges[i]
		if r.steps++; r.steps&0x3ff == 0 && r.err == nil {
			r.err = r.ctx.Err()
		}
		t := r.c.Transfer(seq)
		cp := t.Src
		if n.fwd {
			cp = t.Dst
		}
		v := r.amount(t, seq)
		ne := 0
		w := r.who(cp)
		switch {
		case w.mask != 0:
			for c := 0; c < len(taxonomy); c++ {
				if w.mask&(1<<c) != 0 {
					exps[ne] = catAmt{uint8(c), v}
					ne++
				}
			}
		case n.level > 1 && r.err == nil:
			child := r.node(cp, asset, n.level-1, n.fwd)
			if child == nil {
				break
			}
			r.pull(child, seq, false)
			k := child.before(seq)
			r.extend(child, asset, k)
			R := &child.cumR[k]
			if R.IsZero() {
				break
			}
			for ci := range child.cats {
				X := &child.cats[ci].cum[k]
				if X.IsZero() {
					continue
				}
				var z uint256.Int
				z.MulDivOverflow(&v, X, R) // X ≤ R, so z ≤ v: no overflow
				if !z.IsZero() {
					exps[ne] = catAmt{child.cats[ci].cat, z}
					ne++
				}
			}
		}
		var sum uint256.Int
		if _, over := sum.AddOverflow(&n.cumR[i], &v); over {
			sum.SetAllOne()
			r.truncate(fmt.Sprintf("sum of %s values exceeds 256 bits", r.c.Asset(asset)))
		}
		n.cumR = append(n.cumR, sum)
		for ci := range n.cats {
			cc := &n.cats[ci]
			cc.cum = append(cc.cum, cc.cum[i])
		}
		for _, x := range exps[:ne] {
			cc := n.cat(x.cat)
			if cc == nil {
				n.cats = append(n.cats, catCum{cat: x.cat, cum: make([]uint256.Int, i+2, cap(n.cumR))})
				cc = &n.cats[len(n.cats)-1]
			}
			// cum ≤ cumR, which did not overflow unless flagged.
			if _, over := cc.cum[i+1].AddOverflow(&cc.cum[i+1], &x.amt); over {
				cc.cum[i+1].SetAllOne()
			}
		}
		n.done++
	}
}

// compute scores one normalized request over a read view of the graph.
func (e *Engine) compute(ctx context.Context, gr *graph.Reader, attr Attributor, gen uint64, req *Request) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Schema: SchemaVersion, Chain: string(req.Chain), Address: req.Address,
		AsOf: req.AsOf.Format("2006-01-02"), Hops: req.Hops, Attributions: []Attr{}, Assets: []AssetExposure{}}
	if attr != nil {
		for _, a := range attr.Lookup(req.Chain, req.Address, req.AsOf) {
			res.Attributions = append(res.Attributions, toAttr(a))
		}
	}
	c, ok := gr.Chain(req.Chain)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not indexed", ErrUnknownChain, req.Chain)
	}
	id, ok := c.Lookup(req.Address)
	if !ok {
		return res, nil
	}
	end := req.AsOf.AddDate(0, 0, 1).Unix()
	cutoff := uint32(c.Len())
	if end < math.MaxInt64 {
		cutoff = c.FirstAtOrAfter(end)
	}
	r := &run{ctx: ctx, e: e, c: c, attr: attr, req: req, cutoff: cutoff, nodes: map[nkey]*node{},
		whos: map[uint32]*who{}, hubs: map[uint32]bool{}, target: id}
	if attr != nil {
		r.bits = e.sets.bitmap(attr, gen, c)
	}
	// The assets the address moved up to the cutoff, in asset id order.
	var assets []uint32
	seen := map[uint32]bool{}
	for _, l := range [][]uint32{c.In(id, nil), c.Out(id, nil)} {
		for _, s := range l {
			if s >= cutoff {
				break
			}
			a := c.Transfer(s).Asset
			if !seen[a] {
				seen[a] = true
				assets = append(assets, a)
			}
		}
	}
	sort.Slice(assets, func(i, j int) bool { return assets[i] < assets[j] })
	for _, a := range assets {
		ax := AssetExposure{Asset: c.Asset(a)}
		var err error
		if ax.Source, err = r.side(a, false); err != nil {
			return nil, err
		}
		if ax.Destination, err = r.side(a, true); err != nil {
			return nil, err
		}
		if ax.Source.Transfers == 0 && ax.Destination.Transfers == 0 {
			continue // only self-transfers
		}
		res.Assets = append(res.Assets, ax)
	}
	if err := r.resolvePaths(res); err != nil {
		return nil, err
	}
	res.Known = len(res.Assets) > 0
	res.Truncated = r.trunc != ""
	res.Reason = r.trunc
	res.Stats = Stats{TransfersRead: r.work, Nodes: len(r.nodes), Hubs: len(r.hubs)}
	return res, nil
}

// side computes one direction of one asset for the target.
func (r *run) side(asset uint32, fwd bool) (Side, error) {
	s := Side{Categories: []CategoryExposure{}, Paths: []Path{}}
	top := r.node(r.target, asset, r.req.Hops, fwd)
	r.pull(top, 0, true)
	r.extend(top, asset, len(top.edges))
	direct := top
	if r.req.Hops > 1 {
		direct = r.node(r.target, asset, 1, fwd)
		r.pull(direct, 0, true)
		r.extend(direct, asset, len(direct.edges))
	}
	if r.err != nil {
		return s, r.err
	}
	last := len(top.edges)
	total := &top.cumR[last]
	s.Total = total.Dec()
	s.Transfers = last
	var cats []uint8
	for _, cc := range top.cats {
		if !cc.cum[last].IsZero() {
			cats = append(cats, cc.cat)
		}
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i] < cats[j] })
	for _, ci := range cats {
		ind := &top.cat(ci).cum[last]
		var dir uint256.Int
		if dc := direct.cat(ci); dc != nil {
			dir = dc.cum[last]
		}
		s.Categories = append(s.Categories, CategoryExposure{Category: string(taxonomy[ci]), Risky: ci < nRisky,
			Direct: dir.Dec(), DirectShare: share(&dir, total), Indirect: ind.Dec(), IndirectShare: share(ind, total)})
		if r.e.opts.TopPaths > 0 {
			s.Paths = append(s.Paths, r.paths(top, asset, ci)...)
		}
	}
	return s, nil
}

// share returns a/b as a float for display.
func share(a, b *uint256.Int) float64 {
	if b.IsZero() {
		return 0
	}
	return a.Float64() / b.Float64()
}

func fmtTime(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func toAttr(a model.Attribution) Attr {
	return Attr{Label: a.Label, Category: string(a.Category), Entity: a.Entity, Source: a.Source.Name, Confidence: int(a.Confidence)}
}
