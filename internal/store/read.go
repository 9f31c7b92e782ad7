package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Head returns the highest block with a stored transfer or header.
func (s *Store) Head(chain model.Chain) (uint64, bool, error) {
	if err := s.live(); err != nil {
		return 0, false, err
	}
	p := chainPrefix(nil, pBlock, chain)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, false, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[len(p):]), true, nil
}

// BlockInfo is what the store keeps of a block header.
type BlockInfo struct {
	Number     uint64
	Time       int64
	Hash       string // empty when the block came from an export file
	ParentHash string
}

// Block returns the stored header facts of a block.
func (s *Store) Block(chain model.Chain, n uint64) (BlockInfo, bool, error) {
	if err := s.live(); err != nil {
		return BlockInfo{}, false, err
	}
	v, ok, err := s.get(blockKey(nil, chain, n))
	if err != nil || !ok {
		return BlockInfo{}, ok, err
	}
	bi, err := decodeBlockValue(n, v)
	return bi, err == nil, err
}

// BlockHash returns the stored hash of a block, for reorg detection.
func (s *Store) BlockHash(chain model.Chain, n uint64) (string, bool, error) {
	bi, ok, err := s.Block(chain, n)
	return bi.Hash, ok && bi.Hash != "", err
}

func decodeBlockValue(n uint64, v []byte) (BlockInfo, error) {
	bi := BlockInfo{Number: n}
	t, k := binary.Varint(v)
	if k <= 0 {
		return bi, errCorrupt
	}
	bi.Time = t
	v = v[k:]
	for _, dst := range []*string{&bi.Hash, &bi.ParentHash} {
		l, rest, err := readUvarint(v)
		if err != nil || uint64(len(rest)) < l {
			return bi, errCorrupt
		}
		*dst = string(rest[:l])
		v = rest[l:]
	}
	return bi, nil
}

// Address returns the canonical text of an address id.
func (s *Store) Address(id uint64) (model.Chain, string, error) {
	if err := s.live(); err != nil {
		return "", "", err
	}
	return s.reverse(&s.addrs, id)
}

// ID returns the id of a canonical address, if it is known.
func (s *Store) ID(chain model.Chain, addr string) (uint64, bool, error) {
	if err := s.live(); err != nil {
		return 0, false, err
	}
	if err := s.indexed(context.Background()); err != nil {
		return 0, false, err
	}
	k := addrBytes(chainPrefix(nil, pAddr, chain), chain, addr)
	v, ok, err := s.get(k)
	if err != nil || !ok {
		return 0, false, err
	}
	id, _, err := readUvarint(v)
	return id, err == nil, err
}

// ScanTransfers calls fn for every transfer of a chain with fromBlock ≤ block
// ≤ toBlock, in chain order. The transfer passed to fn is reused.
func (s *Store) ScanTransfers(ctx context.Context, chain model.Chain, fromBlock, toBlock uint64, fn func(*model.Transfer) error) error {
	if err := s.live(); err != nil {
		return err
	}
	var t model.Transfer
	return s.scanRows(chain, fromBlock, toBlock, func(block uint64, r *segRow, hash func() string) error {
		if block != t.Block || t.Chain == "" {
			if err := ctx.Err(); err != nil {
				return err
			}
			tm, err := s.blockTime(chain, block)
			if err != nil {
				return err
			}
			t.Time = tm
		}
		t.Chain, t.Block, t.Position, t.Kind, t.Amount = chain, block, r.pos, r.kind, r.amount
		t.TxHash = hash()
		var err error
		if t.From, err = s.name(r.from); err != nil {
			return err
		}
		if t.To, err = s.name(r.to); err != nil {
			return err
		}
		if t.Asset, err = s.assetName(r.asset); err != nil {
			return err
		}
		return fn(&t)
	})
}

// scanRows calls fn for every stored row of a chain's blocks in range, in
// chain order, merging a block's segments by position.
func (s *Store) scanRows(chain model.Chain, fromBlock, toBlock uint64, fn func(block uint64, r *segRow, hash func() string) error) error {
	it, err := s.segments(chain, fromBlock, toBlock)
	if err != nil {
		return err
	}
	defer it.Close()
	var d segDecoder
	hash := func() string { return d.hash() }
	type held struct {
		row  segRow
		hash string
	}
	var multi []held
	var vbuf []byte
	for ok := it.First(); ok; {
		_, block, first, err := decodeTransferKey(it.Key())
		if err != nil {
			return err
		}
		// The value is valid only until the iterator moves: keep a copy
		// while peeking at the next key.
		vbuf = append(vbuf[:0], it.Value()...)
		v := vbuf
		ok = it.Next()
		nextSame := false
		if ok {
			_, b2, _, err := decodeTransferKey(it.Key())
			if err != nil {
				return err
			}
			nextSame = b2 == block
		}
		var emit func() error
		if !nextSame && multi == nil {
			emit = func() error { return fn(block, &d.row, hash) }
		} else {
			// Several segments of one block: hold their rows, then emit in order.
			emit = func() error {
				r := d.row
				r.hash = nil
				multi = append(multi, held{r, d.hash()})
				return nil
			}
		}
		if err := d.each(first, v, emit); err != nil {
			if errors.Is(err, errCorrupt) {
				return fmt.Errorf("transfers %s/%d: %w", chain, block, err)
			}
			return err
		}
		if multi == nil || nextSame {
			continue
		}
		sort.Slice(multi, func(i, j int) bool { return multi[i].row.pos < multi[j].row.pos })
		for i := range multi {
			h := multi[i].hash
			if err := fn(block, &multi[i].row, func() string { return h }); err != nil {
				return err
			}
		}
		multi = nil
	}
	return it.Error()
}

// Digest is a SHA-256 over the store's logical contents, equal for stores
// holding the same data however they were written: transfers and adjacency
// entries are hashed one by one in chain order (not as the segments and
// buckets that hold them), every other key with its merged value.
func (s *Store) Digest() ([32]byte, error) {
	if err := s.live(); err != nil {
		return [32]byte{}, err
	}
	if err := s.indexed(context.Background()); err != nil {
		return [32]byte{}, err
	}
	var out [32]byte
	it, err := s.db.NewIter(nil)
	if err != nil {
		return out, err
	}
	defer func() { it.Close() }()
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var buf []byte
	var es []rawEdge
	for ok := it.First(); ok; {
		k := it.Key()
		switch {
		case k[0] == pTransfer:
			chain, block, _, err := decodeTransferKey(k)
			if err != nil {
				return out, err
			}
			if err := it.Close(); err != nil {
				return out, err
			}
			if err := s.scanRows(chain, block, ^uint64(0), func(block uint64, r *segRow, hash func() string) error {
				buf = binary.BigEndian.AppendUint64(chainPrefix(buf[:0], pTransfer, chain), block)
				buf = binary.BigEndian.AppendUint64(buf, uint64(r.pos))
				put(buf)
				buf = append(buf[:0], byte(r.kind))
				buf = binary.AppendUvarint(buf, uint64(len(hash())))
				buf = append(buf, hash()...)
				buf = binary.AppendUvarint(buf, r.from)
				buf = binary.AppendUvarint(buf, r.to)
				buf = binary.AppendUvarint(buf, r.asset)
				put(appendAmountDec(buf, &r.amount))
				return nil
			}); err != nil {
				return out, err
			}
			if it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: prefixEnd(chainPrefix(nil, pTransfer, chain))}); err != nil {
				return out, err
			}
			ok = it.First()
			continue
		case (k[0] == pIn || k[0] == pOut) && len(k) == 17:
			v, err := it.ValueAndErr()
			if err != nil {
				return out, err
			}
			if es, err = decodeEntries(es[:0], v, binary.BigEndian.Uint64(k[9:]), In); err != nil {
				return out, fmt.Errorf("adjacency %x: %w", k, err)
			}
			for i := range es {
				e := &es[i]
				buf = append(buf[:0], k[:9]...)
				buf = binary.BigEndian.AppendUint64(buf, e.block)
				buf = binary.BigEndian.AppendUint64(buf, uint64(e.pos))
				put(buf)
				buf = binary.AppendUvarint(buf[:0], e.cp)
				buf = binary.AppendUvarint(buf, e.asset)
				buf = append(buf, byte(e.kind))
				put(appendAmountDec(buf, &e.amount))
			}
		default:
			v, err := it.ValueAndErr()
			if err != nil {
				return out, err
			}
			put(k)
			put(v)
		}
		ok = it.Next()
	}
	if err := it.Error(); err != nil {
		return out, err
	}
	copy(out[:], h.Sum(nil))
	return out, nil
}

// ChainStats returns the number of transfers stored for a chain.
func (s *Store) ChainStats(chain model.Chain) (uint64, error) {
	if err := s.live(); err != nil {
		return 0, err
	}
	v, ok, err := s.get(chainPrefix(nil, pChainStat, chain))
	if err != nil || !ok {
		return 0, err
	}
	var c counters
	if err := c.decode(v); err != nil {
		return 0, err
	}
	return c[0].Uint64(), nil
}

// Direction selects incoming, outgoing or both kinds of adjacency.
type Direction uint8

// Directions.
const (
	Both Direction = iota
	In
	Out
)

// Edge is one transfer seen from one address.
type Edge struct {
	Block        uint64
	Time         int64
	Position     model.Position
	Dir          Direction // In or Out, relative to the address
	Counterparty string
	Asset        string
	Kind         model.Kind
	Amount       uint256.Int
}

// Page is one page of an address's transfers in chain order.
type Page struct {
	Edges []Edge
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// rawEdge is an adjacency entry before ids are resolved.
type rawEdge struct {
	block     uint64
	pos       model.Position
	dir       Direction
	cp, asset uint64
	kind      model.Kind
	amount    uint256.Int
}

// adjCursor walks one direction of an address's adjacency, bucket by
// bucket, forwards or backwards.
type adjCursor struct {
	it          *pebble.Iterator
	dir         Direction
	ents        []rawEdge
	i           int
	newestFirst bool
	ok          bool
}

// load decodes the bucket under the iterator, or clears ok at the end.
func (c *adjCursor) load(valid bool) error {
	c.ok = false
	for valid {
		k := c.it.Key()
		if len(k) != 17 {
			return errCorrupt
		}
		v, err := c.it.ValueAndErr()
		if err != nil {
			return err
		}
		if c.ents, err = decodeEntries(c.ents[:0], v, binary.BigEndian.Uint64(k[9:]), c.dir); err != nil {
			return err
		}
		if len(c.ents) > 0 {
			c.ok = true
			c.i = 0
			if c.newestFirst {
				c.i = len(c.ents) - 1
			}
			return nil
		}
		if c.newestFirst {
			valid = c.it.Prev()
		} else {
			valid = c.it.Next()
		}
	}
	return c.it.Error()
}

func (c *adjCursor) cur() *rawEdge { return &c.ents[c.i] }

func (c *adjCursor) advance() error {
	if c.newestFirst {
		c.i--
		if c.i >= 0 {
			return nil
		}
		return c.load(c.it.Prev())
	}
	c.i++
	if c.i < len(c.ents) {
		return nil
	}
	return c.load(c.it.Next())
}

// entsPool recycles the decoded buckets of adjacency cursors.
var entsPool = sync.Pool{New: func() any {
	s := make([]rawEdge, 0, bucketCap)
	return &s
}}

// edgeCmp orders edges by (block, position).
func edgeCmp(a, b *rawEdge) int { return cmpAt(a.block, a.pos, b.block, b.pos) }

// cmpAt orders transfers by block, then position.
func cmpAt(ab uint64, ap model.Position, bb uint64, bp model.Position) int {
	if c := cmp.Compare(ab, bb); c != 0 {
		return c
	}
	return cmp.Compare(ap, bp)
}

// edges calls fn for up to limit adjacency entries of address id after the
// cursor position (nil: the start), merging directions in (reverse) chain
// order; at one position incoming comes before outgoing in chain order. It
// reports whether more entries follow.
func (s *Store) edges(id uint64, dir Direction, after []byte, limit int, newestFirst bool, fn func(*rawEdge) error) (bool, error) {
	var at rawEdge
	var atDir Direction
	if after != nil {
		at.block, at.pos, atDir = binary.BigEndian.Uint64(after), model.Position(binary.BigEndian.Uint64(after[8:])), Direction(after[16])
	}
	// passed reports whether e is at or before the cursor in reading order.
	passed := func(e *rawEdge) bool {
		c := edgeCmp(e, &at)
		if newestFirst {
			return c > 0 || c == 0 && e.dir >= atDir
		}
		return c < 0 || c == 0 && e.dir <= atDir
	}
	var srcs []*adjCursor
	for _, d := range []Direction{In, Out} {
		if dir != Both && dir != d {
			continue
		}
		p := adjPrefix(d)
		pre := idKey(nil, p, id)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
		if err != nil {
			return false, err
		}
		defer it.Close()
		ents := entsPool.Get().(*[]rawEdge)
		defer entsPool.Put(ents)
		c := &adjCursor{it: it, dir: d, newestFirst: newestFirst, ents: (*ents)[:0]}
		var valid bool
		switch {
		case after == nil && !newestFirst:
			valid = it.First()
		case after == nil:
			valid = it.Last()
		default:
			if at.block == ^uint64(0) {
				valid = it.Last()
			} else {
				valid = it.SeekLT(bucketKey(nil, p, id, at.block+1))
			}
			if !valid && !newestFirst {
				valid = it.First()
			}
		}
		if err := c.load(valid); err != nil {
			return false, err
		}
		for after != nil && c.ok && passed(c.cur()) {
			if err := c.advance(); err != nil {
				return false, err
			}
		}
		srcs = append(srcs, c)
	}
	for n := 0; n < limit; n++ {
		var best *adjCursor
		for _, c := range srcs {
			if !c.ok {
				continue
			}
			if best == nil {
				best = c
				continue
			}
			r := edgeCmp(c.cur(), best.cur())
			if (!newestFirst && r < 0) || (newestFirst && r >= 0) {
				best = c
			}
		}
		if best == nil {
			break
		}
		if err := fn(best.cur()); err != nil {
			return false, err
		}
		if err := best.advance(); err != nil {
			return false, err
		}
	}
	more := false
	for _, c := range srcs {
		more = more || c.ok
	}
	return more, nil
}

// Neighbors returns up to limit edges of an address after cursor (empty: the
// start), in chain order (reverse chain order when newestFirst). Cost is
// proportional to limit, whatever the address's degree.
func (s *Store) Neighbors(ctx context.Context, chain model.Chain, addr string, dir Direction, cursor string, limit int, newestFirst bool) (Page, error) {
	if err := s.live(); err != nil {
		return Page{}, err
	}
	var pg Page
	if err := s.indexed(ctx); err != nil {
		return pg, err
	}
	if limit <= 0 || limit > 10000 {
		return pg, fmt.Errorf("neighbors: limit %d out of range 1..10000", limit)
	}
	id, ok, err := s.ID(chain, addr)
	if err != nil || !ok {
		return pg, err
	}
	var after []byte // block+pos+dir, exclusive
	if cursor != "" {
		if after, err = decodeCursor(cursor); err != nil {
			return pg, err
		}
	}
	more, err := s.edges(id, dir, after, limit, newestFirst, func(r *rawEdge) error {
		e := Edge{Block: r.block, Position: r.pos, Dir: r.dir, Kind: r.kind, Amount: r.amount}
		var err error
		if e.Counterparty, err = s.name(r.cp); err != nil {
			return err
		}
		if e.Asset, err = s.assetName(r.asset); err != nil {
			return err
		}
		if e.Time, err = s.blockTime(chain, r.block); err != nil {
			return err
		}
		pg.Edges = append(pg.Edges, e)
		return nil
	})
	if err != nil {
		return pg, err
	}
	if more && len(pg.Edges) > 0 {
		last := pg.Edges[len(pg.Edges)-1]
		pg.Next = encodeCursor(last.Block, last.Position, last.Dir)
	}
	return pg, ctx.Err()
}

func encodeCursor(block uint64, pos model.Position, d Direction) string {
	return fmt.Sprintf("%d.%d.%d", block, pos, d)
}

func decodeCursor(c string) ([]byte, error) {
	var block, pos uint64
	var d uint8
	if _, err := fmt.Sscanf(c, "%d.%d.%d", &block, &pos, &d); err != nil || d > 2 {
		return nil, fmt.Errorf("bad page cursor %q", c)
	}
	return cursorKey(block, model.Position(pos), Direction(d)), nil
}

// cursorKey is the position edges reads after (exclusive): block, position
// and direction, as a decoded page cursor.
func cursorKey(block uint64, pos model.Position, d Direction) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 17), block)
	b = binary.BigEndian.AppendUint64(b, uint64(pos))
	return append(b, byte(d))
}

// AssetTotals are an address's counters for one asset.
type AssetTotals struct {
	Asset    string
	CountIn  uint64
	CountOut uint64
	Received big.Int
	Sent     big.Int
}

// Counterparty aggregates the transfers with one other address.
type Counterparty struct {
	Address  string
	In, Out  uint64 // transfer counts
	Received map[string]*big.Int
	Sent     map[string]*big.Int
}

// Summary describes an address.
type Summary struct {
	Chain          model.Chain
	Address        string
	Known          bool
	FirstSeen      *BlockInfo
	LastSeen       *BlockInfo
	Assets         []AssetTotals
	Counterparties []Counterparty
	// Sampled is true when counterparties were aggregated over only the most
	// recent SampleLimit transfers of a large address.
	Sampled     bool
	SampleLimit int
}

// Summarize returns an address's first and last activity, totals per asset
// and top counterparties (by transfer count) over at most sample recent
// transfers, so hubs answer in bounded time.
func (s *Store) Summarize(ctx context.Context, chain model.Chain, addr string, top, sample int) (*Summary, error) {
	if err := s.live(); err != nil {
		return nil, err
	}
	if sample < 1 {
		sample = 1
	}
	if err := s.indexed(ctx); err != nil {
		return nil, err
	}
	sm := &Summary{Chain: chain, Address: addr, SampleLimit: sample}
	id, ok, err := s.ID(chain, addr)
	if err != nil || !ok {
		return sm, err
	}
	sm.Known = true
	totals, err := s.totals(id)
	if err != nil {
		return nil, err
	}
	for _, asset := range slices.Sorted(maps.Keys(totals)) {
		c := totals[asset]
		if c.isZero() {
			continue
		}
		a, err := s.assetName(asset)
		if err != nil {
			return nil, err
		}
		at := AssetTotals{Asset: a, CountIn: c[fCountIn].Uint64(), CountOut: c[fCountOut].Uint64()}
		at.Received.Set(&c[fSumIn])
		at.Sent.Set(&c[fSumOut])
		sm.Assets = append(sm.Assets, at)
	}
	// One newest-first pass counts transfers per counterparty and yields
	// the last activity; when it reaches the oldest transfer it yields the
	// first too, otherwise (a sampled hub) one more seek finds it. Amounts
	// are summed afterwards for the top counterparties only.
	var newest, oldest *rawEdge
	type agg struct {
		id      uint64
		in, out uint64
	}
	var list []agg
	at := map[uint64]int{} // counterparty id → index in list
	var es []rawEdge
	var after []byte
	for len(es) < sample {
		n := min(1000, sample-len(es))
		more, err := s.edges(id, Both, after, n, true, func(e *rawEdge) error {
			i, ok := at[e.cp]
			if !ok {
				i = len(list)
				at[e.cp] = i
				list = append(list, agg{id: e.cp})
			}
			if e.dir == In {
				list[i].in++
			} else {
				list[i].out++
			}
			es = append(es, *e)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(es) > 0 && newest == nil {
			newest = &es[0]
		}
		if !more {
			if len(es) > 0 {
				oldest = &es[len(es)-1]
			}
			break
		}
		if len(es) >= sample {
			sm.Sampled = true
			break
		}
		last := &es[len(es)-1]
		after = cursorKey(last.block, last.pos, last.dir)
	}
	if newest != nil {
		c := *newest
		newest = &c
	}
	if newest != nil && oldest == nil {
		if _, err := s.edges(id, Both, nil, 1, false, func(e *rawEdge) error {
			c := *e
			oldest = &c
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, x := range []struct {
		e   *rawEdge
		dst **BlockInfo
	}{{oldest, &sm.FirstSeen}, {newest, &sm.LastSeen}} {
		if x.e == nil {
			continue
		}
		t, err := s.blockTime(chain, x.e.block)
		if err != nil {
			return nil, err
		}
		*x.dst = &BlockInfo{Number: x.e.block, Time: t}
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := &list[i], &list[j]
		if a.in+a.out != b.in+b.out {
			return a.in+a.out > b.in+b.out
		}
		return a.id < b.id
	})
	if len(list) > top {
		list = list[:top]
	}
	type sums struct{ recv, sent map[uint64]*big.Int }
	tops := make(map[uint64]*sums, len(list))
	for _, a := range list {
		tops[a.id] = &sums{recv: map[uint64]*big.Int{}, sent: map[uint64]*big.Int{}}
	}
	for i := range es {
		e := &es[i]
		t := tops[e.cp]
		if t == nil {
			continue
		}
		m := t.recv
		if e.dir == Out {
			m = t.sent
		}
		v := m[e.asset]
		if v == nil {
			v = new(big.Int)
			m[e.asset] = v
		}
		v.Add(v, e.amount.ToBig())
	}
	for _, a := range list {
		cp := Counterparty{In: a.in, Out: a.out, Received: map[string]*big.Int{}, Sent: map[string]*big.Int{}}
		if cp.Address, err = s.name(a.id); err != nil {
			return nil, err
		}
		t := tops[a.id]
		for src, dst := range map[*map[uint64]*big.Int]map[string]*big.Int{&t.recv: cp.Received, &t.sent: cp.Sent} {
			for asset, v := range *src {
				name, err := s.assetName(asset)
				if err != nil {
					return nil, err
				}
				dst[name] = v
			}
		}
		sm.Counterparties = append(sm.Counterparties, cp)
	}
	sort.SliceStable(sm.Counterparties, func(i, j int) bool {
		a, b := &sm.Counterparties[i], &sm.Counterparties[j]
		if a.In+a.Out != b.In+b.Out {
			return a.In+a.Out > b.In+b.Out
		}
		return a.Address < b.Address
	})
	return sm, nil
}

// totals returns an address's complete counters per asset: the counter
// records (every bucket but the newest in each direction) plus the entries
// of the newest buckets.
func (s *Store) totals(id uint64) (map[uint64]*counters, error) {
	out := map[uint64]*counters{}
	get := func(asset uint64) *counters {
		c := out[asset]
		if c == nil {
			c = new(counters)
			out[asset] = c
		}
		return c
	}
	pre := idKey(nil, pCounter, id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
	if err != nil {
		return nil, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		var c counters
		if err := c.decode(it.Value()); err != nil {
			it.Close()
			return nil, err
		}
		get(binary.BigEndian.Uint64(it.Key()[9:])).add(&c)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	var es []rawEdge
	for _, d := range []struct {
		p      byte
		dir    Direction
		fc, fs int
	}{{pIn, In, fCountIn, fSumIn}, {pOut, Out, fCountOut, fSumOut}} {
		pre := idKey(nil, d.p, id)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
		if err != nil {
			return nil, err
		}
		if it.Last() {
			v, err := it.ValueAndErr()
			if err == nil {
				es, err = decodeEntries(es[:0], v, binary.BigEndian.Uint64(it.Key()[9:]), d.dir)
			}
			if err != nil {
				it.Close()
				return nil, err
			}
			one := big.NewInt(1)
			for i := range es {
				c := get(es[i].asset)
				c[d.fc].Add(&c[d.fc], one)
				c[d.fs].Add(&c[d.fs], es[i].amount.ToBig())
			}
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TxHash returns the transaction hash of the transfer at (chain, block, pos).
func (s *Store) TxHash(ctx context.Context, chain model.Chain, block uint64, pos model.Position) (string, bool, error) {
	if err := s.live(); err != nil {
		return "", false, err
	}
	var h string
	found := false
	err := s.blockSegments(chain, block, func(d *segDecoder) error {
		if d.row.pos == pos {
			h, found = d.hash(), true
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return "", false, fmt.Errorf("transfer %s/%d/%d: %w", chain, block, pos, err)
	}
	return h, found, nil
}

var errStop = errors.New("stop")
