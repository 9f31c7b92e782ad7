package trace

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParamsRequest(t *testing.T) {
	ok := Params{Chain: "ETH", From: []string{"0x01"}, Policy: "haircut", Direction: "backward", Since: "2024-01-02",
		MaxHops: 5, StopCategories: []string{"exchange"}, NoBridges: true, Mixer: "fifo", MinTaint: "1000000000000000000"}
	req, err := ok.Request()
	if err != nil {
		t.Fatal(err)
	}
	if req.Chain != "eth" || req.Policy != Haircut || req.Direction != Backward || !req.Since.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) ||
		req.MaxHops != 5 || len(req.Categories) != 1 || !req.NoBridges || req.Mixer != MixerFIFO || req.MinTaint.Dec() != "1000000000000000000" {
		t.Fatalf("request %+v", req)
	}
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{Policy: "taint", Direction: "forward"}, "unknown policy"},
		{Params{Policy: "fifo", Direction: "sideways"}, "unknown direction"},
		{Params{Policy: "fifo", Direction: "forward", Since: "yesterday"}, "since:"},
		{Params{Policy: "fifo", Direction: "forward", MaxHops: MaxParamHops + 1}, "max_hops must be 0 (default) to 100"},
		{Params{Policy: "fifo", Direction: "forward", MaxNodes: -1}, "max_nodes must be"},
		{Params{Policy: "fifo", Direction: "forward", MaxEdges: DefaultMaxEdges + 1}, "max_edges must be"},
		{Params{Policy: "fifo", Direction: "forward", StopCategories: []string{"nope"}}, "stop_categories:"},
		{Params{Policy: "fifo", Direction: "forward", Mixer: "tumble"}, "mixer:"},
		{Params{Policy: "fifo", Direction: "forward", MinTaint: "1e18"}, "min_taint:"},
		{Params{Policy: "fifo", Direction: "forward", MinTaint: "-5"}, "min_taint:"},
		{Params{Policy: "fifo", Direction: "forward", MinTaint: "1" + strings.Repeat("0", 78)}, "min_taint:"},
	} {
		_, err := c.p.Request()
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrBadRequest with %q", c.p, err, c.want)
		}
	}
}
