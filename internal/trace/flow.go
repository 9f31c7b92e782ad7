package trace

import (
	"fmt"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

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
	if e.nodeAt != nil && c == e.scanChain {
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
	if n.mix != nil {
		// A deposit (backward: withdrawal) a demixing heuristic linked
		// crosses the pool like a conversion.
		if conv, ok := n.mix.link(seq, e.back); ok {
			if done, err := e.convert(c, addr, hop-1, seq, x, conv); done || err != nil {
				return err
			}
		}
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
	if h.win != nil {
		h.win.expired.Add(&h.win.expired, &x.amt) // held at the pool
		return
	}
	switch e.pol(h) {
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
	if e.nodeAt != nil && c == e.scanChain {
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
	if n.mix = e.mixPool(c, addr, n.attrs); n.mix != nil && e.req.Mixer >= MixerPool {
		return n // followed as an ordinary address, whatever its degree
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
	// A mixer pool under --mixer fifo releases its units in arrival order.
	h.fifo = e.req.Policy == FIFO || (e.req.Mixer == MixerFIFO && n.mix != nil)
	if n.mix != nil && e.req.Mixer >= MixerPool && e.req.MixMaxDelay > 0 {
		h.win = &window{w: int64(e.req.MixMaxDelay / time.Second)}
	}
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
	if e.pol(h) == Poison && !e.timeMode && h.win == nil {
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
		if c == e.scanChain {
			e.markActive(h)
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
	if h.win != nil {
		// Coins never withdrawn: in reversed time they arrive first, at
		// the pool's last transfer.
		last := h.outs[len(h.outs)-1]
		if len(h.ins) > 0 && h.ins[len(h.ins)-1] > last {
			last = h.ins[len(h.ins)-1]
		}
		h.win.add(e.timeOf(h.c, last), &in, new(uint256.Int))
		return
	}
	switch e.pol(h) {
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
