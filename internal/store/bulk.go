package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// bulkThreshold is the number of transfers from which a write is sorted into
// an sstable and ingested instead of going through the memtable. Ingestion is
// as atomic as a batch and skips the memtable's random inserts and the WAL.
const bulkThreshold = 20000

type kv struct {
	key, value []byte
	merge      bool
	seq        int // order of arrival: the last Set of a key wins
}

// collector gathers a write's keys in an arena.
type collector struct {
	arena []byte
	kvs   []kv
}

func (c *collector) add(k, v []byte, merge bool) error {
	if len(c.arena)+len(k)+len(v) > cap(c.arena) {
		c.arena = make([]byte, 0, max(4<<20, len(k)+len(v)))
	}
	n := len(c.arena)
	c.arena = append(c.arena, k...)
	c.arena = append(c.arena, v...)
	c.kvs = append(c.kvs, kv{key: c.arena[n : n+len(k) : n+len(k)], value: c.arena[n+len(k) : len(c.arena) : len(c.arena)], merge: merge, seq: len(c.kvs)})
	return nil
}

func (c *collector) Set(k, v []byte, _ *pebble.WriteOptions) error   { return c.add(k, v, false) }
func (c *collector) Merge(k, v []byte, _ *pebble.WriteOptions) error { return c.add(k, v, true) }

var ingestSeq atomic.Uint64

// ingest sorts the collected keys into one sstable and ingests it.
func (s *Store) ingest(ctx context.Context, c *collector) error {
	slices.SortFunc(c.kvs, func(a, b kv) int {
		if r := bytes.Compare(a.key, b.key); r != 0 {
			return r
		}
		return a.seq - b.seq
	})
	path := s.fs.PathJoin(s.dir, fmt.Sprintf("ingest-%d.sst.tmp", ingestSeq.Add(1)))
	f, err := s.fs.Create(path, "")
	if err != nil {
		return err
	}
	defer s.fs.Remove(path)
	wo := s.po.MakeWriterOptions(0, s.db.TableFormat()) // fast compression; compactions recompress
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	for i := 0; i < len(c.kvs); i++ {
		e := &c.kvs[i]
		if i+1 < len(c.kvs) && bytes.Equal(e.key, c.kvs[i+1].key) {
			if e.merge || c.kvs[i+1].merge {
				w.Close()
				return fmt.Errorf("ingest: key %x merged and set in one write", e.key)
			}
			continue // a later Set of the same key wins
		}
		if e.merge {
			err = w.Merge(e.key, e.value)
		} else {
			err = w.Set(e.key, e.value)
		}
		if err != nil {
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := s.db.Ingest(ctx, []string{path}); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}
