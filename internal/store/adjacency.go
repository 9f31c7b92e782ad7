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
//	uvarint block-start, uvarint tx index, uvarint seq, uvarint counterparty,
//	uvarint asset<<4|kind, amount (decimal encoding)
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

// appendEntry encodes one adjacency entry; amount is already encoded.
func appendEntry(dst []byte, start, block uint64, pos model.Position, cp, asset uint64, kind model.Kind, amount []byte) []byte {
	dst = binary.AppendUvarint(dst, block-start)
	dst = binary.AppendUvarint(dst, uint64(pos.TxIndex()))
	dst = binary.AppendUvarint(dst, uint64(pos.Seq()))
	dst = binary.AppendUvarint(dst, cp)
	dst = binary.AppendUvarint(dst, asset<<4|uint64(kind&kindMask))
	return append(dst, amount...)
}

// entryHead decodes an entry's block and position and returns the entry's
// length in b.
func entryHead(b []byte, start uint64) (block uint64, pos model.Position, n int, err error) {
	rest := b
	var d, tx, seq uint64
	if d, rest, err = readUvarint(rest); err != nil {
		return
	}
	if tx, rest, err = readUvarint(rest); err != nil {
		return
	}
	if seq, rest, err = readUvarint(rest); err != nil {
		return
	}
	if tx > 1<<32-1 || seq > 1<<32-1 || d > ^uint64(0)-start {
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
	return start + d, model.MakePosition(uint32(tx), uint32(seq)), len(b) - len(rest), nil
}

// decodeEntries appends a bucket's entries to dst.
func decodeEntries(dst []rawEdge, v []byte, start uint64, dir Direction) ([]rawEdge, error) {
	for len(v) > 0 {
		var e rawEdge
		var d, tx, seq, ak uint64
		var err error
		if d, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if tx, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if seq, v, err = readUvarint(v); err != nil {
			return dst, err
		}
		if tx > 1<<32-1 || seq > 1<<32-1 {
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
		e.block, e.pos, e.dir = start+d, model.MakePosition(uint32(tx), uint32(seq)), dir
		e.asset, e.kind = ak>>4, model.Kind(ak&kindMask)
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

type span struct {
	block uint64
	pos   model.Position
	b     []byte
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
	for _, op := range m.ops {
		for b := op; len(b) > 0; {
			block, pos, n, err := entryHead(b, m.start)
			if err != nil {
				return nil, nil, err
			}
			if k := len(spans); k > 0 && (spans[k-1].block > block || spans[k-1].block == block && spans[k-1].pos > pos) {
				inOrder = false
			}
			spans = append(spans, span{block, pos, b[:n]})
			b = b[n:]
		}
	}
	if !inOrder {
		slices.SortStableFunc(spans, func(a, b span) int {
			if a.block != b.block {
				if a.block < b.block {
					return -1
				}
				return 1
			}
			if a.pos != b.pos {
				if a.pos < b.pos {
					return -1
				}
				return 1
			}
			return 0
		})
	}
	n := 0
	for _, s := range spans {
		n += len(s.b)
	}
	out := make([]byte, 0, n)
	for _, s := range spans {
		out = append(out, s.b...)
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
	key       uint64 // id<<1 | 1 for outgoing
	block     uint64
	pos       model.Position
	cp        uint64
	asset     uint64
	kind      model.Kind
	amt, alen uint32 // the encoded amount in the writer's arena
}

func (e *adjEntry) before(o *adjEntry) bool {
	if e.block != o.block {
		return e.block < o.block
	}
	return e.pos < o.pos
}

// radixSortByKey sorts entries by key, stably, so entries of one key keep
// their arrival (chain) order.
func radixSortByKey(es, tmp []adjEntry) []adjEntry {
	var max uint64
	for i := range es {
		max |= es[i].key
	}
	tmp = slices.Grow(tmp[:0], len(es))[:len(es)]
	for shift := uint(0); shift < 64 && max>>shift != 0; shift += 16 {
		var count [1 << 16]int
		for i := range es {
			count[(es[i].key>>shift)&0xffff]++
		}
		sum := 0
		for i := range count {
			c := count[i]
			count[i] = sum
			sum += c
		}
		for i := range es {
			d := (es[i].key >> shift) & 0xffff
			tmp[count[d]] = es[i]
			count[d]++
		}
		es, tmp = tmp, es
	}
	return es
}
