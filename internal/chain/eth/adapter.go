package eth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/redthread/redthread/internal/model"
)

// Tracer selects where internal value transfers come from.
type Tracer string

// Tracers.
const (
	TracerAuto   Tracer = "auto"   // probe the node: parity first, then geth
	TracerParity Tracer = "parity" // trace_block (Erigon, Nethermind, Reth, OpenEthereum)
	TracerGeth   Tracer = "geth"   // debug_traceBlockByNumber with the callTracer
	TracerNone   Tracer = "none"   // no internal transfers
)

// ParseTracer checks a --tracer value.
func ParseTracer(s string) (Tracer, error) {
	switch t := Tracer(s); t {
	case TracerAuto, TracerParity, TracerGeth, TracerNone:
		return t, nil
	}
	return "", fmt.Errorf("unknown tracer %q (want auto, parity, geth or none)", s)
}

// Options configure an Adapter. Zero fields take the defaults.
type Options struct {
	Chain       model.Chain // default eth
	Tracer      Tracer      // default auto
	Batch       int         // blocks per JSON-RPC batch; default 10
	Concurrency int         // batches in flight; default 4
	// Rewards is the block reward schedule used with the geth tracer, whose
	// callTracer reports no rewards (trace_block does, and its figures are
	// used as they are). nil: KnownRewards of the node's eth_chainId; on
	// other chains proof-of-stake blocks (difficulty 0) earn nothing and a
	// proof-of-work block is an error.
	Rewards *RewardSchedule
	Client  ClientOptions
}

// Adapter reads normalized blocks from an Ethereum node over JSON-RPC.
type Adapter struct {
	c     *Client
	o     Options
	mu    sync.Mutex
	ready bool
	// blockReceipts is true when the node has eth_getBlockReceipts; otherwise
	// receipts are fetched one transaction at a time (in batches).
	blockReceipts bool
	// rewards is the schedule for computed rewards (geth tracer); nil: the
	// chain's schedule is unknown.
	rewards *RewardSchedule
	chainID string // eth_chainId as the node gave it, "" if it has none
}

// New returns an adapter for the node at url. It does not contact the node
// until the first call.
func New(url string, o Options) *Adapter {
	if o.Chain == "" {
		o.Chain = model.ChainETH
	}
	if o.Tracer == "" {
		o.Tracer = TracerAuto
	}
	if o.Batch <= 0 {
		o.Batch = 10
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	return &Adapter{c: NewClient(url, o.Client), o: o}
}

// Chain implements ingest.Source.
func (a *Adapter) Chain() model.Chain { return a.o.Chain }

// Tracer returns the tracer in use (after Probe or the first Blocks call).
func (a *Adapter) Tracer() Tracer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.o.Tracer
}

func hexNum(n uint64) string { return "0x" + strconv.FormatUint(n, 16) }

// Head returns the node's latest block number.
func (a *Adapter) Head(ctx context.Context) (uint64, error) {
	call := &Call{Method: "eth_blockNumber"}
	if err := a.c.Batch(ctx, []*Call{call}); err != nil {
		return 0, err
	}
	if call.Err != nil {
		return 0, call.Err
	}
	var s string
	if err := json.Unmarshal(call.Result, &s); err != nil {
		return 0, fmt.Errorf("eth_blockNumber: want a hex string, got %s", snippet(call.Result))
	}
	p := &parser{ctx: "eth_blockNumber"}
	n := p.u64("result", &s)
	return n, p.err
}

// Probe asks the node which methods it has: eth_getBlockReceipts (else
// receipts are fetched per transaction) and, for TracerAuto, trace_block
// then debug_traceBlockByNumber. Only a "method not found" answer counts as
// absent: other errors (such as pruned state) mean the method exists.
func (a *Adapter) Probe(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ready {
		return nil
	}
	var probeBlock uint64 = 1
	head, err := a.Head(ctx)
	if err != nil {
		return fmt.Errorf("probe node: %w", err)
	}
	if head == 0 {
		probeBlock = 0
	}
	calls := []*Call{
		{Method: "eth_getBlockReceipts", Params: []any{hexNum(probeBlock)}},
		{Method: "trace_block", Params: []any{hexNum(probeBlock)}},
		{Method: "debug_traceBlockByNumber", Params: []any{hexNum(probeBlock), gethTracerConfig}},
	}
	send := calls
	if a.o.Tracer != TracerAuto {
		send = calls[:1] // a chosen tracer is checked on first use
	}
	chainID := &Call{Method: "eth_chainId"}
	if a.o.Rewards == nil {
		send = append(send[:len(send):len(send)], chainID)
	}
	if err := a.c.Batch(ctx, send); err != nil {
		return fmt.Errorf("probe node: %w", err)
	}
	has := func(c *Call) bool {
		var mnf *MethodNotFoundError
		return !errors.As(c.Err, &mnf)
	}
	a.blockReceipts = has(calls[0])
	a.rewards = a.o.Rewards
	if a.o.Rewards == nil && chainID.Err == nil {
		var id string
		if err := json.Unmarshal(chainID.Result, &id); err != nil {
			return fmt.Errorf("probe node: eth_chainId: want a hex string, got %s", snippet(chainID.Result))
		}
		a.chainID = id
		p := &parser{ctx: "probe node: eth_chainId"}
		n := p.u64("result", &id)
		if p.err != nil {
			return p.err
		}
		a.rewards = KnownRewards(n)
	} else if a.o.Rewards == nil && has(chainID) {
		return fmt.Errorf("probe node: %w", chainID.Err)
	}
	if a.o.Tracer == TracerAuto {
		switch {
		case has(calls[1]):
			a.o.Tracer = TracerParity
		case has(calls[2]):
			a.o.Tracer = TracerGeth
		default:
			return fmt.Errorf("probe node: it supports neither trace_block nor debug_traceBlockByNumber, needed for internal transfers (use --tracer none to ingest without them): %v; %v", calls[1].Err, calls[2].Err)
		}
	}
	a.ready = true
	return nil
}

var gethTracerConfig = map[string]any{"tracer": "callTracer", "timeout": "300s"}

// Blocks fetches and normalizes blocks from..to (inclusive), in order. It
// returns whole blocks or an error, never a partial block.
func (a *Adapter) Blocks(ctx context.Context, from, to uint64) ([]model.Block, error) {
	if to < from {
		return nil, fmt.Errorf("block range %d..%d is empty", from, to)
	}
	if err := a.Probe(ctx); err != nil {
		return nil, err
	}
	n := to - from + 1
	out := make([]model.Block, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.o.Concurrency)
	for lo := from; lo <= to; lo += uint64(a.o.Batch) {
		hi := min(lo+uint64(a.o.Batch)-1, to)
		g.Go(func() error {
			blocks, err := a.fetchChunk(gctx, lo, hi)
			if err != nil {
				return err
			}
			copy(out[lo-from:], blocks)
			return nil
		})
		if hi == to {
			break // also guards against lo overflowing
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchChunk fetches blocks lo..hi with one batch (plus one for receipts
// when the node lacks eth_getBlockReceipts).
func (a *Adapter) fetchChunk(ctx context.Context, lo, hi uint64) ([]model.Block, error) {
	type perBlock struct{ block, receipts, trace *Call }
	cs := make([]perBlock, 0, hi-lo+1)
	var calls []*Call
	for n := lo; n <= hi; n++ {
		var pb perBlock
		pb.block = &Call{Method: "eth_getBlockByNumber", Params: []any{hexNum(n), true}}
		calls = append(calls, pb.block)
		if a.blockReceipts {
			pb.receipts = &Call{Method: "eth_getBlockReceipts", Params: []any{hexNum(n)}}
			calls = append(calls, pb.receipts)
		}
		switch {
		case n == 0:
			// The genesis block has no transactions; geth refuses to trace it.
		case a.o.Tracer == TracerParity:
			pb.trace = &Call{Method: "trace_block", Params: []any{hexNum(n)}}
		case a.o.Tracer == TracerGeth:
			pb.trace = &Call{Method: "debug_traceBlockByNumber", Params: []any{hexNum(n), gethTracerConfig}}
		}
		if pb.trace != nil {
			calls = append(calls, pb.trace)
		}
		cs = append(cs, pb)
	}
	if err := a.c.Batch(ctx, calls); err != nil {
		return nil, err
	}
	raws := make([]rawBlock, len(cs))
	var receiptCalls, uncleCalls []*Call
	for i, pb := range cs {
		n := lo + uint64(i)
		rb := &raws[i]
		rb.number = n
		if err := result(n, pb.block, &rb.block); err != nil {
			return nil, err
		}
		if rb.block == nil {
			return nil, fmt.Errorf("block %d: not found (is the node synced that far?)", n)
		}
		hashes, err := txHashes(n, rb.block)
		if err != nil {
			return nil, err
		}
		if pb.receipts != nil {
			if err := result(n, pb.receipts, &rb.receipts); err != nil {
				return nil, err
			}
			if rb.receipts == nil && len(hashes) > 0 {
				return nil, fmt.Errorf("block %d: eth_getBlockReceipts returned null", n)
			}
		} else {
			rb.receipts = make([]rpcReceipt, len(hashes))
			for _, h := range hashes {
				receiptCalls = append(receiptCalls, &Call{Method: "eth_getTransactionReceipt", Params: []any{h}})
			}
		}
		if pb.trace != nil && len(hashes) == 0 && a.o.Tracer == TracerGeth {
			// Nothing to trace (geth refuses such blocks anyway). trace_block
			// is still read: an empty block has its miner's reward.
			pb.trace = nil
		}
		if a.o.Tracer == TracerGeth {
			uc, err := a.uncleCalls(rb)
			if err != nil {
				return nil, err
			}
			rb.uncleCalls = uc
			uncleCalls = append(uncleCalls, uc...)
		}
		if pb.trace != nil {
			switch a.o.Tracer {
			case TracerParity:
				var ts []parityTrace
				if err := result(n, pb.trace, &ts); err != nil {
					return nil, err
				}
				rb.traces, rb.rewards, err = parityMoves(n, ts, hashes)
				if len(hashes) == 0 {
					rb.traces = nil
				}
			case TracerGeth:
				var ts []gethTxTrace
				if err := result(n, pb.trace, &ts); err != nil {
					return nil, err
				}
				rb.traces, err = gethMoves(n, ts, hashes)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if more := append(receiptCalls[:len(receiptCalls):len(receiptCalls)], uncleCalls...); len(more) > 0 {
		const maxCalls = 100 // providers often cap batches near here
		for i := 0; i < len(more); i += maxCalls {
			if err := a.c.Batch(ctx, more[i:min(i+maxCalls, len(more))]); err != nil {
				return nil, err
			}
		}
	}
	if len(receiptCalls) > 0 {
		k := 0
		for i := range raws {
			rb := &raws[i]
			for j := range rb.receipts {
				call := receiptCalls[k]
				k++
				var r *rpcReceipt
				if err := result(rb.number, call, &r); err != nil {
					return nil, err
				}
				if r == nil {
					return nil, fmt.Errorf("block %d: receipt of tx %v not found", rb.number, call.Params[0])
				}
				rb.receipts[j] = *r
			}
		}
	}
	if a.o.Tracer == TracerGeth {
		for i := range raws {
			if err := a.computeRewards(&raws[i]); err != nil {
				return nil, err
			}
		}
	}
	blocks := make([]model.Block, len(raws))
	for i := range raws {
		b, err := normalize(a.o.Chain, &raws[i])
		if err != nil {
			return nil, err
		}
		blocks[i] = b
	}
	return blocks, nil
}

// result decodes a call's result into v, naming the block and method on error.
func result(block uint64, c *Call, v any) error {
	if c.Err != nil {
		var re *RPCError
		if errors.As(c.Err, &re) && (c.Method == "trace_block" || c.Method == "debug_traceBlockByNumber") {
			m := strings.ToLower(re.Message)
			if strings.Contains(m, "historical state") || strings.Contains(m, "missing trie node") || strings.Contains(m, "state not available") || strings.Contains(m, "pruned") {
				return fmt.Errorf("block %d: %w (the node has pruned the state needed to trace this block: use an archive node, a more recent --from, or --tracer none)", block, c.Err)
			}
		}
		return fmt.Errorf("block %d: %w", block, c.Err)
	}
	if err := json.Unmarshal(c.Result, v); err != nil {
		return fmt.Errorf("block %d: decode %s result: %w", block, c, err)
	}
	return nil
}

func txHashes(block uint64, b *rpcBlock) ([]string, error) {
	hs := make([]string, len(b.Transactions))
	for i := range b.Transactions {
		p := &parser{ctx: fmt.Sprintf("block %d: tx %d", block, i)}
		hs[i] = p.hash("hash", b.Transactions[i].Hash)
		if p.err != nil {
			return nil, p.err
		}
	}
	return hs, nil
}

// uncleCalls decides whether a block traced without reward traces (geth)
// paid rewards by the consensus rules and, if it did, returns the calls that
// fetch its uncles' headers (eth_getUncleByBlockHashAndIndex: by hash, so
// that a reorganization cannot mix two blocks' uncles). rb.rewardsDue is set.
func (a *Adapter) uncleCalls(rb *rawBlock) ([]*Call, error) {
	n, b := rb.number, rb.block
	p := &parser{ctx: fmt.Sprintf("block %d", n)}
	pos := false // proof of stake: difficulty 0
	if b.Difficulty != nil {
		d := p.u256("difficulty", b.Difficulty)
		pos = d.IsZero()
	}
	hash := p.hash("hash", b.Hash)
	if p.err != nil {
		return nil, p.err
	}
	if pos || n == 0 {
		return nil, nil
	}
	if a.rewards == nil {
		if b.Difficulty == nil {
			return nil, fmt.Errorf("block %d: field \"difficulty\": missing, and the chain's reward schedule is unknown: proof of work and proof of stake cannot be told apart (set a reward schedule with --rewards, or use the parity tracer)", n)
		}
		chain := "a chain other than Ethereum mainnet"
		if a.chainID != "" {
			chain = "chain id " + a.chainID
		}
		return nil, fmt.Errorf("block %d: proof-of-work block (difficulty %s) on %s: the geth tracer reports no block or uncle rewards and redthread knows only mainnet's schedule; set a reward schedule (--rewards none, or BLOCK:WEI steps with merge:BLOCK) or use the parity tracer, whose trace_block reports rewards", n, *b.Difficulty, chain)
	}
	if _, ok := a.rewards.blockReward(n); !ok {
		return nil, nil
	}
	rb.rewardsDue = true
	calls := make([]*Call, len(b.Uncles))
	for i := range b.Uncles {
		calls[i] = &Call{Method: "eth_getUncleByBlockHashAndIndex", Params: []any{hash, hexNum(uint64(i))}}
	}
	return calls, nil
}

// computeRewards fills rb.rewards from the reward schedule and the uncle
// headers fetched by uncleCalls.
func (a *Adapter) computeRewards(rb *rawBlock) error {
	if !rb.rewardsDue {
		return nil
	}
	n := rb.number
	p := &parser{ctx: fmt.Sprintf("block %d", n)}
	miner := p.address("miner", rb.block.Miner)
	if p.err != nil {
		return p.err
	}
	uncles := make([]uncleHeader, len(rb.uncleCalls))
	for i, c := range rb.uncleCalls {
		var u *rpcUncle
		var mnf *MethodNotFoundError
		if errors.As(c.Err, &mnf) {
			return fmt.Errorf("block %d: uncle %d: %w: needed for uncle rewards with the geth tracer (use the parity tracer, whose trace_block reports rewards)", n, i, mnf)
		}
		if c.Err != nil {
			return fmt.Errorf("block %d: uncle %d: %w", n, i, c.Err)
		}
		if err := json.Unmarshal(c.Result, &u); err != nil {
			return fmt.Errorf("block %d: uncle %d: decode %s result: %w", n, i, c, err)
		}
		up := &parser{ctx: fmt.Sprintf("block %d: uncle %d", n, i)}
		if u == nil {
			return fmt.Errorf("%s: eth_getUncleByBlockHashAndIndex returned null (reorg during fetch?)", up.ctx)
		}
		want, _ := model.NormalizeHash(rb.block.Uncles[i])
		if h := up.hash("hash", u.Hash); up.err == nil && h != want {
			up.fail("hash", "%s, but the block lists uncle %s", h, rb.block.Uncles[i])
		}
		uncles[i].number = up.u64("number", u.Number)
		uncles[i].miner = up.address("miner", u.Miner)
		if up.err != nil {
			return up.err
		}
	}
	rs, err := a.rewards.computeRewards(n, miner, false, uncles)
	rb.rewards = rs
	return err
}
