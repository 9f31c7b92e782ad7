package importer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// parseUint parses a decimal uint64 without allocating.
func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty; want a non-negative integer")
	}
	if len(b) > 20 {
		return 0, errors.New("not a 64-bit non-negative integer")
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("not a non-negative decimal integer")
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, errors.New("does not fit 64 bits")
		}
		n = n*10 + d
	}
	return n, nil
}

// parseTime parses Unix seconds (non-negative, below 2^62).
func parseTime(b []byte) (int64, error) {
	n, err := parseUint(b)
	if err != nil {
		return 0, err
	}
	if n >= 1<<62 {
		return 0, errors.New("timestamp out of range")
	}
	return int64(n), nil
}

// parseAmount parses a decimal integer amount that must fit 256 bits.
// Amounts of up to 19 digits take a fast path without allocating.
func parseAmount(b []byte, z *uint256.Int) error {
	if len(b) == 0 {
		return errors.New("empty amount")
	}
	if len(b) <= 19 {
		var n uint64
		for _, c := range b {
			if c < '0' || c > '9' {
				return errors.New("not a non-negative decimal integer")
			}
			n = n*10 + uint64(c-'0')
		}
		z.SetUint64(n)
		return nil
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return errors.New("not a non-negative decimal integer")
		}
	}
	if len(b) > 78 || z.SetFromDecimal(string(b)) != nil {
		return errors.New("does not fit 256 bits")
	}
	return nil
}

// parseDecimalUnits converts a decimal number with an optional fraction
// ("1,234.5") exactly into an integer number of smallest units with the given
// number of decimals. Thousands separators (commas) in the integer part are
// accepted; a fraction with more digits than decimals is an error unless the
// extra digits are zeros. No floating point is involved.
func parseDecimalUnits(s string, decimals int) (uint256.Int, error) {
	var z uint256.Int
	s = strings.TrimSpace(s)
	if s == "" {
		return z, errors.New("empty amount")
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" && intPart == "" {
		return z, errors.New("not a decimal number")
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) == 0 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return z, errors.New("misplaced thousands separator")
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" {
		intPart = "0"
	}
	for _, p := range []string{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return z, errors.New("not a non-negative decimal number")
			}
		}
	}
	trimmed := strings.TrimRight(frac, "0")
	if len(trimmed) > decimals {
		return z, fmt.Errorf("has %d decimal places; the asset has %d", len(trimmed), decimals)
	}
	digits := strings.TrimLeft(intPart+trimmed+strings.Repeat("0", decimals-len(trimmed)), "0")
	if digits == "" {
		return z, nil
	}
	if len(digits) > 78 {
		return z, errors.New("does not fit 256 bits")
	}
	if err := z.SetFromDecimal(digits); err != nil {
		return z, errors.New("does not fit 256 bits")
	}
	return z, nil
}

// addrCache normalizes addresses through model.NormalizeAddress and keeps
// recent results in a direct-mapped table, so a repeated address costs a
// comparison and no allocation. (A Go map over millions of addresses costs
// more in cache misses than it saves.)
type addrCache struct {
	slots []addrSlot
}

type addrSlot struct {
	fp uint64 // fingerprint of the raw bytes
	s  string
}

const addrCacheSlots = 1 << 16

func (c *addrCache) get(chain model.Chain, raw []byte) (string, error) {
	if c.slots == nil {
		c.slots = make([]addrSlot, addrCacheSlots)
	}
	h := uint64(len(raw)) * 0x9e3779b97f4a7c15
	for i := len(raw) - 1; i >= 0 && i >= len(raw)-16; i-- {
		h = (h ^ uint64(raw[i])) * 1099511628211
	}
	slot := &c.slots[h>>48]
	if slot.fp == h && slot.s == string(raw) && len(raw) > 0 {
		return slot.s, nil
	}
	var s string
	if model.IsEVM(chain) && isCanonicalHex(raw, 20) {
		s = string(raw) // already canonical: the same result as model's, one allocation
	} else {
		var err error
		if s, err = model.NormalizeAddress(chain, string(raw)); err != nil {
			return "", err
		}
		if s != string(raw) {
			return s, nil // cache only canonical spellings
		}
	}
	slot.fp, slot.s = h, s
	return s, nil
}

// hashCache normalizes transaction hashes, remembering the last one (rows of
// one transaction are usually adjacent).
type hashCache struct {
	raw  []byte
	hash string
}

func (c *hashCache) get(raw []byte) (string, error) {
	if c.hash != "" && string(raw) == string(c.raw) {
		return c.hash, nil
	}
	var h string
	if isCanonicalHex(raw, 32) {
		h = string(raw)
	} else {
		var err error
		if h, err = model.NormalizeHash(string(raw)); err != nil {
			return "", errors.New("not a 32-byte hex hash (0x and 64 hex digits)")
		}
	}
	c.raw = append(c.raw[:0], raw...)
	c.hash = h
	return h, nil
}

// isCanonicalHex reports whether b is "0x" and 2n lower-case hex digits,
// the canonical form model produces.
func isCanonicalHex(b []byte, n int) bool {
	if len(b) != 2+2*n || b[0] != '0' || b[1] != 'x' {
		return false
	}
	var bad byte
	for _, c := range b[2:] {
		bad |= notLowerHex[c]
	}
	return bad == 0
}

var notLowerHex = func() (t [256]byte) {
	for i := range t {
		if !(i >= '0' && i <= '9' || i >= 'a' && i <= 'f') {
			t[i] = 1
		}
	}
	return t
}()

// validChain checks a chain identifier: 1–16 lower-case letters or digits.
func validChain(b []byte) error {
	if len(b) == 0 || len(b) > 16 {
		return errors.New("want a chain id of 1 to 16 lower-case letters or digits")
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return errors.New("want a chain id of 1 to 16 lower-case letters or digits")
		}
	}
	return nil
}

// addrProblem says what an address on chain must look like.
func addrProblem(chain model.Chain) string {
	if model.IsEVM(chain) {
		return "invalid address: want 0x and 40 hex digits"
	}
	return "invalid address"
}
