package cluster

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// Sources of the attributions this package makes.
const (
	SourceDepositAddress = "heuristic:deposit-address"
	SourceCollector      = "heuristic:deposit-collector"
)

// Options tune the deposit-address heuristic. The zero value takes the
// defaults.
type Options struct {
	// MaxDelay: a sweep forwards what arrived at most this long before it
	// (default 24 h; exchanges sweep within minutes to hours).
	MaxDelay time.Duration
	// ResidualPerMille: after a sweep the address keeps at most this share
	// of the amount swept (default 10, i.e. 1 %; the fee is paid in the same
	// transaction and counts as sent).
	ResidualPerMille uint64
	// SweepPerMille: at least this share of the transactions the address
	// sends must be sweeps to the one exchange (default 900).
	SweepPerMille int
	// MaxDegree: addresses with more transfers are not deposit addresses
	// (default 1,000).
	MaxDegree uint64
	// MinCollector: an unlabelled address that at least this many
	// deposit-shaped addresses sweep into, each at least twice, is taken
	// for an exchange wallet of an unidentified exchange, and those
	// addresses for its deposit addresses (default 10; 0
	// takes the default, a negative value disables the rule).
	MinCollector int
}

// WithDefaults returns o with its zero fields set to the defaults.
func (o Options) WithDefaults() Options {
	o.defaults()
	return o
}

func (o *Options) defaults() {
	if o.MaxDelay == 0 {
		o.MaxDelay = 24 * time.Hour
	}
	if o.ResidualPerMille == 0 {
		o.ResidualPerMille = 10
	}
	if o.SweepPerMille == 0 {
		o.SweepPerMille = 900
	}
	if o.MaxDegree == 0 {
		o.MaxDegree = 1000
	}
	if o.MinCollector == 0 {
		o.MinCollector = 10
	}
}

// MaxEvidence is how many sweeps of a deposit address a Finding keeps as
// evidence (the first ones).
const MaxEvidence = 3

// Finding is one address the heuristic attributed, with its evidence.
type Finding struct {
	Attribution model.Attribution
	Sweeps      int    // sweeps into the exchange (deposit addresses) or sweepers (collectors)
	Senders     int    // distinct addresses that paid the deposit address
	Target      string // the hot wallet it swept into most often (deposit addresses); the cluster's first wallet (collectors)
	// SweepSeqs are the graph's transfer numbers of the first sweeps (at
	// most MaxEvidence; deposit addresses only): g.TxHashes turns them into
	// transaction hashes.
	SweepSeqs []uint32
	// FirstSweep and LastSweep are the times of the address's first and
	// last sweep (deposit addresses), or of the cluster's sweepers
	// (collectors).
	FirstSweep, LastSweep time.Time
}

// sweeper is what the scan learned about one address.
type sweeper struct {
	addr     uint32
	sends    int            // transactions in which it sent value
	sweeps   map[uint32]int // sweeps per target address
	senders  int
	first    int64
	lastSeen int64
	// the first sweeps' transfer numbers, and the first and last sweep times
	seqs                  []uint32
	firstSweep, lastSweep int64
}

// DepositAddresses applies the deposit-address heuristic to one chain of
// the graph: an address whose outgoing transactions are (at least
// SweepPerMille of them) sweeps — each forwarding (nearly) its whole balance
// of an asset within MaxDelay of its arrival — into the wallets of one
// exchange, as known's attributions (category exchange) name them, is a
// deposit address of that exchange. Addresses already attributed are left
// alone. Findings are sorted by address.
func DepositAddresses(ctx context.Context, g trace.ChainGraph, chain model.Chain, known trace.Attributor, o Options) ([]Finding, error) {
	o.defaults()
	n := g.NumAddresses()
	var sw []*sweeper
	var ins, outs []uint32
	maxDelay := int64(o.MaxDelay / time.Second)
	for a := 0; a < n; a++ {
		if a&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		id := uint32(a)
		if d := g.Degree(id); d < 2 || d > o.MaxDegree {
			continue
		}
		outs = g.Out(id, outs[:0])
		if len(outs) == 0 {
			continue
		}
		ins = g.In(id, ins[:0])
		if s := scanAddress(g, id, ins, outs, maxDelay, o.ResidualPerMille); s != nil {
			sw = append(sw, s)
		}
	}
	// Drop addresses that are attributed already, and those that do not
	// sweep (nearly) everything they send.
	keep := sw[:0]
	for _, s := range sw {
		if s.total()*1000 < s.sends*o.SweepPerMille {
			continue
		}
		if len(known.Lookup(chain, g.Address(s.addr), time.Unix(s.lastSeen, 0).UTC())) > 0 {
			continue
		}
		keep = append(keep, s)
	}
	sw = keep
	// The wallets one deposit address sweeps into belong to one exchange:
	// union them.
	parent := map[uint32]uint32{}
	var find func(x uint32) uint32
	find = func(x uint32) uint32 {
		p, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, s := range sw {
		var first uint32
		i := 0
		for t, k := range s.sweeps {
			if k < 2 && len(s.sweeps) > 1 {
				continue // one sweep among others: too little to join wallets on
			}
			if i == 0 {
				first = find(t)
			} else if r := find(t); r != first {
				if r < first {
					parent[first], first = r, r
				} else {
					parent[r] = first
				}
			}
			i++
		}
	}
	type comp struct {
		members               []uint32
		sweepers              []*sweeper
		last                  int64
		first                 int64
		firstSweep, lastSweep int64
	}
	comps := map[uint32]*comp{}
	for t := range parent {
		r := find(t)
		c := comps[r]
		if c == nil {
			c = &comp{first: 1<<63 - 1, firstSweep: 1<<63 - 1}
			comps[r] = c
		}
		c.members = append(c.members, t)
	}
	for _, s := range sw {
		// The sweeper belongs to the cluster it swept into most often.
		bt := s.target()
		r := find(bt)
		c := comps[r]
		if c == nil { // its wallets were not joined: one of its own
			c = &comp{members: []uint32{bt}, first: 1<<63 - 1, firstSweep: 1<<63 - 1}
			comps[r] = c
		}
		c.sweepers = append(c.sweepers, s)
		c.last, c.first = max(c.last, s.lastSeen), min(c.first, s.first)
		c.firstSweep, c.lastSweep = min(c.firstSweep, s.firstSweep), max(c.lastSweep, s.lastSweep)
	}
	roots := make([]uint32, 0, len(comps))
	for r := range comps {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	var out []Finding
	for _, r := range roots {
		c := comps[r]
		sort.Slice(c.members, func(i, j int) bool { return c.members[i] < c.members[j] })
		// The exchange: the entity most members are attributed to. A member
		// attributed to anything but an exchange vetoes the cluster.
		at := time.Unix(c.last, 0).UTC()
		votes := map[string]int{}
		tmpl := map[string]model.Attribution{}
		labelled := map[uint32]bool{}
		veto := false
		for _, m := range c.members {
			for _, x := range known.Lookup(chain, g.Address(m), at) {
				labelled[m] = true
				if x.Category != model.CatExchange {
					veto = true
					continue
				}
				e := x.Entity
				if e == "" {
					e = x.Label
				}
				if votes[e] == 0 {
					tmpl[e] = x
				}
				votes[e]++
			}
		}
		if veto {
			continue
		}
		var best string
		for e, n := range votes {
			if n > votes[best] || n == votes[best] && e < best {
				best = e
			}
		}
		penalty := 0
		var hot model.Attribution
		switch {
		case best != "":
			hot = tmpl[best]
		case o.MinCollector > 0 && repeated(c.sweepers) >= o.MinCollector:
			// No label: only addresses used again and again (customers'
			// deposit addresses are; a launderer's one-shot forwarders
			// into a consolidation address are not) make a collector.
			keep := c.sweepers[:0]
			for _, s := range c.sweepers {
				if s.total() >= 2 {
					keep = append(keep, s)
				}
			}
			c.sweepers = keep
			a := g.Address(c.members[0])
			hot = model.Attribution{Chain: chain, Entity: "cluster:" + a,
				Label:    fmt.Sprintf("unidentified exchange (collects from %d deposit-shaped addresses)", len(c.sweepers)),
				Category: model.CatExchange}
			penalty = 10
		default:
			continue
		}
		// Unlabelled wallets of the cluster.
		for _, m := range c.members {
			if labelled[m] {
				continue
			}
			a := hot
			a.Address, a.Source, a.Confidence = g.Address(m), model.Source{Name: SourceCollector}, model.Confidence(60-penalty)
			a.ValidFrom, a.ValidTo, a.Role, a.Incident = time.Unix(c.first, 0).UTC(), time.Time{}, "exchange wallet", ""
			if best != "" {
				a.Label = fmt.Sprintf("wallet of %s (swept into with %s)", best, tmpl[best].Address)
			}
			out = append(out, Finding{Attribution: a, Sweeps: len(c.sweepers), Target: g.Address(c.members[0]),
				FirstSweep: time.Unix(c.firstSweep, 0).UTC(), LastSweep: time.Unix(c.lastSweep, 0).UTC()})
		}
		for _, s := range c.sweepers {
			out = append(out, depositFinding(chain, g.Address(s.addr), hot, s.total(), s, g.Address(s.target()), penalty))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Attribution.Address < out[j].Attribution.Address })
	return out, nil
}

// repeated counts the sweepers that swept at least twice.
func repeated(ss []*sweeper) int {
	n := 0
	for _, s := range ss {
		if s.total() >= 2 {
			n++
		}
	}
	return n
}

// target is the address s swept into most often (the lowest id of a tie).
func (s *sweeper) target() uint32 {
	var bt uint32
	bk := -1
	for t, k := range s.sweeps {
		if k > bk || k == bk && t < bt {
			bt, bk = t, k
		}
	}
	return bt
}

func (s *sweeper) total() int {
	n := 0
	for _, k := range s.sweeps {
		n += k
	}
	return n
}

// depositFinding attributes a deposit address to the exchange of hot. The
// confidence grows with the evidence: 50, +10 for each sweep after the
// first (up to +30), +5 with two or more distinct senders; less penalty.
func depositFinding(chain model.Chain, addr string, hot model.Attribution, sweeps int, s *sweeper, target string, penalty int) Finding {
	c := 50 + 10*min(sweeps-1, 3)
	if s.senders >= 2 {
		c += 5
	}
	c -= penalty
	label := hot.Label
	if hot.Entity != "" {
		label = hot.Entity
	}
	return Finding{
		Attribution: model.Attribution{Chain: chain, Address: addr, Entity: hot.Entity,
			Label:    "deposit address of " + label,
			Category: model.CatExchange, Role: "deposit address",
			Source:     model.Source{Name: SourceDepositAddress},
			Confidence: model.Confidence(c), ValidFrom: time.Unix(s.first, 0).UTC()},
		Sweeps: sweeps, Senders: s.senders, Target: target, SweepSeqs: s.seqs,
		FirstSweep: time.Unix(s.firstSweep, 0).UTC(), LastSweep: time.Unix(s.lastSweep, 0).UTC(),
	}
}

// scanAddress walks one address's transfers in chain order, transaction by
// transaction, and records its sweeps. nil if it made none.
func scanAddress(g trace.ChainGraph, id uint32, ins, outs []uint32, maxDelay int64, residual uint64) *sweeper {
	type bal struct {
		asset uint32
		v     uint256.Int
		since int64 // first arrival while the balance was (nearly) empty
	}
	var bs []bal
	get := func(a uint32) *bal {
		for i := range bs {
			if bs[i].asset == a {
				return &bs[i]
			}
		}
		bs = append(bs, bal{asset: a, since: -1})
		return &bs[len(bs)-1]
	}
	s := &sweeper{addr: id, sweeps: map[uint32]int{}, first: -1, firstSweep: -1}
	senders := map[uint32]bool{}
	i, j := 0, 0
	type sent struct {
		to, asset uint32
		amt       uint256.Int
	}
	var txOuts []sent
	var outSeq []uint32 // transfer numbers of txOuts
	for i < len(ins) || j < len(outs) {
		// The next transaction: every transfer of it, in and out.
		var first uint32
		if j >= len(outs) || i < len(ins) && ins[i] < outs[j] {
			first = ins[i]
		} else {
			first = outs[j]
		}
		bi := g.BlockIndex(first)
		_, t, _, _ := g.BlockAt(bi)
		if s.first < 0 {
			s.first = t
		}
		s.lastSeen = t
		tx := g.Position(first).TxIndex()
		same := func(q uint32) bool { return g.BlockIndex(q) == bi && g.Position(q).TxIndex() == tx }
		txOuts, outSeq = txOuts[:0], outSeq[:0]
		for ; i < len(ins) && same(ins[i]); i++ {
			tr := g.Transfer(ins[i])
			if tr.Src == id {
				continue // to itself: seen as an output too
			}
			b := get(tr.Asset)
			v := g.Amount(ins[i])
			if b.since < 0 || b.v.IsZero() {
				b.since = t
			}
			b.v.Add(&b.v, &v)
			senders[tr.Src] = true
		}
		for ; j < len(outs) && same(outs[j]); j++ {
			tr := g.Transfer(outs[j])
			if tr.Dst == id {
				continue
			}
			v := g.Amount(outs[j])
			b := get(tr.Asset)
			if b.v.Lt(&v) {
				b.v.Clear()
			} else {
				b.v.Sub(&b.v, &v)
			}
			if !v.IsZero() {
				txOuts = append(txOuts, sent{tr.Dst, tr.Asset, v})
				outSeq = append(outSeq, outs[j])
			}
		}
		if len(txOuts) == 0 {
			continue
		}
		s.sends++
		// The sweep: the largest output that leaves its asset's balance
		// (nearly) empty. A fee paid beside a token sweep does not empty the
		// native balance, so it is not taken for the sweep.
		var lim uint256.Int
		k := -1
		for x := range txOuts {
			b := get(txOuts[x].asset)
			lim.Mul(&txOuts[x].amt, uint256.NewInt(residual))
			lim.Div(&lim, uint256.NewInt(1000))
			if b.v.Gt(&lim) {
				continue
			}
			if k < 0 || txOuts[k].amt.Lt(&txOuts[x].amt) {
				k = x
			}
		}
		if k >= 0 {
			b := get(txOuts[k].asset)
			if b.since >= 0 && t-b.since <= maxDelay {
				s.sweeps[txOuts[k].to]++
				if len(s.seqs) < MaxEvidence {
					s.seqs = append(s.seqs, outSeq[k])
				}
				if s.firstSweep < 0 {
					s.firstSweep = t
				}
				s.lastSweep = t
			}
		}
		for x := range txOuts {
			if b := get(txOuts[x].asset); b.v.IsZero() || x == k {
				b.since = -1
			}
		}
	}
	if len(s.sweeps) == 0 {
		return nil
	}
	s.senders = len(senders)
	return s
}
