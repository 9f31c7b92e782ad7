package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/redthread/redthread/internal/model"
)

// resident is the memory-resident copy of the reverse address dictionary
// and of block times that a serving process keeps (Options.ResidentBytes),
// so that naming a page's counterparties and timing its transfers costs no
// block reads. It is immutable once published; a rollback publishes a copy
// with the chain's times cut. Ids and blocks it does not cover (written
// after it was loaded) fall back to the store.
type resident struct {
	// ends[i] is the end in arena of address id i+1; its start is ends[i-1]
	// (0 for id 1). An empty span means the id is not covered.
	ends  []uint32
	arena []byte // chain code, then the address bytes of each id
	times map[model.Chain]blockTimes
}

// blockTimes holds the times of blocks first … first+len(t)-1; 0 marks a
// block without a header or a time that does not fit (read from the store).
type blockTimes struct {
	first uint64
	t     []uint32
}

// residentState publishes the resident tables and orders their loading
// against rollbacks.
type residentState struct {
	cur  atomic.Pointer[resident]
	mu   sync.Mutex // held to publish; gen counts rollbacks
	gen  uint64
	done chan struct{}
	stop atomic.Bool // set by Close
	err  error       // why loading stopped, when it did not finish
}

// name returns the address text of id, if covered.
func (r *resident) name(s *Store, id uint64) (string, bool) {
	if id == 0 || id > uint64(len(r.ends)) {
		return "", false
	}
	start := uint32(0)
	if id > 1 {
		start = r.ends[id-2]
	}
	v := r.arena[start:r.ends[id-1]]
	if len(v) < 1 {
		return "", false
	}
	chain, ok := s.chainName(v[0])
	if !ok {
		return "", false
	}
	return addrText(chain, v[1:]), true
}

// time returns the time of a block, if covered.
func (r *resident) time(chain model.Chain, n uint64) (int64, bool) {
	bt, ok := r.times[chain]
	if !ok || n < bt.first || n-bt.first >= uint64(len(bt.t)) {
		return 0, false
	}
	t := bt.t[n-bt.first]
	return int64(t), t != 0
}

// loadResident reads the reverse dictionary and block headers into memory
// when they fit in budget bytes, then publishes them. It runs in the
// background from Open; reads use the store until it is done.
func (s *Store) loadResident(budget int64) {
	rs := &s.resident
	defer close(rs.done)
	rs.mu.Lock()
	gen := rs.gen
	rs.mu.Unlock()
	r, err := s.readResident(budget)
	if err != nil {
		rs.err = err
		s.log.Info("resident tables not loaded; reads use the store", "reason", err)
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.gen != gen {
		rs.err = fmt.Errorf("a rollback ran while loading")
		s.log.Info("resident tables not loaded; reads use the store", "reason", rs.err)
		return
	}
	rs.cur.Store(r)
	s.log.Info("resident tables loaded", "addresses", len(r.ends), "bytes", r.bytes())
}

func (r *resident) bytes() int64 {
	n := int64(len(r.ends))*4 + int64(len(r.arena))
	for _, bt := range r.times {
		n += int64(len(bt.t)) * 4
	}
	return n
}

// errOverBudget stops a load that would exceed its memory budget.
var errOverBudget = fmt.Errorf("over the memory budget")

func (s *Store) readResident(budget int64) (*resident, error) {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	r := &resident{times: map[model.Chain]blockTimes{}}
	used := int64(0)
	if err := s.readResidentNames(snap, r, budget, &used); err != nil {
		return nil, err
	}
	lo := []byte{pBlock}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if s.resident.stop.Load() {
			return nil, ErrClosed
		}
		k := it.Key()
		if len(k) < 2 || len(k) != 2+int(k[1])+8 {
			return nil, fmt.Errorf("block header key %x: %w", k, errCorrupt)
		}
		chain := model.Chain(k[2 : 2+k[1]])
		n := binary.BigEndian.Uint64(k[2+k[1]:])
		t, w := binary.Varint(it.Value())
		if w <= 0 {
			return nil, fmt.Errorf("block header %s %d: %w", chain, n, errCorrupt)
		}
		bt, ok := r.times[chain]
		if !ok {
			bt.first = n
		}
		gap := n - bt.first - uint64(len(bt.t)) // blocks before n without a header
		if gap >= uint64(budget) {
			return nil, errOverBudget
		}
		if used += int64(gap+1) * 4; used > budget {
			return nil, errOverBudget
		}
		bt.t = append(bt.t, make([]uint32, gap)...)
		if t <= 0 || t > math.MaxUint32 {
			t = 0 // read from the store
		}
		bt.t = append(bt.t, uint32(t))
		r.times[chain] = bt
	}
	return r, it.Error()
}

// readResidentNames reads the reverse address dictionary into r, adding
// what it takes to *used.
func (s *Store) readResidentNames(snap *pebble.Snapshot, r *resident, budget int64, used *int64) (err error) {
	lo := []byte{pAddrRev}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		if s.resident.stop.Load() {
			return ErrClosed
		}
		k, v := it.Key(), it.Value()
		if len(k) != 9 || len(v) < 1 {
			return fmt.Errorf("reverse dictionary key %x: %w", k, errCorrupt)
		}
		id := binary.BigEndian.Uint64(k[1:])
		if id <= uint64(len(r.ends)) || id > math.MaxInt32 {
			return fmt.Errorf("reverse dictionary id %d out of order or too large", id)
		}
		for uint64(len(r.ends)) < id-1 { // a gap: not covered
			r.ends = append(r.ends, uint32(len(r.arena)))
		}
		if *used += int64(len(v)) + 4; *used > budget || len(r.arena)+len(v) > math.MaxUint32 {
			return errOverBudget
		}
		r.arena = append(r.arena, v...)
		r.ends = append(r.ends, uint32(len(r.arena)))
	}
	return nil
}

// forgetResidentBlocks cuts the resident times of a chain below block from,
// after a rollback of from and later blocks.
func (s *Store) forgetResidentBlocks(chain model.Chain, from uint64) {
	rs := &s.resident
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.gen++
	r := rs.cur.Load()
	if r == nil {
		return
	}
	bt, ok := r.times[chain]
	if !ok || from >= bt.first+uint64(len(bt.t)) {
		return
	}
	c := *r
	c.times = make(map[model.Chain]blockTimes, len(r.times))
	for k, v := range r.times {
		c.times[k] = v
	}
	bt.t = bt.t[: max(from, bt.first)-bt.first : max(from, bt.first)-bt.first]
	c.times[chain] = bt
	rs.cur.Store(&c)
}

// WaitResident waits until the resident tables of Options.ResidentBytes
// are loaded and reports whether they were (false when the option is off,
// the tables did not fit the budget or loading failed).
func (s *Store) WaitResident() bool {
	if s.resident.done == nil {
		return false
	}
	<-s.resident.done
	return s.resident.cur.Load() != nil
}
