package importer

import (
	"fmt"
	"slices"
	"sort"

	"github.com/redthread/redthread/internal/model"
)

// Batch is a group of whole blocks read from one file, in (chain, number)
// order, each block's transfers in position order.
type Batch struct {
	Blocks []model.Block
	// Offset and Line locate the first byte and line after the last row the
	// batch covers: a resumed import starts there.
	Offset, Line int64
	Rows         int64 // rows read from the file so far, this batch included
	Transfers    int   // transfers in this batch

	release func()
}

// Release hands the batch's memory back to its source; the batch must not
// be used afterwards.
func (b *Batch) Release() {
	if b.release != nil {
		b.release()
		b.release = nil
	}
}

type blockKey struct {
	chain model.Chain
	n     uint64
}

// blockMeta is what a file says about a block besides its transfers.
type blockMeta struct {
	time       int64
	hasTime    bool
	timeLine   int64
	hash       string
	parentHash string
	txs        []model.Tx
}

// rowOut is what one row contributes; a parser fills it and the batcher
// adds it, so a batch can end before a row that starts a new block.
type rowOut struct {
	key        blockKey
	ts         []model.Transfer
	tx         model.Tx
	hasTx      bool
	time       int64
	hasTime    bool
	hash       string
	parentHash string
}

func (o *rowOut) reset() {
	o.ts = o.ts[:0]
	o.hasTx, o.hasTime, o.hash, o.parentHash = false, false, "", ""
}

// batcher collects rows into blocks.
type batcher struct {
	file   string
	ts     []model.Transfer
	lines  []int64
	meta   map[blockKey]*blockMeta
	free   chan []model.Transfer // recycled transfer slices
	blocks []model.Block
}

func newBatcher(file string, target int) *batcher {
	b := &batcher{file: file, free: make(chan []model.Transfer, 4)}
	b.ts = make([]model.Transfer, 0, min(target+target/4, 1<<14)) // grows to the batch size; recycled slices keep it
	return b
}

func (b *batcher) len() int { return len(b.ts) }

func (b *batcher) empty() bool { return len(b.ts) == 0 && len(b.meta) == 0 }

func (b *batcher) add(o *rowOut, line int64) error {
	for i := range o.ts {
		b.ts = append(b.ts, o.ts[i])
		b.lines = append(b.lines, line)
	}
	if !o.hasTx && !o.hasTime && o.hash == "" {
		return nil
	}
	if b.meta == nil {
		b.meta = make(map[blockKey]*blockMeta)
	}
	m := b.meta[o.key]
	if m == nil {
		m = &blockMeta{}
		b.meta[o.key] = m
	}
	if o.hasTime {
		if m.hasTime && m.time != o.time {
			return &RowError{File: b.file, Line: line, Field: "timestamp", Value: fmt.Sprint(o.time),
				Err: fmt.Errorf("block %d has timestamp %d on line %d", o.key.n, m.time, m.timeLine)}
		}
		m.time, m.hasTime, m.timeLine = o.time, true, line
	}
	if o.hash != "" {
		if m.hash != "" && m.hash != o.hash {
			return &RowError{File: b.file, Line: line, Field: "block_hash", Value: o.hash,
				Err: fmt.Errorf("block %d has hash %s on an earlier line", o.key.n, m.hash)}
		}
		m.hash, m.parentHash = o.hash, o.parentHash
	}
	if o.hasTx {
		m.txs = append(m.txs, o.tx)
	}
	return nil
}

// byChainOrder sorts transfers and their line numbers together.
type byChainOrder struct {
	ts    []model.Transfer
	lines []int64
}

func (s byChainOrder) Len() int { return len(s.ts) }
func (s byChainOrder) Less(i, j int) bool {
	a, b := &s.ts[i], &s.ts[j]
	if a.Chain != b.Chain {
		return a.Chain < b.Chain
	}
	if a.Block != b.Block {
		return a.Block < b.Block
	}
	return a.Position < b.Position
}
func (s byChainOrder) Swap(i, j int) {
	s.ts[i], s.ts[j] = s.ts[j], s.ts[i]
	s.lines[i], s.lines[j] = s.lines[j], s.lines[i]
}

// build turns the collected rows into a batch and starts a new one. It
// checks what the store would otherwise reject: one time per block and
// distinct positions (a repeated identical row is dropped, a different one
// at the same position is an error).
func (b *batcher) build() (*Batch, error) {
	ts, lines := b.ts, b.lines
	s := byChainOrder{ts, lines}
	if !sort.IsSorted(s) {
		sort.Stable(s)
	}
	blocks := b.blocks[:0]
	w := 0
	for i := 0; i < len(ts); {
		t := &ts[i]
		key := blockKey{t.Chain, t.Block}
		start := w
		var tm int64
		hasTime := false
		m := b.meta[key]
		if m != nil && m.hasTime {
			tm, hasTime = m.time, true
		}
		j := i
		for ; j < len(ts) && ts[j].Chain == key.chain && ts[j].Block == key.n; j++ {
			u := &ts[j]
			if !hasTime {
				tm, hasTime = u.Time, true
			}
			if u.Time != tm {
				return nil, &RowError{File: b.file, Line: lines[j], Field: "timestamp", Value: fmt.Sprint(u.Time),
					Err: fmt.Errorf("block %d has timestamp %d on line %d", key.n, tm, lines[i])}
			}
			if w > start && ts[w-1].Position == u.Position {
				if ts[w-1] == *u {
					continue // the same transfer twice
				}
				return nil, &RowError{File: b.file, Line: lines[j], Field: "position", Value: fmt.Sprint(u.Position),
					Err: fmt.Errorf("block %d position %d is also used by line %d for another transfer", key.n, u.Position, lines[w-1])}
			}
			ts[w], lines[w] = *u, lines[j]
			w++
		}
		blk := model.Block{Chain: key.chain, Number: key.n, Time: tm, Transfers: ts[start:w:w]}
		if m != nil {
			blk.Hash, blk.ParentHash, blk.Txs = m.hash, m.parentHash, m.txs
			delete(b.meta, key)
		}
		blocks = append(blocks, blk)
		i = j
	}
	for key, m := range b.meta { // blocks with facts but no transfers
		blocks = append(blocks, model.Block{Chain: key.chain, Number: key.n, Time: m.time, Hash: m.hash, ParentHash: m.parentHash, Txs: m.txs})
	}
	clear(b.meta)
	slices.SortFunc(blocks, func(x, y model.Block) int {
		if x.Chain != y.Chain {
			if x.Chain < y.Chain {
				return -1
			}
			return 1
		}
		if x.Number < y.Number {
			return -1
		}
		if x.Number > y.Number {
			return 1
		}
		return 0
	})
	for i := range blocks {
		if err := blocks[i].Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", b.file, err)
		}
	}
	batch := &Batch{Blocks: blocks, Transfers: w}
	used := ts
	batch.release = func() {
		clear(used) // drop string references
		select {
		case b.free <- used[:0]:
		default:
		}
	}
	b.blocks = nil
	select {
	case next := <-b.free:
		b.ts = next
	default:
		b.ts = make([]model.Transfer, 0, cap(ts))
	}
	b.lines = b.lines[:0]
	return batch, nil
}
