package trace

import "github.com/holiman/uint256"

// A pool window: under --mixer pool or fifo with Request.MixMaxDelay set, a
// mixer pool followed as an ordinary address keeps its unlinked deposits as
// lots, and a withdrawal draws only on the lots deposited at most
// MixMaxDelay before it (the anonymity set of a withdrawal bounded in time,
// as investigators bound the search for a hack's withdrawals to the days
// after its deposits). The taint of a lot past the window stays at the pool
// and is reported there as held. docs/trace.md, "Mixers".

// lot is one unlinked deposit still in the pool: its time (view time:
// backward traces see withdrawals as deposits), the value left and the
// tainted part of it.
type lot struct {
	t          int64
	val, taint uint256.Int
}

// window is a pool holder's lots in view order (so in time order, forward
// or backward) and the taint of the lots that left the window.
type window struct {
	w       int64 // seconds
	lots    []lot
	head    int // lots before head are spent or expired
	expired uint256.Int
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// expire moves the taint of the lots further than w from t out of reach.
func (w *window) expire(t int64) {
	for w.head < len(w.lots) && absDiff(t, w.lots[w.head].t) > w.w {
		l := &w.lots[w.head]
		w.expired.Add(&w.expired, &l.taint)
		*l = lot{}
		w.head++
	}
	if w.head > 64 && w.head*2 > len(w.lots) {
		w.lots = append(w.lots[:0], w.lots[w.head:]...)
		w.head = 0
	}
}

// add records a deposit of v units at t, tainted units of it.
func (w *window) add(t int64, v, tainted *uint256.Int) {
	l := lot{t: t, val: *v}
	l.taint = *tainted
	if l.taint.Gt(&l.val) {
		l.taint = l.val
	}
	w.lots = append(w.lots, l)
}

// take computes the taint of a withdrawal of v units at t under policy p
// and takes it from the live lots.
func (w *window) take(t int64, v *uint256.Int, p Policy) uint256.Int {
	w.expire(t)
	live := w.lots[w.head:]
	var x uint256.Int
	switch p {
	case Poison:
		for i := range live {
			if !live[i].taint.IsZero() {
				return *v
			}
		}
	case Haircut:
		var total uint256.Int
		for i := range live {
			total.Add(&total, &live[i].val)
		}
		if total.IsZero() {
			return x
		}
		all := !v.Lt(&total)
		for i := range live {
			l := &live[i]
			if all {
				x.Add(&x, &l.taint)
				*l = lot{t: l.t}
				continue
			}
			tk := mulDiv(&l.taint, v, &total)
			vk := mulDiv(&l.val, v, &total)
			l.taint.Sub(&l.taint, &tk)
			l.val.Sub(&l.val, &vk)
			if l.taint.Gt(&l.val) {
				l.val = l.taint
			}
			x.Add(&x, &tk)
		}
	case FIFO:
		need := *v
		for i := range live {
			if need.IsZero() {
				break
			}
			l := &live[i]
			tk := l.val
			if tk.Gt(&need) {
				tk = need
			}
			tt := l.taint // a lot's tainted units leave first
			if tt.Gt(&tk) {
				tt = tk
			}
			x.Add(&x, &tt)
			l.taint.Sub(&l.taint, &tt)
			l.val.Sub(&l.val, &tk)
			need.Sub(&need, &tk)
		}
		for w.head < len(w.lots) && w.lots[w.head].val.IsZero() && w.lots[w.head].taint.IsZero() {
			w.head++
		}
	}
	return x
}

// held is the taint still at the pool: in live lots and past the window.
func (w *window) held() uint256.Int {
	h := w.expired
	for i := w.head; i < len(w.lots); i++ {
		h.Add(&h, &w.lots[i].taint)
	}
	return h
}
