package convert

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

func TestCollapse(t *testing.T) {
	u := uint256.NewInt
	sw := func(in, out uint64, ai, ao uint64, ref string) model.Conversion {
		return model.Conversion{Kind: model.ConvSwap, In: leg("eth", 5, in), Out: leg("eth", 5, out), AmountIn: *u(ai), AmountOut: *u(ao), Ref: ref}
	}
	bridge := model.Conversion{Kind: model.ConvBridge, In: leg("eth", 5, 9), Out: leg("btc", 7, 1), Ref: "m"}
	in := []model.Conversion{
		sw(1, 2, 100, 90, "p1"), // three hops: 1→2→3→4
		sw(2, 3, 90, 80, "p2"),
		sw(3, 4, 80, 7, "p3"),
		sw(10, 11, 5, 6, "q"), // a lone swap
		bridge,
		sw(20, 21, 1, 2, "c1"), // a cycle is not followed forever
		sw(21, 20, 2, 1, "c2"),
	}
	got := Collapse(in)
	want := []model.Conversion{sw(1, 4, 100, 7, "p1 > p2 > p3"), bridge, sw(10, 11, 5, 6, "q"), sw(20, 21, 1, 2, "c1"), sw(21, 20, 2, 1, "c2")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Collapse (-want +got):\n%s", d)
	}
}
