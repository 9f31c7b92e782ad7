package trace

import (
	"fmt"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// Params is a trace request in its JSON form: the body of POST /api/v1/trace
// (docs/api.md), the web UI's trace requests and the requests saved in cases.
type Params struct {
	Chain          string   `json:"chain"`
	From           []string `json:"from"`
	Tx             string   `json:"tx,omitempty"`
	Asset          string   `json:"asset,omitempty"`
	Policy         string   `json:"policy"`
	Direction      string   `json:"direction"`
	Since          string   `json:"since,omitempty"`
	MaxHops        int      `json:"max_hops,omitempty"`
	MaxNodes       int      `json:"max_nodes,omitempty"`
	MaxEdges       int      `json:"max_edges,omitempty"`
	MaxDegree      uint64   `json:"max_degree,omitempty"`
	StopCategories []string `json:"stop_categories,omitempty"`
	NoSwaps        bool     `json:"no_swaps,omitempty"`
	NoBridges      bool     `json:"no_bridges,omitempty"`
	Mixer          string   `json:"mixer,omitempty"`     // stop (default), demix, pool or fifo
	MinTaint       string   `json:"min_taint,omitempty"` // explicit dust threshold, smallest units of the traced asset; off when empty
}

// MaxParamHops bounds max_hops in Params.
const MaxParamHops = 100

// paramError is a bad field of Params: ErrBadRequest with a message that
// names the field and nothing else.
type paramError string

func (e paramError) Error() string        { return string(e) }
func (e paramError) Is(target error) bool { return target == ErrBadRequest }

func badParam(format string, a ...any) error { return paramError(fmt.Sprintf(format, a...)) }

// Request checks p and returns the engine's request. The bounds are kept
// within the engine's defaults, so a client can narrow a trace but not widen
// it; the number of seeds is the caller's to bound. Every error is
// ErrBadRequest and names its field.
func (p *Params) Request() (Request, error) {
	var req Request
	var err error
	if req.Policy, err = ParsePolicy(p.Policy); err != nil {
		return req, err
	}
	if req.Direction, err = ParseDirection(p.Direction); err != nil {
		return req, err
	}
	req.Chain, req.From, req.Tx, req.Asset = model.Chain(strings.ToLower(p.Chain)), p.From, p.Tx, p.Asset
	if p.Since != "" {
		t, err := time.Parse(time.RFC3339, p.Since)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, p.Since); err != nil {
				return req, badParam("since: %q is not an RFC 3339 time or YYYY-MM-DD date", p.Since)
			}
		}
		req.Since = t
	}
	for _, l := range []struct {
		v    int
		max  int
		name string
	}{{p.MaxHops, MaxParamHops, "max_hops"}, {p.MaxNodes, DefaultMaxNodes, "max_nodes"}, {p.MaxEdges, DefaultMaxEdges, "max_edges"}} {
		if l.v < 0 || l.v > l.max {
			return req, badParam("%s must be 0 (default) to %d, not %d", l.name, l.max, l.v)
		}
	}
	req.MaxHops, req.MaxNodes, req.MaxEdges, req.MaxDegree = p.MaxHops, p.MaxNodes, p.MaxEdges, p.MaxDegree
	if p.StopCategories != nil {
		req.Categories = []model.Category{}
		for _, c := range p.StopCategories {
			cat, err := ParseCategory(c)
			if err != nil {
				return req, badParam("stop_categories: %v", err)
			}
			req.Categories = append(req.Categories, cat)
		}
	}
	req.NoSwaps, req.NoBridges = p.NoSwaps, p.NoBridges
	if p.Mixer != "" {
		if req.Mixer, err = ParseMixerMode(p.Mixer); err != nil {
			return req, badParam("mixer: %q is not stop, demix, pool or fifo", p.Mixer)
		}
	}
	if p.MinTaint != "" {
		if req.MinTaint, err = model.ParseAmount(p.MinTaint); err != nil {
			return req, badParam("min_taint: %q is not a whole number of smallest units below 2^256", p.MinTaint)
		}
	}
	return req, nil
}
