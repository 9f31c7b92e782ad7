package trace

import (
	"sort"
	"time"
)

// repeatedRecipients is the repeated-recipient heuristic (docs/trace.md,
// "Mixers"): it returns (deposit, withdrawal) seq pairs and marks the
// deposits used. deps are the pool's deposits by depositor, wds its
// withdrawals in chain order, linked the withdrawals earlier heuristics
// linked. o carries the defaults already filled in.
//
// 1. Burst deposits: the unlinked deposits of depositors of at most
// MaxDegree transfers that deposited at least BurstDepositor times.
// 2. Bursts: runs of burst deposits in chain order whose consecutive
// deposits are at most BurstGap apart, of at least RepeatMin deposits.
// 3. Each unlinked withdrawal to a recipient of at most MaxDegree transfers
// belongs to the most recent burst that began before it, if it comes at
// most RepeatWindow after that burst's last deposit.
// 4. Per burst, recipients with at least RepeatMin of its withdrawals
// qualify; their withdrawals, earliest first, each take the burst's
// earliest unused deposit made before it (within MaxDelay), until the
// burst's deposits run out.
func repeatedRecipients(g ChainGraph, deps map[uint32][]*dep, wds []wd, linked []bool, o DemixOptions) [][2]uint32 {
	var bd []*dep
	for src, ds := range deps {
		if len(ds) < o.BurstDepositor || g.Degree(src) > o.MaxDegree {
			continue
		}
		for _, d := range ds {
			if !d.linked {
				bd = append(bd, d)
			}
		}
	}
	sort.Slice(bd, func(i, j int) bool { return bd[i].seq < bd[j].seq })
	gap, win := int64(o.BurstGap/time.Second), int64(o.RepeatWindow/time.Second)
	type burst struct {
		deps    []*dep
		t0, t1  int64
		first   uint32
		byRecip map[uint32][]int // withdrawal indices per recipient
	}
	var bursts []*burst
	for i := 0; i < len(bd); {
		j := i + 1
		for j < len(bd) && bd[j].t-bd[j-1].t <= gap {
			j++
		}
		if j-i >= o.RepeatMin {
			bursts = append(bursts, &burst{deps: bd[i:j], t0: bd[i].t, t1: bd[j-1].t, first: bd[i].seq, byRecip: map[uint32][]int{}})
		}
		i = j
	}
	if len(bursts) == 0 {
		return nil
	}
	// Withdrawals to the most recent burst that began before them.
	for i, w := range wds {
		if linked[i] {
			continue
		}
		k := sort.Search(len(bursts), func(k int) bool { return bursts[k].first >= w.seq }) - 1
		if k < 0 || w.t-bursts[k].t1 > win || g.Degree(w.to) > o.MaxDegree {
			continue
		}
		bursts[k].byRecip[w.to] = append(bursts[k].byRecip[w.to], i)
	}
	maxDelay := int64(o.MaxDelay / time.Second)
	var out [][2]uint32
	for _, b := range bursts {
		var take []int
		for _, idx := range b.byRecip {
			if len(idx) >= o.RepeatMin {
				take = append(take, idx...)
			}
		}
		sort.Ints(take)
		next := 0 // deposits before next are all used
		for _, i := range take {
			w := wds[i]
			for next < len(b.deps) && b.deps[next].linked {
				next++
			}
			for k := next; k < len(b.deps); k++ {
				d := b.deps[k]
				if d.seq >= w.seq {
					break
				}
				if d.linked || (maxDelay > 0 && w.t-d.t > maxDelay) {
					continue
				}
				d.linked, linked[i] = true, true
				out = append(out, [2]uint32{d.seq, w.seq})
				break
			}
		}
	}
	return out
}
