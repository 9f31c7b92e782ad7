package synth

import (
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// quote returns the constant-product output (0.3 % fee) for amt paid into a
// pool holding rin of the input and rout of the output.
func quote(amt, rin, rout uint64) uint64 {
	var a, ri, ro, num, den uint256.Int
	a.SetUint64(amt)
	a.Mul(&a, uint256.NewInt(997))
	ri.SetUint64(rin)
	ri.Mul(&ri, uint256.NewInt(1000))
	ro.SetUint64(rout)
	num.Mul(&a, &ro)
	den.Add(&ri, &a)
	if den.IsZero() {
		return 0
	}
	num.Div(&num, &den)
	return num.Uint64()
}

// swap trades amt of asset in (0 or the pool's token) at pool p for trader u
// and returns the output and the stolen part of it (proportional to the
// stolen part of the input).
func (c *chainState) swap(u uint32, p pool, in uint8, amt uint64) (uint64, uint64) {
	out := p.token
	if in != 0 {
		out = 0
	}
	got := quote(amt, c.balance(p.id, in), c.balance(p.id, out))
	if got == 0 {
		return 0, 0
	}
	g := c.g
	value := uint64(0)
	if in == 0 {
		value = amt
	}
	step := g.step
	c.newTx(u, p.id, value, true)
	kin := model.KindToken
	if in == 0 {
		kin = model.KindNative
	}
	if step != "" {
		g.step = "swap-in"
	}
	sin := c.xfer(u, p.id, in, amt, kin)
	kout := model.KindToken
	if out == 0 {
		kout = model.KindInternal
	}
	sout := mulDiv(got, sin, amt)
	g.carry = sout
	if step != "" {
		g.step = "swap-out"
	}
	c.xfer(p.id, u, out, got, kout)
	g.step = step
	c.payFee(u, 150_000)
	w := g.w
	b := &c.block
	s := Swap{
		Chain: c.chain, TxHash: w.TxHash(c.idx, b.Number, g.tx), Block: b.Number, Time: b.Time,
		Pool: w.Address(c.idx, p.id), Trader: w.Address(c.idx, u),
		AssetIn: c.assets[in].ID, AmountIn: w.amountOf(c.idx, in, amt),
		AssetOut: c.assets[out].ID, AmountOut: w.amountOf(c.idx, out, got),
	}
	g.stats.Swaps++
	if err := g.sink.Swap(&s); err != nil && g.err == nil {
		g.err = err
	}
	return got, sout
}

// poolRef is a pool's reference price: the initial reserve ratio times
// bps/10,000, a bounded random walk.
type poolRef struct {
	native, token uint64
	bps           uint64
	hour          int64 // the walk takes one step per hour of simulated time
}

// arbitrage brings the reference price of a random pool up to date (a
// random walk of ±0.6 % per simulated hour, kept within 0.5× to 2× the
// initial price, so its spread does not depend on the scale) and has the
// arbitrage bot trade the pool halfway back to it: prices move but do not
// drift away.
func (c *chainState) arbitrage() {
	r := c.g.r
	i := r.IntN(len(c.pools))
	p, ref := c.pools[i], &c.poolRef[i]
	if ref.hour == 0 {
		ref.hour = c.g.now / 3600
	}
	for ; ref.hour < c.g.now/3600; ref.hour++ {
		ref.bps = min(max(ref.bps+uint64(r.IntN(121))-60, 5_000), 20_000)
	}
	x, y := c.balance(p.id, 0), c.balance(p.id, p.token)
	// native reserve at the reference price: sqrt(x·y·native·10^4 / (token·bps))
	var k, num, den, t uint256.Int
	k.Mul(t.SetUint64(x), uint256.NewInt(y))
	num.Mul(&k, t.SetUint64(ref.native))
	num.Mul(&num, uint256.NewInt(10_000))
	den.Mul(t.SetUint64(ref.token), uint256.NewInt(ref.bps))
	num.Div(&num, &den)
	num.Sqrt(&num)
	xs := num.Uint64()
	f := c.feeOf(150_000)
	switch {
	case xs > x+x/200: // the pool wants native coins
		amt := min((xs-x)/2, c.balance(c.arb, 0)-min(c.balance(c.arb, 0), f))
		if amt > 0 {
			c.swap(c.arb, p, 0, amt)
		}
	case xs+x/200 < x: // the pool has too many native coins: sell it tokens
		k.Div(&k, t.SetUint64(xs))
		ys := k.Uint64()
		if ys > y && c.balance(c.arb, 0) >= f {
			amt := (ys - y) / 2
			if have := c.balance(c.arb, p.token); have < amt {
				// the bot buys tokens off-chain; the issuer mints them (an
				// ERC-20 mint from the zero address), as stablecoins are
				// issued against fiat deposits
				c.newTx(0, c.assets[p.token].contract, 0, true)
				c.xfer(0, c.arb, p.token, amt-have, model.KindToken)
			}
			c.swap(c.arb, p, p.token, amt)
		}
	}
}

// swapRandom: a user sells tokens for native coins or native coins for
// tokens, each half the time (buying at an exchange first when the user
// holds none), so neither side of a pool is sold down for ever.
func (c *chainState) swapRandom() {
	r := c.g.r
	u := c.zipfUser()
	p := c.pools[r.IntN(len(c.pools))]
	f := c.feeOf(150_000)
	if r.IntN(2) == 0 {
		b := c.balance(u, p.token)
		if b == 0 || c.balance(u, 0) < f {
			c.withdraw(u, p.token)
			return
		}
		c.swap(u, p, p.token, c.portion(b))
		return
	}
	sp := c.balance(u, 0)
	if sp <= f {
		c.withdraw(u, 0)
		return
	}
	c.swap(u, p, 0, c.portion(sp-f))
}

func (c *chainState) gamble() {
	r := c.g.r
	u := c.zipfUser()
	sp := c.spendable(u, 0)
	if sp == 0 {
		c.withdraw(u, 0)
		return
	}
	casino := c.gambling[r.IntN(len(c.gambling))]
	bet := c.portion(sp) / 2
	if bet == 0 {
		bet = sp
	}
	c.pay(u, casino, 0, bet)
	if r.IntN(100) < 45 {
		c.schedule(30+int64(r.IntN(1800)), func() {
			win := min(bet/10*19, c.spendable(casino, 0)/2)
			if win > 0 {
				c.pay(casino, u, 0, win)
			}
		})
	}
}

// usdPrice returns the native coin's price as (stable granules, native granules)
// from the chain's first stablecoin pool.
func (c *chainState) usdPool() pool { return c.pools[0] }

// otcTrade: a user sells native coins to an OTC broker, who pays stablecoins
// from inventory later at the pool price less 2 %.
func (c *chainState) otcTrade() {
	r := c.g.r
	u := c.zipfUser()
	sp := c.spendable(u, 0)
	if sp == 0 {
		c.withdraw(u, 0)
		return
	}
	broker := c.otc[r.IntN(len(c.otc))]
	amt := c.portion(sp)
	c.pay(u, broker, 0, amt)
	p := c.usdPool()
	c.schedule(600+int64(r.IntN(6*3600)), func() {
		usd := mulDiv(amt, c.balance(p.id, p.token), c.balance(p.id, 0))
		usd = min(usd/100*98, c.balance(broker, p.token))
		if usd > 0 {
			c.pay(broker, u, p.token, usd)
		}
	})
}

func (c *chainState) other() *chainState { return c.g.ch[1-c.idx] }

// bridgeRate converts native granules of c into native granules of the other
// chain at both chains' stablecoin pool prices, less the 0.5 % bridge fee.
func (c *chainState) bridgeRate(amt uint64) uint64 {
	o := c.other()
	p, q := c.usdPool(), o.usdPool()
	var v, t uint256.Int
	v.SetUint64(amt)
	v.Mul(&v, t.SetUint64(c.balance(p.id, p.token)))
	v.Mul(&v, t.SetUint64(o.balance(q.id, 0)))
	var d uint256.Int
	d.SetUint64(c.balance(p.id, 0))
	d.Mul(&d, t.SetUint64(o.balance(q.id, q.token)))
	v.Div(&v, &d)
	if !v.IsUint64() {
		return ^uint64(0)
	}
	return v.Uint64() / 1000 * 995
}

// bridgeOut deposits amt native coins of from into the vault with a
// THORChain-style memo naming dest on the other chain, and schedules the
// outbound payment. stolen is set for laundering flows (done at outbound with
// the stolen amount received).
func (c *chainState) bridgeOut(from uint32, amt uint64, dest uint32, done func(out, stolen uint64)) {
	g := c.g
	w := g.w
	o := c.other()
	memo := "=:" + chainTicker(o.chain) + "." + o.assets[0].Symbol + ":" + w.Address(o.idx, dest)
	step := g.step
	if step != "" {
		g.step = "bridge-in"
	}
	c.newTx(from, c.vault, amt, true)
	sin := c.xfer(from, c.vault, 0, amt, model.KindNative)
	c.payFee(from, 60_000)
	g.step = step
	b := &c.block
	in := Bridge{
		InChain: c.chain, InTx: w.TxHash(c.idx, b.Number, g.tx), InBlock: b.Number, InTime: b.Time,
		InFrom: w.Address(c.idx, from), InVault: w.Address(c.idx, c.vault), InAsset: model.NativeAsset,
		InAmount: w.amountOf(c.idx, 0, amt), Memo: memo,
	}
	scen := g.scen
	o.schedule(60+int64(g.r.IntN(600)), func() {
		out := min(c.bridgeRate(amt), o.balance(o.vault, 0)-min(o.balance(o.vault, 0), o.feeOf(60_000)))
		if out == 0 {
			return
		}
		stolen := mulDiv(out, sin, amt)
		g.carry, g.scen = stolen, scen
		if stolen > 0 {
			g.step = "bridge-out"
		}
		o.newTx(o.vault, dest, out, true)
		o.xfer(o.vault, dest, 0, out, model.KindNative)
		o.payFee(o.vault, 60_000)
		g.step = ""
		ob := &o.block
		in.OutChain, in.OutTx, in.OutBlock, in.OutTime = o.chain, w.TxHash(o.idx, ob.Number, g.tx), ob.Number, ob.Time
		in.OutVault, in.OutTo, in.OutAsset = w.Address(o.idx, o.vault), w.Address(o.idx, dest), model.NativeAsset
		in.OutAmount = w.amountOf(o.idx, 0, out)
		in.OutMemo = "OUT:" + upperHex(in.InTx)
		g.stats.Bridges++
		if err := g.sink.Bridge(&in); err != nil && g.err == nil {
			g.err = err
		}
		if done != nil {
			done(out, stolen)
		}
	})
}

func chainTicker(c model.Chain) string {
	if c == Chain1 {
		return "SYNTH"
	}
	return "SYNTH2"
}

func upperHex(h string) string {
	b := []byte(h[2:])
	for i, x := range b {
		if x >= 'a' && x <= 'f' {
			b[i] = x - 'a' + 'A'
		}
	}
	return string(b)
}

func (c *chainState) bridgeRandom() {
	u := c.zipfUser()
	sp := c.balance(u, 0)
	f := c.feeOf(60_000)
	if sp <= f {
		c.withdraw(u, 0)
		return
	}
	o := c.other()
	c.bridgeOut(u, c.portion(sp-f), o.zipfUser(), func(out, _ uint64) {
		o.schedule(600+int64(c.g.r.IntN(6*3600)), func() { o.rebalance(out) })
	})
}

// rebalance: after a crossing paid amt native coins out of this chain's
// vault, the arbitrage bot sends about as much back through the bridge to its
// twin on the other chain, as arbitrageurs keep bridge pools balanced; user
// and laundering crossings then do not drain one vault.
func (c *chainState) rebalance(amt uint64) {
	if amt = min(amt, c.spendable(c.arb, 0)/2); amt > 0 {
		c.bridgeOut(c.arb, amt, c.other().arb, nil)
	}
}

// mixIn deposits one fixed denomination into mixer pool m and schedules its
// withdrawal to recipient after delay.
func (c *chainState) mixIn(from uint32, m mixerPool, recipient uint32, delay int64, done func()) {
	g := c.g
	w := g.w
	step := g.step
	if step != "" {
		g.step = "mix-in"
	}
	c.newTx(from, m.id, m.denom, true)
	sin := c.xfer(from, m.id, 0, m.denom, model.KindNative)
	c.payFee(from, 900_000)
	g.step = step
	b := &c.block
	mx := Mix{Chain: c.chain, Pool: w.Address(c.idx, m.id), Amount: w.amountOf(c.idx, 0, m.denom),
		DepositTx: w.TxHash(c.idx, b.Number, g.tx), Depositor: w.Address(c.idx, from), DepositAt: b.Time}
	scen := g.scen
	if sin > 0 {
		mx.Scenario = g.p.Scenarios[scen].Name
	}
	c.schedule(delay, func() {
		g.carry, g.scen = sin, scen
		if sin > 0 {
			g.step = "mix-out"
		}
		c.newTx(m.id, recipient, m.denom, true)
		c.xfer(m.id, recipient, 0, m.denom, model.KindInternal)
		g.step = ""
		mx.WithdrawTx = w.TxHash(c.idx, c.block.Number, g.tx)
		mx.Recipient = w.Address(c.idx, recipient)
		mx.WithdrawAt = c.block.Time
		g.stats.Mixes++
		if err := g.sink.Mix(&mx); err != nil && g.err == nil {
			g.err = err
		}
		if done != nil {
			done()
		}
	})
}

func (c *chainState) mixRandom() {
	r := c.g.r
	u := c.zipfUser()
	m := c.mixers[r.IntN(len(c.mixers))]
	if c.balance(u, 0) < m.denom+c.feeOf(900_000) {
		c.withdraw(u, 0)
		return
	}
	c.mixIn(u, m, c.zipfUser(), 3600+int64(r.IntN(5*86400)), nil)
}
