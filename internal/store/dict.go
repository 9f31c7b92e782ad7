package store

import (
	"encoding/binary"
	"fmt"
)

// dictionary assigns dense numbers to (chain, address) pairs: address ids
// (A/a, numbers from 1, shared by all chains) and asset numbers (N/n, token
// contracts; 0 is the native coin). Keys: fwd len chain addr → uvarint
// number; rev number(8) → len chain addr. The writer holds the mutex.
type dictionary struct {
	fwd, rev byte
	meta     []byte // M key holding the next number
	next     uint64
	cache    map[string]uint64 // fwd key → number
	max      int
	// complete: every assigned number is in cache (the store had none
	// when opened and the cache was never cleared), so a miss means new.
	complete bool
}

func (d *dictionary) open(s *Store, max int) error {
	d.cache, d.max, d.next = make(map[string]uint64), max, 1
	v, ok, err := s.get(d.meta)
	if err != nil {
		return err
	}
	if ok {
		if len(v) != 8 {
			return fmt.Errorf("%s: %w", d.meta, errCorrupt)
		}
		d.next = binary.BigEndian.Uint64(v)
	}
	d.complete = d.next == 1
	return nil
}

func (d *dictionary) remember(k string, n uint64) {
	if _, ok := d.cache[k]; !ok && len(d.cache) >= d.max {
		clear(d.cache)
		d.complete = false
	}
	d.cache[k] = n
}

// lookup returns the number of an address, assigning one if it is new;
// new numbers are written to w and remembered in fresh until commit.
func (w *writer) lookup(d *dictionary, fresh map[string]uint64, k []byte) (uint64, error) {
	if n, ok := d.cache[string(k)]; ok {
		return n, nil
	}
	if n, ok := fresh[string(k)]; ok {
		return n, nil
	}
	if !d.complete {
		v, ok, err := w.s.get(k)
		if err != nil {
			return 0, err
		}
		if ok {
			n, _, err := readUvarint(v)
			if err != nil {
				return 0, err
			}
			d.remember(string(k), n)
			return n, nil
		}
	}
	n := d.next
	d.next++
	fresh[string(k)] = n
	w.b.Set(k, binary.AppendUvarint(nil, n), nil)
	w.b.Set(idKey(nil, d.rev, n), k[1:], nil) // len(chain), chain, address bytes
	return n, nil
}

// reverse reads the (chain, address) of a number.
func (s *Store) reverse(d *dictionary, n uint64) ([]byte, error) {
	v, ok, err := s.get(idKey(nil, d.rev, n))
	if err != nil {
		return nil, err
	}
	if !ok || len(v) < 1 || len(v) < 1+int(v[0]) {
		return nil, fmt.Errorf("store: number %d of dictionary %c: %w", n, d.rev, errCorrupt)
	}
	return v, nil
}
