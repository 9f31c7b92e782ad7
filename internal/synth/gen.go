package synth

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/redthread/redthread/internal/model"
)

// Stats summarizes a generated world.
type Stats struct {
	Transfers [2]int64 // per chain index
	Blocks    [2]int64
	Txs       [2]int64
	Swaps     int64
	Bridges   int64
	Mixes     int64
	Flows     int64
	Endpoints int64
	noop      int64
}

// Total returns the number of transfers on both chains.
func (s *Stats) Total() int64 { return s.Transfers[0] + s.Transfers[1] }

type event struct {
	t    int64
	seq  uint64
	kind uint8 // evSweep or evFunc
	a    uint32
	as   uint8
	fn   func()
}

const (
	evSweep = iota + 1
	evFunc
)

type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	return h[i].t < h[j].t || (h[i].t == h[j].t && h[i].seq < h[j].seq)
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = event{}
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// laundering address bookkeeping (per chain)
type lstate struct {
	bal    []uint64 // per id × assets
	stolen []uint64 // per id × assets
	recv   []uint64 // stolen received, per id × assets
	scen   []uint8
	role   []string
}

type chainState struct {
	*chainSpec
	g       *gen
	nA      int
	bal     []uint64 // fixed ids × assets
	l       lstate
	pending []uint64 // bitset of (deposit, asset) pairs awaiting a sweep
	block   Block
	q       eventHeap
	rate    int64 // micro-transfers per block
	credit  int64
	gas     uint64            // granules (gwei) per unit of gas in the current block
	reserve map[uint32]uint64 // native coins a victim keeps until its theft
	mules   []uint32
	zipfCum []uint64
	poolRef []poolRef
}

type gen struct {
	ctx   context.Context
	w     *World
	p     Params
	r     *rand.Rand
	sink  Sink
	ch    [2]*chainState
	seq   uint64
	stats Stats
	now   int64
	err   error
	noop  int64

	// ground-truth context of the transfer being emitted
	step  string
	carry uint64 // stolen amount of a transfer whose sender is not a laundering address
	scen  int    // scenario of carry
	scens []*scenarioState
	tx    uint32 // index of the current tx in its block
	seqNo uint32
}

// Generate builds the world described by p and streams it to sink. It
// returns the world's static description and counts.
func Generate(ctx context.Context, p Params, sink Sink) (*World, *Stats, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	w := newWorld(p)
	g := &gen{ctx: ctx, w: w, p: p, sink: sink, r: rand.New(rand.NewPCG(p.Seed, 0x7265647468726561))}
	share := [2]int64{8, 2}
	for i, s := range w.specs {
		c := &chainState{chainSpec: s, g: g, nA: len(s.assets)}
		c.bal = make([]uint64, int(s.lBase)*c.nA)
		c.pending = make([]uint64, (int(s.deps)*c.nA+63)/64)
		c.block = Block{World: w, ChainIdx: i}
		c.zipfCum = zipfTable(int(s.users))
		blocks := int64(p.Days) * 86400 / s.blockTime
		c.rate = p.Scale * share[i] * 100_000 / blocks // micro-transfers per block (share in tenths)
		g.ch[i] = c
	}
	for i := range p.Scenarios {
		g.scens = append(g.scens, newScenarioState(g, i, &p.Scenarios[i]))
	}
	if err := g.run(); err != nil {
		return nil, nil, err
	}
	w.finish(g)
	g.stats.noop = g.noop
	return w, &g.stats, nil
}

func (g *gen) run() error {
	start := g.p.Start.Unix()
	end := start + int64(g.p.Days)*86400
	c1, c2 := g.ch[0], g.ch[1]
	for n := uint64(1); ; n++ {
		t := start + int64(n)*c1.blockTime
		if t > end {
			break
		}
		if n%256 == 0 {
			if err := g.ctx.Err(); err != nil {
				return err
			}
		}
		if err := g.runBlock(c2, 2*n-1, t-c2.blockTime); err != nil {
			return err
		}
		if err := g.runBlock(c1, n, t); err != nil {
			return err
		}
		if err := g.runBlock(c2, 2*n, t); err != nil {
			return err
		}
	}
	return g.err
}

// hourWeight is the daily cycle of activity (UTC hour → weight, mean 1000).
var hourWeight = [24]int64{760, 680, 620, 580, 560, 600, 700, 830, 950, 1050, 1120, 1180,
	1230, 1280, 1330, 1360, 1350, 1300, 1230, 1150, 1080, 1000, 920, 840}

var hourSum = func() (s int64) {
	for _, w := range hourWeight {
		s += w
	}
	return s
}()

func (g *gen) runBlock(c *chainState, num uint64, t int64) error {
	g.now = t
	b := &c.block
	b.Number, b.Time = num, t
	b.Txs = b.Txs[:0]
	b.Transfers = b.Transfers[:0]
	b.Validator = c.validator[zipfN(g.r, len(c.validator))]
	// gas price follows the daily cycle: 4–40 gwei
	hour := (t / 3600) % 24
	c.gas = uint64(2+hourWeight[hour]/100) + uint64(g.r.IntN(8))
	if num == 1 {
		c.genesis()
	}
	for len(c.q) > 0 && c.q[0].t <= t {
		e := c.q.pop()
		switch e.kind {
		case evSweep:
			c.sweep(e.a, e.as)
		case evFunc:
			e.fn()
		}
	}
	c.credit -= int64(len(b.Transfers)) * 1_000_000
	day := (t / 86400) % 7 // 1970-01-01 was a Thursday: days 2 and 3 are Saturday and Sunday
	wk := int64(108)
	if day == 2 || day == 3 {
		wk = 80
	}
	c.credit += c.rate * hourWeight[hour] * 24 / hourSum * wk / 100 * int64(750+g.r.IntN(500)) / 1000
	for c.credit > 0 {
		n0 := len(b.Transfers)
		c.background()
		d := len(b.Transfers) - n0
		if d == 0 {
			d = 1
			g.noop++
		}
		c.credit -= int64(d) * 1_000_000
	}
	if g.err != nil {
		return g.err
	}
	if len(b.Transfers) == 0 {
		return nil
	}
	g.stats.Blocks[c.idx]++
	g.stats.Transfers[c.idx] += int64(len(b.Transfers))
	g.stats.Txs[c.idx] += int64(len(b.Txs))
	if err := g.sink.Block(b); err != nil {
		return fmt.Errorf("sink block %d of %s: %w", num, c.chain, err)
	}
	return nil
}

func (c *chainState) schedule(dt int64, fn func()) {
	g := c.g
	g.seq++
	c.q.push(event{t: g.now + max(dt, 1), seq: g.seq, kind: evFunc, fn: fn})
}

// balp returns the balance cell of id for asset a.
func (c *chainState) balp(id uint32, a uint8) *uint64 {
	if id >= c.lBase {
		return &c.l.bal[int(id-c.lBase)*c.nA+int(a)]
	}
	return &c.bal[int(id)*c.nA+int(a)]
}

func (c *chainState) balance(id uint32, a uint8) uint64 { return *c.balp(id, a) }

// newTx starts a transaction.
func (c *chainState) newTx(from, to uint32, value uint64, ok bool) {
	b := &c.block
	idx := uint32(len(b.Txs))
	b.Txs = append(b.Txs, Tx{Index: idx, From: from, To: to, Value: value, Status: ok})
	c.g.tx = idx
	c.g.seqNo = 0
}

// xfer moves amt granules of asset a inside the current transaction and
// returns the stolen part it carried.
func (c *chainState) xfer(from, to uint32, a uint8, amt uint64, kind model.Kind) uint64 {
	g := c.g
	if from != 0 {
		p := c.balp(from, a)
		if *p < amt {
			panic(fmt.Sprintf("synth: %s address %d asset %d: balance %d < %d", c.chain, from, a, *p, amt))
		}
		*p -= amt
	}
	q := c.balp(to, a)
	if *q+amt < *q {
		panic(fmt.Sprintf("synth: %s address %d asset %d: balance overflow", c.chain, to, a))
	}
	*q += amt
	b := &c.block
	b.Transfers = append(b.Transfers, Transfer{TxIndex: g.tx, Seq: g.seqNo, From: from, To: to, Asset: a, Kind: kind, Amount: amt})
	g.seqNo++

	var stolen uint64
	scen := g.scen
	if from >= c.lBase {
		i := int(from-c.lBase)*c.nA + int(a)
		stolen = min(amt, c.l.stolen[i])
		c.l.stolen[i] -= stolen
		scen = int(c.l.scen[from-c.lBase])
	} else {
		stolen = g.carry
		g.carry = 0
	}
	if to >= c.lBase {
		i := int(to-c.lBase)*c.nA + int(a)
		c.l.stolen[i] += stolen
		c.l.recv[i] += stolen
		if stolen > 0 {
			scen = int(c.l.scen[to-c.lBase])
		}
	}
	if stolen > 0 {
		g.flow(c, &b.Transfers[len(b.Transfers)-1], stolen, scen)
	}
	return stolen
}

func (g *gen) flow(c *chainState, t *Transfer, stolen uint64, scen int) {
	w := g.w
	f := Flow{
		Scenario: g.p.Scenarios[scen].Name,
		Step:     g.step,
		Chain:    c.chain,
		TxHash:   w.TxHash(c.idx, c.block.Number, t.TxIndex),
		Block:    c.block.Number,
		Time:     c.block.Time,
		Position: model.MakePosition(t.TxIndex, t.Seq),
		From:     w.Address(c.idx, t.From),
		To:       w.Address(c.idx, t.To),
		Asset:    c.assets[t.Asset].ID,
		Amount:   w.amountOf(c.idx, t.Asset, t.Amount),
		Stolen:   w.amountOf(c.idx, t.Asset, stolen),
	}
	if t.Kind == model.KindFee {
		f.Step = "fee"
	}
	g.scens[scen].account(c, t, stolen, f.Step)
	g.stats.Flows++
	if err := g.sink.Flow(&f); err != nil && g.err == nil {
		g.err = fmt.Errorf("sink flow: %w", err)
	}
}

func (c *chainState) feeOf(gas uint64) uint64 { return gas * c.gas }

// payFee charges the current transaction's fee to from, unless it cannot pay
// (then the fee counts as sponsored and no fee transfer is written).
func (c *chainState) payFee(from uint32, gas uint64) {
	f := c.feeOf(gas)
	if from == 0 || c.balance(from, 0) < f {
		return
	}
	g := c.g
	carry := g.carry
	g.carry = 0
	c.xfer(from, c.block.Validator, 0, f, model.KindFee)
	g.carry = carry
	c.block.Txs[len(c.block.Txs)-1].Fee = f
}

// zipfN draws an index in [0,n) whose frequency falls as 1/rank: a level is
// uniform over the log2 scale, then the index uniform within it.
func zipfN(r *rand.Rand, n int) int {
	if n <= 1 {
		return 0
	}
	levels := bits.Len(uint(n))
	l := r.IntN(levels)
	lo := (1 << l) - 1
	i := lo + r.IntN(1<<l)
	if i >= n {
		i = lo + r.IntN(n-lo)
	}
	return i
}

// mulDiv returns a*b/d with a 128-bit intermediate (d > 0, result < 2^64).
func mulDiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}
