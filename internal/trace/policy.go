package trace

import "github.com/holiman/uint256"

// seg is a run of units in FIFO order, tainted or clean.
type seg struct {
	n uint256.Int
	t bool
}

// tval is the taint a transfer carries: amt tainted units and, under FIFO,
// the order of tainted and clean units within the transfer (sum = value).
type tval struct {
	amt  uint256.Int
	segs []seg
}

// fifo is an address's queue of received units, earliest first.
type fifo struct {
	segs  []seg
	head  int
	total uint256.Int
}

func appendSeg(segs []seg, n *uint256.Int, t bool) []seg {
	if n.IsZero() {
		return segs
	}
	if k := len(segs); k > 0 && segs[k-1].t == t {
		segs[k-1].n.Add(&segs[k-1].n, n)
		return segs
	}
	return append(segs, seg{n: *n, t: t})
}

func (q *fifo) push(n *uint256.Int, t bool) {
	if n.IsZero() {
		return
	}
	q.total.Add(&q.total, n)
	if k := len(q.segs); k > q.head && q.segs[k-1].t == t {
		q.segs[k-1].n.Add(&q.segs[k-1].n, n)
		return
	}
	q.segs = append(q.segs, seg{n: *n, t: t})
}

// pop takes v units from the front. Units beyond what the queue holds (the
// address's history starts before the index) come out clean.
func (q *fifo) pop(v *uint256.Int, out []seg) ([]seg, uint256.Int) {
	var need, tainted uint256.Int
	need.Set(v)
	for !need.IsZero() && q.head < len(q.segs) {
		s := &q.segs[q.head]
		take := s.n
		if take.Gt(&need) {
			take = need
		}
		out = appendSeg(out, &take, s.t)
		if s.t {
			tainted.Add(&tainted, &take)
		}
		s.n.Sub(&s.n, &take)
		need.Sub(&need, &take)
		q.total.Sub(&q.total, &take)
		if s.n.IsZero() {
			q.head++
		}
	}
	out = appendSeg(out, &need, false)
	if q.head > 64 && q.head*2 > len(q.segs) {
		q.segs = append(q.segs[:0], q.segs[q.head:]...)
		q.head = 0
	}
	return out, tainted
}

// tainted returns the tainted units queued.
func (q *fifo) tainted() uint256.Int {
	var t uint256.Int
	for _, s := range q.segs[q.head:] {
		if s.t {
			t.Add(&t, &s.n)
		}
	}
	return t
}

// replaceFront credits y late tainted units: they take the place of the
// earliest clean units still queued (or are added if there are too few).
func (q *fifo) replaceFront(y *uint256.Int) {
	var left uint256.Int
	left.Set(y)
	for i := q.head; i < len(q.segs) && !left.IsZero(); i++ {
		s := &q.segs[i]
		if s.t {
			continue
		}
		take := s.n
		if take.Gt(&left) {
			take = left
		}
		s.n.Sub(&s.n, &take)
		q.total.Sub(&q.total, &take)
		left.Sub(&left, &take)
	}
	rest := q.segs[q.head:]
	segs := []seg{{n: *y, t: true}}
	for _, s := range rest {
		segs = appendSeg(segs, &s.n, s.t)
	}
	q.segs, q.head = segs, 0
	q.total.Add(&q.total, y)
}

// mulDiv returns floor(x*y/d) for d > 0, saturating on overflow (which
// cannot happen for a share, since the result is at most y).
func mulDiv(x, y, d *uint256.Int) uint256.Int {
	var z uint256.Int
	if _, over := z.MulDivOverflow(x, y, d); over {
		z.SetAllOne()
	}
	return z
}
