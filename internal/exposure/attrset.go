package exposure

import (
	"sync"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// Eacher lists every attribution; the intel DB has it. With it the engine
// keeps, per chain, a bitmap of the graph's address ids that carry any
// attribution, so counterparties without one (almost all) cost no lookup.
type Eacher interface {
	Each(fn func(model.Attribution) bool)
}

// attrSet is the bitmap of one chain for one generation of attributions.
type attrSet struct {
	gen   uint64
	addrs map[string]struct{} // attributed addresses of the chain, at any date
	n     int                 // graph address ids checked: [0, n)
	bits  []uint64            // immutable once published; grown by copy
}

type attrSets struct {
	mu sync.Mutex
	m  map[model.Chain]*attrSet
}

// bitmap returns the attributed-id bitmap of chain c for attributor a of
// generation gen, or nil when a cannot list its attributions. The caller
// holds a read view of the graph, so c does not change meanwhile.
func (s *attrSets) bitmap(a Attributor, gen uint64, c *graph.Chain) []uint64 {
	ea, ok := a.(Eacher)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[model.Chain]*attrSet{}
	}
	set := s.m[c.Name()]
	n := c.NumAddresses()
	if set == nil || set.gen != gen {
		set = &attrSet{gen: gen, addrs: map[string]struct{}{}}
		ea.Each(func(at model.Attribution) bool {
			if at.Chain == c.Name() {
				set.addrs[at.Address] = struct{}{}
			}
			return true
		})
		set.bits = make([]uint64, (n+63)/64)
		for a := range set.addrs {
			if id, ok := c.Lookup(a); ok {
				set.bits[id/64] |= 1 << (id % 64)
			}
		}
		set.n = n
		s.m[c.Name()] = set
		return set.bits
	}
	if set.n < n {
		bits := make([]uint64, (n+63)/64)
		copy(bits, set.bits)
		if len(set.addrs) > 0 {
			for id := set.n; id < n; id++ {
				if _, ok := set.addrs[c.Address(uint32(id))]; ok {
					bits[id/64] |= 1 << (id % 64)
				}
			}
		}
		set.bits, set.n = bits, n
	}
	return set.bits
}
