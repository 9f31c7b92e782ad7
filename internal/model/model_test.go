package model

import (
	"strings"
	"testing"
)

func TestNormalizeAddress(t *testing.T) {
	for _, c := range []struct {
		chain   Chain
		in, out string
		bad     bool
	}{
		{"eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", false},
		{"eth", " 0X098b716b8aaf21512996dc57eb0615e2383e2f96 ", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", false},
		{"eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f9", "", true},  // 39 digits
		{"eth", "0x098b716b8aaf21512996dc57eb0615e2383e2f9g", "", true}, // not hex
		{"eth", "098b716b8aaf21512996dc57eb0615e2383e2f96aa", "", true}, // no 0x
		{"btc", "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6", false},
		{"btc", "bc1q a", "", true},
		{"btc", "", "", true},
	} {
		got, err := NormalizeAddress(c.chain, c.in)
		if (err != nil) != c.bad || got != c.out {
			t.Errorf("NormalizeAddress(%s, %q) = %q, %v; want %q, bad=%v", c.chain, c.in, got, err, c.out, c.bad)
		}
	}
}

func TestParseAmount(t *testing.T) {
	max := "115792089237316195423570985008687907853269984665640564039457584007913129639935" // 2^256-1
	for _, c := range []struct {
		in  string
		bad string
	}{
		{"0", ""}, {"1000000000000000000", ""}, {max, ""},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639936", "does not fit 256 bits"},
		{"-1", "not a non-negative decimal integer"},
		{"1.5", "not a non-negative decimal integer"},
		{"1e18", "not a non-negative decimal integer"},
		{"", "empty amount"},
		{"0x10", "not a non-negative decimal integer"},
	} {
		v, err := ParseAmount(c.in)
		if c.bad == "" {
			if err != nil || v.Dec() != strings.TrimLeft(c.in, "0")+map[bool]string{true: "0"}[strings.Trim(c.in, "0") == ""] {
				t.Errorf("ParseAmount(%q) = %s, %v", c.in, v.Dec(), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.bad) {
			t.Errorf("ParseAmount(%q) error = %v, want %q", c.in, err, c.bad)
		}
	}
}

func TestPositionAndValidate(t *testing.T) {
	p := MakePosition(7, 3)
	if p.TxIndex() != 7 || p.Seq() != 3 || !(MakePosition(7, 4) > p) || !(MakePosition(8, 0) > MakePosition(7, 1<<31)) {
		t.Fatalf("positions do not order by tx index, then sequence")
	}
	b := Block{Chain: "eth", Number: 5, Time: 9, Transfers: []Transfer{
		{Chain: "eth", Block: 5, Time: 9, Position: 2}, {Chain: "eth", Block: 5, Time: 9, Position: 1}}}
	if err := b.Validate(); err == nil || !strings.Contains(err.Error(), "block 5: transfer 1") {
		t.Fatalf("Validate = %v, want an ordering error naming block 5 transfer 1", err)
	}
	b.Transfers[1].Position = 3
	b.Transfers[1].Block = 6
	if err := b.Validate(); err == nil {
		t.Fatal("transfer of another block accepted")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "0x", "", "1", "0xZZ", "123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := NormalizeAddress("eth", s); err == nil {
			if b, err := NormalizeAddress("eth", a); err != nil || a != b || len(a) != 42 {
				t.Fatalf("not idempotent: %q → %q → %q %v", s, a, b, err)
			}
		}
		if v, err := ParseAmount(s); err == nil {
			if w, err := ParseAmount(v.Dec()); err != nil || !w.Eq(&v) {
				t.Fatalf("amount %q does not round-trip", s)
			}
		}
	})
}
