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
		n, err := s.rollbackChunk(ctx, chain, from, to)
		if err != nil {
			return fmt.Errorf("rollback %s blocks %d–%d: %w", chain, from, to, err)
		}
		if n == 0 {
			break
		}
	}
	s.mu.Lock()
	delete(s.hwm, chain)
	s.mu.Unlock()
	return nil
}

func (s *Store) rollbackChunk(ctx context.Context, chain model.Chain, from, to uint64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	lo := transferKey(nil, chain, from, 0)
	var hi []byte
	if to == ^uint64(0) {
		hi = prefixEnd(chainPrefix(nil, pTransfer, chain))
	} else {
		hi = transferKey(nil, chain, to+1, 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	cnt := map[[2]uint64]*counters{}
	add := func(id, asset uint64, fc, fs int, amt *big.Int) {
		k := [2]uint64{id, asset}
		c := cnt[k]
		if c == nil {
			c = new(counters)
			cnt[k] = c
		}
		c[fc].Sub(&c[fc], big.NewInt(1))
		c[fs].Sub(&c[fs], amt)
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
			err = d.init(first, it.Value())
		}
		for err == nil {
			var row bool
			if row, err = d.next(); !row {
				break
			}
			r := &d.row
			amt := r.amount.ToBig()
			add(r.from, r.asset, fCountOut, fSumOut, amt)
			add(r.to, r.asset, fCountIn, fSumIn, amt)
			touched[r.from<<1|1] = struct{}{}
			touched[r.to<<1] = struct{}{}
			n++
		}
		if err != nil {
			it.Close()
			return 0, err
		}
		b.Delete(it.Key(), nil)
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	for k := range touched {
		p := byte(pIn)
		if k&1 == 1 {
			p = pOut
		}
		if err := s.dropEntries(b, p, k>>1, from, to); err != nil {
			return 0, err
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
		bhi := prefixEnd(chainPrefix(nil, pBlock, chain))
		xhi := prefixEnd(chainPrefix(nil, pConversion, chain))
		if to != ^uint64(0) {
			bhi = blockKey(nil, chain, to+1)
			xhi = conversionKey(nil, model.Leg{Chain: chain, Block: to + 1})
		}
		b.DeleteRange(blockKey(nil, chain, from), bhi, nil)
		b.DeleteRange(conversionKey(nil, model.Leg{Chain: chain, Block: from}), xhi, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, err
	}
	delete(s.hwm, chain)
	clear(s.buckets)
	s.bucketsComplete = false
	s.cache.forgetBlocks()
	if more {
		return rollbackChunk, nil
	}
	return 0, nil
}

// dropEntries rewrites the adjacency buckets of an address in a direction
// without the entries of blocks from..to.
func (s *Store) dropEntries(b *pebble.Batch, p byte, id, from, to uint64) error {
	start, found, _, err := s.bucketAround(p, id, from)
	if err != nil {
		return err
	}
	pre := idKey(nil, p, id)
	lo := pre
	if found {
		lo = bucketKey(nil, p, id, start)
	}
	hi := prefixEnd(pre)
	if to != ^uint64(0) {
		hi = bucketKey(nil, p, id, to+1)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	var keep []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			return errCorrupt
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		st := binary.BigEndian.Uint64(k[9:])
		keep = keep[:0]
		dropped := false
		prev, kept := st, st
		for rest := v; len(rest) > 0; {
			block, _, n, dn, err := entryHead(rest, prev)
			if err != nil {
				return err
			}
			if block >= from && block <= to {
				dropped = true
			} else {
				keep = binary.AppendUvarint(keep, block-kept)
				keep = append(keep, rest[dn:n]...)
				kept = block
			}
			rest, prev = rest[n:], block
		}
		switch {
		case !dropped:
		case len(keep) == 0:
			b.Delete(k, nil)
		default:
			b.Set(k, keep, nil)
		}
	}
	return it.Error()
}
