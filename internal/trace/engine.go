package trace

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Engine runs traces over a graph with optional attributions and conversions.
type Engine struct {
	Graph       Graph
	Attributor  Attributor  // nil: no attributions, no category stops
	Conversions Conversions // nil: no swaps or bridges are followed
}

// evKey orders events of the sweep: time (multi-chain traces only), chain,
// view sequence (seq forward, ^seq backward), then outputs before inputs.
type evKey struct {
	t int64
	c int32
	s uint32
	k uint8
}

const (
	kOut uint8 = 0
	kIn  uint8 = 1
)

func (a evKey) less(b evKey) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if a.c != b.c {
		return a.c < b.c
	}
	if a.s != b.s {
		return a.s < b.s
	}
	return a.k < b.k
}

type chainState struct {
	name     model.Chain
	g        ChainGraph
	sinceSeq uint32
	lastBi   int
}

type nkey struct {
	c int32
	a uint32
}

type via struct {
	c     int32
	seq   uint32
	ok    bool
	asset uint32
}

type node struct {
	c     int32
	addr  uint32
	hop   int
	seed  bool
	stop  string // why it was not expanded; "" if expanded
	attrs []model.Attribution
	svc   *model.Attribution // the attribution that stopped it
	via   via                // first tainted arrival
	vias  []via              // first tainted arrival of each asset, in order
	hs    []*holder          // its holders, one per asset
	mix   *MixPool           // a demixed mixer pool (nil: not one)
}

// holder returns the node's holder of an asset.
func (n *node) holder(asset uint32) *holder {
	if n == nil {
		return nil
	}
	for _, h := range n.hs {
		if h.asset == asset {
			return h
		}
	}
	return nil
}

type pending struct {
	seq uint32
	t   tval
}

type holder struct {
	c      int32
	addr   uint32
	asset  uint32
	g      ChainGraph
	n      *node
	ins    []uint32 // view inputs (forward: In; backward: Out), in chain order
	outs   []uint32
	i, o   int
	source bool
	key    evKey
	done   bool
	hi     int
	pend   []pending

	bal, taint uint256.Int // haircut
	poisoned   bool        // poison
	q          fifo        // FIFO
	fifo       bool        // this holder follows FIFO (the policy, or a pool under MixerFIFO)
	win        *window     // a mixer pool's deposits within Request.MixMaxDelay (pool and fifo modes)
	recv, sent uint256.Int // tainted totals
	returned   uint256.Int // taint that came back to a seed
}

type flowKey struct {
	c   int32
	seq uint32
}

type arrival struct {
	amt         uint256.Int
	count       int
	first, last flowKey
}

type akey struct {
	c     int32
	a     uint32
	asset uint32
}

type convRec struct {
	conv      *Conversion
	in, out   flowKey
	tin, tout uint256.Int
}

var errStop = errors.New("trace stopped")

type engine struct {
	ctx       context.Context
	eng       *Engine
	req       *Request
	back      bool
	timeMode  bool
	chains    []*chainState
	chainIdx  map[model.Chain]int32
	stopCats  map[model.Category]bool
	heap      []*holder
	hslab     []holder // holders are allocated in chunks
	nslab     []node
	pendSlab  []pending
	hlist     []*holder
	nodes     map[nkey]*node
	flows     []flowRec // tainted transfers in emission order (a key may repeat)
	arrivals  map[akey]*arrival
	convs     []convRec
	injected  map[akey]*uint256.Int // per chain and asset (a unused)
	returned  map[akey]*uint256.Int // taint that came back to a seed
	seedSent  map[akey]*uint256.Int // taint a --tx seed sent
	dropped   map[akey]*uint256.Int // taint in flight when a limit stopped the trace (a unused)
	belowMin  map[akey]*uint256.Int // taint of transfers under Request.MinTaint, not followed (a unused)
	minOn     bool                  // Request.MinTaint applies to transfers of minAsset on chain minC
	minC      int32
	minAsset  uint32
	cur       evKey
	scanning  bool      // scan mode: holders found by address, no heap
	active    []*holder // scan mode: a holder of each address (nil: none)
	bits      []uint64  // scan mode: addresses with a holder
	nodeAt    []*node   // scan mode: the node of each address of the scanned chain
	scanChain int32
	touched   int64
	truncated string
	buf       []uint32
}

// Run runs one trace.
func (E *Engine) Run(ctx context.Context, req Request) (*Result, error) {
	e, err := E.start(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := e.sweep(); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	// The sweep checks the context every 65,536 transfers; a small trace
	// may finish between checks, after its deadline.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.result()
}

// start checks the request and seeds the sweep.
func (E *Engine) start(ctx context.Context, req Request) (*engine, error) {
	if err := req.normalize(); err != nil {
		return nil, err
	}
	e := &engine{ctx: ctx, eng: E, req: &req, back: req.Direction == Backward,
		chainIdx: map[model.Chain]int32{}, stopCats: map[model.Category]bool{},
		nodes:    map[nkey]*node{},
		arrivals: map[akey]*arrival{}, injected: map[akey]*uint256.Int{},
		returned: map[akey]*uint256.Int{}, seedSent: map[akey]*uint256.Int{}, dropped: map[akey]*uint256.Int{},
		belowMin: map[akey]*uint256.Int{}}
	for _, c := range req.Categories {
		e.stopCats[c] = true
	}
	if cc, ok := E.Conversions.(interface{ CrossChain() bool }); ok && cc.CrossChain() && !req.NoBridges {
		e.timeMode = true
	}
	c0, err := e.chain(req.Chain)
	if err != nil {
		return nil, err
	}
	ch := e.chains[c0]
	if !req.Since.IsZero() {
		ch.sinceSeq = ch.g.FirstAtOrAfter(req.Since.Unix())
		if int(ch.sinceSeq) >= ch.g.Len() {
			return nil, fmt.Errorf("%w: --since %s is after the last indexed block of %s", ErrBadRequest, req.Since.UTC().Format(time.RFC3339), req.Chain)
		}
	}
	ids := make([]uint32, len(req.From))
	for i, a := range req.From {
		id, ok := ch.g.Lookup(a)
		if !ok {
			return nil, fmt.Errorf("%w: %s has no indexed transfers on %s", ErrUnknownAddress, a, req.Chain)
		}
		ids[i] = id
	}
	var assets []uint32
	if req.Asset != "" {
		a, ok := ch.g.AssetID(req.Asset)
		if !ok {
			return nil, fmt.Errorf("%w: %s has no indexed transfers on %s", ErrUnknownAsset, req.Asset, req.Chain)
		}
		assets = []uint32{a}
	}
	for _, id := range ids {
		n := e.newNode(c0, id, 0, via{}, uint32(ch.g.Len()-1))
		n.seed = true
	}
	if req.Tx != "" {
		err = e.seedTx(c0, ids, assets)
	} else {
		if assets == nil {
			a, ok := ch.g.AssetID(model.NativeAsset)
			if !ok {
				return nil, fmt.Errorf("%w: %s has no native transfers indexed; pass --asset", ErrUnknownAsset, req.Chain)
			}
			assets = []uint32{a}
		}
		e.seedSources(c0, ids, assets)
	}
	if err != nil {
		return nil, err
	}
	if !req.MinTaint.IsZero() {
		if len(assets) != 1 {
			return nil, fmt.Errorf("%w: a minimum taint needs one traced asset (pass --asset)", ErrBadRequest)
		}
		e.minOn, e.minC, e.minAsset = true, c0, assets[0]
	}
	return e, nil
}

func (e *engine) chain(name model.Chain) (int32, error) {
	if i, ok := e.chainIdx[name]; ok {
		return i, nil
	}
	g, ok := e.eng.Graph.Chain(name)
	if !ok {
		return 0, fmt.Errorf("%w: %s is not in the graph index", ErrUnknownChain, name)
	}
	i := int32(len(e.chains))
	e.chains = append(e.chains, &chainState{name: name, g: g, lastBi: -1})
	e.chainIdx[name] = i
	return i, nil
}

// seedSources makes each seed a source: its outputs (forward: transfers
// sent; backward: transfers received) at or after --since are fully tainted.
func (e *engine) seedSources(c int32, ids []uint32, assets []uint32) {
	ch := e.chains[c]
	for _, id := range ids {
		for _, a := range assets {
			h := e.newHolder()
			*h = holder{c: c, addr: id, asset: a, g: ch.g, n: e.nodes[nkey{c, id}], source: true}
			var outs []uint32
			if e.back {
				outs = ch.g.In(id, nil)
			} else {
				outs = ch.g.Out(id, nil)
			}
			k := sort.Search(len(outs), func(i int) bool { return outs[i] >= ch.sinceSeq })
			h.outs = append([]uint32(nil), outs[k:]...)
			h.n.hs = append(h.n.hs, h)
			e.hlist = append(e.hlist, h)
			e.refresh(h)
			if !h.done {
				e.push(h)
			}
		}
	}
}

// seedTx taints the transfers of one transaction sent (forward) or received
// (backward) by the seeds.
func (e *engine) seedTx(c int32, ids []uint32, assets []uint32) error {
	ch := e.chains[c]
	var cand []uint32
	for _, id := range ids {
		var l []uint32
		if e.back {
			l = ch.g.In(id, nil)
		} else {
			l = ch.g.Out(id, nil)
		}
		k := sort.Search(len(l), func(i int) bool { return l[i] >= ch.sinceSeq })
		cand = append(cand, l[k:]...)
	}
	const maxCand = 1_000_000
	if len(cand) > maxCand {
		return fmt.Errorf("%w: the seeds have %d transfers to search for --tx; narrow them with --since", ErrBadRequest, len(cand))
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i] < cand[j] })
	hashes, err := ch.g.TxHashes(e.ctx, cand)
	if err != nil {
		return err
	}
	var seeds []uint32
	for i, s := range cand {
		if hashes[i] != e.req.Tx {
			continue
		}
		if assets != nil && ch.g.Transfer(s).Asset != assets[0] {
			continue
		}
		if i > 0 && cand[i-1] == s {
			continue
		}
		seeds = append(seeds, s)
	}
	if len(seeds) == 0 {
		what := "sent by"
		if e.back {
			what = "received by"
		}
		return fmt.Errorf("%w: %s has no transfers %s the seed addresses on %s", ErrUnknownTx, e.req.Tx, what, ch.name)
	}
	if e.back {
		sort.Slice(seeds, func(i, j int) bool { return seeds[i] > seeds[j] })
	}
	e.cur = e.key(c, seeds[0], kOut)
	for _, s := range seeds {
		tr := ch.g.Transfer(s)
		amt := ch.g.Amount(s)
		x := &tval{amt: amt}
		if e.req.Policy == FIFO {
			x.segs = []seg{{n: amt, t: true}}
		}
		e.inject(c, tr.Asset, &amt)
		seed := tr.Src
		if e.back {
			seed = tr.Dst
		}
		e.add(e.seedSent, akey{c, seed, tr.Asset}, &amt)
		if err := e.emit(c, 0, s, tr, x); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) inject(c int32, asset uint32, amt *uint256.Int) {
	e.add(e.injected, akey{c: c, asset: asset}, amt)
}

func (e *engine) add(m map[akey]*uint256.Int, k akey, amt *uint256.Int) {
	v := m[k]
	if v == nil {
		v = new(uint256.Int)
		m[k] = v
	}
	v.Add(v, amt)
}

// vs maps a seq to its place in the sweep order.
func (e *engine) vs(seq uint32) uint32 {
	if e.back {
		return ^seq
	}
	return seq
}

func (e *engine) key(c int32, seq uint32, k uint8) evKey {
	ek := evKey{c: c, s: e.vs(seq), k: k}
	if e.timeMode {
		t := e.timeOf(c, seq)
		if e.back {
			t = -t
		}
		ek.t = t
	}
	return ek
}

func (e *engine) timeOf(c int32, seq uint32) int64 {
	ch := e.chains[c]
	if bi := ch.lastBi; bi >= 0 {
		_, t, first, end := ch.g.BlockAt(bi)
		if seq >= first && seq < end {
			return t
		}
	}
	bi := ch.g.BlockIndex(seq)
	ch.lastBi = bi
	_, t, _, _ := ch.g.BlockAt(bi)
	return t
}

func (h *holder) peek(l []uint32, i int, back bool) (uint32, bool) {
	if i >= len(l) {
		return 0, false
	}
	if back {
		return l[len(l)-1-i], true
	}
	return l[i], true
}

// refresh computes the holder's next event key.
func (e *engine) refresh(h *holder) {
	in, okIn := h.peek(h.ins, h.i, e.back)
	out, okOut := h.peek(h.outs, h.o, e.back)
	switch {
	case !okIn && !okOut:
		h.done = true
	case okOut && (!okIn || e.vs(out) <= e.vs(in)):
		h.key = e.key(h.c, out, kOut)
	default:
		h.key = e.key(h.c, in, kIn)
	}
}

// sweep processes events in order until none are left or a limit is hit.
func (e *engine) sweep() error {
	for len(e.heap) > 0 {
		if len(e.heap) > scanThreshold && !e.timeMode {
			return e.scan()
		}
		h := e.heap[0]
		e.cur = h.key
		if err := e.step(h); err != nil {
			return err
		}
		e.refresh(h)
		if h.done {
			e.pop()
		} else {
			e.down(0)
		}
		if e.touched&0xffff == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		if e.touched >= int64(e.req.MaxTouched) {
			return e.truncate(fmt.Sprintf("max touched: read %d transfers, limit %d", e.touched, e.req.MaxTouched))
		}
	}
	return nil
}

func (e *engine) truncate(reason string) error {
	if e.truncated == "" {
		e.truncated = reason
	}
	return errStop
}

// step processes the holder's next event and advances it.
func (e *engine) step(h *holder) error {
	var seq uint32
	isOut := h.key.k == kOut
	if isOut {
		seq, _ = h.peek(h.outs, h.o, e.back)
		h.o++
	} else {
		seq, _ = h.peek(h.ins, h.i, e.back)
		h.i++
	}
	e.touched++
	tr := h.g.Transfer(seq)
	if tr.Asset != h.asset || skipLinked(h, seq) {
		return nil
	}
	var v uint256.Int
	if tr.Big {
		v = h.g.Amount(seq)
	} else {
		v.SetUint64(tr.Amount)
	}
	if !isOut {
		var p *tval
		if len(h.pend) > 0 && h.pend[0].seq == seq {
			p = &h.pend[0].t
			h.pend = h.pend[1:]
		}
		e.in(h, seq, &v, p)
		return nil
	}
	x, ok := e.out(h, seq, &v)
	if !ok {
		return nil
	}
	if e.dust(h, tr.Asset, &x) {
		return nil
	}
	return e.emit(h.c, h.n.hop, seq, tr, &x)
}

func (e *engine) in(h *holder, seq uint32, v *uint256.Int, p *tval) {
	if h.source {
		if p != nil {
			h.returned.Add(&h.returned, &p.amt)
		}
		return
	}
	if p != nil {
		h.recv.Add(&h.recv, &p.amt)
	}
	if h.win != nil {
		var t uint256.Int
		if p != nil {
			t = p.amt
		}
		h.win.add(e.timeOf(h.c, seq), v, &t)
		return
	}
	switch e.pol(h) {
	case Poison:
		if p != nil && !p.amt.IsZero() {
			h.poisoned = true
		}
	case Haircut:
		h.bal.Add(&h.bal, v)
		if p != nil {
			h.taint.Add(&h.taint, &p.amt)
		}
	case FIFO:
		switch {
		case p == nil:
			h.q.push(v, false)
		case len(p.segs) == 0:
			// Taint from a holder that keeps no order (a pool under
			// MixerFIFO fed by a haircut or poison trace): its tainted
			// units first, as across conversions.
			var rest uint256.Int
			if v.Gt(&p.amt) {
				rest.Sub(v, &p.amt)
			}
			h.q.push(&p.amt, true)
			h.q.push(&rest, false)
		default:
			for i := range p.segs {
				h.q.push(&p.segs[i].n, p.segs[i].t)
			}
		}
	}
}

// dust reports whether taint x leaving holder h in asset is under the
// request's explicit MinTaint; if so it is accounted as below_min and the
// transfer is not followed.
func (e *engine) dust(h *holder, asset uint32, x *tval) bool {
	if !e.minOn || h.source || h.c != e.minC || asset != e.minAsset || !x.amt.Lt(&e.req.MinTaint) {
		return false
	}
	e.add(e.belowMin, akey{c: h.c, asset: asset}, &x.amt)
	return true
}

// pol is the policy holder h follows: the request's, or FIFO for a mixer
// pool under MixerFIFO.
func (e *engine) pol(h *holder) Policy {
	if h.fifo {
		return FIFO
	}
	return e.req.Policy
}

// out computes the taint of an output of v units; false if none.
func (e *engine) out(h *holder, seq uint32, v *uint256.Int) (x tval, ok bool) {
	if v.IsZero() {
		return x, false
	}
	switch {
	case h.source:
		x.amt = *v
		if e.req.Policy == FIFO {
			x.segs = []seg{{n: *v, t: true}}
		}
		e.inject(h.c, h.asset, v)
	case h.win != nil:
		x.amt = h.win.take(e.timeOf(h.c, seq), v, e.pol(h))
	case h.fifo:
		if h.q.total.IsZero() {
			return x, false
		}
		x.segs, x.amt = h.q.pop(v, nil)
	case e.req.Policy == Poison:
		if !h.poisoned {
			return x, false
		}
		x.amt = *v
	case e.req.Policy == Haircut:
		if h.bal.Lt(v) {
			h.bal = *v
		}
		if !h.taint.IsZero() {
			x.amt = mulDiv(&h.taint, v, &h.bal)
			h.taint.Sub(&h.taint, &x.amt)
		}
		h.bal.Sub(&h.bal, v)
	}
	if x.amt.IsZero() {
		return x, false
	}
	h.sent.Add(&h.sent, &x.amt)
	return x, true
}
