package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// addrTable maps 20-byte addresses to numbers with open addressing and
// linear probing over one flat slot array: a lookup usually costs one
// cache line, where a general map costs several. The probe hash mixes all
// 20 bytes with a per-table random seed: addresses are not uniform
// (precompiles, vanity prefixes of zeros) and may be chosen by an
// adversary. Numbers are never 0, which marks an empty slot.
type addrTable struct {
	slots []addrSlot
	n     int
	seed  uint64
}

type addrSlot struct {
	a [20]byte
	_ [4]byte
	v uint64
}

func (t *addrTable) hash(a *[20]byte) uint64 {
	x := binary.LittleEndian.Uint64(a[0:]) ^ t.seed
	y := binary.LittleEndian.Uint64(a[8:])
	z := uint64(binary.LittleEndian.Uint32(a[16:]))
	h := mix(x, y^0x9e3779b97f4a7c15)
	return mix(h, z^0xbf58476d1ce4e5b9)
}

// mix is a 64×64→128-bit multiply folded to 64 bits (as wyhash does).
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func (t *addrTable) get(a *[20]byte) (uint64, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.hash(a) & mask; ; i = (i + 1) & mask {
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
	for i := t.hash(a) & mask; ; i = (i + 1) & mask {
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
	if t.seed == 0 {
		t.seed = rand.Uint64() | 1
	}
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
