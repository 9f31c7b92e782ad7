package synth

import (
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

const coin = 1_000_000_000 // granules of an 18-decimal asset per whole coin

// unitOf returns granules per whole unit of asset a.
func (c *chainState) unitOf(a uint8) uint64 {
	as := &c.assets[a]
	u := uint64(1)
	for i := 0; i < as.Decimals-as.granExp; i++ {
		u *= 10
	}
	return u
}

// genesis mints the initial supply to the services (block 1).
func (c *chainState) genesis() {
	g := c.g
	g.step = "genesis"
	mint := func(to uint32, a uint8, units uint64) {
		if units == 0 {
			return
		}
		c.newTx(0, to, 0, true)
		k := model.KindReward
		if a != 0 {
			k = model.KindToken
		}
		c.xfer(0, to, a, units*c.unitOf(a), k)
	}
	// whole units per asset: [cold, hot, pool, vault, otc, gambling]
	type alloc struct{ cold, hot, pool, vault, otc, gamble uint64 }
	var al []alloc
	if c.idx == 0 {
		al = []alloc{
			{300_000, 20_000, 0, 300_000, 20_000, 20_000}, // SYN (pool native set per pool below)
			{500_000_000, 20_000_000, 600_000_000, 0, 50_000_000, 0},
			{300_000_000, 10_000_000, 600_000_000, 40_000_000, 0, 0},
			{5_000, 200, 5_000, 0, 0, 0},
			{100_000_000, 5_000_000, 150_000_000, 0, 0, 0},
		}
	} else {
		al = []alloc{
			{20_000_000, 1_000_000, 0, 300_000_000, 1_000_000, 1_000_000},
			{100_000_000, 5_000_000, 100_000_000, 0, 20_000_000, 0},
		}
	}
	poolNative := map[string]uint64{"sUSDT": 200_000, "sUSDC": 200_000, "sWBTC": 100_000, "sDAI": 50_000, "xUSD": 10_000_000}
	c.coldMin = make([][]uint64, len(c.exchanges))
	for e, x := range c.exchanges {
		c.coldMin[e] = make([]uint64, c.nA)
		for a := range c.assets {
			cold := al[a].cold
			if e == 0 && a == 0 && c.idx == 0 {
				cold = 600_000 // the victim of the exchange scenario holds more
			}
			mint(x.cold, uint8(a), cold)
			if e == 0 && a == 0 && c.idx == 0 {
				// the exchange scenario's victim keeps its cold coins until the theft
				c.coldMin[e][a] = 500_000 * coin
			}
			for _, h := range x.hot {
				mint(h, uint8(a), al[a].hot)
			}
		}
	}
	c.poolRef = make([]poolRef, len(c.pools))
	for i, p := range c.pools {
		n, t := poolNative[c.assets[p.token].Symbol], al[p.token].pool
		mint(p.id, 0, n)
		mint(p.id, p.token, t)
		c.poolRef[i] = poolRef{native: n * c.unitOf(0), token: t * c.unitOf(p.token), bps: 10_000}
		// the arbitrage bot holds a third of each pool's depth
		mint(c.arb, 0, n/3)
		mint(c.arb, p.token, t/3)
	}
	// and native coins to keep the bridge vaults balanced
	mint(c.arb, 0, [2]uint64{300_000, 200_000_000}[c.idx])
	for a := range c.assets {
		mint(c.vault, uint8(a), al[a].vault)
		for _, o := range c.otc {
			mint(o, uint8(a), al[a].otc)
		}
		for _, gm := range c.gambling {
			mint(gm, uint8(a), al[a].gamble)
		}
	}
	g.step = ""
}

// zipfUser draws a user with heavy-tailed activity: Zipf-like with exponent
// about 1.2. Ranks fall in levels [2^L-1, 2^(L+1)-1); a level is drawn with
// weight 2^(-0.2 L) (integer table) and the rank uniformly inside it.
func (c *chainState) zipfUser() uint32 {
	r := c.g.r
	x := r.Uint64N(c.zipfCum[len(c.zipfCum)-1])
	l := 0
	for c.zipfCum[l] <= x {
		l++
	}
	lo := (1 << l) - 1
	n := int(c.users)
	i := lo + r.IntN(1<<l)
	if i >= n {
		i = lo + r.IntN(n-lo)
	}
	return c.userBase + uint32(i)
}

// zipfTable returns the cumulative level weights for n ranks.
func zipfTable(n int) []uint64 {
	var cum []uint64
	w, sum := uint64(1_000_000_000), uint64(0)
	for l := 0; (1<<l)-1 < n; l++ {
		sum += w
		cum = append(cum, sum)
		w = w * 870_551 / 1_000_000 // 2^-0.2
	}
	return cum
}

func (c *chainState) pickAsset() uint8 {
	r := c.g.r
	if c.nA == 1 || r.IntN(100) < 55 {
		return 0
	}
	return uint8(1 + r.IntN(c.nA-1))
}

// typical draws a payment size for asset a: m × 10^k granules.
func (c *chainState) typical(a uint8) uint64 {
	r := c.g.r
	v := uint64(100 + r.IntN(900))
	for k := c.assets[a].kmin + r.IntN(4); k > 0; k-- {
		v *= 10
	}
	return v
}

// portion draws a share of a balance: all of it one time in five, else 1–100 %.
func (c *chainState) portion(bal uint64) uint64 {
	r := c.g.r
	if r.IntN(5) == 0 {
		return bal
	}
	return mulDiv(bal, uint64(1+r.IntN(100)), 100)
}

func gasOf(a uint8) uint64 {
	if a == 0 {
		return 21_000
	}
	return 55_000
}

// pay sends amt of asset a from one address to another as one transaction
// with its fee; native amounts must leave room for the fee.
func (c *chainState) pay(from, to uint32, a uint8, amt uint64) uint64 {
	var s uint64
	if a == 0 {
		c.newTx(from, to, amt, true)
		s = c.xfer(from, to, 0, amt, model.KindNative)
		c.payFee(from, 21_000)
	} else {
		c.newTx(from, c.assets[a].contract, 0, true)
		s = c.xfer(from, to, a, amt, model.KindToken)
		c.payFee(from, 55_000)
	}
	return s
}

// spendable returns what from can send of asset a while paying its fee.
func (c *chainState) spendable(from uint32, a uint8) uint64 {
	b := c.balance(from, a)
	if a != 0 {
		return b
	}
	f := c.feeOf(21_000)
	if b <= f {
		return 0
	}
	return b - f
}

// background runs one random background action.
func (c *chainState) background() {
	// an action that found nothing to move (an empty wallet) is retried
	for try := 0; try < 4; try++ {
		n := len(c.block.Transfers)
		c.action()
		if len(c.block.Transfers) > n {
			return
		}
	}
}

func (c *chainState) action() {
	r := c.g.r
	x := r.IntN(1000)
	switch {
	case x < 330:
		c.send()
	case x < 480:
		c.withdraw(c.zipfUser(), c.pickAsset())
	case x < 620:
		c.deposit()
	case x < 710:
		c.swapRandom()
	case x < 780:
		c.call(true)
	case x < 800:
		c.call(false)
	case x < 850:
		c.gamble()
	case x < 870:
		c.otcTrade()
	case x < 895:
		c.bridgeRandom()
	case x < 915 && len(c.mixers) > 0:
		c.mixRandom()
	case x < 935:
		c.arbitrage()
	case x < 945 && len(c.mules) > 0:
		u := c.zipfUser()
		if amt := c.spendable(u, 0); amt > 0 {
			c.pay(u, c.mules[r.IntN(len(c.mules))], 0, c.portion(amt))
		} else {
			c.withdraw(u, 0)
		}
	default:
		c.send()
	}
}

func (c *chainState) send() {
	r := c.g.r
	s := c.zipfUser()
	a := c.pickAsset()
	amt := c.spendable(s, a)
	if amt == 0 {
		c.withdraw(s, a)
		return
	}
	to := c.zipfUser()
	if to == s {
		to = c.userBase + uint32(r.IntN(int(c.users)))
	}
	c.pay(s, to, a, c.portion(amt))
}

func (c *chainState) exchangeOf(u uint32) int {
	if c.isCustomer(u) {
		return c.depositExchange(c.depositOf(u))
	}
	return int(mix64(uint64(u)^0xe1) % uint64(len(c.exchanges)))
}

// withdraw pays a typical amount from the user's exchange hot wallet,
// topping the hot wallet up from the cold wallet when it runs low; when that
// exchange has none of the asset left, the next one pays. It reports false
// when no exchange could pay.
func (c *chainState) withdraw(u uint32, a uint8) bool {
	want := c.typical(a)
	e0 := c.exchangeOf(u)
	for k := 0; k < len(c.exchanges); k++ {
		e := (e0 + k) % len(c.exchanges)
		if amt := c.withdrawFrom(e, u, a, want); amt > 0 {
			return true
		}
		want /= 4
	}
	return false
}

func (c *chainState) withdrawFrom(e int, u uint32, a uint8, want uint64) uint64 {
	r := c.g.r
	x := &c.exchanges[e]
	hot := x.hot[r.IntN(len(x.hot))]
	if c.spendable(hot, a) < want {
		cold := c.spendable(x.cold, a)
		if floor := c.coldMin[e][a]; cold > floor {
			c.pay(x.cold, hot, a, min(cold-floor, want*50))
		}
		if sp := c.spendable(hot, a); sp < want {
			want = sp / 2
		}
	}
	if want == 0 {
		return 0
	}
	c.pay(hot, u, a, want)
	return want
}

func (c *chainState) deposit() {
	r := c.g.r
	u := c.zipfUser()
	u -= (u - c.userBase) % 3 // round down to a customer
	a := c.pickAsset()
	amt := c.spendable(u, a)
	if amt == 0 {
		c.withdraw(u, a)
		return
	}
	if r.IntN(2) == 0 {
		amt = c.portion(amt)
	}
	dep := c.depositOf(u)
	c.pay(u, dep, a, amt)
	c.scheduleSweep(dep, a)
}

func (c *chainState) scheduleSweep(dep uint32, a uint8) {
	bit := int(dep-c.depBase)*c.nA + int(a)
	if c.pending[bit/64]&(1<<(bit%64)) != 0 {
		return
	}
	c.pending[bit/64] |= 1 << (bit % 64)
	g := c.g
	g.seq++
	c.q.push(event{t: g.now + 600 + int64(g.r.IntN(4*3600)), seq: g.seq, kind: evSweep, a: dep, as: a})
}

// sweep moves a deposit address's whole balance of an asset to a hot wallet.
func (c *chainState) sweep(dep uint32, a uint8) {
	bit := int(dep-c.depBase)*c.nA + int(a)
	c.pending[bit/64] &^= 1 << (bit % 64)
	amt := c.spendable(dep, a)
	if amt == 0 {
		return
	}
	x := &c.exchanges[c.depositExchange(dep)]
	c.pay(dep, x.hot[c.g.r.IntN(len(x.hot))], a, amt)
}

// call is a contract call that moves no value: a zero-value transfer row and
// its fee (ok), or a reverted transaction that only pays its fee.
func (c *chainState) call(ok bool) {
	r := c.g.r
	u := c.zipfUser()
	d := c.dapps[zipfN(r, len(c.dapps))]
	gas := uint64(40_000 + r.IntN(160_000))
	if c.balance(u, 0) < c.feeOf(gas) {
		c.withdraw(u, 0)
		return
	}
	c.newTx(u, d, 0, ok)
	if ok {
		c.xfer(u, d, 0, 0, model.KindNative)
	}
	c.payFee(u, gas)
}

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
