package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/cockroachdb/pebble/v2"

	"github.com/redthread/redthread/internal/model"
)

// rollbackChunk bounds the transfers deleted by one atomic batch.
const rollbackChunk = 50000

// Rollback deletes every transfer and block header of a chain with
// from ≤ block ≤ to, with their adjacency entries, and subtracts them from
// the counters. Each chunk commits atomically and the operation is
// idempotent, so an interrupted rollback is finished by running it again.
// Address ids stay assigned.
func (s *Store) Rollback(ctx context.Context, chain model.Chain, from, to uint64) error {
	if err := s.live(); err != nil {
		return err
	}
	if from > to {
		return fmt.Errorf("rollback %s: from %d after to %d", chain, from, to)
	}
	if err := s.indexed(ctx); err != nil {
		return err
	}
	for {
		more, err := s.rollbackChunk(ctx, chain, from, to)
		if err != nil {
			return fmt.Errorf("rollback %s blocks %d–%d: %w", chain, from, to, err)
		}
		if !more {
			break
		}
	}
	s.mu.Lock()
	delete(s.hwm, chain)
	s.mu.Unlock()
	return nil
}

// rollbackChunk rolls back up to about rollbackChunk transfers of the
// range and reports whether more remain.
func (s *Store) rollbackChunk(ctx context.Context, chain model.Chain, from, to uint64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false, ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	it, err := s.segments(chain, from, to)
	if err != nil {
		return false, err
	}
	// Counters cover every bucket but the newest (index.go): dropEntries
	// subtracts what leaves a counted bucket, and a bucket that becomes
	// the newest stops being counted.
	cnt := map[[2]uint64]*counters{}
	sub := func(id uint64, e *rawEdge) {
		k := [2]uint64{id, e.asset}
		c := cnt[k]
		if c == nil {
			c = new(counters)
			cnt[k] = c
		}
		fc, fs := fCountIn, fSumIn
		if e.dir == Out {
			fc, fs = fCountOut, fSumOut
		}
		c[fc].Sub(&c[fc], big.NewInt(1))
		c[fs].Sub(&c[fs], e.amount.ToBig())
	}
	touched := map[uint64]struct{}{} // id<<1 | 1 for outgoing
	n := 0
	more := false
	var d segDecoder
	for ok := it.First(); ok; ok = it.Next() {
		if n >= rollbackChunk {
			more = true
			break
		}
		_, _, first, err := decodeTransferKey(it.Key())
		if err == nil {
			err = d.each(first, it.Value(), func() error {
				touched[d.row.from<<1|1] = struct{}{}
				touched[d.row.to<<1] = struct{}{}
				n++
				return nil
			})
		}
		if err != nil {
			it.Close()
			return false, err
		}
		b.Delete(it.Key(), nil)
	}
	if err := it.Close(); err != nil {
		return false, err
	}
	for k := range touched {
		if err := s.dropEntries(b, entryPrefix(k), k>>1, from, to, sub); err != nil {
			return false, err
		}
	}
	for k, c := range cnt {
		b.Merge(counterKey(nil, k[0], k[1]), c.encode(nil), nil)
	}
	if n > 0 {
		var c counters
		c[0].SetInt64(-int64(n))
		b.Merge(chainPrefix(nil, pChainStat, chain), c.encode(nil), nil)
	}
	if !more {
		// Last chunk: the headers and conversions go with it.
		for _, p := range []byte{pBlock, pConversion} {
			lo, hi := blockBounds(p, chain, from, to)
			b.DeleteRange(lo, hi, nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return false, err
	}
	delete(s.hwm, chain)
	clear(s.buckets)
	s.bucketsComplete = false
	s.cache.forgetBlocks()
	s.forgetResidentBlocks(chain, from)
	return more, nil
}

// dropEntries rewrites the adjacency buckets of an address in a direction
// without the entries of blocks from..to, calling sub for each entry that
// leaves the counters: dropped from a bucket other than the newest, or
// left in a bucket that becomes the newest.
func (s *Store) dropEntries(b *pebble.Batch, p byte, id, from, to uint64, sub func(uint64, *rawEdge)) error {
	dir := adjDir(p)
	pre := idKey(nil, p, id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
	if err != nil {
		return err
	}
	defer it.Close()
	if !it.Last() {
		return it.Error()
	}
	newest := binary.BigEndian.Uint64(it.Key()[9:])
	valid := it.First()
	if from > 0 {
		if valid = it.SeekLT(bucketKey(nil, p, id, from+1)); !valid {
			valid = it.First()
		}
	}
	rewritten := map[uint64][]rawEdge{} // buckets changed here: their remaining entries
	var es []rawEdge
	for ; valid; valid = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			return errCorrupt
		}
		start := binary.BigEndian.Uint64(k[9:])
		if start > to {
			break
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if es, err = decodeEntries(es[:0], v, start, dir); err != nil {
			return err
		}
		var keep []rawEdge
		for i := range es {
			e := &es[i]
			if e.block < from || e.block > to {
				keep = append(keep, *e)
			} else if start != newest {
				sub(id, e)
			}
		}
		if len(keep) == len(es) {
			continue
		}
		rewritten[start] = keep
		if len(keep) == 0 {
			b.Delete(k, nil)
			continue
		}
		b.Set(k, encodeEdges(start, keep), nil)
	}
	if err := it.Error(); err != nil {
		return err
	}
	if keep, ok := rewritten[newest]; !ok || len(keep) > 0 {
		return nil
	}
	// The newest bucket is gone: the newest remaining one stops being counted.
	for valid := it.SeekLT(bucketKey(nil, p, id, newest)); valid; valid = it.Prev() {
		start := binary.BigEndian.Uint64(it.Key()[9:])
		keep, ok := rewritten[start]
		if !ok {
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			if keep, err = decodeEntries(nil, v, start, dir); err != nil {
				return err
			}
		}
		if len(keep) == 0 {
			continue
		}
		for i := range keep {
			sub(id, &keep[i])
		}
		break
	}
	return it.Error()
}

// encodeEdges encodes entries as a bucket value.
func encodeEdges(start uint64, es []rawEdge) []byte {
	var out, amt []byte
	prev := start
	for i := range es {
		e := &es[i]
		amt = appendAmountDec(amt[:0], &e.amount)
		out = appendEntry(out, prev, e.block, e.pos, e.cp, e.asset, e.kind, amt)
		prev = e.block
	}
	return out
}
