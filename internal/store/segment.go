package store

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// A segment holds the transfers of one block written by one write, in
// position order, under the key T chain block first-position. Its value is
// a uvarint row count and the rows, each:
//
//	head byte, [kind byte], [uvarint Δtx], [uvarint seq-field], [hash],
//	uvarint from, uvarint to, [uvarint asset], amount
//
// head: bits 0–2 the kind, or 0 when the hash is text (uvarint length and
// bytes, rather than the 32 raw bytes of a 0x-prefixed hex hash) and a
// kind byte follows; bit 3 the hash equals the previous row's (and is
// omitted); bit 4 the asset is the native coin (and is omitted; else its
// asset number follows the addresses); bits 5–6 the change of
// transaction index (pos>>32) from the previous row, 0–2, or 3 when a
// uvarint Δtx follows; bit 7 a uvarint seq-field follows, else it is 0.
// The seq-field is the sequence (pos & 0xffffffff) when the transaction
// index changed, else the increase of the sequence minus one. Row 0's
// position is the key's (its Δtx and seq-field are 0). Amounts use the
// decimal encoding of amount.go.
const (
	kindMask     = 0x07
	flagSameHash = 1 << 3
	flagNative   = 1 << 4
	dtxShift     = 5
	flagSeq      = 1 << 7
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
	var dtx, seq uint64
	if b.n == 0 {
		b.first = t.Position
	} else {
		dtx = uint64(t.Position.TxIndex()) - uint64(b.prev.TxIndex())
		seq = uint64(t.Position.Seq())
		if dtx == 0 {
			seq -= uint64(b.prev.Seq()) + 1
		}
	}
	head := byte(min(dtx, 3)) << dtxShift
	if seq != 0 {
		head |= flagSeq
	}
	same := b.n > 0 && t.TxHash == b.prevHash
	raw := !same && isHexHash(t.TxHash)
	text := !same && !raw
	if same {
		head |= flagSameHash
	}
	if !text {
		head |= byte(t.Kind) & kindMask
	}
	if asset == 0 {
		head |= flagNative
	}
	b.rows = append(b.rows, head)
	if text {
		b.rows = append(b.rows, byte(t.Kind))
	}
	if dtx >= 3 {
		b.rows = binary.AppendUvarint(b.rows, dtx)
	}
	if seq != 0 {
		b.rows = binary.AppendUvarint(b.rows, seq)
	}
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
	if asset != 0 {
		b.rows = binary.AppendUvarint(b.rows, asset)
	}
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
	if len(b) < 1 {
		return false, errCorrupt
	}
	flags := b[0]
	b = b[1:]
	r.kind = model.Kind(flags & kindMask)
	text := r.kind == 0
	if text {
		if len(b) < 1 || b[0] == 0 || b[0] > kindMask || flags&flagSameHash != 0 {
			return false, errCorrupt
		}
		r.kind, b = model.Kind(b[0]), b[1:]
	}
	dtx := uint64(flags>>dtxShift) & 3
	if dtx == 3 {
		if dtx, b, err = readUvarint(b); err != nil {
			return false, err
		}
	}
	var seq uint64
	if flags&flagSeq != 0 {
		if seq, b, err = readUvarint(b); err != nil {
			return false, err
		}
	}
	if d.i == 0 && (dtx != 0 || seq != 0) {
		return false, errCorrupt
	}
	if d.i > 0 {
		tx := uint64(r.pos.TxIndex()) + dtx
		if dtx == 0 {
			seq += uint64(r.pos.Seq()) + 1
		}
		if tx > 1<<32-1 || seq > 1<<32-1 {
			return false, errCorrupt
		}
		r.pos = model.MakePosition(uint32(tx), uint32(seq))
	}
	switch {
	case flags&flagSameHash != 0:
		if d.i == 0 {
			return false, errCorrupt
		}
	case text:
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
	r.asset = 0
	if flags&flagNative == 0 {
		if r.asset, b, err = readUvarint(b); err != nil || r.asset == 0 {
			return false, errCorrupt
		}
	}
	if b, err = readAmountDec(b, &r.amount); err != nil {
		return false, err
	}
	d.b = b
	d.left--
	d.i++
	return true, nil
}

// each decodes a segment (first position and value) and calls fn after
// each row, the row in d.row.
func (d *segDecoder) each(first model.Position, v []byte, fn func() error) error {
	if err := d.init(first, v); err != nil {
		return err
	}
	for {
		more, err := d.next()
		if err != nil || !more {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
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
