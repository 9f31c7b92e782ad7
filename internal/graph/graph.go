package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

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
	// TailLimit is the number of appended transfers kept in the delta
	// before a merge into a new CSR base starts in the background (default
	// 1<<16; at least 1/32 of the base, up to 1<<21).
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

// Index is the graph index of all chains.
//
// Writers (Append, Load, Truncate, Compact and the background merges) are
// serialized among themselves; readers never wait for them and writers never
// wait for readers. Each write publishes a new snapshot: per chain an
// immutable view (*Chain) of an immutable CSR base plus an append-only delta
// of the transfers added since the base was built. A Reader sees the snapshot
// current when it was taken until it is closed.
type Index struct {
	opts Options

	wmu    sync.Mutex
	chains map[model.Chain]*writer // under wmu

	cur    atomic.Pointer[snapshot]
	merges sync.WaitGroup

	// Readers (and running merges) are counted by the parity of the epoch
	// they entered in. A truncation publishes, then starts a new epoch;
	// the transfers it cut may be overwritten in place by the next append
	// once the readers of the old epoch are gone (they may hold the old
	// snapshot); if they do not leave soon, the columns are copied instead.
	epoch   atomic.Uint64
	readers [2]atomic.Int64
	guard   struct { // under wmu
		on     bool
		parity uint64
		chains map[*writer]bool
	}
}

// guardWait is how long an append after a truncation waits for the readers
// of older snapshots before copying the columns instead.
const guardWait = 50 * time.Millisecond

// enter counts a reader in the current epoch and returns its parity; the
// caller loads the snapshot after this.
func (ix *Index) enter() uint64 {
	p := ix.epoch.Load() & 1
	ix.readers[p].Add(1)
	return p
}

func (ix *Index) exit(p uint64) { ix.readers[p].Add(-1) }

// resolveGuard makes the columns safe to append to after a truncation:
// it waits (briefly) for the readers that may hold snapshots with the cut
// transfers, else detaches the columns so the append copies them.
func (ix *Index) resolveGuard() {
	if !ix.guard.on {
		return
	}
	deadline := time.Now().Add(guardWait)
	for ix.readers[ix.guard.parity].Load() != 0 {
		if time.Now().After(deadline) {
			for w := range ix.guard.chains {
				w.cols.detach()
			}
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	ix.guard.on = false
	clear(ix.guard.chains)
}

// snapshot is what a Reader sees: one immutable view per chain.
type snapshot struct {
	chains map[model.Chain]*Chain
}

// New returns an empty index.
func New(o Options) *Index {
	if o.TailLimit <= 0 {
		o.TailLimit = 1 << 16
	}
	ix := &Index{opts: o, chains: make(map[model.Chain]*writer)}
	ix.cur.Store(&snapshot{chains: map[model.Chain]*Chain{}})
	return ix
}

// Errors.
var (
	ErrOutOfOrder = errors.New("transfer out of chain order")
	ErrFull       = errors.New("graph index full: 2^32-1 transfers or addresses on one chain")
)

// Append adds blocks to the index and publishes them to new Readers. Per
// chain, blocks must come in chain order; transfers at or before the last
// indexed (block, position) of their chain are skipped, so replays are
// harmless. Each transfer costs O(1): it goes to the chain's delta, which a
// background merge folds into a new CSR base when it grows past the tail
// limit. On error nothing of the call is added to the offending chain.
func (ix *Index) Append(blocks []model.Block) error {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.resolveGuard()
	touched := map[*writer]bool{}
	marks := map[*writer]mark{}
	for i := range blocks {
		b := &blocks[i]
		w := ix.writerLocked(b.Chain)
		if !touched[w] {
			touched[w] = true
			marks[w] = w.mark()
		}
		if err := w.addBlock(b); err != nil {
			w.undo(marks[w])
			delete(touched, w)
			ix.settleAll(touched)
			return fmt.Errorf("append block %d of %s: %w", b.Number, b.Chain, err)
		}
	}
	ix.settleAll(touched)
	return nil
}

// settleAll indexes the new transfers of the touched chains and publishes.
func (ix *Index) settleAll(touched map[*writer]bool) {
	for w := range touched {
		ix.settle(w, false)
	}
	if len(touched) > 0 {
		ix.publishLocked()
	}
}

// settle links a chain's pending transfers into its delta, or, when
// loading (or the delta has no base yet to merge into cheaply), folds them
// into a new base at once; a large delta starts a background merge.
func (ix *Index) settle(w *writer, load bool) {
	n := w.cols.n()
	if n == w.linked || ix.opts.Bulk {
		return
	}
	if load && n-w.base.n >= w.limit() {
		w.foldSync()
		return
	}
	w.link(n)
	if n-w.base.n >= w.limit() && !w.merging {
		ix.startMerge(w)
	}
}

// Compact folds every chain's delta (and, with Bulk, its pending
// transfers) into its CSR base, waiting for running merges first.
func (ix *Index) Compact() {
	ix.merges.Wait()
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	for _, w := range ix.chains {
		if w.cols.n() > w.base.n {
			w.foldSync()
		}
	}
	ix.publishLocked()
}

// Wait waits for the background merges started so far.
func (ix *Index) Wait() { ix.merges.Wait() }

// Truncate drops a chain's transfers from block fromBlock on (after a
// ledger rollback); address and asset ids stay assigned (published views may
// hold them). A cut inside the
// delta rebuilds only the delta; a deeper one rebuilds the base.
func (ix *Index) Truncate(chain model.Chain, fromBlock uint64) {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	w := ix.chains[chain]
	if w == nil {
		return
	}
	bi := sort.Search(len(w.cols.blocks), func(i int) bool { return w.cols.blocks[i].Number >= fromBlock })
	if bi == len(w.cols.blocks) {
		return
	}
	n := w.cols.blocks[bi].first
	ix.resolveGuard() // one pending truncation at a time
	w.gen++           // a merge in flight is discarded
	w.truncates++
	w.cols.cut(n, bi)
	if n < w.base.n {
		w.base = emptyCSR
		w.delta = nil
		w.linked = 0
		w.foldSync()
	} else {
		w.delta = nil
		w.linked = w.base.n
		if !ix.opts.Bulk {
			w.link(n)
		}
	}
	ix.publishLocked()
	// Readers that took the old snapshot may still read the cut transfers:
	// the next append waits for them or copies the columns. A reader counts
	// itself before loading the snapshot, so one counted in the new epoch
	// loads the snapshot just published.
	old := ix.epoch.Add(1) - 1
	ix.guard.on, ix.guard.parity = true, old&1
	if ix.guard.chains == nil {
		ix.guard.chains = map[*writer]bool{}
	}
	ix.guard.chains[w] = true
}

// Load indexes every stored transfer of chain after those already indexed.
func (ix *Index) Load(ctx context.Context, s TransferScanner, chain model.Chain) error {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.resolveGuard()
	w := ix.writerLocked(chain)
	from := uint64(0)
	if n := len(w.cols.blocks); n > 0 {
		from = w.cols.blocks[n-1].Number
	}
	m := w.mark()
	err := s.ScanTransfers(ctx, chain, from, math.MaxUint64, func(t *model.Transfer) error {
		return w.add(t)
	})
	if err != nil {
		w.undo(m)
		ix.publishLocked()
		return fmt.Errorf("load graph of %s: %w", chain, err)
	}
	ix.settle(w, true)
	if ix.opts.Bulk && w.cols.n() > w.base.n {
		w.foldSync()
	}
	ix.publishLocked()
	return nil
}

func (ix *Index) writerLocked(chain model.Chain) *writer {
	w := ix.chains[chain]
	if w == nil {
		w = newWriter(chain, &ix.opts)
		ix.chains[chain] = w
	}
	return w
}

// publishLocked makes the writers' current state the snapshot new Readers
// see.
func (ix *Index) publishLocked() {
	s := &snapshot{chains: make(map[model.Chain]*Chain, len(ix.chains))}
	for name, w := range ix.chains {
		s.chains[name] = w.view()
	}
	ix.cur.Store(s)
}

// startMerge builds a new CSR base over the chain's published transfers in
// a goroutine and installs it (re-linking the transfers appended meanwhile
// into a fresh delta) unless the chain was truncated in between.
func (ix *Index) startMerge(w *writer) {
	w.merging = true
	gen := w.gen
	p := ix.enter() // the merge reads columns like a Reader does
	v := w.view()
	ix.merges.Add(1)
	go func() {
		defer ix.merges.Done()
		t0 := time.Now()
		nb := foldCSR(v.base, v.src, v.dst, v.addrs.n)
		took := time.Since(t0)
		ix.exit(p)
		ix.wmu.Lock()
		defer ix.wmu.Unlock()
		w.merging = false
		if w.gen != gen {
			return
		}
		w.installBase(nb)
		w.merges++
		w.lastMerge = took
		if w.cols.n() > w.linked && !ix.opts.Bulk {
			w.link(w.cols.n())
		}
		ix.publishLocked()
		if w.linked-w.base.n >= w.limit() {
			ix.startMerge(w)
		}
	}()
}

// Reader is a read view of the index: a consistent snapshot of every chain,
// unaffected by later appends, merges and truncations.
type Reader struct {
	ix     *Index
	s      *snapshot
	parity uint64
	closed bool
}

// Reader returns a read view. Close it when done: after a truncation, the
// next append waits up to 50 ms for views older than the truncation to
// close, then copies the index's columns instead of reusing them.
func (ix *Index) Reader() *Reader {
	p := ix.enter() // before the load: see Truncate
	return &Reader{ix: ix, s: ix.cur.Load(), parity: p}
}

// Close releases the view.
func (r *Reader) Close() {
	if !r.closed {
		r.closed = true
		r.ix.exit(r.parity)
	}
}

// Chain returns the graph of one chain.
func (r *Reader) Chain(chain model.Chain) (*Chain, bool) {
	c, ok := r.s.chains[chain]
	return c, ok
}

// Chains lists the indexed chains in name order.
func (r *Reader) Chains() []model.Chain {
	out := make([]model.Chain, 0, len(r.s.chains))
	for c := range r.s.chains {
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
	// Delta is the number of transfers in the append-only delta (not yet in
	// the CSR base).
	Delta int
	// LastBlock is the newest indexed block (0 when none).
	LastBlock uint64
	// Merges counts the background merges of the delta into a new base;
	// LastMerge is how long the newest one took.
	Merges    uint64
	LastMerge time.Duration
	Truncates uint64
}

// Stats reports sizes per chain.
func (r *Reader) Stats() []Stats {
	var out []Stats
	for _, ch := range r.Chains() {
		out = append(out, r.s.chains[ch].Stats())
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

// columns are a chain's transfers in chain order. The writer only appends
// to them (a view holds a prefix), except after a truncation, when detach
// makes the next append copy them if views may still read the cut part.
type columns struct {
	src, dst, asset []uint32
	amount          []uint64 // 2^64-1: the amount is in big
	pos             []uint64
	blocks          []block
	bigSeq          []uint32 // seqs with amounts of 2^64-1 or more, ascending
	bigVal          []uint256.Int
	txOf            []uint32 // KeepTxHashes: transaction number of each transfer
	txs             []string
}

func (c *columns) n() uint32 { return uint32(len(c.src)) }

// cut keeps transfers [0, n) and blocks [0, nb).
func (c *columns) cut(n uint32, nb int) {
	c.src, c.dst, c.asset, c.amount, c.pos = c.src[:n], c.dst[:n], c.asset[:n], c.amount[:n], c.pos[:n]
	c.blocks = c.blocks[:nb]
	k := sort.Search(len(c.bigSeq), func(i int) bool { return c.bigSeq[i] >= n })
	c.bigSeq, c.bigVal = c.bigSeq[:k], c.bigVal[:k]
	if c.txOf != nil {
		c.txOf = c.txOf[:n]
		if n > 0 {
			c.txs = c.txs[:c.txOf[n-1]+1]
		} else {
			c.txs = c.txs[:0]
		}
	}
}

// detach caps every column at its length, so the next append copies it
// instead of writing where an older view may read.
func (c *columns) detach() {
	c.src, c.dst, c.asset = c.src[:len(c.src):len(c.src)], c.dst[:len(c.dst):len(c.dst)], c.asset[:len(c.asset):len(c.asset)]
	c.amount, c.pos = c.amount[:len(c.amount):len(c.amount)], c.pos[:len(c.pos):len(c.pos)]
	c.blocks = c.blocks[:len(c.blocks):len(c.blocks)]
	c.bigSeq, c.bigVal = c.bigSeq[:len(c.bigSeq):len(c.bigSeq)], c.bigVal[:len(c.bigVal):len(c.bigVal)]
	c.txOf, c.txs = c.txOf[:len(c.txOf):len(c.txOf)], c.txs[:len(c.txs):len(c.txs)]
}

// trim reallocates columns whose spare capacity exceeds 1/16 of their
// length (views keep the old arrays).
func (c *columns) trim() {
	c.src, c.dst, c.asset, c.txOf, c.bigSeq = trim(c.src), trim(c.dst), trim(c.asset), trim(c.txOf), trim(c.bigSeq)
	c.amount, c.pos, c.bigVal = trim(c.amount), trim(c.pos), trim(c.bigVal)
}

// writer is the mutable state of one chain, owned by the index's writer
// lock.
type writer struct {
	chain  model.Chain
	opts   *Options
	codec  addrCodec
	addrs  *dict
	assets *dict
	cols   columns

	base   *csr   // immutable CSR over transfers [0, base.n)
	delta  *delta // adjacency of transfers [base.n, linked); nil when empty
	linked uint32 // transfers visible to readers

	merging   bool
	gen       uint64 // bumped by truncations; a merge started in another generation is dropped
	merges    uint64
	truncates uint64
	lastMerge time.Duration

	kbuf []byte
}

func newWriter(chain model.Chain, o *Options) *writer {
	codec := codecFor(chain)
	wd := 0
	if codec.evm {
		wd = 20
	}
	w := &writer{chain: chain, opts: o, codec: codec, addrs: newDict(wd), assets: newDict(0), base: emptyCSR}
	w.assets.add([]byte(model.NativeAsset))
	if o.KeepTxHashes {
		w.cols.txOf = []uint32{}
	}
	return w
}

// limit is the delta size that starts a merge.
func (w *writer) limit() uint32 {
	return uint32(max(w.opts.TailLimit, min(int(w.base.n)/32, 1<<21)))
}

// mark records the columns' lengths, to undo a failed append.
type mark struct {
	n             uint32
	nb            int
	naddr, nasset uint32
}

func (w *writer) mark() mark {
	return mark{w.cols.n(), len(w.cols.blocks), w.addrs.n, w.assets.n}
}

// undo drops transfers, addresses and assets added after m; they were never
// published, so no view can read them.
func (w *writer) undo(m mark) {
	w.cols.cut(m.n, m.nb)
	w.addrs.truncate(m.naddr)
	w.assets.truncate(m.nasset)
}

// link indexes transfers [linked, n) in the delta.
func (w *writer) link(n uint32) {
	if n == w.linked {
		return
	}
	if w.delta == nil {
		w.delta = newDelta(w.base.n)
	}
	for s := w.linked; s < n; s++ {
		w.delta.add(s, w.cols.src[s], w.cols.dst[s])
	}
	w.linked = n
}

// foldSync builds a new base over every transfer at once.
func (w *writer) foldSync() {
	w.gen++ // a merge in flight would install an older base
	t0 := time.Now()
	n := w.cols.n()
	nb := foldCSR(w.base, w.cols.src[:n], w.cols.dst[:n], w.addrs.n)
	w.cols.trim()
	w.installBase(nb)
	w.lastMerge = time.Since(t0)
	w.linked = n
}

// installBase makes nb the base and re-links the transfers after it into a
// new delta (views of the old base keep the old delta).
func (w *writer) installBase(nb *csr) {
	w.base = nb
	w.delta = nil
	linked := w.linked
	w.linked = nb.n
	if linked > nb.n {
		w.link(linked)
	}
}

// view returns an immutable view of the published state.
func (w *writer) view() *Chain {
	n := w.linked
	nb := sort.Search(len(w.cols.blocks), func(i int) bool { return w.cols.blocks[i].first >= n })
	v := &Chain{chain: w.chain, opts: w.opts, codec: w.codec, addrs: *w.addrs, assets: *w.assets, n: n,
		base: w.base, delta: w.delta, merges: w.merges, lastMerge: w.lastMerge, truncates: w.truncates}
	c := &w.cols
	v.columns = *c
	v.columns.cut(n, nb)
	v.columns.detach()
	v.colBytes = int64(cap(c.src)+cap(c.dst)+cap(c.asset)+cap(c.txOf)+cap(c.bigSeq))*4 + int64(cap(c.amount)+cap(c.pos))*8 +
		int64(cap(c.blocks))*24 + int64(cap(c.bigVal))*32
	if v.delta != nil && n == v.base.n {
		v.delta = nil
	}
	return v
}

func (w *writer) addBlock(b *model.Block) error {
	for i := range b.Transfers {
		if err := w.add(&b.Transfers[i]); err != nil {
			return err
		}
	}
	return nil
}

// add appends one transfer to the columns (not yet to the adjacency).
func (w *writer) add(t *model.Transfer) error {
	c := &w.cols
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
	if s, err = w.addAddr(t.From); err != nil {
		return fmt.Errorf("transfer %d/%d from: %w", t.Block, t.Position, err)
	}
	if d, err = w.addAddr(t.To); err != nil {
		return fmt.Errorf("transfer %d/%d to: %w", t.Block, t.Position, err)
	}
	a, _ = w.assets.add([]byte(t.Asset))
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
		c.bigSeq = append(c.bigSeq, uint32(n))
		c.bigVal = append(c.bigVal, t.Amount)
	}
	if c.txOf != nil {
		if len(c.txs) == 0 || c.txs[len(c.txs)-1] != t.TxHash {
			c.txs = append(c.txs, t.TxHash)
		}
		c.txOf = append(c.txOf, uint32(len(c.txs)-1))
	}
	return nil
}

func (w *writer) addAddr(a string) (uint32, error) {
	k, ok := w.codec.encode(w.kbuf[:0], a)
	if !ok {
		return 0, fmt.Errorf("%w: %q", model.ErrInvalidAddress, a)
	}
	w.kbuf = k
	if w.addrs.n >= math.MaxUint32-1 {
		return 0, ErrFull
	}
	id, _ := w.addrs.add(k)
	return id, nil
}
