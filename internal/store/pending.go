package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"unsafe"

	"github.com/redthread/redthread/internal/model"
)

// Deferred indexing. A bulk write whose transfers are all new (above the
// chain's high-water mark) commits its segments, dictionary entries,
// headers and checkpoint, and leaves its adjacency entries in memory; they
// are indexed together (sorted once, one merge operand per bucket for many
// writes) when the buffer is full, before any read of adjacency or
// counters, before any other write, and at Close. The key M pending,
// committed with the first deferred write, records each chain's high-water
// mark before deferral began: on Open, the transfers above those marks are
// read back from their segments and indexed, so a crash loses nothing.

// parallelIndexEntries is the number of entries from which indexing runs
// on every core (tests lower it).
var parallelIndexEntries = 1 << 20

var metaPending = []byte{pMeta, 'p', 'e', 'n', 'd', 'i', 'n', 'g'}

// pending holds deferred writes' entries, one chunk and amount arena per
// write (not copied).
type pending struct {
	chunks [][]adjEntry
	arenas [][]byte
	size   int
	marks  map[model.Chain]mark
	// dictionary numbers assigned by deferred writes, whose forward keys
	// wait too; and the numbers before the first of them
	ids, assets       []*dictionary
	idMark, assetMark uint64
}

// pendingDict returns the dictionary marks the pending key records: the
// numbers before the first deferred write.
func (s *Store) pendingDict(startID, startAsset uint64) [2]uint64 {
	if s.pend != nil {
		return [2]uint64{s.pend.idMark, s.pend.assetMark}
	}
	return [2]uint64{startID, startAsset}
}

func (p *pending) bytes() int { return p.size }

// pendingMarks returns the marks the pending key must hold once a deferred
// write with the given before-marks commits, and whether they change.
func (s *Store) pendingMarks(before map[model.Chain]mark) (map[model.Chain]mark, bool) {
	marks := map[model.Chain]mark{}
	if s.pend != nil {
		for c, m := range s.pend.marks {
			marks[c] = m
		}
	}
	changed := s.pend == nil
	for c, m := range before {
		if _, ok := marks[c]; !ok {
			marks[c] = m
			changed = true
		}
	}
	return marks, changed
}

// deferIndex moves a committed deferred write's entries to the buffer.
func (s *Store) deferIndex(w *writer) {
	marks, _ := s.pendingMarks(w.before)
	if s.pend == nil {
		s.pend = &pending{idMark: w.startID, assetMark: w.startAsset}
	}
	s.pend.ids = append(s.pend.ids, &w.newIDs)
	s.pend.assets = append(s.pend.assets, &w.newAssets)
	s.pend.marks = marks
	arena := uint16(len(s.pend.arenas))
	for i := range w.adj {
		w.adj[i].arena = arena
	}
	s.pend.chunks = append(s.pend.chunks, w.adj)
	s.pend.arenas = append(s.pend.arenas, w.amts)
	s.pend.size += len(w.adj)*int(unsafe.Sizeof(adjEntry{})) + len(w.amts)
	s.pendFlag.Store(true)
}

func encodeMarks(dict [2]uint64, marks map[model.Chain]mark) []byte {
	b := binary.AppendUvarint(nil, dict[0])
	b = binary.AppendUvarint(b, dict[1])
	for c, m := range marks {
		b = append(b, byte(len(c)))
		b = append(b, c...)
		ok := byte(0)
		if m.ok {
			ok = 1
		}
		b = append(b, ok)
		b = append(b, m.k[:]...)
	}
	return b
}

func decodeMarks(b []byte) (dict [2]uint64, marks map[model.Chain]mark, err error) {
	marks = map[model.Chain]mark{}
	for i := range dict {
		if dict[i], b, err = readUvarint(b); err != nil {
			return dict, nil, err
		}
	}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+1+16 || b[1+n] > 1 {
			return dict, nil, errCorrupt
		}
		var m mark
		m.ok = b[1+n] == 1
		copy(m.k[:], b[2+n:])
		marks[model.Chain(b[1:1+n])] = m
		b = b[2+n+16:]
	}
	return dict, marks, nil
}

// flushPending indexes the buffered entries in one atomic ingest that also
// deletes the pending key. s.mu must be held.
func (s *Store) flushPending(ctx context.Context) error {
	if s.pend == nil {
		return nil
	}
	forward := func(b sink) error {
		for i := range s.pend.ids {
			if err := writeForward(b, &s.addrs, s.pend.ids[i]); err != nil {
				return err
			}
			if err := writeForward(b, &s.assets, s.pend.assets[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.indexAndClear(ctx, s.pend.chunks, s.pend.arenas, forward); err != nil {
		return fmt.Errorf("index deferred writes: %w", err)
	}
	s.pend = nil
	s.pendFlag.Store(false)
	return nil
}

func (s *Store) indexAndClear(ctx context.Context, chunks [][]adjEntry, arenas [][]byte, forward func(sink) error) error {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	parts := 1
	if n >= parallelIndexEntries {
		parts = max(1, runtime.GOMAXPROCS(0))
	}
	// Sort the chunks, in parallel.
	var wg sync.WaitGroup
	next := make(chan []adjEntry, len(chunks))
	for _, c := range chunks {
		next <- c
	}
	close(next)
	for range parts {
		wg.Go(func() {
			var tmp []adjEntry
			for c := range next {
				tmp = radixSortByKey(c, tmp)
			}
		})
	}
	wg.Wait()
	// Split the key space at address boundaries into parts of about equal
	// size, taken from the largest chunk, and index the parts in parallel:
	// their keys are disjoint, so their tables ingest together.
	largest := 0
	for i := range chunks {
		if len(chunks[i]) > len(chunks[largest]) {
			largest = i
		}
	}
	bounds := []uint64{0}
	for p := 1; p < parts && len(chunks) > 0; p++ {
		c := chunks[largest]
		k := c[len(c)*p/parts].key &^ 1
		if k > bounds[len(bounds)-1] {
			bounds = append(bounds, k)
		}
	}
	colls := make([]*collector, len(bounds))
	xs := make([]*indexer, len(bounds))
	errs := make([]error, len(bounds))
	for p := range bounds {
		lo, hi := bounds[p], ^uint64(0)
		if p+1 < len(bounds) {
			hi = bounds[p+1]
		}
		sub := make([][]adjEntry, len(chunks))
		m := 0
		for i, c := range chunks {
			a := sort.Search(len(c), func(j int) bool { return c[j].key >= lo })
			b := len(c)
			if hi != ^uint64(0) {
				b = sort.Search(len(c), func(j int) bool { return c[j].key >= hi })
			}
			sub[i] = c[a:b]
			m += b - a
		}
		// Room for the encoded entries (about 14 bytes each) and their
		// keys, so the arena rarely regrows.
		colls[p] = &collector{arena: make([]byte, 0, 20*m), kvs: make([]kv, 0, m/4)}
		xs[p] = &indexer{s: s, b: colls[p], arenas: arenas, buckets: map[uint64]bucketState{}}
		wg.Go(func() { errs[p] = xs[p].write(sub) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := colls[0].Delete(metaPending, nil); err != nil {
		return err
	}
	if err := forward(colls[0]); err != nil {
		return err
	}
	if err := s.ingest(ctx, colls...); err != nil {
		return err
	}
	for _, x := range xs {
		for k, b := range x.buckets {
			s.cacheBucket(k, b)
		}
	}
	return nil
}

// indexed makes sure no write waits to be indexed; readers of adjacency
// and counters call it first.
func (s *Store) indexed(ctx context.Context) error {
	if !s.pendFlag.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	return s.flushPending(ctx)
}

// recoverPending indexes the transfers a crash left unindexed (see above).
func (s *Store) recoverPending() error {
	v, ok, err := s.get(metaPending)
	if err != nil || !ok {
		return err
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("an interrupted bulk write left transfers unindexed; open the store once for writing (resume the import) to index them")
	}
	dict, marks, err := decodeMarks(v)
	if err != nil {
		return fmt.Errorf("pending index marks: %w", err)
	}
	var es []adjEntry
	var amts []byte
	for chain, m := range marks {
		from := uint64(0)
		if m.ok {
			from = binary.BigEndian.Uint64(m.k[:8])
		}
		err := s.scanRows(chain, from, ^uint64(0), func(block uint64, r *segRow, _ func() string) error {
			var cur [16]byte
			binary.BigEndian.PutUint64(cur[:8], block)
			binary.BigEndian.PutUint64(cur[8:], uint64(r.pos))
			if m.ok && string(cur[:]) <= string(m.k[:]) {
				return nil
			}
			off := len(amts)
			amts = appendAmountDec(amts, &r.amount)
			e := adjEntry{key: r.from<<1 | 1, block: block, pos: r.pos, cp: r.to, asset: r.asset, kind: r.kind}
			e.setAmount(amts[off:], off)
			es = append(es, e)
			e.key, e.cp = r.to<<1, r.from
			es = append(es, e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("recover pending index of %s: %w", chain, err)
		}
	}
	s.log.Info("indexing transfers an interrupted bulk write left unindexed", "entries", len(es))
	forward := func(b sink) error {
		if err := s.rebuildForward(b, &s.addrs, dict[0]); err != nil {
			return err
		}
		return s.rebuildForward(b, &s.assets, dict[1])
	}
	return s.indexAndClear(context.Background(), [][]adjEntry{es}, [][]byte{amts}, forward)
}
