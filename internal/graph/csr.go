package graph

import (
	"context"
	"fmt"
	"sort"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// rebuild makes CSR arrays over all transfers (a counting sort by address,
// stable, so each list stays in chain order) and empties the tail.
func (c *Chain) rebuild() {
	n := uint32(len(c.src))
	na := c.addrs.n
	c.outOff = countOffsets(c.outOff, c.src, na)
	c.inOff = countOffsets(c.inOff, c.dst, na)
	c.outAdj = fill(c.outAdj, c.outOff, c.src)
	c.inAdj = fill(c.inAdj, c.inOff, c.dst)
	c.src, c.dst, c.asset, c.txOf = trim(c.src), trim(c.dst), trim(c.asset), trim(c.txOf)
	c.amount, c.pos = trim(c.amount), trim(c.pos)
	c.nBase = n
	c.tailOut, c.tailIn, c.tailLen = nil, nil, 0
}

func countOffsets(off []uint32, ends []uint32, na uint32) []uint32 {
	if cap(off) >= int(na)+1 {
		off = off[:na+1]
		clear(off)
	} else {
		off = make([]uint32, na+1)
	}
	for _, a := range ends {
		off[a+1]++
	}
	for i := uint32(1); i <= na; i++ {
		off[i] += off[i-1]
	}
	return off
}

func fill(adj []uint32, off []uint32, ends []uint32) []uint32 {
	if cap(adj) >= len(ends) {
		adj = adj[:len(ends)]
	} else {
		adj = make([]uint32, len(ends), len(ends)+len(ends)/16)
	}
	next := make([]uint32, len(off)-1)
	copy(next, off)
	for i, a := range ends {
		adj[next[a]] = uint32(i)
		next[a]++
	}
	return adj
}

// Lookup returns the local id of a canonical address.
func (c *Chain) Lookup(addr string) (uint32, bool) {
	k, ok := c.codec.encode(nil, addr)
	if !ok {
		return 0, false
	}
	return c.addrs.find(k)
}

// Address returns the canonical text of a local address id.
func (c *Chain) Address(id uint32) string { return c.codec.decode(c.addrs.key(id)) }

// AssetID returns the local id of an asset (NativeAsset or a canonical
// token contract).
func (c *Chain) AssetID(asset string) (uint32, bool) { return c.assets.find([]byte(asset)) }

// Asset returns the asset text of a local asset id.
func (c *Chain) Asset(id uint32) string { return string(c.assets.key(id)) }

// Out returns the seqs of the address's outgoing transfers in chain order.
// The result may alias the index (do not modify it); buf is used when the
// address has tail transfers.
func (c *Chain) Out(id uint32, buf []uint32) []uint32 {
	return c.edges(id, c.outOff, c.outAdj, c.tailOut, buf)
}

// In returns the seqs of the address's incoming transfers in chain order.
func (c *Chain) In(id uint32, buf []uint32) []uint32 {
	return c.edges(id, c.inOff, c.inAdj, c.tailIn, buf)
}

func (c *Chain) edges(id uint32, off, adj []uint32, tail map[uint32][]uint32, buf []uint32) []uint32 {
	var base []uint32
	if int(id)+1 < len(off) {
		base = adj[off[id]:off[id+1]]
	}
	t := tail[id]
	if len(t) == 0 {
		return base
	}
	if len(base) == 0 {
		return t
	}
	return append(append(buf[:0], base...), t...)
}

// Degree returns the number of transfers in and out of an address.
func (c *Chain) Degree(id uint32) uint64 {
	var d uint64
	if int(id)+1 < len(c.outOff) {
		d += uint64(c.outOff[id+1]-c.outOff[id]) + uint64(c.inOff[id+1]-c.inOff[id])
	}
	return d + uint64(len(c.tailOut[id])+len(c.tailIn[id]))
}

// Transfer returns transfer seq in compact form.
func (c *Chain) Transfer(seq uint32) Transfer {
	a := c.amount[seq]
	return Transfer{Src: c.src[seq], Dst: c.dst[seq], Asset: c.asset[seq], Amount: a, Big: a == ^uint64(0)}
}

// Columns exposes the transfer columns for sequential scans (read only):
// sender, receiver, asset and amount of every seq (amount 2^64-1 means Big).
func (c *Chain) Columns() (src, dst, asset []uint32, amount []uint64) {
	return c.src, c.dst, c.asset, c.amount
}

// Amount returns the exact amount of transfer seq.
func (c *Chain) Amount(seq uint32) uint256.Int {
	a := c.amount[seq]
	if a != ^uint64(0) {
		return *uint256.NewInt(a)
	}
	return *c.big[seq]
}

// Position returns the in-block position of transfer seq.
func (c *Chain) Position(seq uint32) model.Position { return model.Position(c.pos[seq]) }

// NumBlocks returns the number of blocks with transfers.
func (c *Chain) NumBlocks() int { return len(c.blocks) }

// BlockAt returns the number and time of block index bi and the first seq
// of the next block (the end of its transfers).
func (c *Chain) BlockAt(bi int) (number uint64, time int64, first, end uint32) {
	b := &c.blocks[bi]
	end = uint32(len(c.src))
	if bi+1 < len(c.blocks) {
		end = c.blocks[bi+1].first
	}
	return b.Number, b.Time, b.first, end
}

// BlockIndex returns the index of the block holding transfer seq.
func (c *Chain) BlockIndex(seq uint32) int {
	return sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].first > seq }) - 1
}

// Locate returns the seq of the transfer at (block, position).
func (c *Chain) Locate(blockNum uint64, p model.Position) (uint32, bool) {
	bi := sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].Number >= blockNum })
	if bi == len(c.blocks) || c.blocks[bi].Number != blockNum {
		return 0, false
	}
	_, _, first, end := c.BlockAt(bi)
	j := sort.Search(int(end-first), func(i int) bool { return c.pos[first+uint32(i)] >= uint64(p) })
	if j == int(end-first) || c.pos[first+uint32(j)] != uint64(p) {
		return 0, false
	}
	return first + uint32(j), true
}

// blockIdx returns the index of a block number known to be indexed.
func (c *Chain) blockIdx(num uint64) int {
	return sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].Number >= num })
}

// BlockRange returns the seqs [first, end) of a block's transfers.
func (c *Chain) BlockRange(blockNum uint64) (first, end uint32, ok bool) {
	bi := sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].Number >= blockNum })
	if bi == len(c.blocks) || c.blocks[bi].Number != blockNum {
		return 0, 0, false
	}
	_, _, first, end = c.BlockAt(bi)
	return first, end, true
}

// FirstAtOrAfter returns the first seq whose block time is ≥ t.
func (c *Chain) FirstAtOrAfter(t int64) uint32 {
	bi := sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].Time >= t })
	if bi == len(c.blocks) {
		return uint32(len(c.src))
	}
	return c.blocks[bi].first
}

// TxHashes returns the transaction hash of each seq, from memory or, grouped
// by block, from the Hashes source.
func (c *Chain) TxHashes(ctx context.Context, seqs []uint32) ([]string, error) {
	out := make([]string, len(seqs))
	if c.opts.KeepTxHashes {
		for i, s := range seqs {
			out[i] = c.txs[c.txOf[s]]
		}
		return out, nil
	}
	if c.opts.Hashes == nil {
		return nil, fmt.Errorf("transaction hashes of %s: not kept in memory and no ledger store to read them from", c.chain)
	}
	if ph, ok := c.opts.Hashes.(PointHashes); ok {
		for i, s := range seqs {
			num, _, _, _ := c.BlockAt(c.BlockIndex(s))
			h, found, err := ph.TxHash(ctx, c.chain, num, model.Position(c.pos[s]))
			if err != nil {
				return nil, fmt.Errorf("read transaction hash of %s block %d: %w", c.chain, num, err)
			}
			if !found {
				return nil, fmt.Errorf("read transaction hash of %s block %d position %d: not in the ledger store (rolled back?)", c.chain, num, c.pos[s])
			}
			out[i] = h
		}
		return out, nil
	}
	// Scan runs of wanted blocks: wanted blocks at most one block apart are
	// read in one ScanTransfers when the transfers between them are few (each
	// scan has a fixed cost, an iterator; each block a header read).
	const mergeGap = 2048
	type want struct {
		key uint64 // block number
		pos uint64
		i   int
	}
	ws := make([]want, len(seqs))
	for i, s := range seqs {
		num, _, _, _ := c.BlockAt(c.BlockIndex(s))
		ws[i] = want{num, c.pos[s], i}
	}
	sort.Slice(ws, func(a, b int) bool {
		if ws[a].key != ws[b].key {
			return ws[a].key < ws[b].key
		}
		return ws[a].pos < ws[b].pos
	})
	for lo := 0; lo < len(ws); {
		hi := lo + 1
		for hi < len(ws) {
			if ws[hi].key != ws[hi-1].key {
				b1 := c.blockIdx(ws[hi-1].key)
				b2 := c.blockIdx(ws[hi].key)
				_, _, f1, _ := c.BlockAt(b1)
				_, _, _, e2 := c.BlockAt(b2)
				if b2-b1 > 2 || e2-f1 > mergeGap {
					break
				}
			}
			hi++
		}
		type bp struct{ block, pos uint64 }
		byPos := make(map[bp][]int, hi-lo)
		for _, w := range ws[lo:hi] {
			byPos[bp{w.key, w.pos}] = append(byPos[bp{w.key, w.pos}], w.i)
		}
		found := 0
		from, to := ws[lo].key, ws[hi-1].key
		err := c.opts.Hashes.ScanTransfers(ctx, c.chain, from, to, func(t *model.Transfer) error {
			for _, i := range byPos[bp{t.Block, uint64(t.Position)}] {
				out[i] = t.TxHash
				found++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read transaction hashes of blocks %d–%d: %w", from, to, err)
		}
		if found < hi-lo {
			return nil, fmt.Errorf("read transaction hashes of blocks %d–%d: %d transfers missing from the ledger store (rolled back?)", from, to, hi-lo-found)
		}
		lo = hi
	}
	return out, nil
}

// Stats reports the chain's sizes.
func (c *Chain) Stats() Stats {
	b := int64(cap(c.src)+cap(c.dst)+cap(c.asset)+cap(c.txOf))*4 + int64(cap(c.amount)+cap(c.pos))*8 +
		int64(cap(c.blocks))*24 + int64(cap(c.outOff)+cap(c.inOff)+cap(c.outAdj)+cap(c.inAdj))*4 +
		c.addrs.bytes() + c.assets.bytes() + int64(len(c.big))*(32+8+16)
	for _, t := range c.txs {
		b += int64(len(t)) + 16
	}
	for _, m := range []map[uint32][]uint32{c.tailOut, c.tailIn} {
		for _, l := range m {
			b += int64(cap(l))*4 + 40
		}
	}
	return Stats{Chain: c.chain, Transfers: len(c.src), Addresses: int(c.addrs.n), Assets: int(c.assets.n), Blocks: len(c.blocks), Bytes: b}
}

// trim reallocates a column whose spare capacity exceeds 1/16 of its length.
func trim[T any](s []T) []T {
	if cap(s)-len(s) <= len(s)/16 {
		return s
	}
	out := make([]T, len(s), len(s)+len(s)/16)
	copy(out, s)
	return out
}
