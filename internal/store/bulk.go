package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// bulkThreshold is the number of transfers from which a write is sorted into
// an sstable and ingested instead of going through the memtable. Ingestion is
// as atomic as a batch and skips the memtable's random inserts and the WAL.
const bulkThreshold = 20000

// kv locates one collected key and value in the collector's arena; small so
// that sorting moves little memory.
type kv struct {
	pfx  uint64 // the key's first 8 bytes, big-endian, for fast comparison
	off  uint32 // arena offset of the key, followed by the value; increases with arrival
	klen uint16
	vlen uint16 // top bit: a merge operand; klen's top bit: a deletion
}

const mergeBit = 1 << 15

// collector gathers a write's keys in an arena.
type collector struct {
	arena []byte
	kvs   []kv
}

func (c *collector) add(k, v []byte, merge bool) error {
	return c.addKV(k, v, merge, false)
}

func (c *collector) addKV(k, v []byte, merge, del bool) error {
	if len(k) >= mergeBit || len(v) >= mergeBit || len(c.arena)+len(k)+len(v) >= 1<<32 {
		return fmt.Errorf("ingest: key or value too large for one write")
	}
	var p [8]byte
	copy(p[:], k)
	e := kv{pfx: binary.BigEndian.Uint64(p[:]), off: uint32(len(c.arena)), klen: uint16(len(k)), vlen: uint16(len(v))}
	if merge {
		e.vlen |= mergeBit
	}
	if del {
		e.klen |= mergeBit
	}
	c.arena = append(c.arena, k...)
	c.arena = append(c.arena, v...)
	c.kvs = append(c.kvs, e)
	return nil
}

func (c *collector) key(e kv) []byte { return c.arena[e.off : e.off+uint32(e.klen&^mergeBit)] }

func (c *collector) value(e kv) []byte {
	s := e.off + uint32(e.klen&^mergeBit)
	return c.arena[s : s+uint32(e.vlen&^mergeBit)]
}

func (c *collector) Set(k, v []byte, _ *pebble.WriteOptions) error   { return c.add(k, v, false) }
func (c *collector) Merge(k, v []byte, _ *pebble.WriteOptions) error { return c.add(k, v, true) }
func (c *collector) Delete(k []byte, _ *pebble.WriteOptions) error {
	return c.addKV(k, nil, false, true)
}

var ingestSeq atomic.Uint64

// ingest writes the collectors' keys as sstables, in parallel, and
// ingests them all in one atomic step. Collectors must hold disjoint key
// ranges within each key prefix.
func (s *Store) ingest(ctx context.Context, cs ...*collector) error {
	paths := make([][]string, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { paths[i], errs[i] = s.writeTables(c) })
	}
	wg.Wait()
	var all []string
	for _, p := range paths {
		all = append(all, p...)
	}
	defer func() {
		for _, p := range all {
			s.fs.Remove(p)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.db.Ingest(ctx, all); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// writeTables sorts a collector's keys into one sstable per key prefix and
// returns their paths (also on error, for removal).
func (s *Store) writeTables(c *collector) (paths []string, err error) {
	cmp := func(a, b kv) int {
		if a.pfx != b.pfx {
			if a.pfx < b.pfx {
				return -1
			}
			return 1
		}
		if r := bytes.Compare(c.key(a), c.key(b)); r != 0 {
			return r
		}
		return int(int64(a.off) - int64(b.off))
	}
	// Partition by key prefix (stable), then sort only the prefixes that
	// did not arrive in order: segments, reverse dictionary entries and
	// the indexer's buckets and counters usually do.
	var count [257]int
	for _, e := range c.kvs {
		count[e.pfx>>56+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	sorted := make([]kv, len(c.kvs))
	next := count
	for _, e := range c.kvs {
		p := e.pfx >> 56
		sorted[next[p]] = e
		next[p]++
	}
	c.kvs = sorted
	for p := 0; p < 256; p++ {
		r := c.kvs[count[p]:count[p+1]]
		if !slices.IsSortedFunc(r, cmp) {
			slices.SortFunc(r, cmp)
		}
	}
	// One sstable per key prefix: Pebble places each ingested file at the
	// lowest level it does not overlap, so the append-only ranges (transfers,
	// block headers, the reverse dictionary) of an in-order load land in the
	// bottom level and are never compacted again; only adjacency, counters
	// and the dictionary overlap earlier data.
	var w *sstable.Writer
	var cur byte
	closeW := func() error {
		if w == nil {
			return nil
		}
		err := w.Close()
		w = nil
		return err
	}
	for i := 0; i < len(c.kvs); i++ {
		e := c.kvs[i]
		k := c.key(e)
		if w == nil || k[0] != cur {
			if err := closeW(); err != nil {
				return paths, err
			}
			cur = k[0]
			path := s.fs.PathJoin(s.dir, fmt.Sprintf("ingest-%d.sst.tmp", ingestSeq.Add(1)))
			f, err := s.fs.Create(path, "")
			if err != nil {
				return paths, err
			}
			paths = append(paths, path)
			// Bottom-level settings (zstd): an ingested file that overlaps
			// nothing lands in the bottom level and is never rewritten, so it
			// must be as compact as a compaction would make it. Segments are
			// mostly hashes, ids and amounts that do not compress: they are
			// written as they are rather than compressed and thrown away.
			wo := s.po.MakeWriterOptions(6, s.db.TableFormat())
			if cur == pTransfer {
				wo.Compression = sstable.NoCompression
			}
			w = sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
		}
		merge := e.vlen&mergeBit != 0
		if i+1 < len(c.kvs) && bytes.Equal(k, c.key(c.kvs[i+1])) {
			if merge || c.kvs[i+1].vlen&mergeBit != 0 {
				closeW()
				return paths, fmt.Errorf("ingest: key %x merged and set in one write", k)
			}
			continue // a later Set of the same key wins
		}
		var err error
		if e.klen&mergeBit != 0 {
			err = w.Delete(k)
		} else if merge {
			err = w.Merge(k, c.value(e))
		} else {
			err = w.Set(k, c.value(e))
		}
		if err != nil {
			closeW()
			return paths, err
		}
	}
	return paths, closeW()
}
