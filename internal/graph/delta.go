package graph

import "sync/atomic"

// delta is the adjacency of the transfers appended since the CSR base was
// built: per address, out and in, a vector of its delta seqs in chain order.
// One writer appends; any number of views read at once.
//
// A vector's entries are written before its length is stored (atomically),
// and a full vector is replaced by a copy twice its size, never written
// again, so a reader that loads the vector and its length sees valid
// entries. A view drops the entries at or above its own length (entries
// only grow). A truncation or a merge starts a new delta; the old one, still
// read by old views, is never written again.
//
// Vectors keep each address's delta seqs contiguous, so reading them costs
// about what reading the base does (a linked list per address made every
// delta edge a dependent cache miss).
type delta struct {
	first uint32
	heads atomic.Pointer[[]hdir]
	size  atomic.Int64 // heap bytes of the vectors and pages
}

// hdir is the directory entry of 1<<hpageBits addresses: a bit per address
// that has delta transfers (in a small array that stays in cache, so the
// many addresses without any cost no page access) and their page.
type hdir struct {
	bits [1 << hpageBits / 64]atomic.Uint64
	page atomic.Pointer[hpage]
}

const hpageBits = 10

// vec is one address's delta seqs in one direction.
type vec struct {
	d []uint32
	n atomic.Uint32
}

// hpage holds the vectors of 1<<hpageBits addresses, out and in.
type hpage [1 << hpageBits][2]atomic.Pointer[vec]

func newDelta(first uint32) *delta {
	d := &delta{first: first}
	hs := make([]hdir, 0)
	d.heads.Store(&hs)
	return d
}

// vec returns the address's vector in direction dir (0 out, 1 in), or nil.
func (d *delta) vec(id uint32, dir int) *vec {
	hs := *d.heads.Load()
	p := int(id >> hpageBits)
	if p >= len(hs) {
		return nil
	}
	o := id & (1<<hpageBits - 1)
	if hs[p].bits[o/64].Load()&(1<<(o%64)) == 0 {
		return nil
	}
	return hs[p].page.Load()[o][dir].Load()
}

// slot returns the writable vector slot of an address (writer only).
func (d *delta) slot(id uint32, dir int) *atomic.Pointer[vec] {
	hs := *d.heads.Load()
	p := int(id >> hpageBits)
	if p >= len(hs) {
		nh := make([]hdir, max(p+1, 2*len(hs)))
		for i := range hs {
			for j := range hs[i].bits {
				nh[i].bits[j].Store(hs[i].bits[j].Load())
			}
			nh[i].page.Store(hs[i].page.Load())
		}
		d.heads.Store(&nh)
		d.size.Add(int64(len(nh)-len(hs)) * 136)
		hs = nh
	}
	pg := hs[p].page.Load()
	if pg == nil {
		pg = new(hpage)
		hs[p].page.Store(pg)
		d.size.Add(int64(len(pg)) * 16)
	}
	return &pg[id&(1<<hpageBits-1)][dir]
}

// mark sets the address's bit once its vector holds an entry (writer only).
func (d *delta) mark(id uint32) {
	hs := *d.heads.Load()
	o := id & (1<<hpageBits - 1)
	b := &hs[id>>hpageBits].bits[o/64]
	if b.Load()&(1<<(o%64)) == 0 {
		b.Or(1 << (o % 64))
	}
}

// push appends seq to the vector in slot (writer only).
func (d *delta) push(slot *atomic.Pointer[vec], seq uint32) {
	v := slot.Load()
	if v == nil || int(v.n.Load()) == len(v.d) {
		c := 2
		var old []uint32
		if v != nil {
			old = v.d[:v.n.Load()]
			c = 2 * len(v.d)
		}
		nv := &vec{d: make([]uint32, c)}
		copy(nv.d, old)
		nv.n.Store(uint32(len(old)))
		d.size.Add(int64(c)*4 + 40)
		slot.Store(nv)
		v = nv
	}
	n := v.n.Load()
	v.d[n] = seq
	v.n.Store(n + 1)
}

// add links transfer seq from src to dst (writer only; seqs in order).
func (d *delta) add(seq, src, dst uint32) {
	d.push(d.slot(src, 0), seq)
	d.push(d.slot(dst, 1), seq)
	d.mark(src)
	d.mark(dst)
}

// edges returns the address's delta seqs before n in direction dir, in
// chain order (aliasing the delta: read only).
func (d *delta) edges(id uint32, dir int, n uint32) []uint32 {
	v := d.vec(id, dir)
	if v == nil {
		return nil
	}
	l := v.d[:v.n.Load()]
	k := len(l)
	for k > 0 && l[k-1] >= n { // appended after the view was taken
		k--
	}
	return l[:k]
}

// bytes estimates the delta's heap size.
func (d *delta) bytes() int64 { return d.size.Load() }
