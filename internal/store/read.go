package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"

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
	v, ok, err := s.get(idKey(nil, pAddrRev, id))
	if err != nil {
		return "", "", err
	}
	if !ok || len(v) < 1 || len(v) < 1+int(v[0]) {
		return "", "", fmt.Errorf("address id %d: %w", id, errCorrupt)
	}
	chain := model.Chain(v[1 : 1+int(v[0])])
	return chain, addrText(chain, v[1+int(v[0]):]), nil
}

// ID returns the id of a canonical address, if it is known.
func (s *Store) ID(chain model.Chain, addr string) (uint64, bool, error) {
	if err := s.live(); err != nil {
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
	lo := transferKey(nil, chain, fromBlock, 0)
	var hi []byte
	if toBlock == ^uint64(0) {
		hi = prefixEnd(chainPrefix(nil, pTransfer, chain))
	} else {
		hi = transferKey(nil, chain, toBlock+1, 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	var t model.Transfer
	var r rawTransfer
	var curBlock uint64 = ^uint64(0)
	var curTime int64
	for ok := it.First(); ok; ok = it.Next() {
		_, block, pos, err := decodeTransferKey(it.Key())
		if err != nil {
			return err
		}
		if err := decodeTransferValue(it.Value(), &r); err != nil {
			return fmt.Errorf("transfer %s/%d/%d: %w", chain, block, pos, err)
		}
		if block != curBlock {
			if err := ctx.Err(); err != nil {
				return err
			}
			bi, _, err := s.Block(chain, block)
			if err != nil {
				return err
			}
			curBlock, curTime = block, bi.Time
		}
		t = model.Transfer{Chain: chain, Block: block, Time: curTime, Position: pos, TxHash: r.hash, Kind: r.kind, Amount: r.amount}
		if t.From, err = s.name(r.from); err != nil {
			return err
		}
		if t.To, err = s.name(r.to); err != nil {
			return err
		}
		if t.Asset, err = s.name(r.asset); err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
	}
	return it.Error()
}

// Digest is a SHA-256 over the store's logical contents (every key and merged
// value in order), equal for stores holding the same data however they were
// written.
func (s *Store) Digest() ([32]byte, error) {
	if err := s.live(); err != nil {
		return [32]byte{}, err
	}
	var out [32]byte
	it, err := s.db.NewIter(nil)
	if err != nil {
		return out, err
	}
	defer it.Close()
	h := sha256.New()
	var n [8]byte
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write(k)
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
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

// edges calls fn for up to limit adjacency entries of address id after the
// cursor position (nil: the start), merging directions in (reverse) chain
// order. It reports whether more entries follow.
func (s *Store) edges(id uint64, dir Direction, after []byte, limit int, newestFirst bool, fn func(*rawEdge) error) (bool, error) {
	type src struct {
		it  *pebble.Iterator
		dir Direction
		ok  bool
	}
	var srcs []*src
	for _, d := range []Direction{In, Out} {
		if dir != Both && dir != d {
			continue
		}
		p := pIn
		if d == Out {
			p = pOut
		}
		pre := idKey(nil, byte(p), id)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: pre, UpperBound: prefixEnd(pre)})
		if err != nil {
			return false, err
		}
		defer it.Close()
		sr := &src{it: it, dir: d}
		switch {
		case after == nil && !newestFirst:
			sr.ok = it.First()
		case after == nil:
			sr.ok = it.Last()
		case !newestFirst:
			sr.ok = it.SeekGE(append(pre, after[:16]...))
			if sr.ok && string(it.Key()[9:]) == string(after[:16]) && byte(d) <= after[16] {
				sr.ok = it.Next()
			}
		default:
			bp := append(pre, after[:16]...)
			if byte(d) < after[16] && it.SeekGE(bp) && string(it.Key()[9:]) == string(after[:16]) {
				sr.ok = true
			} else {
				sr.ok = it.SeekLT(bp)
			}
		}
		srcs = append(srcs, sr)
	}
	var e rawEdge
	for n := 0; n < limit; n++ {
		var best *src
		for _, sr := range srcs {
			if !sr.ok {
				continue
			}
			if best == nil {
				best = sr
				continue
			}
			c := compareKeys(sr.it.Key()[9:], best.it.Key()[9:])
			if (!newestFirst && c < 0) || (newestFirst && c >= 0) {
				best = sr
			}
		}
		if best == nil {
			break
		}
		k := best.it.Key()
		e.block, e.pos, e.dir = binary.BigEndian.Uint64(k[9:]), model.Position(binary.BigEndian.Uint64(k[17:])), best.dir
		v := best.it.Value()
		var err error
		if e.cp, v, err = readUvarint(v); err != nil {
			return false, err
		}
		if e.asset, v, err = readUvarint(v); err != nil || len(v) < 1 {
			return false, errCorrupt
		}
		e.kind = model.Kind(v[0])
		if _, err := readAmount(v[1:], &e.amount); err != nil {
			return false, err
		}
		if err := fn(&e); err != nil {
			return false, err
		}
		if newestFirst {
			best.ok = best.it.Prev()
		} else {
			best.ok = best.it.Next()
		}
	}
	more := false
	for _, sr := range srcs {
		more = more || sr.ok
		if err := sr.it.Error(); err != nil {
			return false, err
		}
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
		if e.Asset, err = s.name(r.asset); err != nil {
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

func compareKeys(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
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
	b := binary.BigEndian.AppendUint64(nil, block)
	b = binary.BigEndian.AppendUint64(b, pos)
	return append(b, d), nil
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
	sm := &Summary{Chain: chain, Address: addr, SampleLimit: sample}
	id, ok, err := s.ID(chain, addr)
	if err != nil || !ok {
		return sm, err
	}
	sm.Known = true
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
		if c.isZero() {
			continue
		}
		a, err := s.name(binary.BigEndian.Uint64(it.Key()[9:]))
		if err != nil {
			it.Close()
			return nil, err
		}
		at := AssetTotals{Asset: a, CountIn: c[fCountIn].Uint64(), CountOut: c[fCountOut].Uint64()}
		at.Received.Set(&c[fSumIn])
		at.Sent.Set(&c[fSumOut])
		sm.Assets = append(sm.Assets, at)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	// One newest-first pass aggregates counterparties and yields the last
	// activity; when it reaches the oldest transfer it yields the first too,
	// otherwise (a sampled hub) one more seek finds it.
	var newest, oldest *rawEdge
	type agg struct {
		id         uint64
		in, out    uint64
		recv, sent map[uint64]*big.Int
	}
	cps := map[uint64]*agg{}
	var after []byte
	seen := 0
	for seen < sample {
		n := min(1000, sample-seen)
		var last rawEdge
		more, err := s.edges(id, Both, after, n, true, func(e *rawEdge) error {
			a := cps[e.cp]
			if a == nil {
				a = &agg{id: e.cp, recv: map[uint64]*big.Int{}, sent: map[uint64]*big.Int{}}
				cps[e.cp] = a
			}
			m := a.recv
			if e.dir == In {
				a.in++
			} else {
				a.out++
				m = a.sent
			}
			if m[e.asset] == nil {
				m[e.asset] = new(big.Int)
			}
			m[e.asset].Add(m[e.asset], e.amount.ToBig())
			last = *e
			if newest == nil {
				c := *e
				newest = &c
			}
			seen++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !more {
			if seen > 0 {
				c := last
				oldest = &c
			}
			break
		}
		if seen >= sample {
			sm.Sampled = true
			break
		}
		after, _ = decodeCursor(encodeCursor(last.block, last.pos, last.dir))
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
	list := make([]*agg, 0, len(cps))
	for _, a := range cps {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.in+a.out != b.in+b.out {
			return a.in+a.out > b.in+b.out
		}
		return a.id < b.id
	})
	if len(list) > top {
		list = list[:top]
	}
	for _, a := range list {
		cp := Counterparty{In: a.in, Out: a.out, Received: map[string]*big.Int{}, Sent: map[string]*big.Int{}}
		if cp.Address, err = s.name(a.id); err != nil {
			return nil, err
		}
		for src, dst := range map[*map[uint64]*big.Int]map[string]*big.Int{&a.recv: cp.Received, &a.sent: cp.Sent} {
			for asset, v := range *src {
				name, err := s.name(asset)
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

// TxHash returns the transaction hash of the transfer at (chain, block, pos).
func (s *Store) TxHash(ctx context.Context, chain model.Chain, block uint64, pos model.Position) (string, bool, error) {
	if err := s.live(); err != nil {
		return "", false, err
	}
	v, ok, err := s.get(transferKey(nil, chain, block, pos))
	if err != nil || !ok {
		return "", false, err
	}
	if len(v) < 1 {
		return "", false, errCorrupt
	}
	h, _, err := readHash(v[1:])
	if err != nil {
		return "", false, fmt.Errorf("transfer %s/%d/%d: %w", chain, block, pos, err)
	}
	return h, true, nil
}
