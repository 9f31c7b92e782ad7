package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/progress"
	"github.com/redthread/redthread/internal/store"
)

// Source yields normalized blocks (internal/chain/eth.Adapter is one).
type Source interface {
	Chain() model.Chain
	// Head returns the newest block number the source has.
	Head(ctx context.Context) (uint64, error)
	// Blocks returns whole blocks from..to inclusive, in order.
	Blocks(ctx context.Context, from, to uint64) ([]model.Block, error)
}

// Store is what ingestion needs of the ledger store (*store.Store).
type Store interface {
	Write(ctx context.Context, blocks []model.Block, cp *store.Checkpoint) error
	Checkpoint(name string) ([]byte, bool, error)
	BlockHash(chain model.Chain, n uint64) (string, bool, error)
	Rollback(ctx context.Context, chain model.Chain, from, to uint64) error
}

// Options configure Run.
type Options struct {
	From uint64
	To   uint64 // inclusive; with ToHead, ignored
	// ToHead ingests up to the source's head minus Confirmations.
	ToHead        bool
	Confirmations uint64
	// Window is the number of blocks fetched and written per store batch
	// (default 100).
	Window int
	// Checkpoint names the resume point (default "ingest/" + chain).
	Checkpoint string
	// MaxReorg bounds how far back a reorganization is followed (default 128).
	MaxReorg uint64
	Progress progress.Reporter // default progress.Nop()
	Log      *slog.Logger      // default: discard
}

// Stats summarize a run.
type Stats struct {
	From, To  uint64 // the range covered by this run (From > To: nothing to do)
	Blocks    uint64
	Txs       uint64
	Transfers uint64
	// Conversions counts the swaps, bridge deposits and payouts recorded.
	Conversions uint64
	Reorgs      int
	RolledBack  uint64 // blocks removed by reorgs
	Elapsed     time.Duration
}

// cpState is the checkpoint value: the last block written and, while a
// rollback is in flight, the range being removed (so a crash in between is
// finished on the next run).
type cpState struct {
	Last         uint64  `json:"last"`
	RollbackFrom *uint64 `json:"rollback_from,omitempty"`
	RollbackTo   *uint64 `json:"rollback_to,omitempty"`
}

func (c cpState) encode(name string) *store.Checkpoint {
	v, _ := json.Marshal(c)
	return &store.Checkpoint{Name: name, Value: v}
}

// Run ingests blocks into st. It resumes from the checkpoint when the
// checkpoint lies inside [From-1, To), and is safe to interrupt at any
// point: every write is atomic and carries its checkpoint.
func Run(ctx context.Context, src Source, st Store, o Options) (Stats, error) {
	start := time.Now()
	chain := src.Chain()
	if o.Window <= 0 {
		o.Window = 100
	}
	if o.Checkpoint == "" {
		o.Checkpoint = "ingest/" + string(chain)
	}
	if o.MaxReorg == 0 {
		o.MaxReorg = 128
	}
	if o.Progress == nil {
		o.Progress = progress.Nop()
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &runner{src: src, st: st, o: o, chain: chain, log: log}
	stats, err := r.run(ctx)
	stats.Elapsed = time.Since(start)
	return stats, err
}

type runner struct {
	src   Source
	st    Store
	o     Options
	chain model.Chain
	log   *slog.Logger
	stats Stats
}

func (r *runner) readCheckpoint() (cpState, bool, error) {
	return readCheckpoint(r.st, r.o.Checkpoint)
}

func readCheckpoint(st interface {
	Checkpoint(name string) ([]byte, bool, error)
}, name string) (cpState, bool, error) {
	v, ok, err := st.Checkpoint(name)
	if err != nil || !ok {
		return cpState{}, ok, err
	}
	var c cpState
	if err := json.Unmarshal(v, &c); err != nil {
		return c, false, fmt.Errorf("checkpoint %s: %q is not a checkpoint of this ingester: %w", name, v, err)
	}
	return c, true, nil
}

// UnfinishedRollback reports the last block kept when the checkpoint name
// (Options.Checkpoint; empty: the chain's default) records a rollback that
// has not finished (a crash or a stop in the middle of a chunked rollback):
// the next Run removes the stored blocks above it, so ingestion must resume
// right after it, not after the newest stored block.
func UnfinishedRollback(st interface {
	Checkpoint(name string) ([]byte, bool, error)
}, chain model.Chain, name string) (last uint64, ok bool, err error) {
	if name == "" {
		name = "ingest/" + string(chain)
	}
	c, ok, err := readCheckpoint(st, name)
	if err != nil || !ok || c.RollbackFrom == nil {
		return 0, false, err
	}
	return c.Last, true, nil
}

func (r *runner) run(ctx context.Context) (Stats, error) {
	cp, haveCP, err := r.readCheckpoint()
	if err != nil {
		return r.stats, err
	}
	if haveCP && cp.RollbackFrom != nil {
		// A previous run crashed inside a rollback: finish it.
		r.log.Info("finishing interrupted rollback", "from", *cp.RollbackFrom, "to", *cp.RollbackTo)
		if err := r.rollback(ctx, cp.Last, *cp.RollbackTo); err != nil {
			return r.stats, err
		}
	}
	to := r.o.To
	if r.o.ToHead {
		head, err := r.src.Head(ctx)
		if err != nil {
			return r.stats, fmt.Errorf("read head: %w", err)
		}
		if head < r.o.Confirmations {
			to = 0
			if r.o.From > 0 {
				r.stats.From, r.stats.To = r.o.From, r.o.From-1
				return r.stats, nil
			}
		} else {
			to = head - r.o.Confirmations
		}
	}
	next := r.o.From
	if haveCP && cp.Last+1 >= r.o.From && cp.Last <= to {
		next = cp.Last + 1
		if next > r.o.From {
			r.log.Info("resuming from checkpoint", "checkpoint", r.o.Checkpoint, "last", cp.Last)
		}
	}
	r.stats.From, r.stats.To = next, to
	if next > to {
		r.o.Progress.Start("ingest "+string(r.chain), 0, "blocks")
		r.o.Progress.Finish(nil)
		return r.stats, nil
	}
	total := to - next + 1
	r.o.Progress.Start("ingest "+string(r.chain), total, "blocks")
	err = r.loop(ctx, next, to)
	r.o.Progress.Finish(err)
	return r.stats, err
}

// window is one fetched range, or the error that stopped the fetcher.
type window struct {
	blocks []model.Block
	err    error
}

// fetch runs in its own goroutine, fetching windows from..to in order.
func (r *runner) fetch(ctx context.Context, from, to uint64, out chan<- window) {
	defer close(out)
	for lo := from; lo <= to; {
		hi := min(lo+uint64(r.o.Window)-1, to)
		bs, err := r.fetchContinuous(ctx, lo, hi)
		select {
		case out <- window{bs, err}:
		case <-ctx.Done():
			return
		}
		if err != nil || hi == to {
			return
		}
		lo = hi + 1
	}
}

// fetchContinuous fetches lo..hi and checks the blocks chain together; a
// break means the node reorganized during the fetch, so it tries again.
func (r *runner) fetchContinuous(ctx context.Context, lo, hi uint64) ([]model.Block, error) {
	for attempt := 0; ; attempt++ {
		bs, err := r.src.Blocks(ctx, lo, hi)
		if err != nil {
			return nil, err
		}
		if uint64(len(bs)) != hi-lo+1 {
			return nil, fmt.Errorf("source returned %d blocks for %d–%d", len(bs), lo, hi)
		}
		broken := -1
		for i := range bs {
			if bs[i].Number != lo+uint64(i) {
				return nil, fmt.Errorf("source returned block %d where %d belongs", bs[i].Number, lo+uint64(i))
			}
			if i > 0 && bs[i-1].Hash != "" && bs[i].ParentHash != bs[i-1].Hash {
				broken = i
				break
			}
		}
		if broken < 0 {
			return bs, nil
		}
		if attempt >= 3 {
			return nil, fmt.Errorf("block %d: parent hash %s is not block %d's hash %s after %d attempts (node reorganizing?)",
				bs[broken].Number, bs[broken].ParentHash, bs[broken].Number-1, bs[broken-1].Hash, attempt+1)
		}
		r.log.Warn("blocks do not chain together; refetching", "block", bs[broken].Number)
		select {
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (r *runner) loop(ctx context.Context, next, to uint64) error {
	for next <= to {
		fctx, cancel := context.WithCancel(ctx)
		ch := make(chan window, 1)
		go r.fetch(fctx, next, to, ch)
		resumeAt, err := r.consume(ctx, ch, next)
		cancel()
		for range ch { // let the fetcher finish
		}
		if err != nil {
			return err
		}
		if resumeAt == 0 {
			return nil
		}
		next = resumeAt
	}
	return nil
}

// consume writes windows as they arrive. It returns the block to restart
// from after a reorg rollback, or 0 when the range is done.
func (r *runner) consume(ctx context.Context, ch <-chan window, next uint64) (uint64, error) {
	for w := range ch {
		if w.err != nil {
			return 0, w.err
		}
		bs := w.blocks
		first := bs[0]
		if first.Number != next {
			return 0, fmt.Errorf("internal: window starts at %d, want %d", first.Number, next)
		}
		if first.Number > 0 && first.ParentHash != "" {
			prev, ok, err := r.st.BlockHash(r.chain, first.Number-1)
			if err != nil {
				return 0, fmt.Errorf("read stored hash of block %d: %w", first.Number-1, err)
			}
			if ok && prev != first.ParentHash {
				fork, err := r.handleReorg(ctx, first.Number-1)
				if err != nil {
					return 0, err
				}
				return fork + 1, nil
			}
		}
		last := bs[len(bs)-1].Number
		if err := r.st.Write(ctx, bs, cpState{Last: last}.encode(r.o.Checkpoint)); err != nil {
			return 0, fmt.Errorf("write blocks %d–%d: %w", first.Number, last, err)
		}
		for i := range bs {
			r.stats.Txs += uint64(len(bs[i].Txs))
			r.stats.Transfers += uint64(len(bs[i].Transfers))
			r.stats.Conversions += uint64(len(bs[i].Conversions))
		}
		r.stats.Blocks += uint64(len(bs))
		if last >= r.stats.From {
			r.o.Progress.Update(last-r.stats.From+1, progress.Counter{Name: "transfers", N: r.stats.Transfers},
				progress.Counter{Name: "conversions", N: r.stats.Conversions})
		}
		next = last + 1
	}
	return 0, ctx.Err()
}

// handleReorg finds the newest block at or below top whose stored hash the
// source still agrees with, and rolls the store back above it.
func (r *runner) handleReorg(ctx context.Context, top uint64) (uint64, error) {
	r.stats.Reorgs++
	k := top
	for {
		stored, ok, err := r.st.BlockHash(r.chain, k)
		if err != nil {
			return 0, fmt.Errorf("read stored hash of block %d: %w", k, err)
		}
		if !ok {
			break // nothing stored this low: roll back to here
		}
		bs, err := r.src.Blocks(ctx, k, k)
		if err != nil {
			return 0, fmt.Errorf("reorg: refetch block %d: %w", k, err)
		}
		if bs[0].Hash == stored {
			break // fork point
		}
		if top-k >= r.o.MaxReorg || k == 0 {
			return 0, fmt.Errorf("reorg deeper than %d blocks below %d (stored block %d is %s, node has %s)",
				r.o.MaxReorg, top+1, k, stored, bs[0].Hash)
		}
		k--
	}
	// Blocks k+1..top are on the abandoned branch.
	r.log.Warn("chain reorganization: rolling back", "from", k+1, "to", top)
	if k+1 > top {
		return k, nil
	}
	if err := r.rollback(ctx, k, top); err != nil {
		return 0, err
	}
	r.stats.RolledBack += top - k
	return k, nil
}

// rollback removes blocks last+1..to, recording the intent in the checkpoint first.
func (r *runner) rollback(ctx context.Context, last, to uint64) error {
	if to <= last {
		return r.st.Write(ctx, nil, cpState{Last: last}.encode(r.o.Checkpoint))
	}
	from := last + 1
	if err := r.st.Write(ctx, nil, cpState{Last: last, RollbackFrom: &from, RollbackTo: &to}.encode(r.o.Checkpoint)); err != nil {
		return fmt.Errorf("record rollback: %w", err)
	}
	if err := r.st.Rollback(ctx, r.chain, from, to); err != nil {
		return err
	}
	if err := r.st.Write(ctx, nil, cpState{Last: last}.encode(r.o.Checkpoint)); err != nil {
		return fmt.Errorf("record rollback done: %w", err)
	}
	return nil
}
