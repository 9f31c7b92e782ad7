package synth

import (
	"github.com/redthread/redthread/internal/model"
)

// AssetSum is the stolen-value account of one scenario for one asset, in
// granules: Stolen + SwappedIn + BridgedIn + MixedOut equals CashedOut +
// Fees + SwappedOut + BridgedOut + MixedIn + Held.
type AssetSum struct {
	Stolen, SwappedIn, BridgedIn, MixedOut           uint64
	CashedOut, Fees, SwappedOut, BridgedOut, MixedIn uint64
	Held                                             uint64 // at laundering addresses when the world ends
}

type scenarioState struct {
	g     *gen
	i     int
	s     *Scenario
	c, o  *chainState
	a0    uint32
	mules []uint32
	cons2 uint32   // consolidation address on the second chain (0 until used)
	coll  []uint32 // mixer-burst collectors (0 until first drawn)
	sum   [2][]AssetSum

	theftTx    string
	theftBlock uint64
	theftTime  int64
}

func newScenarioState(g *gen, i int, s *Scenario) *scenarioState {
	st := &scenarioState{g: g, i: i, s: s, c: g.ch[0], o: g.ch[1]}
	for k := range st.sum {
		st.sum[k] = make([]AssetSum, g.ch[k].nA)
	}
	start := g.p.Start.Unix()
	for k := 0; k < 3; k++ {
		m := st.c.newLaunder(i, "mule")
		st.mules = append(st.mules, m)
		st.c.mules = append(st.c.mules, m)
		st.c.scheduleAt(start+86400+int64(g.r.IntN(86400)), func() { st.muleForward(m) })
	}
	st.c.scheduleAt(start+int64(s.StartHours)*3600, st.theft)
	return st
}

func (c *chainState) scheduleAt(t int64, fn func()) {
	g := c.g
	g.seq++
	c.q.push(event{t: t, seq: g.seq, kind: evFunc, fn: fn})
}

// newLaunder allocates a fresh laundering address of scenario si.
func (c *chainState) newLaunder(si int, role string) uint32 {
	id := c.lBase + uint32(len(c.l.scen))
	for a := 0; a < c.nA; a++ {
		c.l.bal = append(c.l.bal, 0)
		c.l.stolen = append(c.l.stolen, 0)
		c.l.recv = append(c.l.recv, 0)
	}
	c.l.scen = append(c.l.scen, uint8(si))
	c.l.role = append(c.l.role, role)
	return id
}

func (st *scenarioState) begin(step string) {
	st.g.scen = st.i
	st.g.step = step
}

func (st *scenarioState) end() { st.g.step = "" }

func (st *scenarioState) account(c *chainState, t *Transfer, stolen uint64, step string) {
	s := &st.sum[c.idx][t.Asset]
	switch step {
	case "theft":
		s.Stolen += stolen
	case "cashout":
		s.CashedOut += stolen
	case "fee":
		s.Fees += stolen
	case "swap-in":
		s.SwappedOut += stolen
	case "swap-out":
		s.SwappedIn += stolen
	case "bridge-in":
		s.BridgedOut += stolen
	case "bridge-out":
		s.BridgedIn += stolen
	case "mix-in":
		s.MixedIn += stolen
	case "mix-out":
		s.MixedOut += stolen
	}
}

// victim returns the address the scenario robs.
func (st *scenarioState) victim() uint32 {
	switch st.s.Victim {
	case "exchange":
		return st.c.exchanges[0].hot[0]
	case "exchange-cold":
		return st.c.exchanges[0].cold
	}
	return st.c.vault
}

func (st *scenarioState) delay(lo, hi int64) int64 { return lo + st.g.r.Int64N(hi-lo+1) }

func (st *scenarioState) theft() {
	c, g, s := st.c, st.g, st.s
	victim := st.victim()
	c.reserve[victim] -= min(c.reserve[victim], 500_000*coin)
	st.a0 = c.newLaunder(st.i, "theft")
	st.begin("theft")
	amt := min(uint64(s.Native)*coin, c.balance(victim, 0)/100*95)
	g.carry = amt
	c.pay(victim, st.a0, 0, amt)
	st.theftTx = g.w.TxHash(c.idx, c.block.Number, g.tx)
	st.theftBlock, st.theftTime = c.block.Number, c.block.Time
	tok := uint8(0)
	if s.Token > 0 {
		tok = 2 // sUSDC
		t := min(uint64(s.Token)*c.unitOf(tok), c.balance(victim, tok)/100*95)
		g.carry = t
		c.pay(victim, st.a0, tok, t)
	}
	st.end()
	c.schedule(st.delay(120, 600), st.split)
	if tok != 0 {
		var p pool
		for _, q := range c.pools {
			if q.token == tok {
				p = q
			}
		}
		chunk := c.balance(st.a0, tok)/12 + 1
		var next func()
		next = func() {
			amt := min(chunk, c.balance(st.a0, tok))
			if amt > 0 && c.balance(st.a0, 0) >= c.feeOf(150_000) {
				st.begin("swap")
				c.swap(st.a0, p, tok, amt)
				st.end()
			}
			if c.balance(st.a0, tok) > 0 {
				c.schedule(st.delay(1200, 5400), next)
				return
			}
			c.schedule(st.delay(600, 3600), func() { st.fanout(st.a0, max(1, s.FanOut/s.Lots)) })
		}
		c.schedule(st.delay(1800, 3600), next)
	} else {
		c.schedule(st.delay(3600, 4*3600), func() { st.fanout(st.a0, max(1, s.FanOut/s.Lots)) })
	}
}

// split sends equal lots to fresh addresses, a few per block, within minutes.
func (st *scenarioState) split() {
	c, s := st.c, st.s
	maxFee := c.feeOf(21_000) * 4
	bal := c.balance(st.a0, 0)
	lot := uint64(s.LotSize) * coin
	if budget := bal - min(bal, uint64(s.Lots+1)*maxFee); lot == 0 || lot*uint64(s.Lots) > budget {
		lot = budget / uint64(s.Lots)
	}
	per := s.FanOut / s.Lots
	for i := 0; i < s.Lots; i++ {
		k := per
		if i < s.FanOut%s.Lots {
			k++
		}
		c.schedule(int64(i/3)*c.blockTime, func() {
			if c.spendable(st.a0, 0) < lot || lot == 0 {
				return
			}
			li := c.newLaunder(st.i, "lot")
			st.begin("split")
			c.pay(st.a0, li, 0, lot)
			st.end()
			c.schedule(st.delay(600, 6*3600), func() { st.fanout(li, k) })
		})
	}
}

// fanout spreads src's native balance over k fresh addresses with random
// weights, then sends each on one laundering path.
func (st *scenarioState) fanout(src uint32, k int) {
	c, g := st.c, st.g
	maxFee := c.feeOf(21_000) * 4
	bal := c.balance(src, 0)
	if bal <= uint64(k)*maxFee {
		return
	}
	budget := bal - uint64(k)*maxFee
	ws := make([]uint64, k)
	var sum uint64
	for i := range ws {
		ws[i] = uint64(20 + g.r.IntN(100))
		sum += ws[i]
	}
	st.begin("fanout")
	for i := 0; i < k; i++ {
		amt := mulDiv(budget, ws[i], sum)
		if amt == 0 || c.spendable(src, 0) < amt {
			continue
		}
		f := c.newLaunder(st.i, "fanout")
		c.pay(src, f, 0, amt)
		st.route(f)
	}
	st.end()
}

// route picks the laundering path of a fan-out address.
func (st *scenarioState) route(f uint32) {
	c, s := st.c, st.s
	x := st.g.r.IntN(100)
	d := st.delay(3600, 2*86400)
	switch {
	case x < s.MixPercent && s.Burst != nil:
		c.schedule(st.delay(0, int64(s.Burst.DepositHours)*3600), func() { st.mixBurst(f) })
	case x < s.MixPercent:
		c.schedule(d, func() { st.mix(f) })
	case x < s.MixPercent+s.BridgePercent:
		c.schedule(d, func() { st.bridge(f) })
	case x < s.MixPercent+s.BridgePercent+s.MinglePercent:
		c.schedule(d, func() {
			if sp := c.spendable(f, 0); sp > 0 {
				st.begin("mingle")
				c.pay(f, st.mules[st.g.r.IntN(len(st.mules))], 0, sp)
				st.end()
			}
		})
	case x < s.MixPercent+s.BridgePercent+s.MinglePercent+s.OTCPercent:
		c.schedule(d, func() { st.cashout(c, f, c.spendable(f, 0), true) })
	default:
		c.schedule(d, func() { st.peel(f, s.PeelHops) })
	}
}

func (st *scenarioState) hopDelay() int64 {
	return st.delay(2*3600, max(3*3600, int64(st.s.CashoutDays)*86400/int64(st.s.PeelHops+1)))
}

// peel sends a slice to an exchange deposit address and the rest to a fresh
// address, hop after hop; the last hop cashes out everything.
func (st *scenarioState) peel(f uint32, hops int) {
	c := st.c
	sp := c.spendable(f, 0)
	if sp == 0 {
		return
	}
	if hops <= 0 || sp < 4*c.feeOf(21_000)*4 {
		st.cashout(c, f, sp, false)
		return
	}
	st.cashout(c, f, mulDiv(sp, uint64(10+st.g.r.IntN(21)), 100), false)
	rest := c.spendable(f, 0)
	if rest == 0 {
		return
	}
	n := c.newLaunder(st.i, "peel")
	st.begin("peel")
	c.pay(f, n, 0, rest)
	st.end()
	c.schedule(st.hopDelay(), func() { st.peel(n, hops-1) })
}

// cashout pays amt native coins from f to an exchange deposit address of a
// mule customer (or an OTC broker) and records the endpoint.
func (st *scenarioState) cashout(c *chainState, f uint32, amt uint64, otc bool) {
	if amt == 0 {
		return
	}
	g := st.g
	var to uint32
	var entity string
	cat := model.CatExchange
	if otc {
		to = c.otc[g.r.IntN(len(c.otc))]
		cat = model.CatOTC
	} else {
		to = c.depBase + uint32(g.r.IntN(int(c.deps)))
	}
	for _, sv := range c.services {
		if sv.ID == to {
			entity = sv.Entity
		}
	}
	if !otc {
		entity = "exchange:" + c.exchanges[c.depositExchange(to)].name
	}
	st.begin("cashout")
	stolen := c.pay(f, to, 0, amt)
	st.end()
	if !otc {
		c.scheduleSweep(to, 0)
	}
	if stolen == 0 {
		return
	}
	w := g.w
	b := &c.block
	e := Endpoint{
		Scenario: st.s.Name, Chain: c.chain, Address: w.Address(c.idx, to), Entity: entity, Category: cat,
		Asset: model.NativeAsset, Stolen: w.amountOf(c.idx, 0, stolen),
		TxHash: w.TxHash(c.idx, b.Number, g.tx), Block: b.Number, Time: b.Time,
	}
	g.stats.Endpoints++
	if err := g.sink.Endpoint(&e); err != nil && g.err == nil {
		g.err = err
	}
}

// muleForward: a shared address that also takes clean payments forwards its
// whole balance to an exchange every one to three days.
func (st *scenarioState) muleForward(m uint32) {
	c := st.c
	if sp := c.spendable(m, 0); sp > 0 {
		st.cashout(c, m, sp, false)
	}
	c.schedule(st.delay(86400, 3*86400), func() { st.muleForward(m) })
}

// mix deposits up to MixDeposits fixed denominations (the largest the address
// can afford); each withdrawal goes to a fresh address that cashes out later.
// The remainder peels.
func (st *scenarioState) mix(f uint32) {
	c, s := st.c, st.s
	fee := c.feeOf(900_000)
	for i := len(c.mixers) - 1; i >= 0; i-- {
		m := c.mixers[i]
		n := 0
		for n < s.MixDeposits && c.balance(f, 0) >= m.denom+fee+c.feeOf(21_000)*4 {
			w := c.newLaunder(st.i, "mix-withdraw")
			st.begin("mix")
			c.mixIn(f, m, w, st.delay(3600, 7*86400), func() {
				c.schedule(st.delay(3600, 3*86400), func() {
					st.cashout(c, w, c.spendable(w, 0), st.g.r.IntN(2) == 0)
				})
			})
			st.end()
			n++
		}
		if n > 0 {
			break
		}
	}
	c.schedule(st.delay(3600, 86400), func() { st.peel(f, s.PeelHops) })
}

// bridge sends f's coins through the bridge to a fresh address on the second
// chain, which later consolidates into one address that cashes out in chunks.
func (st *scenarioState) bridge(f uint32) {
	c, o := st.c, st.o
	sp := c.balance(f, 0)
	fee := c.feeOf(60_000)
	if sp <= fee {
		return
	}
	dest := o.newLaunder(st.i, "bridge-dest")
	st.begin("bridge")
	c.bridgeOut(f, sp-fee, dest, func(out, stolen uint64) {
		o.schedule(st.delay(3600, 2*86400), func() { st.consolidate(dest) })
		o.schedule(st.delay(600, 6*3600), func() { o.rebalance(out) })
	})
	st.end()
}

func (st *scenarioState) consolidate(b uint32) {
	o := st.o
	sp := o.spendable(b, 0)
	if sp == 0 {
		return
	}
	first := st.cons2 == 0
	if first {
		st.cons2 = o.newLaunder(st.i, "consolidation")
	}
	st.begin("consolidate")
	o.pay(b, st.cons2, 0, sp)
	st.end()
	if first {
		o.schedule(st.delay(12*3600, 36*3600), st.cashoutChunk)
	}
}

// cashoutChunk sends 20–40 % of the consolidation address (all of it when
// small) to an exchange deposit address or OTC broker of the second chain.
func (st *scenarioState) cashoutChunk() {
	o := st.o
	sp := o.spendable(st.cons2, 0)
	if sp > 0 {
		amt := mulDiv(sp, uint64(20+st.g.r.IntN(21)), 100)
		if sp < 1000*coin {
			amt = sp
		}
		st.cashout(o, st.cons2, amt, st.g.r.IntN(3) == 0)
	}
	o.schedule(st.delay(12*3600, 36*3600), st.cashoutChunk)
}

// mixBurst (scenario field Burst): f deposits up to MixDeposits notes of the
// largest pool at once; CollectorPercent of them are withdrawn to one of a
// few collector addresses, the rest each to a fresh address, FastPercent
// within FastDays of the deposit. Each withdrawal address cashes out what
// it holds at an exchange 1 h–3 d after each withdrawal. The remainder peels.
func (st *scenarioState) mixBurst(f uint32) {
	c, s, b, r := st.c, st.s, st.s.Burst, st.g.r
	fee := c.feeOf(900_000)
	m := c.mixers[len(c.mixers)-1]
	for n := 0; n < s.MixDeposits && c.balance(f, 0) >= m.denom+fee+c.feeOf(21_000)*4; n++ {
		var w uint32
		if r.IntN(100) < b.CollectorPercent {
			if st.coll == nil {
				st.coll = make([]uint32, b.Collectors)
			}
			k := r.IntN(b.Collectors)
			if st.coll[k] == 0 {
				st.coll[k] = c.newLaunder(st.i, "mix-withdraw")
			}
			w = st.coll[k]
		} else {
			w = c.newLaunder(st.i, "mix-withdraw")
		}
		d := st.delay(3600, int64(b.FastDays)*86400)
		if r.IntN(100) >= b.FastPercent {
			d = st.delay(int64(b.FastDays+1)*86400, int64(b.FastDays+10)*86400)
		}
		st.begin("mix")
		c.mixIn(f, m, w, d, func() {
			c.schedule(st.delay(3600, 3*86400), func() { st.cashout(c, w, c.spendable(w, 0), false) })
		})
		st.end()
	}
	c.schedule(st.delay(3600, 86400), func() { st.peel(f, s.PeelHops) })
}
