package graph

import (
	"context"
	"fmt"
	"sort"
	"time"
	"unsafe"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// csr is an immutable CSR adjacency over transfers [0, n) of addresses
// [0, na): the seqs of address a's outgoing transfers are
// outAdj[outOff[a]:outOff[a+1]], in chain order; likewise incoming.
type csr struct {
	n, na         uint32
	outOff, inOff []uint32
	outAdj, inAdj []uint32
}

var emptyCSR = &csr{outOff: []uint32{0}, inOff: []uint32{0}}

// foldCSR returns a new CSR over transfers [0, len(src)) and addresses
// [0, na) from old (over a prefix of them) and the transfers after it:
// each address's old list is copied and its new transfers follow, so lists
// stay in chain order. old is not modified.
func foldCSR(old *csr, src, dst []uint32, na uint32) *csr {
	c := &csr{n: uint32(len(src)), na: na}
	c.outOff, c.outAdj = foldDir(old.n, old.na, old.outOff, old.outAdj, src, na)
	c.inOff, c.inAdj = foldDir(old.n, old.na, old.inOff, old.inAdj, dst, na)
	return c
}

func foldDir(oldN, oldNA uint32, oldOff, oldAdj, ends []uint32, na uint32) (off, adj []uint32) {
	off = make([]uint32, na+1)
	if oldNA > 0 {
		copy(off[1:oldNA+1], oldOff[1:oldNA+1])
		for a := oldNA; a > 0; a-- { // degrees from cumulative offsets
			off[a] -= off[a-1]
		}
	}
	for _, a := range ends[oldN:] {
		off[a+1]++
	}
	for i := uint32(1); i <= na; i++ {
		off[i] += off[i-1]
	}
	adj = make([]uint32, len(ends))
	next := make([]uint32, na)
	if oldN == 0 {
		copy(next, off[:na])
	} else {
		for a := uint32(0); a < na; a++ {
			o := off[a]
			if a < oldNA {
				l := oldOff[a+1] - oldOff[a]
				copy(adj[o:o+l], oldAdj[oldOff[a]:oldOff[a+1]])
				o += l
			}
			next[a] = o
		}
	}
	for i, a := range ends[oldN:] {
		adj[next[a]] = oldN + uint32(i)
		next[a]++
	}
	return off, adj
}

// Chain is an immutable view of the graph of one chain: its transfers,
// numbered in chain order by a sequence number (seq) from 0, with their
// adjacency (a CSR base plus the delta appended since it was built).
type Chain struct {
	chain  model.Chain
	opts   *Options
	codec  addrCodec
	addrs  dict // copies: see dict
	assets dict

	n       uint32 // transfers in the view: len(src)
	columns        // a capped prefix of the writer's

	base  *csr
	delta *delta // nil when the view has no delta transfers

	merges, truncates uint64
	lastMerge         time.Duration
	colBytes          int64 // heap bytes of the columns (their capacity, shared with newer views)
}

// Name returns the chain id.
func (c *Chain) Name() model.Chain { return c.chain }

// Len returns the number of transfers.
func (c *Chain) Len() int { return int(c.n) }

// NumAddresses returns the number of addresses.
func (c *Chain) NumAddresses() int { return int(c.addrs.n) }

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
// address has transfers in the delta.
func (c *Chain) Out(id uint32, buf []uint32) []uint32 {
	return c.edges(id, c.base.outOff, c.base.outAdj, 0, buf)
}

// In returns the seqs of the address's incoming transfers in chain order.
func (c *Chain) In(id uint32, buf []uint32) []uint32 {
	return c.edges(id, c.base.inOff, c.base.inAdj, 1, buf)
}

// edges returns an address's list in the base's off/adj arrays of
// direction dir (0 out, 1 in), followed by its delta transfers.
func (c *Chain) edges(id uint32, off, adj []uint32, dir int, buf []uint32) []uint32 {
	var l []uint32
	if id < c.base.na {
		l = adj[off[id]:off[id+1]]
	}
	if c.delta == nil {
		return l
	}
	return c.withDelta(l, id, dir, buf)
}

func (c *Chain) withDelta(base []uint32, id uint32, dir int, buf []uint32) []uint32 {
	e := c.delta.edges(id, dir, c.n)
	if len(e) == 0 {
		return base
	}
	if aliases(buf, c.base.outAdj) || aliases(buf, c.base.inAdj) {
		// buf is an earlier result that aliased the index: writing to it
		// would corrupt the base (callers commonly pass results back).
		buf = nil
	}
	return append(append(buf[:0], base...), e...)
}

// aliases reports whether buf's backing array lies inside adj's.
func aliases(buf, adj []uint32) bool {
	if cap(buf) == 0 || cap(adj) == 0 {
		return false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	a := uintptr(unsafe.Pointer(unsafe.SliceData(adj)))
	return b >= a && b < a+uintptr(cap(adj))*4
}

// Degree returns the number of transfers in and out of an address.
func (c *Chain) Degree(id uint32) uint64 {
	var d uint64
	if b := c.base; id < b.na {
		d += uint64(b.outOff[id+1]-b.outOff[id]) + uint64(b.inOff[id+1]-b.inOff[id])
	}
	if c.delta != nil {
		d += uint64(len(c.delta.edges(id, 0, c.n))) + uint64(len(c.delta.edges(id, 1, c.n)))
	}
	return d
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
	i := sort.Search(len(c.bigSeq), func(i int) bool { return c.bigSeq[i] >= seq })
	return c.bigVal[i]
}

// Position returns the in-block position of transfer seq.
func (c *Chain) Position(seq uint32) model.Position { return model.Position(c.pos[seq]) }

// NumBlocks returns the number of blocks with transfers.
func (c *Chain) NumBlocks() int { return len(c.blocks) }

// BlockAt returns the number and time of block index bi and the first seq
// of the next block (the end of its transfers).
func (c *Chain) BlockAt(bi int) (number uint64, time int64, first, end uint32) {
	b := &c.blocks[bi]
	end = c.n
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
		return c.n
	}
	return c.blocks[bi].first
}

// TxHashes returns the transaction hash of each seq, from memory or, grouped
// by block, from the Hashes source.
func (c *Chain) TxHashes(ctx context.Context, seqs []uint32) ([]string, error) {
	out := make([]string, len(seqs))
	if c.txOf != nil {
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
	b := c.colBytes + int64(cap(c.base.outOff)+cap(c.base.inOff)+cap(c.base.outAdj)+cap(c.base.inAdj))*4 +
		c.addrs.bytes() + c.assets.bytes()
	for _, t := range c.txs {
		b += int64(len(t)) + 16
	}
	st := Stats{Chain: c.chain, Transfers: int(c.n), Addresses: int(c.addrs.n), Assets: int(c.assets.n), Blocks: len(c.blocks),
		Merges: c.merges, LastMerge: c.lastMerge, Truncates: c.truncates}
	if c.delta != nil {
		b += c.delta.bytes()
		st.Delta = int(c.n - c.base.n)
	}
	if len(c.blocks) > 0 {
		st.LastBlock = c.blocks[len(c.blocks)-1].Number
	}
	st.Bytes = b
	return st
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
