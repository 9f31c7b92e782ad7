package store

import (
	"encoding/binary"
	"math/big"
	"slices"
	"sort"

	"github.com/holiman/uint256"
)

// indexer derives the adjacency buckets and the per-address counters from
// a write's adjacency entries: entries are sorted by address and direction
// (stable, so chain order holds within one), each group is added to its
// buckets as merge operands, and the entries of closed buckets are summed
// into counter deltas per asset.
//
// Counters cover every bucket of an address but its newest in each
// direction; readers add the newest bucket's entries. An address with few
// transfers (one bucket) thus has no counter records at all, and when a
// bucket closes its entries are counted once.
type indexer struct {
	s       *Store
	b       sink
	arenas  [][]byte               // encoded amounts the entries point into
	buckets map[uint64]bucketState // newest bucket states this write leaves
	kbuf    []byte
	vbuf    []byte
	acc     []assetDelta
	edges   []rawEdge
}

// assetDelta accumulates one address's counter changes for one asset:
// counts as uint64 and sums as uint256, spilling into big integers only on
// overflow.
type assetDelta struct {
	asset uint64
	n     [2]uint64 // in, out
	sum   [2]uint256.Int
	spill [2]*big.Int
}

// write indexes chunks of entries, each sorted by key (radixSortByKey),
// merging them by key: no buffer of the total size, and for one key the
// chunks come in write order, so entries keep their chain order.
func (x *indexer) write(chunks [][]adjEntry) error {
	m := newChunkMerger(chunks)
	cur := ^uint64(0)
	var g []adjEntry
	for {
		k, ok := m.peek()
		if !ok {
			break
		}
		if k>>1 != cur {
			x.flushCounters(cur)
			cur = k >> 1
		}
		g = m.take(g[:0], k)
		sorted := true
		for j := 1; j < len(g); j++ {
			if g[j].before(&g[j-1]) {
				sorted = false
				break
			}
		}
		if !sorted {
			sort.SliceStable(g, func(a, b int) bool { return g[a].before(&g[b]) })
		}
		if err := x.addToBuckets(g); err != nil {
			return err
		}
	}
	x.flushCounters(cur)
	return nil
}

// chunkMerger walks several key-sorted chunks in key order, ties in chunk
// order, with a binary heap of chunk cursors.
type chunkMerger struct {
	chunks [][]adjEntry
	pos    []int
	heap   []int // chunk indexes
}

func newChunkMerger(chunks [][]adjEntry) *chunkMerger {
	m := &chunkMerger{chunks: chunks, pos: make([]int, len(chunks))}
	for i, c := range chunks {
		if len(c) > 0 {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

func (m *chunkMerger) less(a, b int) bool {
	ka, kb := m.chunks[a][m.pos[a]].key, m.chunks[b][m.pos[b]].key
	return ka < kb || ka == kb && a < b
}

func (m *chunkMerger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

func (m *chunkMerger) peek() (uint64, bool) {
	if len(m.heap) == 0 {
		return 0, false
	}
	c := m.heap[0]
	return m.chunks[c][m.pos[c]].key, true
}

// take appends every entry with key k to g, chunk by chunk.
func (m *chunkMerger) take(g []adjEntry, k uint64) []adjEntry {
	for len(m.heap) > 0 {
		c := m.heap[0]
		ch := m.chunks[c]
		p := m.pos[c]
		if ch[p].key != k {
			break
		}
		q := p + 1
		for q < len(ch) && ch[q].key == k {
			q++
		}
		g = append(g, ch[p:q]...)
		m.pos[c] = q
		if q == len(ch) {
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		if len(m.heap) > 0 {
			m.down(0)
		}
	}
	return g
}

// amount returns an entry's encoded amount.
func (x *indexer) amount(e *adjEntry) []byte {
	if e.alen <= inlineAmount {
		return e.inl[:e.alen]
	}
	off := binary.LittleEndian.Uint32(e.inl[:])
	return x.arenas[e.arena][off : off+uint32(e.alen)]
}

// count adds entries of this write to the counter deltas.
func (x *indexer) count(g []adjEntry) error {
	var amt uint256.Int
	for i := range g {
		e := &g[i]
		if _, err := readAmountDec(x.amount(e), &amt); err != nil {
			return err
		}
		x.add(int(e.key&1), e.asset, &amt)
	}
	return nil
}

// add adds one transfer in direction dir (0 in, 1 out) to the deltas.
func (x *indexer) add(dir int, asset uint64, amt *uint256.Int) {
	var d *assetDelta
	for j := range x.acc {
		if x.acc[j].asset == asset {
			d = &x.acc[j]
			break
		}
	}
	if d == nil {
		x.acc = append(x.acc, assetDelta{asset: asset})
		d = &x.acc[len(x.acc)-1]
	}
	d.n[dir]++
	if _, overflow := d.sum[dir].AddOverflow(&d.sum[dir], amt); overflow {
		if d.spill[dir] == nil {
			d.spill[dir] = new(big.Int)
		}
		d.spill[dir].Add(d.spill[dir], new(big.Int).Lsh(big.NewInt(1), 256))
	}
}

// countStored adds the entries a bucket already holds in the store.
func (x *indexer) countStored(p byte, id, start uint64) error {
	v, ok, err := x.s.get(bucketKey(nil, p, id, start))
	if err != nil || !ok {
		return err
	}
	dir, d := In, 0
	if p == pOut {
		dir, d = Out, 1
	}
	x.edges, err = decodeEntries(x.edges[:0], v, start, dir)
	if err != nil {
		return err
	}
	for i := range x.edges {
		e := &x.edges[i]
		x.add(d, e.asset, &e.amount)
	}
	return nil
}

// flushCounters emits the counter deltas accumulated for address id.
func (x *indexer) flushCounters(id uint64) {
	if len(x.acc) == 0 {
		return
	}
	slices.SortFunc(x.acc, func(a, b assetDelta) int {
		if a.asset < b.asset {
			return -1
		}
		if a.asset > b.asset {
			return 1
		}
		return 0
	})
	for i := range x.acc {
		d := &x.acc[i]
		x.vbuf = d.encode(x.vbuf[:0])
		x.b.Merge(counterKey(x.kbuf[:0], id, d.asset), x.vbuf, nil)
	}
	x.acc = x.acc[:0]
}

// encode writes the delta as a counter record (counters.go): counts, then
// sums, all non-negative.
func (d *assetDelta) encode(dst []byte) []byte {
	for _, n := range d.n {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], n)
		dst = appendMagnitude(dst, b[:])
	}
	for i := range d.sum {
		if d.spill[i] != nil {
			var t big.Int
			t.SetBytes(d.sum[i].Bytes())
			t.Add(&t, d.spill[i])
			dst = appendMagnitude(dst, t.Bytes())
			continue
		}
		b := d.sum[i].Bytes32()
		dst = appendMagnitude(dst, b[:])
	}
	return dst
}

// appendMagnitude appends a non-negative counter field from big-endian
// bytes, leading zeros dropped.
func appendMagnitude(dst, be []byte) []byte {
	for len(be) > 0 && be[0] == 0 {
		be = be[1:]
	}
	dst = append(dst, byte(len(be)))
	return append(dst, be...)
}

// addToBuckets adds one address's entries in one direction, in chain order.
func (x *indexer) addToBuckets(g []adjEntry) error {
	k := g[0].key
	p, id := entryPrefix(k), k>>1
	st, ok, err := x.bucket(k)
	if err != nil {
		return err
	}
	// Entries older than the newest bucket go to the bucket covering them,
	// or, before the first bucket, to new buckets below it. (Such writes,
	// older history after newer, may grow a covering bucket past bucketCap.)
	i := 0
	for i < len(g) && ok && g[i].block < st.start {
		start, found, next, err := x.s.bucketAround(p, id, g[i].block)
		if err != nil {
			return err
		}
		limit := min(next, st.start)
		j := i
		if found {
			for j < len(g) && g[j].block < limit {
				j++
			}
		} else {
			start = g[i].block
			for j < len(g) && g[j].block < limit {
				if j > i && j-i >= bucketCap && g[j].block > g[j-1].block {
					break
				}
				j++
			}
		}
		if err := x.emitRun(p, id, start, g[i:j]); err != nil {
			return err
		}
		if err := x.count(g[i:j]); err != nil { // not the newest bucket
			return err
		}
		i = j
	}
	stored, from := ok, i // the newest bucket exists in the store; its entries in g begin at from
	for i < len(g) {
		if !ok || (st.n >= bucketCap && g[i].block > st.last) {
			if ok { // the newest bucket closes: count all of it
				if stored {
					if err := x.countStored(p, id, st.start); err != nil {
						return err
					}
				}
				if err := x.count(g[from:i]); err != nil {
					return err
				}
			}
			st, ok = bucketState{start: g[i].block, last: g[i].block}, true
			stored, from = false, i
		}
		j := i
		for j < len(g) && (st.n < bucketCap || g[j].block <= st.last) {
			st.n++
			st.last = max(st.last, g[j].block)
			j++
		}
		if err := x.emitRun(p, id, st.start, g[i:j]); err != nil {
			return err
		}
		i = j
	}
	x.buckets[k] = st
	return nil
}

func (x *indexer) emitRun(p byte, id, start uint64, run []adjEntry) error {
	x.vbuf = x.vbuf[:0]
	prev := start
	for i := range run {
		e := &run[i]
		x.vbuf = appendEntry(x.vbuf, prev, e.block, e.pos, e.cp, e.asset, e.kind, x.amount(e))
		prev = e.block
	}
	return x.b.Merge(bucketKey(x.kbuf[:0], p, id, start), x.vbuf, nil)
}

// bucket returns the state of an address's newest bucket in a direction.
func (x *indexer) bucket(k uint64) (bucketState, bool, error) {
	if b, ok := x.buckets[k]; ok {
		return b, true, nil
	}
	if b, ok := x.s.buckets[k]; ok {
		return b, true, nil
	}
	if x.s.bucketsComplete {
		return bucketState{}, false, nil
	}
	return x.s.lastBucket(entryPrefix(k), k>>1)
}
