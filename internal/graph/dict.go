package graph

import (
	"encoding/hex"
	"hash/maphash"
	"sync/atomic"

	"github.com/redthread/redthread/internal/model"
)

// dict maps address (or asset) keys to dense uint32 ids with an open
// addressing table over a byte arena: about key bytes + 6–12 bytes per key,
// far less than a Go map of strings.
//
// One writer adds keys while readers look them up through copies of the
// struct taken when a view was published (the index's snapshots): the arena
// and ends only grow (a copy sees its prefix), table cells are written and
// read atomically, and a grown table is a new array, so a copy's table is
// either the live one or frozen. A reader ignores ids at or above its n.
type dict struct {
	width int      // fixed key width in bytes; 0: variable (ends used)
	data  []byte   // keys, back to back
	ends  []uint64 // variable width: end offset of key i
	table []uint32 // id+1; 0 is empty
	n     uint32
	seed  maphash.Seed
}

func newDict(width int) *dict {
	return &dict{width: width, seed: maphash.MakeSeed(), table: make([]uint32, 1024)}
}

func (d *dict) key(id uint32) []byte {
	if d.width > 0 {
		o := int(id) * d.width
		return d.data[o : o+d.width]
	}
	var start uint64
	if id > 0 {
		start = d.ends[id-1]
	}
	return d.data[start:d.ends[id]]
}

func (d *dict) slot(k []byte) uint64 {
	return maphash.Bytes(d.seed, k) & uint64(len(d.table)-1)
}

func (d *dict) find(k []byte) (uint32, bool) {
	mask := uint64(len(d.table) - 1)
	for i := d.slot(k); ; i = (i + 1) & mask {
		v := atomic.LoadUint32(&d.table[i])
		if v == 0 {
			return 0, false
		}
		if v-1 >= d.n {
			// Added after this copy was taken; a key the copy knows was
			// added earlier and so sits earlier on its probe sequence.
			return 0, false
		}
		if string(d.key(v-1)) == string(k) {
			return v - 1, true
		}
	}
}

// add returns the id of k, inserting it if new.
func (d *dict) add(k []byte) (uint32, bool) {
	mask := uint64(len(d.table) - 1)
	i := d.slot(k)
	for ; ; i = (i + 1) & mask {
		v := d.table[i]
		if v == 0 {
			break
		}
		if string(d.key(v-1)) == string(k) {
			return v - 1, false
		}
	}
	id := d.n
	d.n++
	d.data = append(d.data, k...)
	if d.width == 0 {
		d.ends = append(d.ends, uint64(len(d.data)))
	}
	atomic.StoreUint32(&d.table[i], id+1)
	if uint64(d.n)*4 > uint64(len(d.table))*3 {
		d.grow()
	}
	return id, true
}

func (d *dict) grow() {
	d.table = make([]uint32, len(d.table)*2)
	mask := uint64(len(d.table) - 1)
	for id := uint32(0); id < d.n; id++ {
		i := d.slot(d.key(id))
		for d.table[i] != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = id + 1
	}
}

func (d *dict) bytes() int64 {
	return int64(cap(d.data)) + int64(cap(d.ends))*8 + int64(cap(d.table))*4
}

// addrCodec turns canonical address text into dictionary keys and back:
// EVM addresses become their 20 raw bytes, others stay text.
type addrCodec struct{ evm bool }

func (c addrCodec) encode(dst []byte, s string) ([]byte, bool) {
	if !c.evm {
		return append(dst, s...), true
	}
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return dst, false
	}
	var b [20]byte
	if _, err := hex.Decode(b[:], []byte(s[2:])); err != nil {
		return dst, false
	}
	return append(dst, b[:]...), true
}

func (c addrCodec) decode(k []byte) string {
	if !c.evm {
		return string(k)
	}
	return "0x" + hex.EncodeToString(k)
}

func codecFor(chain model.Chain) addrCodec { return addrCodec{evm: model.IsEVM(chain)} }

// truncate removes the keys with ids n and above, newest first (a failed
// append's). With linear probing and no other deletions, clearing the slot
// each took restores the table of the shorter insertion sequence; copies
// with at most n keys never look at those slots' contents.
func (d *dict) truncate(n uint32) {
	mask := uint64(len(d.table) - 1)
	for id := d.n; id > n; id-- {
		k := d.key(id - 1)
		for i := d.slot(k); ; i = (i + 1) & mask {
			if d.table[i] == id {
				atomic.StoreUint32(&d.table[i], 0)
				break
			}
		}
	}
	d.n = n
	if d.width > 0 {
		d.data = d.data[:int(n)*d.width]
	} else {
		end := uint64(0)
		if n > 0 {
			end = d.ends[n-1]
		}
		d.data, d.ends = d.data[:end], d.ends[:n]
	}
}
