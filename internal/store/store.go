package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/redthread/redthread/internal/model"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// NoSync skips fsync on commit. A crash may then lose the last batches,
	// but never tears one: the store stays equal to a prefix of the writes,
	// checkpoints included.
	NoSync bool
	// CacheBytes is the block cache size (default 256 MiB).
	CacheBytes int64
	// ResidentBytes, when positive, lets Open load the reverse address
	// dictionary and the block times into memory in the background (about
	// 25 bytes per address and 4 per block) if they fit in this many
	// bytes, so reads name counterparties and time transfers without
	// reading blocks: for serving processes (see WaitResident).
	ResidentBytes int64
	// AddrCacheEntries bounds the in-memory address→id cache (default 4 Mi).
	AddrCacheEntries int
	// FS replaces the file system (tests use vfs.NewMem()).
	FS vfs.FS
	// ReadOnly opens the store for reading only.
	ReadOnly bool
	// IndexBufferBytes bounds the memory of adjacency entries that large
	// (bulk) writes leave to be indexed together (default 2 GiB, about 18
	// million transfers). Each buffer full is one sorted pass; more passes
	// mean more merging by compactions.
	IndexBufferBytes int
}

// Store is the ledger store. Reads may run concurrently with one writer.
type Store struct {
	db   *pebble.DB
	dir  string
	fs   vfs.FS
	po   *pebble.Options
	log  *slog.Logger
	opts Options

	cache    readCache
	resident residentState
	closed   atomic.Bool

	mu     sync.Mutex // serializes writers
	addrs  dictionary // address ids
	assets dictionary // asset numbers
	// chainCodes numbers the chains for the reverse dictionaries;
	// chainNames is its inverse (code → chain, if assigned).
	chainMu    sync.RWMutex
	chainCodes map[model.Chain]byte
	chainNames [256]struct {
		chain model.Chain
		ok    bool
	}
	hwm map[model.Chain]mark
	// buckets caches the newest adjacency bucket of addresses (key id<<1,
	// |1 for outgoing); bucketsComplete as dictionary.complete.
	buckets         map[uint64]bucketState
	bucketsComplete bool
	// pend holds the adjacency entries of bulk writes not yet indexed;
	// pendFlag is set while it is not empty (docs/store-format.md).
	pend     *pending
	pendFlag atomic.Bool
}

// mark is the largest (block, position) stored for a chain.
type mark struct {
	k  [16]byte
	ok bool
}

// Checkpoint is a named resume point committed with the data it records.
type Checkpoint struct {
	Name  string
	Value []byte
}

// ErrLocked reports a store held open by another process or handle.
var ErrLocked = errors.New("the ledger store is in use by another redthread process (an import, ingest or serve); stop it first or query that process")

// ErrConflict reports a transfer already stored with different content.
var ErrConflict = errors.New("conflicting transfer")

// Open opens or creates the store in dir.
func Open(dir string, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 256 << 20
	}
	if o.IndexBufferBytes == 0 {
		o.IndexBufferBytes = 2 << 30
	}
	if o.AddrCacheEntries == 0 {
		o.AddrCacheEntries = 4 << 20
	}
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:                       cache,
		Merger:                      merger,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		LBaseMaxBytes:               256 << 20,
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
		ReadOnly:                    o.ReadOnly,
		FS:                          o.FS,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{o.Logger},
	}
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionGood })
	po.EnsureDefaults()
	for i := range po.Levels {
		po.Levels[i].BlockSize = 32 << 10
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil && strings.Contains(err.Error(), "merger name") {
		return nil, fmt.Errorf("open ledger store %s: written by an older redthread in another layout; import again into a new data directory (%v)", dir, err)
	}
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock held") {
			return nil, fmt.Errorf("open ledger store %s: %w (%v)", dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("open ledger store %s: %w", dir, err)
	}
	fs := o.FS
	if fs == nil {
		fs = vfs.Default
	}
	s := &Store{db: db, dir: dir, fs: fs, po: po, log: o.Logger, opts: o, buckets: make(map[uint64]bucketState), hwm: make(map[model.Chain]mark)}
	s.addrs = dictionary{fwd: pAddr, rev: pAddrRev, meta: metaNextID}
	s.assets = dictionary{fwd: pAsset, rev: pAssetRev, meta: metaNextAsset}
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger store %s: %w", dir, err)
	}
	if o.ResidentBytes > 0 {
		s.resident.done = make(chan struct{})
		go s.loadResident(o.ResidentBytes)
	}
	return s, nil
}

// load reads the dictionaries' state and the chain codes, checks the
// layout version and indexes what an interrupted bulk write left pending.
func (s *Store) load() error {
	for _, d := range []*dictionary{&s.addrs, &s.assets} {
		if err := d.open(s, s.opts.AddrCacheEntries); err != nil {
			return err
		}
	}
	s.bucketsComplete = s.addrs.complete
	if err := s.loadChains(); err != nil {
		return err
	}
	if err := s.checkFormat(); err != nil {
		return err
	}
	return s.recoverPending()
}

// checkFormat refuses a store of another layout version and stamps a new
// store with this one.
func (s *Store) checkFormat() error {
	v, ok, err := s.get(metaFormat)
	if err != nil {
		return err
	}
	switch {
	case ok && (len(v) != 1 || v[0] != formatVersion):
		return fmt.Errorf("store format %x, this redthread reads format %d; import again into a new data directory", v, formatVersion)
	case ok:
		return nil
	case !s.addrs.complete:
		return fmt.Errorf("store has no format stamp (an older layout); import again into a new data directory")
	case s.opts.ReadOnly:
		return nil
	}
	return s.db.Set(metaFormat, []byte{formatVersion}, pebble.Sync)
}

// Close flushes and closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	ferr := s.flushPending(context.Background())
	if s.resident.done != nil {
		s.resident.stop.Store(true)
		<-s.resident.done
	}
	s.closed.Store(true)
	if err := s.db.Close(); err != nil {
		return err
	}
	return ferr
}

// Flush writes the memtable to disk; used after bulk loads with NoSync.
func (s *Store) Flush() error {
	if err := s.live(); err != nil {
		return err
	}
	if err := s.indexed(context.Background()); err != nil {
		return err
	}
	return s.db.Flush()
}

// Compact compacts the whole store (for size measurements and after bulk loads).
func (s *Store) Compact(ctx context.Context) error {
	if err := s.live(); err != nil {
		return err
	}
	if err := s.indexed(ctx); err != nil {
		return err
	}
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(ctx, []byte{0}, []byte{0xff}, true)
}

// DiskUsage returns the bytes of live sstables.
func (s *Store) DiskUsage() (uint64, error) {
	if err := s.live(); err != nil {
		return 0, err
	}
	return s.db.EstimateDiskUsage([]byte{0}, []byte{0xff})
}

// ErrClosed reports use of a closed store.
var ErrClosed = errors.New("ledger store is closed")

// live reports ErrClosed once Close has begun. Close must not run
// concurrently with other calls; live turns use after Close into an error.
func (s *Store) live() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (s *Store) get(k []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// Checkpoint returns the value of a named checkpoint.
func (s *Store) Checkpoint(name string) ([]byte, bool, error) {
	if err := s.live(); err != nil {
		return nil, false, err
	}
	return s.get(append([]byte{pCheckpt}, name...))
}

// sink receives a write's keys: a Pebble batch, or a collector that turns
// large writes into an ingested sstable.
type sink interface {
	Set(key, value []byte, _ *pebble.WriteOptions) error
	Merge(key, value []byte, _ *pebble.WriteOptions) error
}

// writer accumulates one atomic batch.
type writer struct {
	s         *Store
	b         sink
	newIDs    dictionary // numbers assigned by this write, remembered after commit
	newAssets dictionary
	newChains map[model.Chain]byte
	// dictionary numbers before this write
	startID, startAsset uint64
	slowKeys            map[string]struct{}        // keys at or below the high-water mark written in this batch
	fastKeys            map[model.Chain][][16]byte // keys above it written in this batch, increasing
	added               map[model.Chain]int64
	stored              map[blockRef]map[model.Position]storedRow // blocks at or below the mark, as read
	seg                 segBuilder
	slow                bool                 // some transfer was at or below the high-water mark
	deferred            bool                 // adjacency and counters left to the pending index
	before              map[model.Chain]mark // high-water marks before this write
	adj, tmp            []adjEntry
	amts                []byte // encoded amounts of this write's transfers
	buckets             map[uint64]bucketState
	kbuf                []byte
	vbuf                []byte
	abuf                []byte
}

// storedRow is a transfer already in the store, for replay checks.
type storedRow struct {
	row  segRow
	hash string
}

// Write stores blocks and, if cp is not nil, the checkpoint, in one atomic
// batch. A transfer whose (chain, block, position) is already stored with the
// same content is skipped, so replays change nothing; one stored with other
// content is an error (roll the range back first). Each block must satisfy
// model.Block.Validate.
func (s *Store) Write(ctx context.Context, blocks []model.Block, cp *Checkpoint) error {
	for i := range blocks {
		if err := blocks[i].Validate(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("write: %w", ErrClosed)
	}
	n := 0
	for i := range blocks {
		n += len(blocks[i].Transfers)
	}
	w := &writer{
		s:         s,
		newIDs:    newFresh(),
		newAssets: newFresh(),
		added:     make(map[model.Chain]int64),
		buckets:   make(map[uint64]bucketState),
		adj:       make([]adjEntry, 0, 2*n),
	}
	var batch *pebble.Batch
	var coll *collector
	if n >= bulkThreshold {
		coll = &collector{}
		w.b = coll
	} else {
		batch = s.db.NewBatch()
		defer batch.Close()
		w.b = batch
	}
	w.startID, w.startAsset = s.addrs.next, s.assets.next
	hwm := maps.Clone(s.hwm)
	undo := func() { s.addrs.next, s.assets.next, s.hwm = w.startID, w.startAsset, hwm }
	err := w.writeBlocks(blocks)
	if err == nil && s.pend != nil && (coll == nil || w.slow) {
		// Only fresh bulk writes join the deferred index; anything else
		// is indexed at once, after what is pending.
		err = s.flushPending(ctx)
	}
	if err == nil {
		w.deferred = coll != nil && !w.slow && !s.opts.ReadOnly
		err = w.finish(cp)
	}
	if err != nil {
		undo()
		return err
	}
	if coll != nil {
		err = s.ingest(ctx, coll)
	} else {
		opt := pebble.Sync
		if s.opts.NoSync {
			opt = pebble.NoSync
		}
		err = batch.Commit(opt)
	}
	if err != nil {
		undo()
		return fmt.Errorf("write: commit: %w", err)
	}
	if len(w.newChains) > 0 {
		s.chainMu.Lock()
		for c, code := range w.newChains {
			s.setChainCode(c, code)
		}
		s.chainMu.Unlock()
	}
	for k, b := range w.buckets {
		s.cacheBucket(k, b)
	}
	if w.deferred {
		s.deferIndex(w)
	}
	if s.addrs.size+w.newIDs.size >= s.addrs.max || s.assets.size+w.newAssets.size >= s.assets.max {
		// The caches are about to be cleared: deferred forward keys must
		// be in the store first, or lookups would miss them.
		if err := s.flushPending(ctx); err != nil {
			return err
		}
	}
	s.addrs.adopt(&w.newIDs)
	s.assets.adopt(&w.newAssets)
	if s.pend != nil && (s.pend.bytes() > s.opts.IndexBufferBytes || len(s.pend.arenas) >= 1<<16-1) {
		return s.flushPending(ctx)
	}
	return nil
}

func (s *Store) cacheBucket(k uint64, b bucketState) {
	if _, ok := s.buckets[k]; !ok && len(s.buckets) >= 2*s.opts.AddrCacheEntries {
		clear(s.buckets)
		s.bucketsComplete = false
	}
	s.buckets[k] = b
}

func (w *writer) writeBlocks(blocks []model.Block) error {
	for i := range blocks {
		b := &blocks[i]
		if err := w.writeBlock(b); err != nil {
			return fmt.Errorf("write block %d: %w", b.Number, err)
		}
	}
	return nil
}

func (w *writer) writeBlock(b *model.Block) error {
	if len(b.Transfers) == 0 && b.Hash == "" && len(b.Conversions) == 0 {
		return nil
	}
	hwm, err := w.s.highWater(b.Chain)
	if err != nil {
		return err
	}
	if _, ok := w.before[b.Chain]; !ok {
		if w.before == nil {
			w.before = make(map[model.Chain]mark)
		}
		w.before[b.Chain] = hwm
	}
	bk := blockKey(w.kbuf[:0], b.Chain, b.Number)
	w.kbuf = bk
	keep := false
	if b.Hash == "" && (hwm.ok && binary.BigEndian.Uint64(hwm.k[:8]) >= b.Number) {
		_, keep, err = w.s.get(bk) // an import must not erase a header an ingest stored
		if err != nil {
			return err
		}
	}
	if !keep {
		w.vbuf = binary.AppendVarint(w.vbuf[:0], b.Time)
		w.vbuf = binary.AppendUvarint(w.vbuf, uint64(len(b.Hash)))
		w.vbuf = append(w.vbuf, b.Hash...)
		w.vbuf = binary.AppendUvarint(w.vbuf, uint64(len(b.ParentHash)))
		w.vbuf = append(w.vbuf, b.ParentHash...)
		if err := w.b.Set(bk, w.vbuf, nil); err != nil {
			return err
		}
	}
	w.seg.reset()
	for j := range b.Transfers {
		t := &b.Transfers[j]
		if t.Kind == 0 || t.Kind > kindMask {
			return fmt.Errorf("transfer %d: kind %d out of range", t.Position, t.Kind)
		}
		var cur [16]byte
		binary.BigEndian.PutUint64(cur[:8], t.Block)
		binary.BigEndian.PutUint64(cur[8:], uint64(t.Position))
		fresh := !hwm.ok || bytes.Compare(cur[:], hwm.k[:]) > 0
		from, err := w.id(t.Chain, t.From)
		if err != nil {
			return fmt.Errorf("transfer %d from: %w", t.Position, err)
		}
		to, err := w.id(t.Chain, t.To)
		if err != nil {
			return fmt.Errorf("transfer %d to: %w", t.Position, err)
		}
		asset, err := w.asset(t.Chain, t.Asset)
		if err != nil {
			return fmt.Errorf("transfer %d asset: %w", t.Position, err)
		}
		if fresh {
			hwm = mark{k: cur, ok: true}
			w.s.hwm[t.Chain] = hwm
			if w.fastKeys == nil {
				w.fastKeys = make(map[model.Chain][][16]byte)
			}
			w.fastKeys[t.Chain] = append(w.fastKeys[t.Chain], cur)
		} else {
			w.slow = true
			dup, err := w.replayed(t, cur, from, to, asset)
			if err != nil {
				return err
			}
			if dup {
				continue
			}
		}
		off := len(w.amts)
		w.amts = appendAmountDec(w.amts, &t.Amount)
		amount := w.amts[off:]
		if w.seg.n == segmentRows {
			if err := w.flushSegment(b.Chain, b.Number); err != nil {
				return err
			}
		}
		w.seg.add(t, from, to, asset, amount)
		e := adjEntry{key: from<<1 | 1, block: t.Block, pos: t.Position, cp: to, asset: asset, kind: t.Kind}
		e.setAmount(amount, off)
		w.adj = append(w.adj, e)
		e.key, e.cp = to<<1, from
		w.adj = append(w.adj, e)
		w.added[t.Chain]++
	}
	if err := w.flushSegment(b.Chain, b.Number); err != nil {
		return err
	}
	for i := range b.Conversions {
		c := &b.Conversions[i]
		l := c.In
		if !l.Known() {
			l = c.Out
		}
		w.vbuf = appendConversion(w.vbuf[:0], c)
		if err := w.b.Set(conversionKey(w.kbuf[:0], l), w.vbuf, nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) flushSegment(chain model.Chain, block uint64) error {
	if w.seg.n == 0 {
		return nil
	}
	if len(w.amts) >= 1<<32-64 || len(w.adj) >= 1<<31 {
		return fmt.Errorf("write: too much data for one write")
	}
	w.vbuf = w.seg.value(w.vbuf[:0])
	w.kbuf = transferKey(w.kbuf[:0], chain, block, w.seg.first)
	w.seg.reset()
	return w.b.Set(w.kbuf, w.vbuf, nil)
}

// replayed reports whether a transfer at or below the high-water mark is
// already stored, in the store or earlier in this batch. Other content in
// the store is ErrConflict.
func (w *writer) replayed(t *model.Transfer, cur [16]byte, from, to, asset uint64) (bool, error) {
	fk := w.fastKeys[t.Chain]
	i := sort.Search(len(fk), func(i int) bool { return bytes.Compare(fk[i][:], cur[:]) >= 0 })
	if i < len(fk) && fk[i] == cur {
		return true, nil // written earlier in this batch; same content is not checked here
	}
	tk := string(transferKey(w.kbuf[:0], t.Chain, t.Block, t.Position))
	if _, ok := w.slowKeys[tk]; ok {
		return true, nil
	}
	ref := blockRef{t.Chain, t.Block}
	rows, ok := w.stored[ref]
	if !ok {
		var err error
		if rows, err = w.s.blockRows(t.Chain, t.Block); err != nil {
			return false, err
		}
		if w.stored == nil {
			w.stored = make(map[blockRef]map[model.Position]storedRow)
		}
		w.stored[ref] = rows
	}
	if r, ok := rows[t.Position]; ok {
		if sameRow(&r.row, r.hash, t, from, to, asset) {
			return true, nil
		}
		return false, fmt.Errorf("transfer at position %d: %w: already stored with other content; roll the block range back first", t.Position, ErrConflict)
	}
	if w.slowKeys == nil {
		w.slowKeys = make(map[string]struct{})
	}
	w.slowKeys[tk] = struct{}{}
	return false, nil
}

// blockRows reads every stored transfer of a block.
func (s *Store) blockRows(chain model.Chain, block uint64) (map[model.Position]storedRow, error) {
	rows := map[model.Position]storedRow{}
	err := s.blockSegments(chain, block, func(d *segDecoder) error {
		r := d.row
		r.hash = nil
		rows[r.pos] = storedRow{row: r, hash: d.hash()}
		return nil
	})
	return rows, err
}

func (w *writer) finish(cp *Checkpoint) error {
	if !w.deferred {
		if err := writeForward(w.b, &w.s.addrs, &w.newIDs); err != nil {
			return err
		}
		if err := writeForward(w.b, &w.s.assets, &w.newAssets); err != nil {
			return err
		}
		x := indexer{s: w.s, b: w.b, arenas: [][]byte{w.amts}, buckets: w.buckets}
		radixSortByKey(w.adj, nil)
		if err := x.write([][]adjEntry{w.adj}); err != nil {
			return err
		}
	}
	for chain, n := range w.added {
		var c counters
		c[0].SetInt64(n)
		w.b.Merge(chainPrefix(w.kbuf[:0], pChainStat, chain), c.encode(w.vbuf[:0]), nil)
	}
	for _, d := range []*dictionary{&w.s.addrs, &w.s.assets} {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], d.next)
		w.b.Set(d.meta, v[:], nil)
	}
	if cp != nil {
		w.b.Set(append([]byte{pCheckpt}, cp.Name...), cp.Value, nil)
	}
	if w.deferred {
		if marks, changed := w.s.pendingMarks(w.before); changed {
			w.b.Set(metaPending, encodeMarks(w.s.pendingDict(w.startID, w.startAsset), marks), nil)
		}
	}
	return nil
}

// id returns the id of an address, assigning one if it is new.
func (w *writer) id(chain model.Chain, addr string) (uint64, error) {
	w.abuf = addrBytes(chainPrefix(w.abuf[:0], pAddr, chain), chain, addr)
	return w.lookup(&w.s.addrs, &w.newIDs, chain, w.abuf)
}

// asset returns the number of a token, assigning one if it is new; the
// native coin is 0.
func (w *writer) asset(chain model.Chain, token string) (uint64, error) {
	if token == model.NativeAsset {
		return 0, nil
	}
	w.abuf = addrBytes(chainPrefix(w.abuf[:0], pAsset, chain), chain, token)
	return w.lookup(&w.s.assets, &w.newAssets, chain, w.abuf)
}

// highWater returns the largest (block, position) stored for a chain.
func (s *Store) highWater(chain model.Chain) (mark, error) {
	if h, ok := s.hwm[chain]; ok {
		return h, nil
	}
	var h mark
	p := chainPrefix(nil, pTransfer, chain)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return h, err
	}
	defer it.Close()
	if it.Last() {
		copy(h.k[:], it.Key()[len(p):])
		h.ok = true
	}
	s.hwm[chain] = h
	return h, it.Error()
}

// pebbleLogger sends Pebble's messages to slog: chatter at debug level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("pebble: fatal: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

// UsageByKind returns the bytes of live sstables per kind of record
// (transfers, adjacency-in, adjacency-out, counters, dictionary, blocks,
// conversions, other), estimated by Pebble.
func (s *Store) UsageByKind() (map[string]uint64, error) {
	if err := s.live(); err != nil {
		return nil, err
	}
	names := map[byte]string{pAddr: "dictionary", pAddrRev: "dictionary", pAsset: "dictionary", pAssetRev: "dictionary", pBlock: "blocks", pCounter: "counters",
		pIn: "adjacency-in", pOut: "adjacency-out", pTransfer: "transfers", pConversion: "conversions"}
	out := map[string]uint64{}
	for p := 0; p < 256; p++ {
		du, err := s.db.EstimateDiskUsage([]byte{byte(p)}, []byte{byte(p), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if err != nil {
			return nil, err
		}
		if du == 0 {
			continue
		}
		n, ok := names[byte(p)]
		if !ok {
			n = "other"
		}
		out[n] += du
	}
	return out, nil
}
