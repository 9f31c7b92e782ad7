package store

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"

	"github.com/redthread/redthread/internal/model"
)

// lastBucket reads the newest adjacency bucket of an address in one
// direction (p is pIn or pOut).
func (s *Store) lastBucket(p byte, id uint64) (bucketState, bool, error) {
	pre := idKey(nil, p, id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
	if err != nil {
		return bucketState{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return bucketState{}, false, it.Error()
	}
	k := it.Key()
	if len(k) != 17 {
		return bucketState{}, false, errCorrupt
	}
	st := bucketState{start: binary.BigEndian.Uint64(k[9:])}
	v, err := it.ValueAndErr()
	if err != nil {
		return st, false, err
	}
	prev := st.start
	for b := v; len(b) > 0; {
		block, _, n, _, err := entryHead(b, prev)
		if err != nil {
			return st, false, err
		}
		st.n++
		st.last = max(st.last, block)
		b, prev = b[n:], block
	}
	return st, true, nil
}

// bucketAround returns the start of the bucket holding block for an
// address in one direction (the largest start ≤ block), and the start of
// the bucket after it (^0 if none).
func (s *Store) bucketAround(p byte, id, block uint64) (start uint64, found bool, next uint64, err error) {
	pre := idKey(nil, p, id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
	if err != nil {
		return 0, false, 0, err
	}
	defer it.Close()
	next = ^uint64(0)
	valid := it.Last()
	if block != ^uint64(0) {
		valid = it.SeekLT(bucketKey(nil, p, id, block+1))
	}
	if valid {
		start, found = binary.BigEndian.Uint64(it.Key()[9:]), true
		valid = it.Next()
	} else {
		valid = it.First()
	}
	if valid {
		next = binary.BigEndian.Uint64(it.Key()[9:])
	}
	return start, found, next, it.Error()
}

// segments iterates over the segments of a chain's blocks from..to.
func (s *Store) segments(chain model.Chain, from, to uint64) (*pebble.Iterator, error) {
	lo, hi := blockBounds(pTransfer, chain, from, to)
	return s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
}

// blockSegments calls fn for every stored row of a block, segment by
// segment (rows of different segments may interleave in position order).
func (s *Store) blockSegments(chain model.Chain, block uint64, fn func(*segDecoder) error) error {
	it, err := s.segments(chain, block, block)
	if err != nil {
		return err
	}
	defer it.Close()
	var d segDecoder
	for ok := it.First(); ok; ok = it.Next() {
		_, _, first, err := decodeTransferKey(it.Key())
		if err != nil {
			return err
		}
		if err := d.each(first, it.Value(), func() error { return fn(&d) }); err != nil {
			return err
		}
	}
	return it.Error()
}
