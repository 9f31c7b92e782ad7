package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Options configure an Index. The zero value is usable.
type Options struct {
	// KeepTxHashes keeps every transaction hash in memory (about 4 bytes per
	// transfer and the hash text per transaction). Without it, hashes are
	// fetched from the Hashes source on demand.
	KeepTxHashes bool
	// Hashes resolves transaction hashes when they are not kept in memory;
	// the ledger store satisfies it.
	Hashes TransferScanner
	// TailLimit is the number of appended transfers kept outside the CSR
	// arrays before they are folded in (default 1<<16, and at least a
	// quarter of the chain's transfers).
	TailLimit int
	// Bulk defers all adjacency work to Compact: appended transfers are not
	// visible to readers until Compact runs (for one-shot builds).
	Bulk bool
}

// TransferScanner reads transfers of a block range in chain order; the
// ledger store's ScanTransfers has this signature.
type TransferScanner interface {
	ScanTransfers(ctx context.Context, chain model.Chain, fromBlock, toBlock uint64, fn func(*model.Transfer) error) error
}

// PointHashes is an optional interface of a Hashes source: the hash of one
// transfer by (block, position), cheaper than scanning its block.
type PointHashes interface {
	TxHash(ctx context.Context, chain model.Chain, block uint64, pos model.Position) (string, bool, error)
}

// Index is the graph index of all chains. Append and Load take the write
// lock; readers work through a Reader.
type Index struct {
	mu     sync.RWMutex
	opts   Options
	chains map[model.Chain]*Chain
}

// New returns an empty index.
func New(o Options) *Index {
	if o.TailLimit <= 0 {
		o.TailLimit = 1 << 16
	}
	return &Index{opts: o, chains: make(map[model.Chain]*Chain)}
}

// Errors.
var (
	ErrOutOfOrder = errors.New("transfer out of chain order")
	ErrFull       = errors.New("graph index full: 2^32-1 transfers or addresses on one chain")
)

// Append adds blocks to the index. Per chain, blocks must come in chain
// order; transfers at or before the last indexed (block, position) of their
// chain are skipped, so replays are harmless. On error nothing of the
// offending chain's remaining blocks is added.
func (ix *Index) Append(blocks []model.Block) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	touched := map[*Chain]bool{}
	for i := range blocks {
		b := &blocks[i]
		c := ix.chainLocked(b.Chain)
		touched[c] = true
		if err := c.addBlock(b); err != nil {
			return fmt.Errorf("append block %d of %s: %w", b.Number, b.Chain, err)
		}
	}
	for c := range touched {
		c.settle()
	}
	return nil
}

// Compact folds every chain's tail into its CSR arrays (after bulk appends
// with a large TailLimit).
func (ix *Index) Compact() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, c := range ix.chains {
		if len(c.src) > int(c.nBase) {
			c.rebuild()
		}
	}
}

// Truncate drops a chain's transfers from block fromBlock on (after a
// ledger rollback); address and asset ids stay assigned.
func (ix *Index) Truncate(chain model.Chain, fromBlock uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	c := ix.chains[chain]
	if c == nil {
		return
	}
	bi := sort.Search(len(c.blocks), func(i int) bool { return c.blocks[i].Number >= fromBlock })
	if bi == len(c.blocks) {
		return
	}
	n := c.blocks[bi].first
	c.blocks = c.blocks[:bi]
	c.src, c.dst, c.asset, c.amount, c.pos = c.src[:n], c.dst[:n], c.asset[:n], c.amount[:n], c.pos[:n]
	for k := range c.big {
		if k >= n {
			delete(c.big, k)
		}
	}
	if c.opts.KeepTxHashes {
		c.txOf = c.txOf[:n]
		if n > 0 {
			c.txs = c.txs[:c.txOf[n-1]+1]
		} else {
			c.txs = c.txs[:0]
		}
	}
	c.rebuild()
}

// Load indexes every stored transfer of chain after those already indexed.
func (ix *Index) Load(ctx context.Context, s TransferScanner, chain model.Chain) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	c := ix.chainLocked(chain)
	from := uint64(0)
	if n := len(c.blocks); n > 0 {
		from = c.blocks[n-1].Number
	}
	err := s.ScanTransfers(ctx, chain, from, math.MaxUint64, func(t *model.Transfer) error {
		return c.add(t)
	})
	if c.opts.Bulk && len(c.src) > int(c.nBase) {
		c.rebuild()
	} else {
		c.settle()
	}
	if err != nil {
		return fmt.Errorf("load graph of %s: %w", chain, err)
	}
	return nil
}

func (ix *Index) chainLocked(chain model.Chain) *Chain {
	c := ix.chains[chain]
	if c == nil {
		c = newChain(chain, &ix.opts)
		ix.chains[chain] = c
	}
	return c
}

// Reader is a read view of the index; it holds off Append until Close.
type Reader struct {
	ix     *Index
	closed bool
}

// Reader returns a read view. Close it promptly: writers wait for it.
func (ix *Index) Reader() *Reader {
	ix.mu.RLock()
	return &Reader{ix: ix}
}

// Close releases the view.
func (r *Reader) Close() {
	if !r.closed {
		r.closed = true
		r.ix.mu.RUnlock()
	}
}

// Chain returns the graph of one chain.
func (r *Reader) Chain(chain model.Chain) (*Chain, bool) {
	c, ok := r.ix.chains[chain]
	return c, ok
}

// Chains lists the indexed chains in name order.
func (r *Reader) Chains() []model.Chain {
	out := make([]model.Chain, 0, len(r.ix.chains))
	for c := range r.ix.chains {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Stats describe the size of a chain's graph.
type Stats struct {
	Chain     model.Chain
	Transfers int
	Addresses int
	Assets    int
	Blocks    int
	Bytes     int64 // heap bytes of the index arrays and dictionaries
}

// Stats reports sizes per chain.
func (r *Reader) Stats() []Stats {
	var out []Stats
	for _, ch := range r.Chains() {
		out = append(out, r.ix.chains[ch].Stats())
	}
	return out
}

// Transfer is one indexed transfer in compact form. Src and Dst are local
// address ids; Asset is a local asset id (0 is the native coin).
type Transfer struct {
	Src, Dst uint32
	Asset    uint32
	Amount   uint64 // exact unless Big
	Big      bool   // the amount is 2^64-1 or more: read it with BigAmount
}

// block is one block of the index: its transfers are [first, next block's first).
type block struct {
	Number uint64
	Time   int64
	first  uint32
}

// Chain is the graph of one chain. Its transfers are numbered in chain order
// by a sequence number (seq) from 0.
type Chain struct {
	chain  model.Chain
	opts   *Options
	codec  addrCodec
	addrs  *dict
	assets *dict

	src, dst, asset []uint32
	amount          []uint64
	big             map[uint32]*uint256.Int
	pos             []uint64
	blocks          []block
	txOf            []uint32 // KeepTxHashes: transaction number of each transfer
	txs             []string

	// CSR over transfers [0, nBase).
	nBase         uint32
	outOff, inOff []uint32 // len = addresses at build time + 1
	outAdj, inAdj []uint32
	// Tail: transfers [nBase, n) per address.
	tailOut, tailIn map[uint32][]uint32
	tailLen         int

	kbuf []byte
}

func newChain(chain model.Chain, o *Options) *Chain {
	codec := codecFor(chain)
	w := 0
	if codec.evm {
		w = 20
	}
	c := &Chain{chain: chain, opts: o, codec: codec, addrs: newDict(w), assets: newDict(0)}
	c.assets.add([]byte(model.NativeAsset))
	return c
}

// Name returns the chain id.
func (c *Chain) Name() model.Chain { return c.chain }

// Len returns the number of transfers.
func (c *Chain) Len() int { return len(c.src) }

// NumAddresses returns the number of addresses.
func (c *Chain) NumAddresses() int { return int(c.addrs.n) }

func (c *Chain) addBlock(b *model.Block) error {
	for i := range b.Transfers {
		if err := c.add(&b.Transfers[i]); err != nil {
			return err
		}
	}
	return nil
}

// add appends one transfer to the columns (not yet to the adjacency).
func (c *Chain) add(t *model.Transfer) error {
	n := len(c.src)
	if nb := len(c.blocks); nb > 0 {
		last := &c.blocks[nb-1]
		if t.Block < last.Number {
			return nil // replay of an earlier block
		}
		if t.Block == last.Number && int(last.first) < n && model.Position(c.pos[n-1]) >= t.Position {
			return nil // replay inside the last block
		}
	}
	if n >= math.MaxUint32-1 {
		return ErrFull
	}
	var err error
	var s, d, a uint32
	if s, err = c.addAddr(t.From); err != nil {
		return fmt.Errorf("transfer %d/%d from: %w", t.Block, t.Position, err)
	}
	if d, err = c.addAddr(t.To); err != nil {
		return fmt.Errorf("transfer %d/%d to: %w", t.Block, t.Position, err)
	}
	a, _ = c.assets.add([]byte(t.Asset))
	if nb := len(c.blocks); nb == 0 || c.blocks[nb-1].Number != t.Block {
		c.blocks = append(c.blocks, block{Number: t.Block, Time: t.Time, first: uint32(n)})
	}
	c.src = append(c.src, s)
	c.dst = append(c.dst, d)
	c.asset = append(c.asset, a)
	c.pos = append(c.pos, uint64(t.Position))
	if t.Amount.IsUint64() && t.Amount.Uint64() != math.MaxUint64 {
		c.amount = append(c.amount, t.Amount.Uint64())
	} else {
		c.amount = append(c.amount, math.MaxUint64)
		if c.big == nil {
			c.big = make(map[uint32]*uint256.Int)
		}
		c.big[uint32(n)] = new(uint256.Int).Set(&t.Amount)
	}
	if c.opts.KeepTxHashes {
		if len(c.txs) == 0 || c.txs[len(c.txs)-1] != t.TxHash {
			c.txs = append(c.txs, t.TxHash)
		}
		c.txOf = append(c.txOf, uint32(len(c.txs)-1))
	}
	return nil
}

func (c *Chain) addAddr(a string) (uint32, error) {
	k, ok := c.codec.encode(c.kbuf[:0], a)
	if !ok {
		return 0, fmt.Errorf("%w: %q", model.ErrInvalidAddress, a)
	}
	c.kbuf = k
	if c.addrs.n >= math.MaxUint32-1 {
		return 0, ErrFull
	}
	id, _ := c.addrs.add(k)
	return id, nil
}

// settle folds the tail into the CSR arrays when it is large, else indexes
// the new tail transfers.
func (c *Chain) settle() {
	n := uint32(len(c.src))
	tail := int(n - c.nBase)
	if tail == 0 {
		return
	}
	if c.opts.Bulk {
		return
	}
	if tail >= max(c.opts.TailLimit, int(c.nBase)/4) {
		c.rebuild()
		return
	}
	if c.tailOut == nil {
		c.tailOut = make(map[uint32][]uint32)
		c.tailIn = make(map[uint32][]uint32)
	}
	// Index transfers not yet in the tail maps: those after the last one there.
	start := c.nBase + uint32(c.tailLen)
	for i := start; i < n; i++ {
		c.tailOut[c.src[i]] = append(c.tailOut[c.src[i]], i)
		c.tailIn[c.dst[i]] = append(c.tailIn[c.dst[i]], i)
	}
	c.tailLen = int(n - c.nBase)
}
