package store

import (
	"context"
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
	for {
		n, err := s.rollbackChunk(ctx, chain, from, to)
		if err != nil {
			return fmt.Errorf("rollback %s blocks %d–%d: %w", chain, from, to, err)
		}
		if n < rollbackChunk {
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
	n := 0
	var r rawTransfer
	for ok := it.First(); ok && n < rollbackChunk; ok = it.Next() {
		_, block, pos, err := decodeTransferKey(it.Key())
		if err != nil {
			it.Close()
			return 0, err
		}
		if err := decodeTransferValue(it.Value(), &r); err != nil {
			it.Close()
			return 0, err
		}
		b.Delete(it.Key(), nil)
		b.Delete(adjKey(nil, pOut, r.from, block, pos), nil)
		b.Delete(adjKey(nil, pIn, r.to, block, pos), nil)
		amt := r.amount.ToBig()
		add(r.from, r.asset, fCountOut, fSumOut, amt)
		add(r.to, r.asset, fCountIn, fSumIn, amt)
		n++
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	for k, c := range cnt {
		b.Merge(counterKey(nil, k[0], k[1]), c.encode(nil), nil)
	}
	if n > 0 {
		var c counters
		c[0].SetInt64(-int64(n))
		b.Merge(chainPrefix(nil, pChainStat, chain), c.encode(nil), nil)
	}
	if n < rollbackChunk {
		// Last chunk: the headers go with it.
		bhi := prefixEnd(chainPrefix(nil, pBlock, chain))
		if to != ^uint64(0) {
			bhi = blockKey(nil, chain, to+1)
		}
		b.DeleteRange(blockKey(nil, chain, from), bhi, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, err
	}
	delete(s.hwm, chain)
	s.cache.forgetBlocks()
	return n, nil
}
