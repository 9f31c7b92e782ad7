package store

import (
	"sync"

	"github.com/redthread/redthread/internal/model"
)

// readCache keeps id → address text and block → time for readers, bounded
// by clearing when full. Both mappings never change once written (ids are
// never reused; a rollback drops block times via forgetBlocks).
type readCache struct {
	mu     sync.Mutex
	names  map[uint64]string
	assets map[uint64]string
	times  map[blockRef]int64
}

type blockRef struct {
	chain model.Chain
	n     uint64
}

const readCacheEntries = 1 << 20

// text and putText read and fill one of the cache's number → text maps
// (names or assets).
func (c *readCache) text(m *map[uint64]string, n uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := (*m)[n]
	return v, ok
}

func (c *readCache) putText(m *map[uint64]string, n uint64, a string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil || len(*m) >= readCacheEntries {
		*m = make(map[uint64]string)
	}
	(*m)[n] = a
}

func (c *readCache) time(r blockRef) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.times[r]
	return v, ok
}

func (c *readCache) putTime(r blockRef, t int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil || len(c.times) >= readCacheEntries {
		c.times = make(map[blockRef]int64)
	}
	c.times[r] = t
}

func (c *readCache) forgetBlocks() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.times = nil
}

// name resolves an id to its address text; id 0 is the native asset.
func (s *Store) name(id uint64) (string, error) {
	if id == 0 {
		return model.NativeAsset, nil
	}
	if r := s.resident.cur.Load(); r != nil {
		if a, ok := r.name(s, id); ok {
			return a, nil
		}
	}
	if a, ok := s.cache.text(&s.cache.names, id); ok {
		return a, nil
	}
	_, a, err := s.Address(id)
	if err != nil {
		return "", err
	}
	s.cache.putText(&s.cache.names, id, a)
	return a, nil
}

// assetName resolves an asset number to its token address text; 0 is the
// native coin.
func (s *Store) assetName(n uint64) (string, error) {
	if n == 0 {
		return model.NativeAsset, nil
	}
	if a, ok := s.cache.text(&s.cache.assets, n); ok {
		return a, nil
	}
	_, a, err := s.reverse(&s.assets, n)
	if err != nil {
		return "", err
	}
	s.cache.putText(&s.cache.assets, n, a)
	return a, nil
}

// blockTime returns a block's time.
func (s *Store) blockTime(chain model.Chain, n uint64) (int64, error) {
	if r := s.resident.cur.Load(); r != nil {
		if t, ok := r.time(chain, n); ok {
			return t, nil
		}
	}
	r := blockRef{chain, n}
	if t, ok := s.cache.time(r); ok {
		return t, nil
	}
	bi, _, err := s.Block(chain, n)
	if err != nil {
		return 0, err
	}
	s.cache.putTime(r, bi.Time)
	return bi.Time, nil
}
