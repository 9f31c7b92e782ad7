package store

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/redthread/redthread/internal/model"
)

// dictionary assigns dense numbers to (chain, address) pairs: address ids
// (A/a, numbers from 1, shared by all chains) and asset numbers (N/n, token
// contracts; 0 is the native coin). Keys: fwd len chain addr → uvarint
// number; rev number(8) → chain code (one byte, see chains) and the
// address bytes. The writer holds the mutex.
type dictionary struct {
	fwd, rev byte
	meta     []byte // M key holding the next number
	next     uint64
	cache    map[string]uint64 // fwd key → number, for addresses not of 20 bytes
	// fixed holds 20-byte (EVM) addresses per chain: array keys hash fast,
	// sit in the map's slots and carry no pointers for the collector.
	fixed map[model.Chain]*addrTable
	size  int
	max   int
	// complete: every assigned number is in cache (the store had none
	// when opened and the cache was never cleared), so a miss means new.
	complete bool
}

func (d *dictionary) open(s *Store, max int) error {
	d.cache, d.fixed, d.max, d.next = make(map[string]uint64), make(map[model.Chain]*addrTable), max, 1
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

// get returns the cached number of a fwd key.
func (d *dictionary) get(k []byte) (uint64, bool) {
	if a, ok := fixedAddr(k); ok {
		t := d.fixed[model.Chain(k[2:2+k[1]])]
		if t == nil {
			return 0, false
		}
		return t.get(&a)
	}
	n, ok := d.cache[string(k)]
	return n, ok
}

func (d *dictionary) remember(k []byte, n uint64) {
	if d.size >= d.max {
		clear(d.cache)
		clear(d.fixed)
		d.size, d.complete = 0, false
	}
	d.size++
	if a, ok := fixedAddr(k); ok {
		t := d.fixed[model.Chain(k[2:2+k[1]])]
		if t == nil {
			t = &addrTable{}
			d.fixed[model.Chain(k[2:2+k[1]])] = t
		}
		t.put(&a, n)
		return
	}
	d.cache[string(k)] = n
}

// fixedAddr returns the address of a fwd key (prefix, len chain, chain,
// address) when it has 20 bytes.
func fixedAddr(k []byte) (a [20]byte, ok bool) {
	if len(k) != 2+int(k[1])+20 {
		return a, false
	}
	copy(a[:], k[2+int(k[1]):])
	return a, true
}

// lookup returns the number of an address, assigning one if it is new;
// new numbers are written to w and remembered in fresh until commit.
func (w *writer) lookup(d *dictionary, fresh *dictionary, chain model.Chain, k []byte) (uint64, error) {
	if n, ok := d.get(k); ok {
		return n, nil
	}
	if n, ok := fresh.get(k); ok {
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
			d.remember(k, n)
			return n, nil
		}
	}
	code, err := w.chainCode(chain)
	if err != nil {
		return 0, err
	}
	n := d.next
	d.next++
	fresh.remember(k, n)
	// The forward key is written at the end of the write (finish): a bulk
	// write defers it with its index, as it can be rebuilt from the
	// reverse key written here.
	w.b.Set(idKey(nil, d.rev, n), append([]byte{code}, k[2+int(k[1]):]...), nil)
	return n, nil
}

// writeForward writes the forward keys of the numbers a fresh dictionary
// holds.
func writeForward(b sink, d, fresh *dictionary) error {
	var v []byte
	return fresh.each(d.fwd, func(k []byte, n uint64) error {
		return b.Set(k, binary.AppendUvarint(v[:0], n), nil)
	})
}

// each calls fn with the forward key (prefix fwd) and number of every
// entry d holds, until fn fails; k is valid only during the call.
func (d *dictionary) each(fwd byte, fn func(k []byte, n uint64) error) error {
	var k []byte
	for chain, t := range d.fixed {
		var err error
		t.each(func(a *[20]byte, n uint64) {
			if err == nil {
				k = append(chainPrefix(k[:0], fwd, chain), a[:]...)
				err = fn(k, n)
			}
		})
		if err != nil {
			return err
		}
	}
	for s, n := range d.cache {
		if err := fn([]byte(s), n); err != nil {
			return err
		}
	}
	return nil
}

// rebuildForward writes the forward keys of numbers from..next-1 from
// their reverse keys (after a crash lost deferred ones).
func (s *Store) rebuildForward(b sink, d *dictionary, from uint64) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: idKey(nil, d.rev, from), UpperBound: prefixEnd([]byte{d.rev})})
	if err != nil {
		return err
	}
	defer it.Close()
	var k []byte
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(it.Key()) != 9 || len(v) < 1 {
			return fmt.Errorf("dictionary %c: %w", d.rev, errCorrupt)
		}
		chain, ok := s.chainName(v[0])
		if !ok {
			return fmt.Errorf("dictionary %c: unknown chain code %d: %w", d.rev, v[0], errCorrupt)
		}
		k = append(chainPrefix(k[:0], d.fwd, chain), v[1:]...)
		if err := b.Set(k, binary.AppendUvarint(nil, binary.BigEndian.Uint64(it.Key()[1:])), nil); err != nil {
			return err
		}
	}
	return it.Error()
}

// reverse reads the chain and address text of a number.
func (s *Store) reverse(d *dictionary, n uint64) (model.Chain, string, error) {
	v, ok, err := s.get(idKey(nil, d.rev, n))
	if err != nil {
		return "", "", err
	}
	if !ok || len(v) < 1 {
		return "", "", fmt.Errorf("store: number %d of dictionary %c: %w", n, d.rev, errCorrupt)
	}
	chain, ok := s.chainName(v[0])
	if !ok {
		return "", "", fmt.Errorf("store: number %d of dictionary %c: unknown chain code %d: %w", n, d.rev, v[0], errCorrupt)
	}
	return chain, addrText(chain, v[1:]), nil
}

// Chains are numbered by one-byte codes in order of first sight, kept
// under M chain/NAME → code, so that reverse dictionary entries carry a
// byte rather than the chain's name.
var metaChainPrefix = []byte{pMeta, 'c', 'h', 'a', 'i', 'n', '/'}

func (s *Store) loadChains() error {
	s.chainCodes = map[model.Chain]byte{}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: metaChainPrefix, UpperBound: prefixEnd(metaChainPrefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Value()) != 1 {
			return fmt.Errorf("chain code: %w", errCorrupt)
		}
		s.setChainCode(model.Chain(it.Key()[len(metaChainPrefix):]), it.Value()[0])
	}
	return it.Error()
}

// setChainCode records a chain's code both ways; the caller holds chainMu
// or has the store to itself (Open).
func (s *Store) setChainCode(c model.Chain, code byte) {
	s.chainCodes[c] = code
	s.chainNames[code].chain, s.chainNames[code].ok = c, true
}

// Chains returns the chains the store holds transfers of, sorted.
func (s *Store) Chains() ([]model.Chain, error) {
	if err := s.live(); err != nil {
		return nil, err
	}
	s.chainMu.RLock()
	known := slices.Sorted(maps.Keys(s.chainCodes))
	s.chainMu.RUnlock()
	var out []model.Chain
	for _, c := range known {
		n, err := s.ChainStats(c)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Store) chainName(code byte) (model.Chain, bool) {
	s.chainMu.RLock()
	defer s.chainMu.RUnlock()
	n := s.chainNames[code]
	return n.chain, n.ok
}

// chainCode returns a chain's code, assigning the next one in this write
// if the chain is new.
func (w *writer) chainCode(chain model.Chain) (byte, error) {
	w.s.chainMu.RLock()
	code, ok := w.s.chainCodes[chain]
	n := len(w.s.chainCodes)
	w.s.chainMu.RUnlock()
	if ok {
		return code, nil
	}
	if code, ok := w.newChains[chain]; ok {
		return code, nil
	}
	n += len(w.newChains)
	if n > 255 {
		return 0, fmt.Errorf("more than 256 chains in one store")
	}
	if w.newChains == nil {
		w.newChains = map[model.Chain]byte{}
	}
	w.newChains[chain] = byte(n)
	w.b.Set(append(append([]byte(nil), metaChainPrefix...), chain...), []byte{byte(n)}, nil)
	return byte(n), nil
}

// newFresh returns an empty, unbounded dictionary cache for one write.
func newFresh() dictionary {
	return dictionary{cache: map[string]uint64{}, fixed: map[model.Chain]*addrTable{}, max: int(^uint(0) >> 1)}
}

// adopt remembers the numbers a committed write assigned.
func (d *dictionary) adopt(f *dictionary) {
	f.each(d.fwd, func(k []byte, n uint64) error {
		d.remember(k, n)
		return nil
	})
}
