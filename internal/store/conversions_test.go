package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// TestConversionsRange checks ScanConversions' block bounds and that
// Rollback removes a range's conversions and headers and nothing else.
func TestConversionsRange(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	var bs []model.Block
	for n := uint64(5); n <= 8; n++ {
		b := model.Block{Chain: model.ChainETH, Number: n, Time: int64(n), Hash: "0x01"}
		for p := range uint32(2) {
			b.Conversions = append(b.Conversions, model.Conversion{Kind: model.ConvBridge,
				In: model.Leg{Chain: model.ChainETH, Block: n, Position: model.MakePosition(p, 0)}, AmountIn: *uint256.NewInt(uint64(n)), Ref: "memo"})
		}
		bs = append(bs, b)
	}
	if err := s.Write(ctx, bs, nil); err != nil {
		t.Fatal(err)
	}
	blocks := func(from, to uint64) (got []uint64) {
		t.Helper()
		if err := s.ScanConversions(ctx, model.ChainETH, from, to, func(c *model.Conversion) error {
			got = append(got, c.In.Block)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	headers := func() (got []uint64) {
		t.Helper()
		for n := uint64(4); n <= 9; n++ {
			if _, ok, err := s.Block(model.ChainETH, n); err != nil {
				t.Fatal(err)
			} else if ok {
				got = append(got, n)
			}
		}
		return got
	}
	for _, c := range []struct {
		from, to uint64
		want     []uint64
	}{
		{6, 6, []uint64{6, 6}},
		{6, ^uint64(0), []uint64{6, 6, 7, 7, 8, 8}},
		{0, 5, []uint64{5, 5}},
		{9, 100, nil},
	} {
		if diff := cmp.Diff(c.want, blocks(c.from, c.to)); diff != "" {
			t.Errorf("ScanConversions %d–%d (-want +got):\n%s", c.from, c.to, diff)
		}
	}
	if err := s.Rollback(ctx, model.ChainETH, 6, 6); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{5, 5, 7, 7, 8, 8}, blocks(0, ^uint64(0))); diff != "" {
		t.Errorf("conversions after rolling back 6 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{5, 7, 8}, headers()); diff != "" {
		t.Errorf("headers after rolling back 6 (-want +got):\n%s", diff)
	}
	if err := s.Rollback(ctx, model.ChainETH, 7, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{5, 5}, blocks(0, ^uint64(0))); diff != "" {
		t.Errorf("conversions after rolling back 7– (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{5}, headers()); diff != "" {
		t.Errorf("headers after rolling back 7– (-want +got):\n%s", diff)
	}
}
