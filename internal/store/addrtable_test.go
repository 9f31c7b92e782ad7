package store

import (
	"encoding/binary"
	"testing"
)

// TestAddrTableSkewedAddresses fills the table with addresses that share
// long prefixes of zeros (precompiles, vanity addresses) and checks every
// lookup, with bounded probing.
func TestAddrTableSkewedAddresses(t *testing.T) {
	var tb addrTable
	const n = 200_000
	key := func(i int) (a [20]byte) {
		binary.BigEndian.PutUint32(a[16:], uint32(i))
		return a
	}
	for i := 1; i <= n; i++ {
		a := key(i)
		tb.put(&a, uint64(i))
	}
	if tb.n != n {
		t.Fatalf("%d entries, want %d", tb.n, n)
	}
	worst := 0
	mask := uint64(len(tb.slots) - 1)
	for i := 1; i <= n; i++ {
		a := key(i)
		if v, ok := tb.get(&a); !ok || v != uint64(i) {
			t.Fatalf("get %d = %d, %v", i, v, ok)
		}
		probes := 1
		for j := tb.hash(&a) & mask; tb.slots[j].a != a; j = (j + 1) & mask {
			probes++
		}
		worst = max(worst, probes)
	}
	if worst > 64 {
		t.Fatalf("a lookup probes %d slots: the hash does not spread these addresses", worst)
	}
	missing := key(n + 1)
	if _, ok := tb.get(&missing); ok {
		t.Fatal("found an address never put")
	}
}
