package trace

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// MixerMode says what a trace does when taint reaches a fixed-denomination
// mixer pool (an address attributed with category mixer whose deposits are
// all of one amount, as Tornado Cash pools). docs/trace.md, "Mixers".
type MixerMode uint8

// Mixer modes.
const (
	// MixerStop: the pool is an endpoint like any stop category (default).
	MixerStop MixerMode = iota
	// MixerDemix: deposits linked to withdrawals by a published
	// deanonymisation heuristic cross the pool as "mix" conversions; the
	// taint of unlinked deposits stays at the pool (an endpoint), and
	// unlinked withdrawals are clean.
	MixerDemix
	// MixerPool: as MixerDemix, and the pool is then followed as an
	// ordinary address under the trace's policy for what is not linked:
	// unlinked withdrawals carry the pool's tainted share (haircut), or
	// are fully tainted (poison), or follow arrival order (FIFO).
	MixerPool
	// MixerFIFO: as MixerPool, but the pool releases what it holds in
	// first-in-first-out order whatever the trace's policy: each unlinked
	// withdrawal redeems the earliest unlinked deposits still in the pool
	// (FIFO temporal matching, arXiv 2510.09433). Elsewhere the policy
	// applies.
	MixerFIFO
)

var mixerNames = [...]string{"stop", "demix", "pool", "fifo"}

func (m MixerMode) String() string {
	if int(m) < len(mixerNames) {
		return mixerNames[m]
	}
	return fmt.Sprintf("mixer(%d)", uint8(m))
}

// ParseMixerMode is the inverse of MixerMode.String.
func ParseMixerMode(s string) (MixerMode, error) {
	for i, n := range mixerNames {
		if n == strings.ToLower(strings.TrimSpace(s)) {
			return MixerMode(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown mixer mode %q (want stop, demix, pool or fifo)", ErrBadRequest, s)
}

// Mix is the conversion kind of a deposit linked to a withdrawal.
const Mix model.ConversionKind = "mix"

// Demixing heuristics (docs/trace.md, "Mixers") and the confidence (0–100)
// a link made by each carries.
const (
	// HeurAddressMatch: the withdrawal pays the address that made the
	// deposit (Tutela's "address match"; "address reuse" in the literature).
	HeurAddressMatch = "address-match"
	// HeurLinkedAddress: the withdrawal's recipient and the depositor
	// transacted with each other directly, outside the pool (Tutela's
	// "linked address"; "transactional linkage").
	HeurLinkedAddress = "linked-address"
	// HeurRepeatedRecipient: the recipient received at least
	// DemixOptions.RepeatMin withdrawals of the pool in the window after a
	// burst of deposits, and its withdrawals are linked to that burst's
	// deposits (MistTrack's walkthrough: addresses that each received many
	// withdrawals in the days after a hack's first deposit).
	HeurRepeatedRecipient = "repeated-recipient"
)

var heuristicConfidence = map[string]model.Confidence{HeurAddressMatch: 90, HeurLinkedAddress: 70, HeurRepeatedRecipient: 50}

// HeuristicConfidence returns the confidence of a demixing heuristic's links.
func HeuristicConfidence(name string) model.Confidence { return heuristicConfidence[name] }

// MixLink is one deposit linked to one withdrawal of a pool.
type MixLink struct {
	Deposit, Withdrawal uint32 // seqs in the chain graph
	Heuristic           string
	Confidence          model.Confidence
}

// MixPool is what the demixer found about one pool.
type MixPool struct {
	Address     string
	Asset       uint32
	Denom       uint256.Int
	Deposits    int // deposits of the denomination
	Withdrawals int // withdrawals recognised (denom/2 ≤ amount ≤ denom)
	Links       []MixLink
	convs       []Conversion
	byDep       map[uint32]int
	byWd        map[uint32]int
}

// dep is a deposit of a pool's denomination; linked marks it used.
type dep struct {
	seq    uint32
	t      int64
	linked bool
}

// wd is a withdrawal of a pool's denomination (or a little less).
type wd struct {
	seq, to uint32
	t       int64
}

// fixedShare is the part of a pool's deposits (per mille) that must have the
// most common amount for it to count as fixed-denomination.
const fixedShare = 900

// DemixOptions tune the heuristics.
type DemixOptions struct {
	// MaxDelay: a withdrawal is linked only to deposits at most this long
	// before it (0: no bound).
	MaxDelay time.Duration
	// MaxDegree: addresses with more transfers (exchange wallets,
	// contracts, very active users) are not evidence of a link: they
	// deposit, withdraw and transact with many parties by chance (0:
	// DefaultLinkDegree).
	MaxDegree uint64

	// The repeated-recipient heuristic (docs/trace.md, "Mixers"). A burst
	// is a run of the pool's deposits made by depositors of at least
	// BurstDepositor deposits each (0: 2), consecutive deposits at most
	// BurstGap apart (0: 24 h), at least RepeatMin of them. A recipient that
	// receives at least RepeatMin withdrawals (0: 4) after the burst began
	// and at most RepeatWindow after its last deposit (0: 192 h) has those
	// withdrawals linked to the burst's deposits, earliest first, at most
	// as many as the burst deposited. A withdrawal belongs to the most
	// recent burst that began before it. RepeatMin < 0 turns it off.
	BurstGap, RepeatWindow time.Duration
	BurstDepositor         int
	RepeatMin              int
}

// DefaultLinkDegree bounds the transfers of an address a link rests on.
const DefaultLinkDegree = 200

// Defaults of the repeated-recipient heuristic: four or more withdrawals
// (Dirty Bubble Media's threshold for the wallets that took most of the
// 100 ETH pool's withdrawals), within about eight days (MistTrack's 50,000
// blocks after a hack's first deposit), after a burst of deposits no more
// than a day apart by depositors who deposited at least twice.
const (
	DefaultRepeatMin      = 4
	DefaultRepeatWindow   = 192 * time.Hour
	DefaultBurstGap       = 24 * time.Hour
	DefaultBurstDepositor = 2
)

// AnalyzePool applies the demixing heuristics to one pool address of a
// chain graph. It returns nil when the address is not a fixed-denomination
// pool (fewer than two deposits, or under 90 % of them of one amount).
func AnalyzePool(g ChainGraph, chain model.Chain, pool uint32, o DemixOptions) *MixPool {
	if o.MaxDegree == 0 {
		o.MaxDegree = DefaultLinkDegree
	}
	if o.RepeatMin == 0 {
		o.RepeatMin = DefaultRepeatMin
	}
	if o.RepeatWindow == 0 {
		o.RepeatWindow = DefaultRepeatWindow
	}
	if o.BurstGap == 0 {
		o.BurstGap = DefaultBurstGap
	}
	if o.BurstDepositor == 0 {
		o.BurstDepositor = DefaultBurstDepositor
	}
	ins := g.In(pool, nil)
	if len(ins) < 2 {
		return nil
	}
	// The denomination: the most common (asset, amount) of deposits.
	type ak struct {
		asset uint32
		amt   uint256.Int
	}
	count := map[ak]int{}
	var best ak
	bestN := 0
	for _, s := range ins {
		k := ak{g.Transfer(s).Asset, g.Amount(s)}
		count[k]++
		if n := count[k]; n > bestN || (n == bestN && (k.asset < best.asset || k.asset == best.asset && best.amt.Lt(&k.amt))) {
			best, bestN = k, n
		}
	}
	if bestN < 2 || bestN*1000 < len(ins)*fixedShare || best.amt.IsZero() {
		return nil
	}
	p := &MixPool{Address: g.Address(pool), Asset: best.asset, Denom: best.amt, byDep: map[uint32]int{}, byWd: map[uint32]int{}}
	timeOf := func(s uint32) int64 { _, t, _, _ := g.BlockAt(g.BlockIndex(s)); return t }
	// Deposits by depositor, in chain order; linked marks them used.
	deps := map[uint32][]*dep{}
	for _, s := range ins {
		tr := g.Transfer(s)
		if tr.Asset != best.asset {
			continue
		}
		if a := g.Amount(s); !a.Eq(&best.amt) {
			continue
		}
		p.Deposits++
		deps[tr.Src] = append(deps[tr.Src], &dep{seq: s, t: timeOf(s)})
	}
	half := new(uint256.Int).Rsh(&best.amt, 1)
	var wds []wd
	for _, s := range g.Out(pool, nil) {
		tr := g.Transfer(s)
		if tr.Asset != best.asset || tr.Dst == pool {
			continue
		}
		if a := g.Amount(s); a.Lt(half) || a.Gt(&best.amt) {
			continue // relayer fees and other outputs are not withdrawals
		}
		p.Withdrawals++
		wds = append(wds, wd{s, tr.Dst, timeOf(s)})
	}
	maxDelay := int64(o.MaxDelay / time.Second)
	// take links withdrawal w to the earliest unlinked deposit of depositor
	// d made before it (within MaxDelay).
	take := func(w wd, d uint32, h string) bool {
		for _, x := range deps[d] {
			if x.linked || x.seq >= w.seq || (maxDelay > 0 && w.t-x.t > maxDelay) {
				continue
			}
			x.linked = true
			p.Links = append(p.Links, MixLink{Deposit: x.seq, Withdrawal: w.seq, Heuristic: h, Confidence: heuristicConfidence[h]})
			return true
		}
		return false
	}
	linked := make([]bool, len(wds))
	// 1. Address match: the strongest evidence, applied first.
	for i, w := range wds {
		if g.Degree(w.to) <= o.MaxDegree {
			linked[i] = take(w, w.to, HeurAddressMatch)
		}
	}
	// 2. Linked address: the recipient and a depositor transacted directly.
	var buf []uint32
	for i, w := range wds {
		if linked[i] || g.Degree(w.to) > o.MaxDegree {
			continue
		}
		var cands []uint32
		buf = g.Out(w.to, buf[:0])
		for _, s := range buf {
			if d := g.Transfer(s).Dst; d != pool && d != w.to && deps[d] != nil {
				cands = append(cands, d)
			}
		}
		buf = g.In(w.to, buf[:0])
		for _, s := range buf {
			if d := g.Transfer(s).Src; d != pool && d != w.to && deps[d] != nil {
				cands = append(cands, d)
			}
		}
		// Only an unambiguous link counts: exactly one depositor of the
		// pool (of few transfers) among the recipient's counterparties.
		sort.Slice(cands, func(a, b int) bool { return cands[a] < cands[b] })
		one, n := uint32(0), 0
		for j, d := range cands {
			if j > 0 && cands[j-1] == d {
				continue
			}
			one, n = d, n+1
		}
		if n == 1 && g.Degree(one) <= o.MaxDegree {
			linked[i] = take(w, one, HeurLinkedAddress)
		}
	}
	// 3. Repeated recipient: several withdrawals to one address after a
	// burst of deposits.
	if o.RepeatMin > 0 {
		for _, l := range repeatedRecipients(g, deps, wds, linked, o) {
			p.Links = append(p.Links, MixLink{Deposit: l[0], Withdrawal: l[1], Heuristic: HeurRepeatedRecipient,
				Confidence: heuristicConfidence[HeurRepeatedRecipient]})
		}
	}
	sort.Slice(p.Links, func(i, j int) bool { return p.Links[i].Deposit < p.Links[j].Deposit })
	leg := func(s uint32) Leg {
		num, _, _, _ := g.BlockAt(g.BlockIndex(s))
		return Leg{Chain: chain, Block: num, Position: g.Position(s)}
	}
	for i, l := range p.Links {
		p.convs = append(p.convs, Conversion{Kind: Mix, In: leg(l.Deposit), Out: leg(l.Withdrawal),
			AmountIn: g.Amount(l.Deposit), AmountOut: g.Amount(l.Withdrawal), Ref: l.Heuristic})
		p.byDep[l.Deposit], p.byWd[l.Withdrawal] = i, i
	}
	return p
}

// link returns the conversion of a linked transfer of the pool: by deposit
// forward, by withdrawal backward.
func (p *MixPool) link(seq uint32, back bool) (*Conversion, bool) {
	m := p.byDep
	if back {
		m = p.byWd
	}
	i, ok := m[seq]
	if !ok {
		return nil, false
	}
	return &p.convs[i], true
}

// linked reports whether seq is a linked deposit or withdrawal.
func (p *MixPool) linked(seq uint32) bool {
	_, a := p.byDep[seq]
	_, b := p.byWd[seq]
	return a || b
}

// mixPool returns the demixer's analysis of an address if it is a
// fixed-denomination mixer pool (attrs, its attributions, say mixer) and the
// request demixes; nil otherwise. A node calls it once, when created.
func (e *engine) mixPool(c int32, addr uint32, attrs []model.Attribution) *MixPool {
	if e.req.Mixer == MixerStop {
		return nil
	}
	for i := range attrs {
		if attrs[i].Category == model.CatMixer {
			ch := e.chains[c]
			return AnalyzePool(ch.g, ch.name, addr, DemixOptions{MaxDelay: e.req.MixMaxDelay})
		}
	}
	return nil
}

// skipLinked reports whether a holder's event is a linked deposit or
// withdrawal of its pool, which the pool's holder does not see (the link
// carries its taint).
func skipLinked(h *holder, seq uint32) bool {
	return h.n.mix != nil && h.n.mix.linked(seq)
}
