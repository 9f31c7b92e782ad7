package store

import (
	"encoding/binary"

	"github.com/holiman/uint256"
)

// Amounts in segments and adjacency lists are written as a decimal
// mantissa and exponent, because amounts people choose are round in their
// unit (1.5 ETH is 15 followed by 17 zeros in wei): one byte z (bit 7 set
// when the mantissa needs more than 64 bits, bits 0–6 the count of trailing
// decimal zeros removed) and the mantissa: a uvarint, or a length byte and
// its big-endian bytes. The encoding is exact and canonical.

var (
	tenPow9  = uint256.NewInt(1_000_000_000)
	tenPow1  = uint256.NewInt(10)
	maxZeros = 77 // 10^78 > 2^256
)

// appendAmountDec appends the decimal encoding of a.
func appendAmountDec(dst []byte, a *uint256.Int) []byte {
	if a.IsUint64() {
		v := a.Uint64()
		z := 0
		if v != 0 {
			for v%1_000_000_000 == 0 {
				v /= 1_000_000_000
				z += 9
			}
			for v%10 == 0 {
				v /= 10
				z++
			}
		}
		dst = append(dst, byte(z))
		return binary.AppendUvarint(dst, v)
	}
	var m, q, r uint256.Int
	m.Set(a)
	z := 0
	for {
		q.DivMod(&m, tenPow9, &r)
		if !r.IsZero() {
			break
		}
		m.Set(&q)
		z += 9
	}
	for !m.IsUint64() || (m.Uint64() != 0 && m.Uint64()%10 == 0) {
		q.DivMod(&m, tenPow1, &r)
		if !r.IsZero() {
			break
		}
		m.Set(&q)
		z++
	}
	if m.IsUint64() {
		dst = append(dst, byte(z))
		return binary.AppendUvarint(dst, m.Uint64())
	}
	dst = append(dst, byte(z)|0x80)
	n := (m.BitLen() + 7) / 8
	dst = append(dst, byte(n))
	var buf [32]byte
	m.WriteToArray32(&buf)
	return append(dst, buf[32-n:]...)
}

var pow10 = func() (p [78]uint256.Int) {
	p[0].SetOne()
	for i := 1; i < len(p); i++ {
		p[i].Mul(&p[i-1], tenPow1)
	}
	return
}()

// readAmountDec decodes an amount written by appendAmountDec.
func readAmountDec(b []byte, a *uint256.Int) ([]byte, error) {
	if len(b) < 1 {
		return nil, errCorrupt
	}
	z := int(b[0] & 0x7f)
	if z > maxZeros {
		return nil, errCorrupt
	}
	if b[0]&0x80 == 0 {
		v, n := binary.Uvarint(b[1:])
		if n <= 0 {
			return nil, errCorrupt
		}
		a.SetUint64(v)
		b = b[1+n:]
	} else {
		if len(b) < 2 || b[1] > 32 || len(b) < 2+int(b[1]) {
			return nil, errCorrupt
		}
		n := int(b[1])
		a.SetBytes(b[2 : 2+n])
		b = b[2+n:]
	}
	if z > 0 {
		if _, overflow := a.MulOverflow(a, &pow10[z]); overflow {
			return nil, errCorrupt
		}
	}
	return b, nil
}

// skipAmountDec returns b after one encoded amount.
func skipAmountDec(b []byte) ([]byte, error) {
	if len(b) < 1 {
		return nil, errCorrupt
	}
	if b[0]&0x80 == 0 {
		_, n := binary.Uvarint(b[1:])
		if n <= 0 {
			return nil, errCorrupt
		}
		return b[1+n:], nil
	}
	if len(b) < 2 || len(b) < 2+int(b[1]) {
		return nil, errCorrupt
	}
	return b[2+int(b[1]):], nil
}
