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
	// for an exchange wallet of an unidentified exchange (default 10; 0
	// takes the default, a negative value disables the rule).
	MinCollector int
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

// Finding is one address the heuristic attributed, with its evidence.
type Finding struct {
	Attribution model.Attribution
	Sweeps      int    // sweeps into the exchange (deposit addresses) or sweepers (collectors)
	Senders     int    // distinct addresses that paid the deposit address
	Target      string // a hot wallet it swept into (deposit addresses)
}

// sweeper is what the scan learned about one address.
type sweeper struct {
	addr     uint32
	sends    int            // transactions in which it sent value
	sweeps   map[uint32]int // sweeps per target address
	senders  int
	first    int64
	lastSeen int64
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
	// The exchange of each target, looked up at the time of the address's
	// last sweep; cached per target.
	type ex struct {
		ok  bool
		att model.Attribution
	}
	exOf := map[uint32]ex{}
	exchangeOf := func(t uint32, at int64) ex {
		if v, ok := exOf[t]; ok {
			return v
		}
		var v ex
		for _, x := range known.Lookup(chain, g.Address(t), time.Unix(at, 0).UTC()) {
			if x.Category == model.CatExchange {
				v = ex{true, x}
				break
			}
		}
		exOf[t] = v
		return v
	}
	entityOf := func(a model.Attribution) string {
		if a.Entity != "" {
			return a.Entity
		}
		return a.Label
	}
	var out []Finding
	claimed := map[uint32]bool{}
	collector := map[uint32][]*sweeper{}
	for _, s := range sw {
		addr := g.Address(s.addr)
		if len(known.Lookup(chain, addr, time.Unix(s.lastSeen, 0).UTC())) > 0 {
			continue
		}
		// Sweeps per exchange entity.
		per := map[string]int{}
		var best string
		var bestAtt model.Attribution
		var bestTarget uint32
		targets := make([]uint32, 0, len(s.sweeps))
		for t := range s.sweeps {
			targets = append(targets, t)
		}
		sort.Slice(targets, func(i, j int) bool { return targets[i] < targets[j] })
		for _, t := range targets {
			k := s.sweeps[t]
			x := exchangeOf(t, s.lastSeen)
			if !x.ok {
				if k >= 2 && k*1000 >= s.sends*o.SweepPerMille {
					collector[t] = append(collector[t], s)
				}
				continue
			}
			e := entityOf(x.att)
			per[e] += k
			if per[e] > per[best] || best == "" {
				best, bestAtt, bestTarget = e, x.att, t
			}
		}
		if best == "" || per[best]*1000 < s.sends*o.SweepPerMille {
			continue
		}
		claimed[s.addr] = true
		out = append(out, depositFinding(chain, addr, bestAtt, per[best], s, g.Address(bestTarget), 0))
	}
	if o.MinCollector > 0 {
		cs := make([]uint32, 0, len(collector))
		for t := range collector {
			cs = append(cs, t)
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
		for _, t := range cs {
			ss := collector[t]
			if len(ss) < o.MinCollector {
				continue
			}
			taddr := g.Address(t)
			first := ss[0].first
			for _, s := range ss {
				first = min(first, s.first)
			}
			if len(known.Lookup(chain, taddr, time.Unix(first, 0).UTC())) > 0 {
				continue // attributed, but not as an exchange: not ours to relabel
			}
			hot := model.Attribution{Chain: chain, Address: taddr, Entity: "cluster:" + taddr,
				Label:    fmt.Sprintf("unidentified exchange (collects from %d deposit-shaped addresses)", len(ss)),
				Category: model.CatExchange, Source: model.Source{Name: SourceCollector}, Confidence: 50,
				ValidFrom: time.Unix(first, 0).UTC()}
			out = append(out, Finding{Attribution: hot, Sweeps: len(ss)})
			for _, s := range ss {
				if claimed[s.addr] {
					continue
				}
				claimed[s.addr] = true
				out = append(out, depositFinding(chain, g.Address(s.addr), hot, s.sweeps[t], s, taddr, 10))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Attribution.Address < out[j].Attribution.Address })
	return out, nil
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
		Sweeps: sweeps, Senders: s.senders, Target: target,
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
	s := &sweeper{addr: id, sweeps: map[uint32]int{}, first: -1}
	senders := map[uint32]bool{}
	i, j := 0, 0
	type sent struct {
		to, asset uint32
		amt       uint256.Int
	}
	var txOuts []sent
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
		txOuts = txOuts[:0]
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
			}
		}
		if len(txOuts) == 0 {
			continue
		}
		s.sends++
		// The largest output of the transaction is the candidate sweep.
		k := 0
		for x := range txOuts {
			if txOuts[k].amt.Lt(&txOuts[x].amt) {
				k = x
			}
		}
		o := txOuts[k]
		b := get(o.asset)
		var lim uint256.Int
		lim.Mul(&o.amt, uint256.NewInt(residual))
		lim.Div(&lim, uint256.NewInt(1000))
		if !b.v.Gt(&lim) && b.since >= 0 && t-b.since <= maxDelay {
			s.sweeps[o.to]++
		}
		if !b.v.Gt(&lim) {
			b.since = -1
		}
	}
	if len(s.sweeps) == 0 {
		return nil
	}
	s.senders = len(senders)
	return s
}
