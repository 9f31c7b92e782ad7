package graph

import "sync/atomic"

// delta is the adjacency of the transfers appended since the CSR base was
// built: per transfer (seq ≥ first) the previous delta transfer of its
// sender and of its receiver with running counts, and per address the
// newest one. One writer appends; any number of views read at once.
//
// Entries are written once, before the head that points to them is stored
// (atomically), and live in fixed chunks that never move, so a reader that
// loads a head can follow the chain back. A view skips the entries newer
// than its own length: heads only ever move forward, and each entry's
// predecessors are older. A truncation or a merge starts a new delta; the
// old one, still read by old views, is never written again.
type delta struct {
	first  uint32
	chunks atomic.Pointer[[]*dchunk]
	heads  atomic.Pointer[[]atomic.Pointer[hpage]]
}

const (
	dchunkBits = 12
	hpageBits  = 10
)

// dentry links one delta transfer: prev is seq+1 of the previous delta
// transfer of the same sender (out) or receiver (in), 0 for none; cnt is
// the number of delta transfers of that address up to and including this
// one.
type dentry struct {
	prevOut, prevIn uint32
	cntOut, cntIn   uint32
}

type dchunk [1 << dchunkBits]dentry

// hpage holds the newest delta transfer (seq+1) of 1<<hpageBits addresses,
// out and in.
type hpage [1 << hpageBits][2]atomic.Uint32

func newDelta(first uint32) *delta {
	d := &delta{first: first}
	cs := []*dchunk{}
	d.chunks.Store(&cs)
	hs := make([]atomic.Pointer[hpage], 0)
	d.heads.Store(&hs)
	return d
}

func (d *delta) entry(seq uint32) *dentry {
	k := seq - d.first
	return &(*d.chunks.Load())[k>>dchunkBits][k&(1<<dchunkBits-1)]
}

// head returns seq+1 of the address's newest delta transfer in direction
// dir (0 out, 1 in), or 0.
func (d *delta) head(id uint32, dir int) uint32 {
	hs := *d.heads.Load()
	p := int(id >> hpageBits)
	if p >= len(hs) {
		return 0
	}
	pg := hs[p].Load()
	if pg == nil {
		return 0
	}
	return pg[id&(1<<hpageBits-1)][dir].Load()
}

// headSlot returns the writable head slot of an address (writer only).
func (d *delta) headSlot(id uint32, dir int) *atomic.Uint32 {
	hs := *d.heads.Load()
	p := int(id >> hpageBits)
	if p >= len(hs) {
		nh := make([]atomic.Pointer[hpage], max(p+1, 2*len(hs)))
		for i := range hs {
			nh[i].Store(hs[i].Load())
		}
		d.heads.Store(&nh)
		hs = nh
	}
	pg := hs[p].Load()
	if pg == nil {
		pg = new(hpage)
		hs[p].Store(pg)
	}
	return &pg[id&(1<<hpageBits-1)][dir]
}

// add links transfer seq from src to dst (writer only; seqs in order).
func (d *delta) add(seq, src, dst uint32) {
	k := seq - d.first
	cs := *d.chunks.Load()
	if int(k>>dchunkBits) >= len(cs) {
		ncs := make([]*dchunk, len(cs)+1)
		copy(ncs, cs)
		ncs[len(cs)] = new(dchunk)
		d.chunks.Store(&ncs)
		cs = ncs
	}
	e := &cs[k>>dchunkBits][k&(1<<dchunkBits-1)]
	ho, hi := d.headSlot(src, 0), d.headSlot(dst, 1)
	e.prevOut, e.prevIn = ho.Load(), hi.Load()
	e.cntOut, e.cntIn = 1, 1
	if e.prevOut != 0 {
		e.cntOut = d.entry(e.prevOut-1).cntOut + 1
	}
	if e.prevIn != 0 {
		e.cntIn = d.entry(e.prevIn-1).cntIn + 1
	}
	ho.Store(seq + 1)
	hi.Store(seq + 1)
}

// last returns seq+1 of the address's newest delta transfer before n in
// direction dir and how many it has before n (0, 0: none).
func (d *delta) last(id uint32, dir int, n uint32) (uint32, uint32) {
	h := d.head(id, dir)
	if h == 0 {
		return 0, 0
	}
	cs := *d.chunks.Load() // loaded after the head: holds its entry
	for h != 0 && h-1 >= n {
		h = at(cs, h-1-d.first).prev(dir)
	}
	if h == 0 {
		return 0, 0
	}
	return h, at(cs, h-1-d.first).cnt(dir)
}

func at(cs []*dchunk, k uint32) *dentry { return &cs[k>>dchunkBits][k&(1<<dchunkBits-1)] }

func (e *dentry) prev(dir int) uint32 {
	if dir == 0 {
		return e.prevOut
	}
	return e.prevIn
}

func (e *dentry) cnt(dir int) uint32 {
	if dir == 0 {
		return e.cntOut
	}
	return e.cntIn
}

// appendEdges appends the address's delta transfers before n, in chain
// order, to buf.
func (d *delta) appendEdges(buf []uint32, id uint32, dir int, n uint32) []uint32 {
	h, cnt := d.last(id, dir, n)
	if cnt == 0 {
		return buf
	}
	l := len(buf)
	if cap(buf)-l < int(cnt) {
		nb := make([]uint32, l, l+int(cnt)+l/4)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:l+int(cnt)]
	cs := *d.chunks.Load()
	for i := l + int(cnt) - 1; h != 0; i-- {
		buf[i] = h - 1
		h = at(cs, h-1-d.first).prev(dir)
	}
	return buf
}

// bytes estimates the delta's heap size.
func (d *delta) bytes() int64 {
	b := int64(len(*d.chunks.Load())) * (1 << dchunkBits) * 16
	for i, hs := 0, *d.heads.Load(); i < len(hs); i++ {
		b += 8
		if hs[i].Load() != nil {
			b += (1 << hpageBits) * 8
		}
	}
	return b
}
