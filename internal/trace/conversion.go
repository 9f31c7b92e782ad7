package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// ConversionKind, Leg and Conversion are the model's conversion vocabulary.
type (
	ConversionKind = model.ConversionKind
	Leg            = model.Leg
	Conversion     = model.Conversion
)

// Conversion kinds.
const (
	Swap   = model.ConvSwap
	Bridge = model.ConvBridge
)

// Conversions finds conversion edges by either leg.
type Conversions interface {
	ByIn(Leg) (*Conversion, bool)
	ByOut(Leg) (*Conversion, bool)
}

// ConversionSet is an in-memory set of conversions.
type ConversionSet struct {
	all   []Conversion
	byIn  map[Leg]int
	byOut map[Leg]int
	cross bool
}

// NewConversionSet indexes conversions. A leg used by two conversions is an error.
func NewConversionSet(cs []Conversion) (*ConversionSet, error) {
	s := &ConversionSet{all: cs, byIn: make(map[Leg]int, len(cs)), byOut: make(map[Leg]int, len(cs))}
	for i := range cs {
		c := &cs[i]
		if _, dup := s.byIn[c.In]; dup {
			return nil, fmt.Errorf("conversion %d: in-leg %s already used by another conversion", i+1, c.In)
		}
		if _, dup := s.byOut[c.Out]; dup {
			return nil, fmt.Errorf("conversion %d: out-leg %s already used by another conversion", i+1, c.Out)
		}
		s.byIn[c.In], s.byOut[c.Out] = i, i
		if c.In.Chain != c.Out.Chain {
			s.cross = true
		}
	}
	return s, nil
}

// ByIn returns the conversion whose in-leg is l.
func (s *ConversionSet) ByIn(l Leg) (*Conversion, bool) {
	i, ok := s.byIn[l]
	if !ok {
		return nil, false
	}
	return &s.all[i], true
}

// ByOut returns the conversion whose out-leg is l.
func (s *ConversionSet) ByOut(l Leg) (*Conversion, bool) {
	i, ok := s.byOut[l]
	if !ok {
		return nil, false
	}
	return &s.all[i], true
}

// CrossChain reports whether any conversion links two chains.
func (s *ConversionSet) CrossChain() bool { return s.cross }

// Len returns the number of conversions.
func (s *ConversionSet) Len() int { return len(s.all) }

var convHeader = []string{"kind", "in_chain", "in_block", "in_position", "out_chain", "out_block", "out_position"}

// ReadConversions reads a conversions CSV (docs/trace.md): a header with at
// least kind,in_chain,in_block,in_position,out_chain,out_block,out_position
// and optionally amount_in,amount_out,ref. name is used in errors.
func ReadConversions(r io.Reader, name string) ([]Conversion, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, want a header", name)
		}
		return nil, fmt.Errorf("%s: line 1: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, h := range convHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s: line 1: header lacks column %q", name, h)
		}
	}
	var out []Conversion
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		get := func(h string) string {
			i, ok := col[h]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		var c Conversion
		bad := func(field string, err error) error {
			return fmt.Errorf("%s: line %d: field %s: %v", name, line, field, err)
		}
		switch k := ConversionKind(get("kind")); k {
		case Swap, Bridge:
			c.Kind = k
		default:
			return nil, bad("kind", fmt.Errorf("%q is not swap or bridge", k))
		}
		for _, l := range []struct {
			p    *Leg
			side string
		}{{&c.In, "in"}, {&c.Out, "out"}} {
			ch := get(l.side + "_chain")
			if ch == "" || len(ch) > 32 {
				return nil, bad(l.side+"_chain", errors.New("empty or too long"))
			}
			l.p.Chain = model.Chain(strings.ToLower(ch))
			if l.p.Block, err = strconv.ParseUint(get(l.side+"_block"), 10, 64); err != nil {
				return nil, bad(l.side+"_block", errors.New("not a block number"))
			}
			p, err := strconv.ParseUint(get(l.side+"_position"), 10, 64)
			if err != nil {
				return nil, bad(l.side+"_position", errors.New("not a position"))
			}
			l.p.Position = model.Position(p)
		}
		if c.Kind == Swap && c.In.Chain != c.Out.Chain {
			return nil, bad("out_chain", errors.New("a swap's legs must be on one chain"))
		}
		for _, a := range []struct {
			p    *uint256.Int
			name string
		}{{&c.AmountIn, "amount_in"}, {&c.AmountOut, "amount_out"}} {
			if s := get(a.name); s != "" {
				v, err := model.ParseAmount(s)
				if err != nil {
					return nil, bad(a.name, err)
				}
				*a.p = v
			}
		}
		if c.AmountIn.IsZero() != c.AmountOut.IsZero() {
			return nil, bad("amount_in", errors.New("give both amount_in and amount_out, or neither"))
		}
		c.Ref = get("ref")
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return legLess(out[i].In, out[j].In) })
	return out, nil
}

func legLess(a, b Leg) bool {
	if a.Chain != b.Chain {
		return a.Chain < b.Chain
	}
	if a.Block != b.Block {
		return a.Block < b.Block
	}
	return a.Position < b.Position
}
