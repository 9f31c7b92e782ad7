package store

// addrTable maps 20-byte addresses to numbers with open addressing and
// linear probing over one flat slot array: a lookup usually costs one
// cache line, where a general map costs several. Addresses are hashes
// already (Ethereum addresses are Keccak outputs), so their first bytes
// serve as the hash. Numbers are never 0, which marks an empty slot.
type addrTable struct {
	slots []addrSlot
	n     int
}

type addrSlot struct {
	a [20]byte
	_ [4]byte
	v uint64
}

func slotHash(a *[20]byte) uint64 {
	return uint64(a[0]) | uint64(a[1])<<8 | uint64(a[2])<<16 | uint64(a[3])<<24 |
		uint64(a[4])<<32 | uint64(a[5])<<40 | uint64(a[6])<<48 | uint64(a[7])<<56 ^ uint64(a[19])<<13
}

func (t *addrTable) get(a *[20]byte) (uint64, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := slotHash(a) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == 0 {
			return 0, false
		}
		if s.a == *a {
			return s.v, true
		}
	}
}

func (t *addrTable) put(a *[20]byte, v uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := slotHash(a) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == 0 {
			s.a, s.v = *a, v
			t.n++
			return
		}
		if s.a == *a {
			s.v = v
			return
		}
	}
}

func (t *addrTable) grow() {
	old := t.slots
	t.slots = make([]addrSlot, max(1024, 2*len(old)))
	adviseHuge(t.slots)
	t.n = 0
	for i := range old {
		if old[i].v != 0 {
			t.put(&old[i].a, old[i].v)
		}
	}
}

// each calls fn for every entry.
func (t *addrTable) each(fn func(a *[20]byte, v uint64)) {
	for i := range t.slots {
		if t.slots[i].v != 0 {
			fn(&t.slots[i].a, t.slots[i].v)
		}
	}
}
