package store

import (
	"encoding/binary"
	"errors"
	"io"
	"math/big"

	"github.com/cockroachdb/pebble/v2"
)

// A counter record is a fixed list of signed integers of any size, merged by
// addition, so writers add deltas without reading and a rollback subtracts.
// Each field: one header byte (bit 7: negative; bits 0–6: magnitude length)
// and the big-endian magnitude.
const nCounterFields = 4

// Counter field indexes of an address/asset counter.
const (
	fCountIn = iota
	fCountOut
	fSumIn
	fSumOut
)

type counters [nCounterFields]big.Int

func (c *counters) add(o *counters) {
	for i := range c {
		c[i].Add(&c[i], &o[i])
	}
}

func (c *counters) isZero() bool {
	for i := range c {
		if c[i].Sign() != 0 {
			return false
		}
	}
	return true
}

func (c *counters) encode(dst []byte) []byte {
	for i := range c {
		m := c[i].Bytes()
		h := byte(len(m))
		if c[i].Sign() < 0 {
			h |= 0x80
		}
		dst = append(dst, h)
		dst = append(dst, m...)
	}
	return dst
}

var errBadCounter = errors.New("store: corrupt counter record")

func (c *counters) decode(b []byte) error {
	for i := range c {
		if len(b) < 1 {
			return errBadCounter
		}
		n := int(b[0] & 0x7f)
		if len(b) < 1+n {
			return errBadCounter
		}
		c[i].SetBytes(b[1 : 1+n])
		if b[0]&0x80 != 0 {
			c[i].Neg(&c[i])
		}
		b = b[1+n:]
	}
	if len(b) != 0 {
		return errBadCounter
	}
	return nil
}

type counterMerger struct{ sum counters }

func (m *counterMerger) MergeNewer(v []byte) error { return m.merge(v) }
func (m *counterMerger) MergeOlder(v []byte) error { return m.merge(v) }

func (m *counterMerger) merge(v []byte) error {
	var c counters
	if err := c.decode(v); err != nil {
		return err
	}
	m.sum.add(&c)
	return nil
}

func (m *counterMerger) Finish(includesBase bool) ([]byte, io.Closer, error) {
	return m.sum.encode(nil), nil, nil
}

// merger merges the store's two kinds of merge operands: counter records
// (summed) and adjacency lists (sorted union), told apart by key prefix.
var merger = &pebble.Merger{
	Name: "redthread.v2",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		if len(key) == 17 && (key[0] == pIn || key[0] == pOut) {
			m := &adjMerger{start: binary.BigEndian.Uint64(key[9:])}
			return m, m.MergeNewer(value)
		}
		m := &counterMerger{}
		if err := m.merge(value); err != nil {
			return nil, err
		}
		return m, nil
	},
}

// DeletableFinish drops a counter that sums to zero once every operand down
// to the base is merged, so a rollback leaves no trace of what it removed.
func (m *counterMerger) DeletableFinish(includesBase bool) ([]byte, bool, io.Closer, error) {
	if includesBase && m.sum.isZero() {
		return nil, true, nil, nil
	}
	return m.sum.encode(nil), false, nil, nil
}
