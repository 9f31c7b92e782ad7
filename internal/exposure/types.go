package exposure

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// Attributor answers who an address belongs to at a date; the intel DB
// satisfies it.
type Attributor interface {
	Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution
}

// Errors. Every error the engine returns for a bad request wraps one of these.
var (
	ErrBadRequest   = errors.New("bad exposure request")
	ErrUnknownChain = errors.New("unknown chain")
	ErrBatchSize    = errors.New("too many requests in one batch")
)

// Defaults and limits.
const (
	DefaultHops               = 3
	MaxHops                   = 6
	DefaultMaxDegree          = 10_000
	DefaultMaxWork            = 1_000_000
	DefaultMaxNodes           = 200_000
	DefaultMaxTargetTransfers = 200_000
	DefaultTopPaths           = 5
	DefaultPathSteps          = 2_000
	DefaultCacheEntries       = 200_000
)

// Options configure an Engine. The zero value gives the defaults.
type Options struct {
	// MaxDegree: an unattributed counterparty with more transfers (in + out)
	// is a hub and is not expanded (default 10,000). The scored address
	// itself is always expanded.
	MaxDegree uint64
	// MaxWork bounds the transfers one computation reads (default
	// 1,000,000); past it no new address is expanded and the result is
	// truncated.
	MaxWork int
	// MaxNodes bounds the (address, asset, hop level, direction) states of
	// one computation (default 200,000).
	MaxNodes int
	// MaxTargetTransfers bounds the scored address's own transfers per side
	// (default 200,000): a bigger address is scored over its most recent
	// ones, and the result says so (truncated).
	MaxTargetTransfers int
	// TopPaths is the number of paths reported per asset, direction and
	// category (default 5; negative: none).
	TopPaths int
	// PathSteps bounds the best-first path search per asset, direction and
	// category (default 2,000 expansions).
	PathSteps int
	// CacheEntries bounds the result cache (default 200,000; negative: no cache).
	CacheEntries int
	// Now gives the default as-of date (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxDegree == 0 {
		o.MaxDegree = DefaultMaxDegree
	}
	if o.MaxWork <= 0 {
		o.MaxWork = DefaultMaxWork
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.MaxTargetTransfers <= 0 {
		o.MaxTargetTransfers = DefaultMaxTargetTransfers
	}
	if o.TopPaths == 0 {
		o.TopPaths = DefaultTopPaths
	}
	if o.PathSteps <= 0 {
		o.PathSteps = DefaultPathSteps
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Request asks for the exposure of one address.
type Request struct {
	Chain   model.Chain
	Address string // canonical or not; it is normalized
	// AsOf is the date of the score: transfers in blocks up to the end of
	// that UTC day count, and attributions valid on that day. Zero: today.
	// A time of day is ignored.
	AsOf time.Time
	// Hops is N, the depth of indirect exposure (1..MaxHops; 0: DefaultHops).
	Hops int
}

// normalize fills defaults and checks the request.
func (r *Request) normalize(now time.Time) error {
	r.Chain = model.Chain(strings.ToLower(strings.TrimSpace(string(r.Chain))))
	if r.Chain == "" {
		return fmt.Errorf("%w: no chain", ErrBadRequest)
	}
	a, err := model.NormalizeAddress(r.Chain, r.Address)
	if err != nil {
		return fmt.Errorf("%w: address: %v", ErrBadRequest, err)
	}
	r.Address = a
	if r.Hops == 0 {
		r.Hops = DefaultHops
	}
	if r.Hops < 1 || r.Hops > MaxHops {
		return fmt.Errorf("%w: hops must be 1..%d, not %d", ErrBadRequest, MaxHops, r.Hops)
	}
	if r.AsOf.IsZero() {
		r.AsOf = now
	}
	y, m, d := r.AsOf.UTC().Date()
	r.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return nil
}

// ParseAsOf parses an as-of date: YYYY-MM-DD or an RFC 3339 time (whose UTC
// date is taken). The empty string is the zero time (today).
func ParseAsOf(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, fmt.Errorf("%w: as-of date %q: want YYYY-MM-DD or an RFC 3339 time", ErrBadRequest, s)
}

// Categories of the taxonomy in report order; risky ones first.
var taxonomy = []model.Category{model.CatSanctioned, model.CatDPRK, model.CatHack, model.CatScam, model.CatMixer,
	model.CatVictim, model.CatExchange, model.CatBridge, model.CatDEX, model.CatOTC, model.CatGambling,
	model.CatDeFi, model.CatMiner, model.CatToken, model.CatOther}

// RiskyCategories are the categories whose exposure is a risk signal; the
// others (services, victims, tokens) are reported for context.
var RiskyCategories = []model.Category{model.CatSanctioned, model.CatDPRK, model.CatHack, model.CatScam, model.CatMixer}

const (
	nRisky = 5
	nCats  = 15
)

var catIndex = func() map[model.Category]uint8 {
	m := map[model.Category]uint8{}
	for i, c := range taxonomy {
		m[c] = uint8(i)
	}
	return m
}()

// catOf maps a category onto its taxonomy index; unknown ones become "other".
func catOf(c model.Category) uint8 {
	if i, ok := catIndex[c]; ok {
		return i
	}
	return catIndex[model.CatOther]
}
