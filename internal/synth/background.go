package synth

import (
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
	c.reserve = map[uint32]uint64{}
	for e, x := range c.exchanges {
		for a := range c.assets {
			cold := al[a].cold
			if e == 0 && a == 0 && c.idx == 0 {
				cold = 600_000 // Kumbit keeps more coins cold
			}
			mint(x.cold, uint8(a), cold)
			for _, h := range x.hot {
				mint(h, uint8(a), al[a].hot)
			}
		}
	}
	if c.idx == 0 {
		// a scenario's victim keeps its coins until the theft (Upbit's hot
		// wallet held 342,000 ETH in 2019, Bybit's cold wallet 401,000 in 2025)
		for _, s := range c.g.p.Scenarios {
			switch s.Victim {
			case "exchange":
				mint(c.exchanges[0].hot[0], 0, 500_000)
				c.reserve[c.exchanges[0].hot[0]] += 500_000 * coin
			case "exchange-cold":
				c.reserve[c.exchanges[0].cold] = min(c.reserve[c.exchanges[0].cold]+500_000*coin, 550_000*coin)
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

// free is what an exchange wallet may pay out of asset a: its spendable
// balance less any coins reserved for a coming theft.
func (c *chainState) free(id uint32, a uint8) uint64 {
	sp := c.spendable(id, a)
	if a == 0 {
		return sp - min(sp, c.reserve[id])
	}
	return sp
}

func (c *chainState) withdrawFrom(e int, u uint32, a uint8, want uint64) uint64 {
	r := c.g.r
	x := &c.exchanges[e]
	hot := x.hot[r.IntN(len(x.hot))]
	if c.free(hot, a) < want {
		if cold := c.free(x.cold, a); cold > 0 {
			c.pay(x.cold, hot, a, min(cold, want*50))
		}
		if sp := c.free(hot, a); sp < want {
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
