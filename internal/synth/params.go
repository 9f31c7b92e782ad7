package synth

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Params says what world to generate. The zero value of every field but Scale
// takes a documented default (see Defaults).
type Params struct {
	Seed  uint64
	Scale int64     // target number of transfers over both chains (met within a few percent)
	Start time.Time // time of block 0 (UTC); default 2025-01-06T00:00:00Z
	Days  int       // simulated days; default 30

	// Users on each chain; 0 derives them from Scale (one user per 20 transfers).
	Users, Users2 int

	// LabelPercent of service and theft addresses are labelled in the intel
	// pack; WrongLabelPercent of the labels written are wrong (wrong category
	// or an unrelated address). 0 takes the default (60 and 3); a negative
	// value means none.
	LabelPercent, WrongLabelPercent int

	// Scenarios to run; nil runs DefaultScenarios(Scale).
	Scenarios []Scenario
}

// Scenario is one theft and its laundering, shaped on published DPRK cases.
type Scenario struct {
	Name       string // unique id, used in ground truth
	Victim     string // "exchange" (hot wallet of exchange 0, as Upbit 2019), "exchange-cold" (its cold wallet, as Bybit 2025) or "bridge" (the bridge vault, as Ronin 2022)
	StartHours int    // hours after the world's start when the theft happens

	Native int64 // whole native coins stolen
	Token  int64 // whole sUSDC stolen and then swapped to the native coin at the DEX (0: none)

	Lots     int // rapid split of the native loot into this many equal lots
	LotSize  int64
	FanOut   int // fresh addresses the lots fan out to (total)
	PeelHops int // length of each peel chain

	// Shares (percent of fan-out addresses) of each laundering path; the rest
	// peel to exchanges.
	MixPercent, BridgePercent, MinglePercent, OTCPercent int
	MixDeposits                                          int // at most this many fixed-denomination deposits per address

	CashoutDays int // cash-outs spread over this many days

	// Burst, when set, replaces the mixer path by a burst of
	// deposits withdrawn mostly within days, several notes to each of a few
	// collector addresses (the opt-in scenario mixer-burst; nil in the
	// default scenarios, whose launderer uses the mixer perfectly).
	// It is omitted from summary.json when nil.
	Burst *MixBurst `json:",omitempty"`
}

// MixBurst shapes an undisciplined mixer user on public case work
// (docs/synth.md, "mixer-burst"): SlowMist on the KuCoin hack's Tornado Cash
// flows, MistTrack's demixing walkthrough, Dirty Bubble Media's study of the
// 100 ETH pool.
type MixBurst struct {
	// DepositHours: each mixing address makes its deposits this many hours
	// at most after it is funded, so the scenario's deposits form a burst.
	DepositHours int
	// Collectors: fresh addresses that each receive several withdrawals.
	Collectors int
	// CollectorPercent of the notes are withdrawn to a collector drawn
	// uniformly; the rest each to a fresh single-use address.
	CollectorPercent int
	// FastPercent of the notes are withdrawn 1 h to FastDays days after
	// their deposit; the rest FastDays+1 to FastDays+10 days after.
	FastPercent, FastDays int
}

// OptInScenarios returns the scenarios that run only when named (never in
// DefaultScenarios, so the default worlds do not change): mixer-burst, a
// cold-wallet theft laundered mostly through the 100-coin mixer pool in a
// burst, withdrawn mostly within days, several notes to each of ten fresh
// collector addresses (docs/synth.md).
func OptInScenarios(scale int64) []Scenario {
	return []Scenario{{
		Name: "mixer-burst", Victim: "exchange-cold", StartHours: 24 * 13,
		Native: 30_000, Lots: 5, LotSize: 6_000, FanOut: 30, PeelHops: 3,
		MixPercent: 80, MixDeposits: 100, CashoutDays: 10,
		Burst: &MixBurst{DepositHours: 12, Collectors: 10, CollectorPercent: 55, FastPercent: 85, FastDays: 6},
	}}
}

// WithOptIn returns the scenarios of a world in which the named scenarios
// can be evaluated: nil (the default scenarios, the default world) when none
// of the names is an opt-in scenario, else the default scenarios followed by
// the opt-in ones named, which then launder in the same world.
func WithOptIn(scale int64, names []string) []Scenario {
	var extra []Scenario
	for _, s := range OptInScenarios(scale) {
		for _, n := range names {
			if strings.TrimSpace(n) == s.Name {
				extra = append(extra, s)
				break
			}
		}
	}
	if extra == nil {
		return nil
	}
	return append(DefaultScenarios(scale), extra...)
}

// ScenariosNamed returns the named scenarios of a world of the given scale,
// default or opt-in, in the order given, and an error naming an unknown one.
func ScenariosNamed(scale int64, names []string) ([]Scenario, error) {
	all := append(DefaultScenarios(scale), OptInScenarios(scale)...)
	var out []Scenario
	for _, n := range names {
		n = strings.TrimSpace(n)
		found := false
		for _, s := range all {
			if s.Name == n {
				out, found = append(out, s), true
			}
		}
		if !found {
			var have []string
			for _, s := range all {
				have = append(have, s.Name)
			}
			return nil, fmt.Errorf("unknown scenario %q (have %s)", n, strings.Join(have, ", "))
		}
	}
	return out, nil
}

// DefaultScenarios returns the two stock scenarios sized for a world of the
// given scale: an exchange hot-wallet theft (Upbit, November 2019: 342,000
// ETH from the hot wallet) split into equal lots as Bybit's (February 2025:
// 401,000 ETH, 40 lots of 10,000 within minutes), and a bridge
// drain of native coins and stablecoins (Ronin, March 2022: 173,600 ETH and
// 25.5 million USDC, the USDC swapped to ETH, then Tornado Cash, bridges and
// OTC desks).
func DefaultScenarios(scale int64) []Scenario {
	fan := int(clamp64(scale/4000, 40, 4000))
	mix1 := int(clamp64(scale/100_000, 3, 30)) // mixer deposits per address grow with the world
	mix2 := int(clamp64(scale/50_000, 4, 60))
	return []Scenario{
		{
			Name: "exchange-hot-wallet", Victim: "exchange", StartHours: 72,
			Native: 401_000, Lots: 40, LotSize: 10_000, FanOut: fan, PeelHops: 4,
			MixPercent: 15, BridgePercent: 35, MinglePercent: 10, OTCPercent: 15, MixDeposits: mix1,
			CashoutDays: 20,
		},
		{
			Name: "bridge-drain", Victim: "bridge", StartHours: 24 * 8,
			Native: 173_600, Token: 25_500_000, Lots: 10, LotSize: 18_000, FanOut: fan / 2, PeelHops: 3,
			MixPercent: 40, BridgePercent: 20, MinglePercent: 5, OTCPercent: 20, MixDeposits: mix2,
			CashoutDays: 18,
		},
	}
}

func clamp64(v, lo, hi int64) int64 {
	return max(lo, min(v, hi))
}

// withDefaults fills defaults and validates.
func (p Params) withDefaults() (Params, error) {
	if p.Scale < 1000 {
		return p, fmt.Errorf("scale %d: want at least 1000 transfers", p.Scale)
	}
	if p.Scale > 1e10 {
		return p, fmt.Errorf("scale %d: want at most 10^10 transfers", p.Scale)
	}
	if p.Start.IsZero() {
		p.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	}
	p.Start = p.Start.UTC()
	if p.Days == 0 {
		p.Days = 30
	}
	if p.Days < 2 || p.Days > 3650 {
		return p, fmt.Errorf("days %d: want 2 to 3650", p.Days)
	}
	if p.Users == 0 {
		p.Users = int(clamp64(p.Scale*8/10/20, 400, 1<<30))
	}
	if p.Users2 == 0 {
		p.Users2 = int(clamp64(p.Scale*2/10/20, 200, 1<<30))
	}
	if p.Users < 100 || p.Users2 < 100 {
		return p, errors.New("users: want at least 100 per chain")
	}
	if p.LabelPercent == 0 {
		p.LabelPercent = 60
	}
	if p.WrongLabelPercent == 0 {
		p.WrongLabelPercent = 3
	}
	p.LabelPercent, p.WrongLabelPercent = max(p.LabelPercent, 0), max(p.WrongLabelPercent, 0)
	if p.LabelPercent > 100 || p.WrongLabelPercent > 100 {
		return p, errors.New("label percentages: want 0 to 100")
	}
	if p.Scenarios == nil {
		p.Scenarios = DefaultScenarios(p.Scale)
	}
	seen := map[string]bool{}
	for i := range p.Scenarios {
		s := &p.Scenarios[i]
		if err := s.validate(p.Days); err != nil {
			return p, fmt.Errorf("scenario %d (%s): %w", i, s.Name, err)
		}
		if seen[s.Name] {
			return p, fmt.Errorf("scenario %d: duplicate name %q", i, s.Name)
		}
		seen[s.Name] = true
	}
	return p, nil
}

func (s *Scenario) validate(days int) error {
	switch {
	case s.Name == "":
		return errors.New("empty name")
	case s.Victim != "exchange" && s.Victim != "exchange-cold" && s.Victim != "bridge":
		return fmt.Errorf("victim %q: want exchange, exchange-cold or bridge", s.Victim)
	case s.StartHours < 0 || s.StartHours >= days*24:
		return fmt.Errorf("start %dh: outside the world's %d days", s.StartHours, days)
	case s.Native <= 0 || s.Native > 1_000_000:
		return fmt.Errorf("native %d: want 1 to 1,000,000 coins", s.Native)
	case s.Token < 0 || s.Token > 100_000_000:
		return fmt.Errorf("token %d: want 0 to 100,000,000", s.Token)
	case s.Lots < 1 || s.Lots > 1000:
		return fmt.Errorf("lots %d: want 1 to 1000", s.Lots)
	case s.LotSize < 0:
		return fmt.Errorf("lot size %d: negative", s.LotSize)
	case s.FanOut < s.Lots || s.FanOut > 100_000:
		return fmt.Errorf("fan-out %d: want lots (%d) to 100,000", s.FanOut, s.Lots)
	case s.PeelHops < 1 || s.PeelHops > 100:
		return fmt.Errorf("peel hops %d: want 1 to 100", s.PeelHops)
	case s.MixPercent < 0 || s.BridgePercent < 0 || s.MinglePercent < 0 || s.OTCPercent < 0 ||
		s.MixPercent+s.BridgePercent+s.MinglePercent+s.OTCPercent > 100:
		return errors.New("path percentages: want non-negative, summing to at most 100")
	case s.MixDeposits < 1 || s.MixDeposits > 100:
		return fmt.Errorf("mix deposits %d: want 1 to 100", s.MixDeposits)
	case s.CashoutDays < 1:
		return fmt.Errorf("cash-out days %d: want at least 1", s.CashoutDays)
	}
	if b := s.Burst; b != nil {
		switch {
		case b.Collectors < 1 || b.Collectors > 1000:
			return fmt.Errorf("burst collectors %d: want 1 to 1000", b.Collectors)
		case b.CollectorPercent < 0 || b.CollectorPercent > 100 || b.FastPercent < 0 || b.FastPercent > 100:
			return errors.New("burst percentages: want 0 to 100")
		case b.FastDays < 1 || b.FastDays > 60:
			return fmt.Errorf("burst fast days %d: want 1 to 60", b.FastDays)
		case b.DepositHours < 0 || b.DepositHours > 24*30:
			return fmt.Errorf("burst deposit hours %d: want 0 to 720", b.DepositHours)
		}
	}
	return nil
}
