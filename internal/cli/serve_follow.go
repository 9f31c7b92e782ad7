package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/ingest"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// follower runs the ingester against a node in the serving process: each
// poll ingests up to the node's head (minus confirmations) into the store
// the server reads, appends every committed window to the graph index and
// rolls the index back with the store on a reorganization.
type follower struct {
	src   ingest.Source
	st    *store.Store
	ix    *graph.Index
	ex    *exposure.Engine // cache dropped on rollbacks (may be nil)
	log   *slog.Logger
	conf  uint64
	poll  time.Duration
	from  uint64 // first block when the store has none of the chain
	start bool   // from was given (--follow-from)
	win   int
	// onConversions is called after a poll that wrote or rolled back
	// conversions (serve reloads the trace route's set).
	onConversions func(ctx context.Context) error

	mu     sync.Mutex
	status api.FollowStatus
	convs  bool // conversions changed since the last reload
}

// FollowStatus implements api.Follower.
func (f *follower) FollowStatus() api.FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// run polls until ctx is done. Every store write is atomic with its
// checkpoint, and the index only ever gets what the store committed, so
// stopping at any point leaves nothing half-written.
func (f *follower) run(ctx context.Context) {
	chain := f.src.Chain()
	f.mu.Lock()
	f.status.Chain, f.status.Confirmations = string(chain), f.conf
	f.mu.Unlock()
	for {
		err := f.pollOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		f.status.Polls++
		f.status.LastPoll = time.Now().UTC()
		if err != nil {
			f.status.Errors++
			f.status.Error = err.Error()
		} else {
			f.status.Error = ""
		}
		f.mu.Unlock()
		if err != nil {
			f.log.Error("follow: poll failed; retrying at the next poll", "chain", chain, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.poll):
		}
	}
}

func (f *follower) pollOnce(ctx context.Context) error {
	chain := f.src.Chain()
	head, err := f.src.Head(ctx)
	if err != nil {
		return fmt.Errorf("read node head: %w", err)
	}
	from, err := f.nextBlock(head)
	if err != nil {
		return err
	}
	stats, err := ingest.Run(ctx, f.src, followStore{f}, ingest.Options{From: from, ToHead: true,
		Confirmations: f.conf, Window: f.win, Log: f.log})
	f.mu.Lock()
	f.status.NodeHead = max(head, stats.To)
	f.status.Lag = f.status.NodeHead - min(f.status.NodeHead, f.status.Indexed)
	reload := f.convs
	f.convs = false
	f.mu.Unlock()
	if stats.Blocks > 0 {
		f.log.Info("follow: ingested", "chain", chain, "from", stats.From, "to", stats.To, "blocks", stats.Blocks,
			"transfers", stats.Transfers, "reorgs", stats.Reorgs)
	}
	if reload && f.onConversions != nil {
		if cerr := f.onConversions(ctx); cerr != nil {
			f.mu.Lock()
			f.convs = true // try again after the next poll
			f.mu.Unlock()
			err = errors.Join(err, fmt.Errorf("reload conversions: %w", cerr))
		}
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// nextBlock is where ingestion resumes: after the newest stored block of
// the chain, else at --follow-from, else at the node's head (minus
// confirmations), so following a fresh store starts now rather than at
// genesis.
func (f *follower) nextBlock(head uint64) (uint64, error) {
	h, ok, err := f.st.Head(f.src.Chain())
	if err != nil {
		return 0, fmt.Errorf("read stored head: %w", err)
	}
	if ok {
		return h + 1, nil
	}
	if f.start {
		return f.from, nil
	}
	if head < f.conf {
		return 0, nil
	}
	return head - f.conf, nil
}

// followStore is the ledger store as the ingester sees it while serving:
// each committed write is appended to the graph index, each rollback
// truncates it.
type followStore struct{ f *follower }

func (s followStore) Write(ctx context.Context, blocks []model.Block, cp *store.Checkpoint) error {
	f := s.f
	if err := f.st.Write(ctx, blocks, cp); err != nil {
		return err
	}
	if len(blocks) == 0 {
		return nil
	}
	// The store committed: the index follows. Should the append fail, the
	// index reloads the chain's new blocks from the store instead.
	if err := f.ix.Append(blocks); err != nil {
		f.log.Error("follow: graph append failed; reloading the new blocks from the store", "err", err)
		if lerr := f.ix.Load(context.WithoutCancel(ctx), f.st, f.src.Chain()); lerr != nil {
			return fmt.Errorf("index blocks %d–%d: %w", blocks[0].Number, blocks[len(blocks)-1].Number, errors.Join(err, lerr))
		}
	}
	var transfers, convs uint64
	for i := range blocks {
		transfers += uint64(len(blocks[i].Transfers))
		convs += uint64(len(blocks[i].Conversions))
	}
	f.mu.Lock()
	f.status.Blocks += uint64(len(blocks))
	f.status.Transfers += transfers
	f.status.Indexed = blocks[len(blocks)-1].Number
	f.status.NodeHead = max(f.status.NodeHead, f.status.Indexed)
	f.status.Lag = f.status.NodeHead - f.status.Indexed
	if convs > 0 {
		f.convs = true
	}
	f.mu.Unlock()
	return nil
}

func (s followStore) Checkpoint(name string) ([]byte, bool, error) { return s.f.st.Checkpoint(name) }

func (s followStore) BlockHash(chain model.Chain, n uint64) (string, bool, error) {
	return s.f.st.BlockHash(chain, n)
}

func (s followStore) Rollback(ctx context.Context, chain model.Chain, from, to uint64) error {
	f := s.f
	if err := f.st.Rollback(ctx, chain, from, to); err != nil {
		return err
	}
	f.ix.Truncate(chain, from)
	if f.ex != nil {
		f.ex.Invalidate() // cached answers may count the abandoned blocks
	}
	f.log.Warn("follow: reorganization rolled back", "chain", chain, "from", from, "to", to)
	f.mu.Lock()
	f.status.Reorgs++
	f.status.RolledBack += to - from + 1
	if f.status.Indexed >= from && from > 0 {
		f.status.Indexed = from - 1
	}
	f.convs = true
	f.mu.Unlock()
	return nil
}

// followFlags are serve's --follow-* flags.
type followFlags struct {
	rpc           string
	tracer        string
	rewards       string
	confirmations uint64
	poll          time.Duration
	from          uint64
	window        int
	fromSet       bool
	u             *url.URL
}

func (fo *followFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&fo.rpc, "follow-rpc", "", "follow this Ethereum node's head (JSON-RPC URL): ingest new blocks while serving")
	f.StringVar(&fo.tracer, "tracer", "auto", "with --follow-rpc, internal transfers from: auto, parity, geth or none")
	f.StringVar(&fo.rewards, "rewards", "", rewardsUsage)
	f.Uint64Var(&fo.confirmations, "confirmations", 0, "with --follow-rpc, stay this many blocks behind the node's head")
	f.DurationVar(&fo.poll, "poll", 2*time.Second, "with --follow-rpc, how often to poll the node for new blocks")
	f.Uint64Var(&fo.from, "follow-from", 0, "with --follow-rpc and no blocks of the chain in the store, the first block to ingest (default: the node's head)")
	f.IntVar(&fo.window, "follow-window", 100, "with --follow-rpc, blocks per atomic store write when catching up")
}

func (fo *followFlags) check(cmd *cobra.Command) error {
	if fo.rpc == "" {
		for _, n := range []string{"tracer", "rewards", "confirmations", "poll", "follow-from", "follow-window"} {
			if cmd.Flags().Changed(n) {
				return usagef("--%s needs --follow-rpc", n)
			}
		}
		return nil
	}
	u, err := url.Parse(fo.rpc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--follow-rpc %q: want an http:// or https:// URL", fo.rpc)
	}
	fo.u = u
	fo.fromSet = cmd.Flags().Changed("follow-from")
	if _, err := eth.ParseTracer(fo.tracer); err != nil {
		return usagef("--tracer: %v", err)
	}
	if _, err := parseRewards(fo.rewards); err != nil {
		return err
	}
	if fo.poll < 10*time.Millisecond {
		return usagef("--poll %s: want at least 10ms", fo.poll)
	}
	if fo.window < 1 {
		return usagef("--follow-window must be positive")
	}
	return nil
}

func (fo *followFlags) redacted() string { return redact(fo.u) }

// source makes the node adapter and probes the node (and its tracer).
func (fo *followFlags) source(ctx context.Context) (*eth.Adapter, error) {
	tr, _ := eth.ParseTracer(fo.tracer)
	rw, _ := parseRewards(fo.rewards)
	src := eth.New(fo.rpc, eth.Options{Tracer: tr, Rewards: rw})
	if err := src.Probe(ctx); err != nil {
		return nil, fmt.Errorf("--follow-rpc %s: %w", fo.redacted(), err)
	}
	return src, nil
}

func (fo *followFlags) follower(src ingest.Source, st *store.Store, gi *graph.Index, ex *exposure.Engine, log *slog.Logger) *follower {
	return &follower{src: src, st: st, ix: gi, ex: ex, log: log, conf: fo.confirmations, poll: fo.poll,
		from: fo.from, start: fo.fromSet, win: fo.window}
}
