package store

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"

	"github.com/redthread/redthread/internal/model"
)

// Adjacency: the transfers of one address in one direction are kept in
// buckets under the key O|I id(8) start(8). A bucket's value is a list of
// entries in chain order, all with block ≥ start and below the next
// bucket's start:
//
//	uvarint Δblock, uvarint tx<<2|min(seq,3), [uvarint seq if ≥ 3],
//	uvarint counterparty, uvarint asset<<3|kind, amount (decimal encoding)
//
// Δblock is the block minus the previous entry's (the first entry's: minus
// start). A merge operand is such a list on its own.
//
// Writers add entries with Pebble merge operands (the merge is a sorted
// union), so no write reads; a bucket is closed once it holds bucketCap
// entries and a later block arrives, which bounds what a page read decodes
// while an address with few transfers has a single key.
const bucketCap = 512

func bucketKey(dst []byte, p byte, id, start uint64) []byte {
	dst = append(dst, p)
	dst = binary.BigEndian.AppendUint64(dst, id)
	return binary.BigEndian.AppendUint64(dst, start)
}

// appendEntry encodes one adjacency entry after one at block prev (the
// bucket's start for the first); amount is already encoded.
func appendEntry(dst []byte, prev, block uint64, pos model.Position, cp, asset uint64, kind model.Kind, amount []byte) []byte {
	dst = binary.AppendUvarint(dst, block-prev)
	seq := uint64(pos.Seq())
	dst = binary.AppendUvarint(dst, uint64(pos.TxIndex())<<2|min(seq, 3))
	if seq >= 3 {
		dst = binary.AppendUvarint(dst, seq)
	}
	dst = binary.AppendUvarint(dst, cp)
	dst = binary.AppendUvarint(dst, asset<<3|uint64(kind&kindMask))
	return append(dst, amount...)
}

// entryHead decodes the block and position of an entry that follows one at
// block prev, and returns the entry's length in b and the length of its
// Δblock.
func entryHead(b []byte, prev uint64) (block uint64, pos model.Position, n, dn int, err error) {
	rest := b
	var d, tx, seq uint64
	if d, rest, err = readUvarint(rest); err != nil {
		return
	}
	dn = len(b) - len(rest)
	if tx, seq, rest, err = readTxSeq(rest); err != nil {
		return
	}
	if tx > 1<<32-1 || seq > 1<<32-1 || d > ^uint64(0)-prev {
		err = errCorrupt
		return
	}
	if _, rest, err = readUvarint(rest); err != nil {
		return
	}
	if _, rest, err = readUvarint(rest); err != nil {
		return
	}
	if rest, err = skipAmountDec(rest); err != nil {
		return
	}
	return prev + d, model.MakePosition(uint32(tx), uint32(seq)), len(b) - len(rest), dn, nil
}

// readTxSeq reads an entry's transaction index and sequence.
func readTxSeq(b []byte) (tx, seq uint64, rest []byte, err error) {
	var ts uint64
	if ts, rest, err = readUvarint(b); err != nil {
		return
	}
	tx, seq = ts>>2, ts&3
	if seq == 3 {
		if seq, rest, err = readUvarint(rest); err != nil {
			return
		}
		if seq < 3 {
			err = errCorrupt
		}
	}
	return
}

// decodeEntries appends a bucket's entries to dst.
func decodeEntries(dst []rawEdge, v []byte, start uint64, dir Direction) ([]rawEdge, error) {
	prev := start
	for len(v) > 0 {
		var e rawEdge
		var d, tx, seq, ak uint64
		var err error
		if d, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if tx, seq, v, err = readTxSeq(v); err != nil {
			return dst, err
		}
		if tx > 1<<32-1 || seq > 1<<32-1 || d > ^uint64(0)-prev {
			return dst, errCorrupt
		}
		if e.cp, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if ak, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if v, err = readAmountDec(v, &e.amount); err != nil {
			return dst, err
		}
		prev += d
		e.block, e.pos, e.dir = prev, model.MakePosition(uint32(tx), uint32(seq)), dir
		e.asset, e.kind = ak>>3, model.Kind(ak&kindMask)
		dst = append(dst, e)
	}
	return dst, nil
}

// adjMerger merges adjacency operands: a sorted union of their entries.
// Operands are copied; most arrive already in order and are concatenated.
type adjMerger struct {
	start uint64
	ops   [][]byte // oldest first once Finish runs
	older bool     // operands arrived newest first
}

func (m *adjMerger) MergeNewer(v []byte) error {
	m.ops = append(m.ops, bytes.Clone(v))
	return nil
}

func (m *adjMerger) MergeOlder(v []byte) error {
	m.older = true
	m.ops = append(m.ops, bytes.Clone(v))
	return nil
}

// span is one entry of an operand: its block and position, and its bytes
// after Δblock.
type span struct {
	block uint64
	pos   model.Position
	rest  []byte
}

func (m *adjMerger) Finish(bool) ([]byte, io.Closer, error) {
	if m.older {
		slices.Reverse(m.ops)
	}
	if len(m.ops) == 1 {
		return m.ops[0], nil, nil
	}
	var spans []span
	inOrder := true
	n := 0
	for _, op := range m.ops {
		prev := m.start
		for b := op; len(b) > 0; {
			block, pos, k, dn, err := entryHead(b, prev)
			if err != nil {
				return nil, nil, err
			}
			if i := len(spans); i > 0 && cmpAt(spans[i-1].block, spans[i-1].pos, block, pos) > 0 {
				inOrder = false
			}
			spans = append(spans, span{block, pos, b[dn:k]})
			n += k
			b, prev = b[k:], block
		}
	}
	if !inOrder {
		slices.SortStableFunc(spans, func(a, b span) int { return cmpAt(a.block, a.pos, b.block, b.pos) })
	}
	out := make([]byte, 0, n+len(m.ops)*binary.MaxVarintLen64)
	prev := m.start
	for _, s := range spans {
		out = binary.AppendUvarint(out, s.block-prev)
		out = append(out, s.rest...)
		prev = s.block
	}
	return out, nil, nil
}

// bucketState is what a writer needs to know of an address's newest bucket
// in one direction.
type bucketState struct {
	start, last uint64 // the bucket's start and its newest block
	n           uint32 // entries in it
}

// adjEntry is one adjacency entry collected by a write.
type adjEntry struct {
	key   uint64 // id<<1 | 1 for outgoing
	block uint64
	pos   model.Position
	cp    uint64
	asset uint64
	// The encoded amount: in inl when it fits (most do, and sorting then
	// carries it along instead of leaving it to random reads), else at
	// offset inl[0:4] of the writer's arena number arena.
	inl   [inlineAmount]byte
	alen  uint8
	kind  model.Kind
	arena uint16
}

const inlineAmount = 12

// setAmount records an entry's encoded amount, found at off in the
// writer's arena.
func (e *adjEntry) setAmount(amount []byte, off int) {
	e.alen = uint8(len(amount))
	if len(amount) <= inlineAmount {
		copy(e.inl[:], amount)
		return
	}
	binary.LittleEndian.PutUint32(e.inl[:], uint32(off))
}

func (e *adjEntry) before(o *adjEntry) bool { return cmpAt(e.block, e.pos, o.block, o.pos) < 0 }

// radixSortByKey sorts entries by key in place, stably, so entries of one
// key keep their arrival (chain) order; tmp is scratch space, returned for
// reuse.
func radixSortByKey(es, tmp []adjEntry) []adjEntry {
	var max uint64
	for i := range es {
		max |= es[i].key
	}
	tmp = slices.Grow(tmp[:0], len(es))[:len(es)]
	src, dst := es, tmp
	var count [1 << 16]int
	for shift := uint(0); shift < 64 && max>>shift != 0; shift += 16 {
		clear(count[:])
		for i := range src {
			count[(src[i].key>>shift)&0xffff]++
		}
		sum := 0
		for i := range count {
			c := count[i]
			count[i] = sum
			sum += c
		}
		for i := range src {
			d := (src[i].key >> shift) & 0xffff
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if len(src) > 0 && &src[0] != &es[0] {
		copy(es, src)
	}
	return tmp
}
