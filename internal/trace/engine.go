package trace

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
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
		returned: map[akey]*uint256.Int{}, seedSent: map[akey]*uint256.Int{}, dropped: map[akey]*uint256.Int{}}
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

// scanThreshold is the number of active holders above which a
// single-chain sweep stops keeping a heap and scans the chain's transfers in
// order instead: O(transfers in range) with a bitmap test each, rather than
// O(events × log holders) with cache misses.
var scanThreshold = 512

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

// scan finishes a single-chain sweep by visiting every transfer from the
// current position to the end of the chain (in view order).
func (e *engine) scan() error {
	c := e.heap[0].key.c
	start := e.heap[0].key
	ch := e.chains[c]
	g := ch.g
	e.nodeAt = make([]*node, g.NumAddresses())
	for k, n := range e.nodes {
		if k.c == c {
			e.nodeAt[k.a] = n
		}
	}
	e.active = make([]*holder, g.NumAddresses())
	e.bits = make([]uint64, (g.NumAddresses()+63)/64)
	for _, h := range e.hlist {
		if h.c == c && e.active[h.addr] == nil {
			e.active[h.addr] = h
			e.bits[h.addr/64] |= 1 << (h.addr % 64)
		}
	}
	e.heap = nil // from here on holders are found by address
	e.scanning, e.scanChain = true, c
	n := uint32(g.Len())
	seq := start.s
	if e.back {
		seq = ^start.s
	}
	skipOut := start.k == kIn
	// Graphs that expose their columns are scanned without a call per transfer.
	var cols struct {
		src, dst, asset []uint32
		amount          []uint64
	}
	if cg, ok := g.(interface {
		Columns() (src, dst, asset []uint32, amount []uint64)
	}); ok {
		cols.src, cols.dst, cols.asset, cols.amount = cg.Columns()
	}
	for {
		if e.back && seq >= n { // wrapped below 0
			return nil
		}
		if !e.back && seq >= n {
			return nil
		}
		var tr graph.Transfer
		if cols.src != nil {
			a := cols.amount[seq]
			tr = graph.Transfer{Src: cols.src[seq], Dst: cols.dst[seq], Asset: cols.asset[seq], Amount: a, Big: a == ^uint64(0)}
		} else {
			tr = g.Transfer(seq)
		}
		e.touched++
		snd, rcv := tr.Src, tr.Dst
		if e.back {
			snd, rcv = rcv, snd
		}
		var v uint256.Int
		loaded := false
		if e.bits[snd/64]&(1<<(snd%64)) != 0 && !skipOut {
			h := e.active[snd]
			if h.asset != tr.Asset {
				h = h.n.holder(tr.Asset)
			}
			if h != nil {
				e.cur = evKey{c: c, s: e.vs(seq), k: kOut}
				v, loaded = e.amount(g, seq, tr), true
				if x, ok := e.out(h, seq, &v); ok {
					if err := e.emit(c, h.n.hop, seq, tr, &x); err != nil {
						return err
					}
				}
			}
		}
		skipOut = false
		if e.bits[rcv/64]&(1<<(rcv%64)) != 0 {
			h := e.active[rcv]
			if h.asset != tr.Asset {
				h = h.n.holder(tr.Asset)
			}
			if h != nil {
				e.cur = evKey{c: c, s: e.vs(seq), k: kIn}
				if !loaded {
					v = e.amount(g, seq, tr)
				}
				var p *tval
				if len(h.pend) > 0 && h.pend[0].seq == seq {
					p = &h.pend[0].t
					h.pend = h.pend[1:]
				}
				e.in(h, &v, p)
			}
		}
		if e.touched&0xffff == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		if e.touched >= int64(e.req.MaxTouched) {
			return e.truncate(fmt.Sprintf("max touched: read %d transfers, limit %d", e.touched, e.req.MaxTouched))
		}
		if e.back {
			seq--
		} else {
			seq++
		}
	}
}

func (e *engine) amount(g ChainGraph, seq uint32, tr graph.Transfer) uint256.Int {
	if tr.Big {
		return g.Amount(seq)
	}
	var v uint256.Int
	v.SetUint64(tr.Amount)
	return v
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
	if tr.Asset != h.asset {
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
		e.in(h, &v, p)
		return nil
	}
	x, ok := e.out(h, seq, &v)
	if !ok {
		return nil
	}
	return e.emit(h.c, h.n.hop, seq, tr, &x)
}

func (e *engine) in(h *holder, v *uint256.Int, p *tval) {
	if h.source {
		if p != nil {
			h.returned.Add(&h.returned, &p.amt)
		}
		return
	}
	if p != nil {
		h.recv.Add(&h.recv, &p.amt)
	}
	switch e.req.Policy {
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
		if p == nil {
			h.q.push(v, false)
		} else {
			for i := range p.segs {
				h.q.push(&p.segs[i].n, p.segs[i].t)
			}
		}
	}
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
	case e.req.Policy == FIFO:
		if h.q.total.IsZero() {
			return x, false
		}
		x.segs, x.amt = h.q.pop(v, nil)
	}
	if x.amt.IsZero() {
		return x, false
	}
	h.sent.Add(&h.sent, &x.amt)
	return x, true
}

// emit sends taint x along transfer seq from address `from` (hop hops from
// a seed): across a conversion if one starts there, else to the receiver.
func (e *engine) emit(c int32, hop int, seq uint32, tr graph.Transfer, x *tval) error {
	if err := e.addFlow(c, seq, &x.amt); err != nil {
		e.add(e.dropped, akey{c: c, asset: tr.Asset}, &x.amt)
		return err
	}
	recv := tr.Dst
	if e.back {
		recv = tr.Src
	}
	if e.eng.Conversions != nil {
		ch := e.chains[c]
		num, _, _, _ := ch.g.BlockAt(e.blockIndex(c, seq))
		leg := Leg{Chain: ch.name, Block: num, Position: ch.g.Position(seq)}
		var conv *Conversion
		var ok bool
		if e.back {
			conv, ok = e.eng.Conversions.ByOut(leg)
		} else {
			conv, ok = e.eng.Conversions.ByIn(leg)
		}
		if ok && !(conv.Kind == Swap && e.req.NoSwaps) && !(conv.Kind == Bridge && e.req.NoBridges) {
			done, err := e.convert(c, recv, hop, seq, x, conv)
			if done || err != nil {
				return err
			}
		}
	}
	return e.deliver(c, seq, recv, tr.Asset, x, hop+1, via{c: c, seq: seq, ok: true})
}

func (e *engine) blockIndex(c int32, seq uint32) int {
	ch := e.chains[c]
	if bi := ch.lastBi; bi >= 0 {
		_, _, first, end := ch.g.BlockAt(bi)
		if seq >= first && seq < end {
			return bi
		}
	}
	bi := ch.g.BlockIndex(seq)
	ch.lastBi = bi
	return bi
}

type flowRec struct {
	k   flowKey
	amt uint256.Int
}

func (e *engine) addFlow(c int32, seq uint32, amt *uint256.Int) error {
	if len(e.flows) >= e.req.MaxEdges {
		return e.truncate(fmt.Sprintf("max edges: limit of %d tainted transfers reached", len(e.flows)))
	}
	e.flows = append(e.flows, flowRec{flowKey{c, seq}, *amt})
	return nil
}

// convert carries taint x across a conversion whose leg seq was reached.
// It reports false when the other leg is not indexed (the conversion's
// address then becomes an ordinary receiver).
func (e *engine) convert(c int32, recv uint32, hop int, seq uint32, x *tval, conv *Conversion) (bool, error) {
	other, num, den := conv.Out, &conv.AmountOut, &conv.AmountIn
	if e.back {
		other, num, den = conv.In, &conv.AmountIn, &conv.AmountOut
	}
	c2, err := e.chain(other.Chain)
	if err != nil {
		return false, nil
	}
	ch2 := e.chains[c2]
	seq2, ok := ch2.g.Locate(other.Block, other.Position)
	if !ok {
		return false, nil
	}
	here := e.chains[c].g.Amount(seq)
	there := ch2.g.Amount(seq2)
	if num.IsZero() || den.IsZero() {
		num, den = &there, &here
	}
	var y tval
	if !den.IsZero() {
		y.amt = mulDiv(&x.amt, num, den)
	}
	if y.amt.Gt(&there) {
		y.amt = there
	}
	if e.req.Policy == FIFO {
		var rest uint256.Int
		rest.Sub(&there, &y.amt)
		y.segs = appendSeg(appendSeg(nil, &y.amt, true), &rest, false)
	}
	rec := convRec{conv: conv, in: flowKey{c, seq}, out: flowKey{c2, seq2}, tin: x.amt, tout: y.amt}
	if e.back {
		rec.in, rec.out = rec.out, rec.in
		rec.tin, rec.tout = rec.tout, rec.tin
	}
	e.convs = append(e.convs, rec)
	if y.amt.IsZero() {
		return true, nil
	}
	if err := e.addFlow(c2, seq2, &y.amt); err != nil {
		e.add(e.dropped, akey{c: c2, asset: ch2.g.Transfer(seq2).Asset}, &y.amt)
		return true, err
	}
	tr2 := ch2.g.Transfer(seq2)
	r2 := tr2.Dst
	if e.back {
		r2 = tr2.Src
	}
	return true, e.deliver(c2, seq2, r2, tr2.Asset, &y, hop+1, via{c: c2, seq: seq2, ok: true})
}

// deliver hands taint x, carried by transfer seq, to address addr.
func (e *engine) deliver(c int32, seq uint32, addr, asset uint32, x *tval, hop int, v via) error {
	v.asset = asset
	var n *node
	if e.scanning && c == e.scanChain {
		n = e.nodeAt[addr]
	} else {
		n = e.nodes[nkey{c, addr}]
	}
	if n == nil {
		if len(e.nodes) >= e.req.MaxNodes {
			e.add(e.dropped, akey{c: c, asset: asset}, &x.amt)
			return e.truncate(fmt.Sprintf("max nodes: limit of %d addresses reached", len(e.nodes)))
		}
		n = e.newNode(c, addr, hop, v, seq)
	}
	if !n.seed {
		known := false
		for i := range n.vias {
			if n.vias[i].asset == asset {
				known = true
				break
			}
		}
		if !known {
			n.vias = append(n.vias, v)
		}
	}
	if n.seed {
		e.add(e.returned, akey{c, addr, asset}, &x.amt)
		return nil
	}
	if n.stop != "" {
		k := akey{c, addr, asset}
		a := e.arrivals[k]
		if a == nil {
			a = &arrival{first: flowKey{c, seq}}
			e.arrivals[k] = a
		}
		a.amt.Add(&a.amt, &x.amt)
		a.count++
		a.last = flowKey{c, seq}
		return nil
	}
	h := n.holder(asset)
	if h == nil {
		return e.activate(c, addr, asset, n, seq, x)
	}
	inKey := e.key(c, seq, kIn)
	if inKey.less(e.cur) || (!e.scanning && (h.done || inKey.less(h.key))) {
		e.late(h, x)
		return nil
	}
	i := sort.Search(len(h.pend), func(i int) bool { return !e.key(c, h.pend[i].seq, kIn).less(inKey) })
	if i < len(h.pend) && h.pend[i].seq == seq {
		h.pend[i].t.amt.Add(&h.pend[i].t.amt, &x.amt) // cannot happen: one sender per transfer
		return nil
	}
	h.pend = append(h.pend, pending{})
	copy(h.pend[i+1:], h.pend[i:])
	h.pend[i] = pending{seq: seq, t: *x}
	return nil
}

// late credits taint whose transfer the holder has already passed (a
// conversion whose output leg precedes its input leg).
func (e *engine) late(h *holder, x *tval) {
	if h.source {
		h.returned.Add(&h.returned, &x.amt)
		return
	}
	h.recv.Add(&h.recv, &x.amt)
	switch e.req.Policy {
	case Poison:
		h.poisoned = true
	case Haircut:
		h.taint.Add(&h.taint, &x.amt)
		if h.bal.Lt(&h.taint) {
			h.bal = h.taint
		}
	case FIFO:
		h.q.replaceFront(&x.amt)
	}
}

func (e *engine) newHolder() *holder {
	if len(e.hslab) == 0 {
		e.hslab = make([]holder, 256)
	}
	h := &e.hslab[0]
	e.hslab = e.hslab[1:]
	return h
}

func (e *engine) newNode(c int32, addr uint32, hop int, v via, seq uint32) *node {
	if len(e.nslab) == 0 {
		e.nslab = make([]node, 256)
	}
	n := &e.nslab[0]
	e.nslab = e.nslab[1:]
	*n = node{c: c, addr: addr, hop: hop, via: v}
	e.nodes[nkey{c, addr}] = n
	if e.scanning && c == e.scanChain {
		e.nodeAt[addr] = n
	}
	ch := e.chains[c]
	if e.eng.Attributor != nil {
		_, t, _, _ := ch.g.BlockAt(e.blockIndex(c, seq))
		n.attrs = e.eng.Attributor.Lookup(ch.name, ch.g.Address(addr), time.Unix(t, 0).UTC())
		sortAttrs(n.attrs)
	}
	if hop == 0 {
		return n
	}
	for i := range n.attrs {
		if e.stopCats[n.attrs[i].Category] {
			n.stop = string(n.attrs[i].Category)
			n.svc = &n.attrs[i]
			return n
		}
	}
	switch {
	case ch.g.Degree(addr) > e.req.MaxDegree:
		n.stop = "hub"
	case hop >= e.req.MaxHops:
		n.stop = "max-hops"
	}
	return n
}

func sortAttrs(a []model.Attribution) {
	sort.SliceStable(a, func(i, j int) bool {
		if a[i].Confidence != a[j].Confidence {
			return a[i].Confidence > a[j].Confidence
		}
		if a[i].Source.Name != a[j].Source.Name {
			return a[i].Source.Name < a[j].Source.Name
		}
		if a[i].Category != a[j].Category {
			return a[i].Category < a[j].Category
		}
		return a[i].Label < a[j].Label
	})
}

// activate creates the holder of (addr, asset), replays its history before
// the current sweep position to learn its balance, and queues it.
func (e *engine) activate(c int32, addr, asset uint32, n *node, seq uint32, x *tval) error {
	ch := e.chains[c]
	h := e.newHolder()
	*h = holder{c: c, addr: addr, asset: asset, g: ch.g, n: n}
	if e.back {
		h.ins, h.outs = ch.g.Out(addr, nil), ch.g.In(addr, nil)
	} else {
		h.ins, h.outs = ch.g.In(addr, nil), ch.g.Out(addr, nil)
	}
	if len(e.pendSlab) == 0 {
		e.pendSlab = make([]pending, 256)
	}
	h.pend = e.pendSlab[:1:1]
	e.pendSlab = e.pendSlab[1:]
	h.pend[0] = pending{seq: seq, t: *x}
	n.hs = append(n.hs, h)
	e.hlist = append(e.hlist, h)
	if e.req.Policy == Poison && !e.timeMode {
		// No balance to learn: jump to the sweep position.
		h.i = e.skip(h.ins, kIn)
		h.o = e.skip(h.outs, kOut)
		if inKey := e.key(c, seq, kIn); inKey.less(e.cur) {
			h.pend = nil
			e.late(h, x)
		}
	} else {
		if e.back {
			e.finalBalance(h)
		}
		for {
			e.refresh(h)
			if h.done || !h.key.less(e.cur) {
				break
			}
			if err := e.step(h); err != nil {
				return err
			}
		}
		h.done = false
	}
	if e.scanning {
		if c == e.scanChain && e.active[addr] == nil {
			e.active[addr] = h
			e.bits[addr/64] |= 1 << (addr % 64)
		}
		return nil
	}
	e.refresh(h)
	if !h.done {
		e.push(h)
	}
	return nil
}

// finalBalance starts a backward holder with the address's balance at the
// end of the index (received minus sent, at least zero): in reversed time
// those units arrive first. With it, the reversed balance at any point is
// the address's true balance, and backward FIFO is the exact inverse of
// forward FIFO.
func (e *engine) finalBalance(h *holder) {
	var in, out uint256.Int
	sum := func(l []uint32, z *uint256.Int) {
		for _, s := range l {
			e.touched++
			tr := h.g.Transfer(s)
			if tr.Asset != h.asset {
				continue
			}
			if tr.Big {
				v := h.g.Amount(s)
				z.Add(z, &v)
			} else {
				z.Add(z, uint256.NewInt(tr.Amount))
			}
		}
	}
	sum(h.outs, &in) // backward view: outputs are the transfers received
	sum(h.ins, &out)
	if !in.Gt(&out) {
		return
	}
	in.Sub(&in, &out)
	switch e.req.Policy {
	case Haircut:
		h.bal = in
	case FIFO:
		h.q.push(&in, false)
	}
}

// skip returns how many of l's events (in view order) come before the sweep position.
func (e *engine) skip(l []uint32, k uint8) int {
	return sort.Search(len(l), func(i int) bool {
		s := l[i]
		if e.back {
			s = l[len(l)-1-i]
		}
		return !e.key(e.cur.c, s, k).less(e.cur)
	})
}

// Heap of holders by next event key.

func (e *engine) push(h *holder) {
	h.hi = len(e.heap)
	e.heap = append(e.heap, h)
	e.up(h.hi)
}

func (e *engine) pop() {
	n := len(e.heap) - 1
	e.swap(0, n)
	e.heap = e.heap[:n]
	if n > 0 {
		e.down(0)
	}
}

func (e *engine) swap(i, j int) {
	e.heap[i], e.heap[j] = e.heap[j], e.heap[i]
	e.heap[i].hi, e.heap[j].hi = i, j
}

func (e *engine) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !e.heap[i].key.less(e.heap[p].key) {
			return
		}
		e.swap(i, p)
		i = p
	}
}

func (e *engine) down(i int) {
	n := len(e.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && e.heap[r].key.less(e.heap[l].key) {
			m = r
		}
		if !e.heap[m].key.less(e.heap[i].key) {
			return
		}
		e.swap(i, m)
		i = m
	}
}
