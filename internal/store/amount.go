package store

import (
	"encoding/binary"

	"github.com/holiman/uint256"
)

// Amounts in segments and adjacency lists are written as a decimal
// mantissa m and exponent z (amount = m·10^z, z maximal), because amounts
// people choose are round in their unit (1.5 ETH is 15 followed by 17 zeros
// in wei). A uvarint h = m<<2 | tag comes first: tag 0, m < 2^62 and z = 0;
// tag 1, m < 2^62 and one byte z follows; tag 2 (h = 2), m is larger: a
// byte z, a length byte and m's big-endian bytes follow. The encoding is
// exact and canonical.

var (
	tenPow9  = uint256.NewInt(1_000_000_000)
	tenPow1  = uint256.NewInt(10)
	maxZeros = 77 // 10^78 > 2^256
)

// appendAmountDec appends the decimal encoding of a.
func appendAmountDec(dst []byte, a *uint256.Int) []byte {
	var m uint256.Int
	z := 0
	if a.IsUint64() {
		v := a.Uint64()
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
		m.SetUint64(v)
	} else {
		var q, r uint256.Int
		m.Set(a)
		for {
			q.DivMod(&m, tenPow9, &r)
			if !r.IsZero() {
				break
			}
			m.Set(&q)
			z += 9
		}
		for {
			q.DivMod(&m, tenPow1, &r)
			if !r.IsZero() {
				break
			}
			m.Set(&q)
			z++
		}
	}
	if m.IsUint64() && m.Uint64() < 1<<62 {
		if z == 0 {
			return binary.AppendUvarint(dst, m.Uint64()<<2)
		}
		dst = binary.AppendUvarint(dst, m.Uint64()<<2|1)
		return append(dst, byte(z))
	}
	n := (m.BitLen() + 7) / 8
	dst = append(dst, 2, byte(z), byte(n))
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
	h, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errCorrupt
	}
	b = b[k:]
	z := 0
	switch h & 3 {
	case 0:
		a.SetUint64(h >> 2)
	case 1:
		if len(b) < 1 {
			return nil, errCorrupt
		}
		a.SetUint64(h >> 2)
		z, b = int(b[0]), b[1:]
	case 2:
		if h != 2 || len(b) < 2 || b[1] > 32 || len(b) < 2+int(b[1]) {
			return nil, errCorrupt
		}
		z = int(b[0])
		a.SetBytes(b[2 : 2+int(b[1])])
		b = b[2+int(b[1]):]
	default:
		return nil, errCorrupt
	}
	if z > maxZeros {
		return nil, errCorrupt
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
	h, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errCorrupt
	}
	b = b[k:]
	switch h & 3 {
	case 0:
		return b, nil
	case 1:
		if len(b) < 1 {
			return nil, errCorrupt
		}
		return b[1:], nil
	case 2:
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return nil, errCorrupt
		}
		return b[2+int(b[1]):], nil
	}
	return nil, errCorrupt
}
