package trace

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
)

// scanThreshold is the number of active holders above which a
// single-chain sweep stops keeping a heap and scans the chain's transfers in
// order instead: O(transfers in range) with a bitmap test each, rather than
// O(events × log holders) with cache misses.
var scanThreshold = 512

// denseLimit is the largest number of addresses for which a scan keeps
// per-address arrays of nodes and holders (16 bytes per address of the
// chain); larger chains use the node map behind the bitmap.
var denseLimit = 1 << 22

// markActive records that an address of the scanned chain has a holder.
func (e *engine) markActive(h *holder) {
	e.bits[h.addr/64] |= 1 << (h.addr % 64)
	if e.active != nil && e.active[h.addr] == nil {
		e.active[h.addr] = h
	}
}

// scanHolder returns a holder of an address whose bit is set.
func (e *engine) scanHolder(c int32, addr uint32) *holder {
	if e.active != nil {
		return e.active[addr]
	}
	return e.nodes[nkey{c, addr}].hs[0]
}

// scan finishes a single-chain sweep by visiting every transfer from the
// current position to the end of the chain (in view order).
func (e *engine) scan() error {
	c := e.heap[0].key.c
	start := e.heap[0].key
	ch := e.chains[c]
	g := ch.g
	e.bits = make([]uint64, (g.NumAddresses()+63)/64)
	if g.NumAddresses() <= denseLimit {
		e.nodeAt = make([]*node, g.NumAddresses())
		e.active = make([]*holder, g.NumAddresses())
		for k, n := range e.nodes {
			if k.c == c {
				e.nodeAt[k.a] = n
			}
		}
	}
	for _, h := range e.hlist {
		if h.c == c {
			e.markActive(h)
		}
	}
	e.heap = nil // from here on holders are found by address
	e.scanning, e.scanChain = true, c
	n := uint32(g.Len())
	seq := start.s
	if e.back {
		seq = ^start.s
	}
	skipOut := start.k == kIn
	// Graphs that expose their columns are scanned without a call per transfer.
	var cols struct {
		src, dst, asset []uint32
		amount          []uint64
	}
	if cg, ok := g.(interface {
		Columns() (src, dst, asset []uint32, amount []uint64)
	}); ok {
		cols.src, cols.dst, cols.asset, cols.amount = cg.Columns()
	}
	for {
		if e.back && seq >= n { // wrapped below 0
			return nil
		}
		if !e.back && seq >= n {
			return nil
		}
		var tr graph.Transfer
		if cols.src != nil {
			a := cols.amount[seq]
			tr = graph.Transfer{Src: cols.src[seq], Dst: cols.dst[seq], Asset: cols.asset[seq], Amount: a, Big: a == ^uint64(0)}
		} else {
			tr = g.Transfer(seq)
		}
		e.touched++
		snd, rcv := tr.Src, tr.Dst
		if e.back {
			snd, rcv = rcv, snd
		}
		var v uint256.Int
		loaded := false
		if e.bits[snd/64]&(1<<(snd%64)) != 0 && !skipOut {
			h := e.scanHolder(c, snd)
			if h.asset != tr.Asset {
				h = h.n.holder(tr.Asset)
			}
			if h != nil && !skipLinked(h, seq) {
				e.cur = evKey{c: c, s: e.vs(seq), k: kOut}
				v, loaded = e.amount(g, seq, tr), true
				if x, ok := e.out(h, seq, &v); ok && !e.dust(h, tr.Asset, &x) {
					if err := e.emit(c, h.n.hop, seq, tr, &x); err != nil {
						return err
					}
				}
			}
		}
		skipOut = false
		if e.bits[rcv/64]&(1<<(rcv%64)) != 0 {
			h := e.scanHolder(c, rcv)
			if h.asset != tr.Asset {
				h = h.n.holder(tr.Asset)
			}
			if h != nil && !skipLinked(h, seq) {
				e.cur = evKey{c: c, s: e.vs(seq), k: kIn}
				if !loaded {
					v = e.amount(g, seq, tr)
				}
				var p *tval
				if len(h.pend) > 0 && h.pend[0].seq == seq {
					p = &h.pend[0].t
					h.pend = h.pend[1:]
				}
				e.in(h, seq, &v, p)
			}
		}
		if e.touched&0xffff == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		if e.touched >= int64(e.req.MaxTouched) {
			return e.truncate(fmt.Sprintf("max touched: read %d transfers, limit %d", e.touched, e.req.MaxTouched))
		}
		if e.back {
			seq--
		} else {
			seq++
		}
	}
}

func (e *engine) amount(g ChainGraph, seq uint32, tr graph.Transfer) uint256.Int {
	if tr.Big {
		return g.Amount(seq)
	}
	var v uint256.Int
	v.SetUint64(tr.Amount)
	return v
}
