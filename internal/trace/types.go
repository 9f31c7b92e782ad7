package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
)

// Graph is the engine's view of the graph index; Index adapts a
// *graph.Reader to it.
type Graph interface {
	Chain(c model.Chain) (ChainGraph, bool)
}

// ChainGraph is the graph of one chain, transfers numbered in chain order.
type ChainGraph interface {
	Lookup(addr string) (uint32, bool)
	Address(id uint32) string
	AssetID(asset string) (uint32, bool)
	Asset(id uint32) string
	Out(id uint32, buf []uint32) []uint32
	In(id uint32, buf []uint32) []uint32
	Degree(id uint32) uint64
	Transfer(seq uint32) graph.Transfer
	Amount(seq uint32) uint256.Int
	Position(seq uint32) model.Position
	BlockIndex(seq uint32) int
	BlockAt(bi int) (number uint64, time int64, first, end uint32)
	Locate(block uint64, p model.Position) (uint32, bool)
	BlockRange(block uint64) (first, end uint32, ok bool)
	FirstAtOrAfter(t int64) uint32
	TxHashes(ctx context.Context, seqs []uint32) ([]string, error)
	Len() int
	NumAddresses() int
}

// Index adapts a graph index reader to the engine's Graph.
func Index(r *graph.Reader) Graph { return indexGraph{r} }

type indexGraph struct{ r *graph.Reader }

func (g indexGraph) Chain(c model.Chain) (ChainGraph, bool) {
	ch, ok := g.r.Chain(c)
	if !ok {
		return nil, false
	}
	return ch, true
}

// Attributor answers who an address belongs to; the intel store satisfies it.
type Attributor interface {
	Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution
}

// Policy is a taint policy (docs/trace.md).
type Policy uint8

// Policies.
const (
	Poison Policy = iota + 1
	Haircut
	FIFO
)

var policyNames = [...]string{"", "poison", "haircut", "fifo"}

func (p Policy) String() string {
	if int(p) < len(policyNames) && p > 0 {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// ParsePolicy is the inverse of Policy.String.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if i > 0 && n == strings.ToLower(s) {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown policy %q (want poison, haircut or fifo)", ErrBadRequest, s)
}

// Direction says which way a trace runs.
type Direction uint8

// Directions.
const (
	Forward Direction = iota + 1
	Backward
)

func (d Direction) String() string {
	switch d {
	case Forward:
		return "forward"
	case Backward:
		return "backward"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ParseDirection is the inverse of Direction.String.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "forward":
		return Forward, nil
	case "backward":
		return Backward, nil
	}
	return 0, fmt.Errorf("%w: unknown direction %q (want forward or backward)", ErrBadRequest, s)
}

// Errors. Every error the engine returns for a bad request wraps one of these.
var (
	ErrBadRequest     = errors.New("bad trace request")
	ErrUnknownChain   = errors.New("unknown chain")
	ErrUnknownAddress = errors.New("unknown address")
	ErrUnknownAsset   = errors.New("unknown asset")
	ErrUnknownTx      = errors.New("unknown transaction")
)

// Request is one trace.
type Request struct {
	Chain model.Chain
	// From are the seed addresses (canonical or not; they are normalized).
	From []string
	// Tx, if set, restricts the seed to this transaction's transfers sent
	// (forward) or received (backward) by the seeds.
	Tx string
	// Asset is the traced asset: NativeAsset or a token contract. Empty:
	// the assets of the Tx transfers, or the native coin without Tx.
	Asset     string
	Policy    Policy
	Direction Direction
	// Since: only the seeds' transfers at or after this time are tainted
	// (zero: all).
	Since time.Time
	Limits
	Stops
}

// Limits bound the work and the size of a result.
type Limits struct {
	MaxHops    int // transfers from a seed; receivers at this hop are not expanded (default 20)
	MaxNodes   int // addresses in the result (default 100,000)
	MaxEdges   int // tainted transfers in the result (default 200,000)
	MaxTouched int // events the sweep may read, tainted or not (default 50,000,000)
}

// Stops are the stop rules.
type Stops struct {
	// Categories of attributed addresses that become endpoints. Nil means
	// DefaultStopCategories; an empty non-nil slice stops at none.
	Categories []model.Category
	// MaxDegree: an address with more transfers (in + out) is a hub and an
	// endpoint (default 10,000; seeds are always expanded).
	MaxDegree uint64
	// NoSwaps and NoBridges stop the trace at conversions of that kind
	// instead of following them.
	NoSwaps, NoBridges bool
	// Mixer says what happens at fixed-denomination mixer pools (default
	// MixerStop: they are endpoints). docs/trace.md, "Mixers".
	Mixer MixerMode
	// MixMaxDelay bounds the time from a deposit to a withdrawal linked to
	// it by a demixing heuristic (0: no bound).
	MixMaxDelay time.Duration
	// MinTaint is an explicit dust threshold, off when zero (the default):
	// a transfer of the traced asset on the trace's chain that carries less
	// taint than this many smallest units is not followed, and its taint is
	// reported as below_min in the totals instead of reaching its receiver.
	// It hides small exposure by design; docs/trace.md, "Dust threshold".
	MinTaint uint256.Int
}

// DefaultStopCategories are the services that end a trace.
var DefaultStopCategories = []model.Category{
	model.CatExchange, model.CatBridge, model.CatMixer, model.CatDEX, model.CatOTC, model.CatGambling,
	model.CatDeFi, model.CatMiner, model.CatToken,
}

// Defaults.
const (
	DefaultMaxHops    = 20
	DefaultMaxNodes   = 100_000
	DefaultMaxEdges   = 200_000
	DefaultMaxTouched = 50_000_000
	DefaultMaxDegree  = 10_000
)

// normalize fills defaults and checks parameters that need no graph.
func (r *Request) normalize() error {
	if r.Chain == "" {
		return fmt.Errorf("%w: no chain", ErrBadRequest)
	}
	if len(r.From) == 0 {
		return fmt.Errorf("%w: no seed address", ErrBadRequest)
	}
	if r.Policy < Poison || r.Policy > FIFO {
		return fmt.Errorf("%w: no policy (want poison, haircut or fifo)", ErrBadRequest)
	}
	if r.Direction != Forward && r.Direction != Backward {
		return fmt.Errorf("%w: no direction (want forward or backward)", ErrBadRequest)
	}
	for _, l := range []struct {
		v    *int
		def  int
		name string
	}{{&r.MaxHops, DefaultMaxHops, "max hops"}, {&r.MaxNodes, DefaultMaxNodes, "max nodes"},
		{&r.MaxEdges, DefaultMaxEdges, "max edges"}, {&r.MaxTouched, DefaultMaxTouched, "max touched"}} {
		if *l.v < 0 {
			return fmt.Errorf("%w: %s must be positive, not %d", ErrBadRequest, l.name, *l.v)
		}
		if *l.v == 0 {
			*l.v = l.def
		}
	}
	if r.MaxDegree == 0 {
		r.MaxDegree = DefaultMaxDegree
	}
	if r.Mixer > MixerFIFO {
		return fmt.Errorf("%w: unknown mixer mode %d", ErrBadRequest, r.Mixer)
	}
	if r.MixMaxDelay < 0 {
		return fmt.Errorf("%w: mixer delay must be positive, not %s", ErrBadRequest, r.MixMaxDelay)
	}
	if r.Categories == nil {
		r.Categories = DefaultStopCategories
	}
	seen := map[string]bool{}
	from := make([]string, 0, len(r.From))
	for _, a := range r.From {
		n, err := model.NormalizeAddress(r.Chain, a)
		if err != nil {
			return fmt.Errorf("%w: seed: %v", ErrBadRequest, err)
		}
		if !seen[n] {
			seen[n] = true
			from = append(from, n)
		}
	}
	r.From = from
	if r.Tx != "" && model.IsEVM(r.Chain) {
		h, err := model.NormalizeHash(r.Tx)
		if err != nil {
			return fmt.Errorf("%w: --tx: %v", ErrBadRequest, err)
		}
		r.Tx = h
	}
	if r.Asset != "" {
		a, err := model.NormalizeAsset(r.Chain, r.Asset)
		if err != nil {
			return fmt.Errorf("%w: asset: %v", ErrBadRequest, err)
		}
		r.Asset = a
	}
	return nil
}
