package store

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// A segment holds the transfers of one block written by one write, in
// position order, under the key T chain block first-position. Its value is
// a uvarint row count and the rows:
//
//	row 0:   flags [hash] uvarint from, uvarint to, uvarint asset, amount
//	row i>0: uvarint Δtx, uvarint seq-or-Δseq, then as row 0
//
// Row 0's position is the key's. A later row's position is given by the
// change of transaction index (pos>>32) and, when that is zero, the
// increase of the sequence minus one, else the sequence itself. flags: bits
// 0–3 the kind, bit 4 the hash equals the previous row's (and is omitted),
// bit 5 the hash is text (uvarint length and bytes) rather than 32 raw bytes
// of a 0x-prefixed hex hash. Amounts use the decimal encoding of amount.go.
const (
	flagSameHash = 1 << 4
	flagTextHash = 1 << 5
	kindMask     = 0x0f
)

// segmentRows bounds a segment so that point reads decode little.
const segmentRows = 1024

// segBuilder accumulates one segment.
type segBuilder struct {
	rows     []byte
	n        int
	first    model.Position
	prev     model.Position
	prevHash string
}

func (b *segBuilder) reset() {
	b.rows, b.n, b.prevHash = b.rows[:0], 0, ""
}

func (b *segBuilder) add(t *model.Transfer, from, to, asset uint64, amount []byte) {
	if b.n == 0 {
		b.first = t.Position
	} else {
		dtx := uint64(t.Position.TxIndex()) - uint64(b.prev.TxIndex())
		b.rows = binary.AppendUvarint(b.rows, dtx)
		seq := uint64(t.Position.Seq())
		if dtx == 0 {
			seq -= uint64(b.prev.Seq()) + 1
		}
		b.rows = binary.AppendUvarint(b.rows, seq)
	}
	flags := byte(t.Kind) & kindMask
	same := b.n > 0 && t.TxHash == b.prevHash
	raw := !same && isHexHash(t.TxHash)
	switch {
	case same:
		flags |= flagSameHash
	case !raw:
		flags |= flagTextHash
	}
	b.rows = append(b.rows, flags)
	switch {
	case same:
	case raw:
		b.rows, _ = hex.AppendDecode(b.rows, []byte(t.TxHash[2:])) // checked by isHexHash
	default:
		b.rows = binary.AppendUvarint(b.rows, uint64(len(t.TxHash)))
		b.rows = append(b.rows, t.TxHash...)
	}
	b.rows = binary.AppendUvarint(b.rows, from)
	b.rows = binary.AppendUvarint(b.rows, to)
	b.rows = binary.AppendUvarint(b.rows, asset)
	b.rows = append(b.rows, amount...)
	b.prev, b.prevHash = t.Position, t.TxHash
	b.n++
}

// value returns the segment's encoded value.
func (b *segBuilder) value(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(b.n))
	return append(dst, b.rows...)
}

func isHexHash(h string) bool {
	if len(h) != 66 || h[0] != '0' || h[1] != 'x' {
		return false
	}
	for i := 2; i < 66; i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// segRow is one decoded row. hash is valid until the next call of next.
type segRow struct {
	pos             model.Position
	kind            model.Kind
	hashText        bool
	hash            []byte // 32 raw bytes, or the text
	from, to, asset uint64
	amount          uint256.Int
}

// hashString returns the row's hash in canonical text form.
func (r *segRow) hashString() string {
	if r.hashText {
		return string(r.hash)
	}
	return "0x" + hex.EncodeToString(r.hash)
}

// segDecoder walks a segment's rows.
type segDecoder struct {
	b    []byte
	left int
	row  segRow
	i    int
	// hashStr caches row.hashString() while rows share a hash.
	hashStr string
}

func (d *segDecoder) init(first model.Position, v []byte) error {
	n, k := binary.Uvarint(v)
	if k <= 0 || n == 0 || n > uint64(len(v)) {
		return errCorrupt
	}
	*d = segDecoder{b: v[k:], left: int(n)}
	d.row.pos = first
	return nil
}

// next decodes the following row; it returns false after the last.
func (d *segDecoder) next() (bool, error) {
	if d.left == 0 {
		if len(d.b) != 0 {
			return false, errCorrupt
		}
		return false, nil
	}
	b := d.b
	var err error
	r := &d.row
	if d.i > 0 {
		var dtx, seq uint64
		if dtx, b, err = readUvarint(b); err != nil {
			return false, err
		}
		if seq, b, err = readUvarint(b); err != nil {
			return false, err
		}
		tx := uint64(r.pos.TxIndex()) + dtx
		if dtx == 0 {
			seq += uint64(r.pos.Seq()) + 1
		}
		if tx > 1<<32-1 || seq > 1<<32-1 {
			return false, errCorrupt
		}
		r.pos = model.MakePosition(uint32(tx), uint32(seq))
	}
	if len(b) < 1 {
		return false, errCorrupt
	}
	flags := b[0]
	b = b[1:]
	r.kind = model.Kind(flags & kindMask)
	switch {
	case flags&flagSameHash != 0:
		if d.i == 0 {
			return false, errCorrupt
		}
	case flags&flagTextHash != 0:
		var n uint64
		if n, b, err = readUvarint(b); err != nil || n > uint64(len(b)) {
			return false, errCorrupt
		}
		r.hash, r.hashText, d.hashStr = b[:n], true, ""
		b = b[n:]
	default:
		if len(b) < 32 {
			return false, errCorrupt
		}
		r.hash, r.hashText, d.hashStr = b[:32], false, ""
		b = b[32:]
	}
	if r.from, b, err = readUvarint(b); err != nil {
		return false, err
	}
	if r.to, b, err = readUvarint(b); err != nil {
		return false, err
	}
	if r.asset, b, err = readUvarint(b); err != nil {
		return false, err
	}
	if b, err = readAmountDec(b, &r.amount); err != nil {
		return false, err
	}
	d.b = b
	d.left--
	d.i++
	return true, nil
}

// hash returns the current row's hash text, converting once per hash.
func (d *segDecoder) hash() string {
	if d.hashStr == "" {
		d.hashStr = d.row.hashString()
	}
	return d.hashStr
}

// sameRow reports whether a stored row holds the transfer t (ids resolved).
func sameRow(r *segRow, hash string, t *model.Transfer, from, to, asset uint64) bool {
	return r.kind == t.Kind && hash == t.TxHash && r.from == from && r.to == to && r.asset == asset && r.amount.Eq(&t.Amount)
}
