package exposure

import (
	"container/heap"
	"fmt"

	"github.com/holiman/uint256"
)

// Paths. The exposed amount x of a target edge to category c splits along
// the edges that made it up: at unattributed node (z, k), reached through
// edge s, a partial path with exposed amount p passes floor(p · x_j / X) to
// each earlier edge j of z (x_j its exposed amount to c, X = Σ x_j over
// z's edges before s). A path is complete at a counterparty attributed to c.
// The amounts of a category's paths thus never add up to more than its
// exposure. The search is best-first on exposed amount, which bounds every
// completion, so paths come out largest first.

type pitem struct {
	prio  uint256.Int // exposed amount through this partial path
	seqs  []uint32    // from the target outward
	cp    uint32      // counterparty at the far end
	level int         // level of cp's node
	done  bool        // cp is attributed to the category
	order int         // insertion order, for ties
}

type pheap []*pitem

func (h pheap) Len() int { return len(h) }
func (h pheap) Less(i, j int) bool {
	if c := h[i].prio.Cmp(&h[j].prio); c != 0 {
		return c > 0
	}
	return h[i].order < h[j].order
}
func (h pheap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pheap) Push(x any)   { *h = append(*h, x.(*pitem)) }
func (h *pheap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// pendingPath is a found path before its hashes are resolved.
type pendingPath struct {
	cat  uint8
	amt  uint256.Int
	seqs []uint32 // in flow order
	cp   uint32
	fwd  bool
	out  *Path
}

// paths finds the top paths of category ci through node top.
func (r *run) paths(top *node, asset uint32, ci uint8) []Path {
	bit := uint16(1) << ci
	h := &pheap{}
	order := 0
	push := func(it *pitem) {
		it.order = order
		order++
		heap.Push(h, it)
	}
	// children pushes the edges of node n before index k that carry
	// exposure to ci, splitting the parent's exposed amount p.
	children := func(n *node, k int, p *uint256.Int, parent []uint32) {
		cc := n.cat(ci)
		if cc == nil {
			return
		}
		X := &cc.cum[k]
		if X.IsZero() {
			return
		}
		for j := 0; j < k; j++ {
			var x uint256.Int
			x.Sub(&cc.cum[j+1], &cc.cum[j])
			if x.IsZero() {
				continue
			}
			seq := n.edges[j]
			t := r.c.Transfer(seq)
			cp := t.Src
			if n.fwd {
				cp = t.Dst
			}
			it := &pitem{seqs: append(append([]uint32{}, parent...), seq), cp: cp, level: n.level - 1,
				done: r.who(cp).mask&bit != 0}
			if p == nil { // the target's own edges
				it.prio = x
			} else {
				it.prio.MulDivOverflow(p, &x, X) // x ≤ X: no overflow
			}
			if !it.prio.IsZero() {
				push(it)
			}
		}
	}
	children(top, len(top.edges), nil, nil)
	var out []Path
	limitPushes := 64 * r.e.opts.PathSteps
	for steps := 0; h.Len() > 0 && len(out) < r.e.opts.TopPaths && steps < r.e.opts.PathSteps && order < limitPushes; steps++ {
		it := heap.Pop(h).(*pitem)
		if it.done {
			flow := make([]uint32, len(it.seqs))
			for i, s := range it.seqs {
				if top.fwd {
					flow[i] = s
				} else {
					flow[len(it.seqs)-1-i] = s
				}
			}
			p := Path{Category: string(taxonomy[ci]), Amount: it.prio.Dec(), Counterparty: r.c.Address(it.cp), Labels: []Attr{}}
			for _, a := range r.who(it.cp).attrs {
				if catOf(a.Category) == ci {
					p.Labels = append(p.Labels, toAttr(a))
				}
			}
			out = append(out, p)
			r.pending = append(r.pending, pendingPath{cat: ci, amt: it.prio, seqs: flow, cp: it.cp, fwd: top.fwd})
			continue
		}
		if it.level < 1 {
			continue
		}
		n := r.nodes[nkey{it.cp, asset, uint8(it.level), top.fwd}]
		if n == nil {
			continue
		}
		k := n.before(it.seqs[len(it.seqs)-1])
		if k > n.done {
			continue
		}
		children(n, k, &it.prio, it.seqs)
	}
	return out
}

// resolvePaths fills in the steps of the found paths: addresses, hashes,
// blocks and times, reading all hashes in one call.
func (r *run) resolvePaths(res *Result) error {
	if len(r.pending) == 0 {
		return nil
	}
	// Attach each pending path to its Path in res, in the order found.
	i := 0
	for ai := range res.Assets {
		for _, s := range []*Side{&res.Assets[ai].Source, &res.Assets[ai].Destination} {
			for pi := range s.Paths {
				r.pending[i].out = &s.Paths[pi]
				i++
			}
		}
	}
	var seqs []uint32
	for _, p := range r.pending {
		seqs = append(seqs, p.seqs...)
	}
	hashes, err := r.c.TxHashes(r.ctx, seqs)
	if err != nil {
		return fmt.Errorf("resolve path transactions: %w", err)
	}
	k := 0
	for _, p := range r.pending {
		steps := make([]Step, len(p.seqs))
		for j, s := range p.seqs {
			t := r.c.Transfer(s)
			num, tm, _, _ := r.c.BlockAt(r.c.BlockIndex(s))
			v := r.amount(t, s)
			steps[j] = Step{From: r.c.Address(t.Src), To: r.c.Address(t.Dst), Tx: hashes[k], Block: num,
				Position: uint64(r.c.Position(s)), Time: fmtTime(tm), Value: v.Dec()}
			k++
		}
		p.out.Steps = steps
	}
	return nil
}
