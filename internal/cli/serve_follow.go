package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
// rolls the index back with the store on a reorganization. serve runs one
// per followed chain, concurrently; they share wmu.
//
// A node that could not be reached when the server started has no source
// yet: run first calls connect, with backoff, until the node answers
// (probing its tracer and checking its chain id then), so the server
// serves what the store holds meanwhile.
type follower struct {
	chain model.Chain
	src   ingest.Source // nil until the node has been reached
	// connect reaches the node and returns its source; an error that is
	// not a nodeUnreachableError means the node answered but cannot be
	// followed (the follower stops).
	connect func(ctx context.Context) (ingest.Source, error)
	st      *store.Store
	ix      *graph.Index
	ex      *exposure.Engine // cache dropped on rollbacks (may be nil)
	// wmu, shared by the server's followers, holds each store write (or
	// rollback) together with the graph index's append (or truncation), so
	// followers of different chains commit one after the other and the
	// index receives the windows in the order the store committed them.
	wmu   *sync.Mutex
	log   *slog.Logger
	conf  uint64
	poll  time.Duration
	from  uint64 // first block when the store has none of the chain
	start bool   // from was given (--follow-from)
	win   int
	// maxBackoff caps the delay between attempts to reach the node.
	maxBackoff time.Duration
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
	chain := f.chain
	if f.src == nil && !f.reach(ctx) {
		return
	}
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
			f.status.State = api.FollowFailing
		} else {
			f.status.Error = ""
			f.status.State = api.FollowFollowing
			f.status.LastProgress = f.status.LastPoll
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

// reach calls connect until the node answers, waiting --poll after the
// first failure and twice as long after each next one, up to maxBackoff;
// each failure is logged and counted in the status. It returns false when
// ctx is done or the node answered but was refused (a configuration error:
// the state says "refused" and the follower stops).
func (f *follower) reach(ctx context.Context) bool {
	delay := f.poll
	for attempt := 1; ; attempt++ {
		src, err := f.connect(ctx)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			f.src = src
			f.mu.Lock()
			f.status.State, f.status.Error = api.FollowFollowing, ""
			f.status.LastProgress = time.Now().UTC()
			f.mu.Unlock()
			f.log.Info("follow: node reached; following", "chain", f.chain, "attempts", attempt)
			return true
		}
		f.mu.Lock()
		f.status.Errors++
		f.status.Error = err.Error()
		var unreachable *nodeUnreachableError
		if !errors.As(err, &unreachable) {
			f.status.State = api.FollowRefused
			f.mu.Unlock()
			f.log.Error("follow: the node answered but cannot be followed; this chain is not followed until the server restarts with a fixed flag",
				"chain", f.chain, "err", err)
			return false
		}
		f.status.State = api.FollowConnecting
		f.mu.Unlock()
		f.log.Warn("follow: node unreachable; retrying", "chain", f.chain, "attempt", attempt, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, max(f.maxBackoff, f.poll))
	}
}

func (f *follower) pollOnce(ctx context.Context) error {
	chain := f.chain
	head, err := f.src.Head(ctx)
	if err != nil {
		return fmt.Errorf("read node head: %w", err)
	}
	from, err := f.nextBlock(head)
	if err != nil {
		return err
	}
	stats, err := ingest.Run(ctx, f.src, followStore{f}, ingest.Options{From: from, ToHead: true,
		Confirmations: f.conf, Window: f.win, Log: f.log.With("chain", string(chain))})
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
// genesis. While a rollback is recorded in the chain's checkpoint but not
// finished (a crash, or a stop or store error in the middle of the chunked
// rollback), the stored blocks above the fork point are about to be
// removed by the ingester: it resumes after the fork point instead, or the
// new branch's first blocks would never be ingested.
func (f *follower) nextBlock(head uint64) (uint64, error) {
	if last, ok, err := ingest.UnfinishedRollback(f.st, f.chain, ""); err != nil {
		return 0, fmt.Errorf("read checkpoint ingest/%s: %w", f.chain, err)
	} else if ok {
		return last + 1, nil
	}
	h, ok, err := f.st.Head(f.chain)
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
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if err := f.st.Write(ctx, blocks, cp); err != nil {
		return err
	}
	if len(blocks) == 0 {
		return nil
	}
	// The store committed: the index follows. Should the append fail, the
	// index reloads the chain's new blocks from the store instead.
	if err := f.ix.Append(blocks); err != nil {
		f.log.Error("follow: graph append failed; reloading the new blocks from the store", "chain", f.chain, "err", err)
		if lerr := f.ix.Load(context.WithoutCancel(ctx), f.st, f.chain); lerr != nil {
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
	f.status.LastProgress = time.Now().UTC()
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
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if err := f.st.Rollback(ctx, chain, from, to); err != nil {
		return err
	}
	f.ix.Truncate(chain, from)
	if f.ex != nil {
		f.ex.InvalidateChain(chain) // this chain's cached answers may count the abandoned blocks
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
	rpc           string   // --follow-rpc URL: the node of chain eth
	follow        []string // --follow CHAIN=URL, repeatable
	tracer        perChain // auto|parity|geth|none
	rewards       string
	confirmations perChain // uint64
	from          perChain // uint64 (--follow-from)
	maxLag        perChain // uint64 (--follow-max-lag)
	poll          time.Duration
	window        int
	stall         time.Duration // --follow-stall
	nodes         []followNode  // parsed by check, in flag order (--follow-rpc first)
}

// perChain is a follow setting given as VALUE (every followed node) or
// CHAIN=VALUE (that chain's node, overriding VALUE); the flag repeats.
type perChain struct {
	def   string
	set   bool // VALUE given (not the default)
	by    map[model.Chain]string
	check func(string) error
}

func (p *perChain) String() string {
	out := []string{p.def}
	for c, v := range p.by {
		out = append(out, string(c)+"="+v)
	}
	slices.Sort(out[1:])
	return strings.Join(out, ",")
}

func (p *perChain) Type() string { return "[CHAIN=]VALUE" }

func (p *perChain) Set(v string) error {
	v = strings.TrimSpace(v)
	if c, val, ok := strings.Cut(v, "="); ok {
		chain := model.Chain(strings.ToLower(strings.TrimSpace(c)))
		if !followable(chain) {
			return fmt.Errorf("%q: chain %q is not an EVM chain redthread knows (want one of %s)", v, c, strings.Join(followChainNames(), ", "))
		}
		if err := p.check(val); err != nil {
			return fmt.Errorf("%q: %w", v, err)
		}
		if p.by == nil {
			p.by = map[model.Chain]string{}
		}
		p.by[chain] = val
		return nil
	}
	if err := p.check(v); err != nil {
		return err
	}
	p.def, p.set = v, true
	return nil
}

// get returns chain's value and whether it was given (for chain or all).
func (p *perChain) get(c model.Chain) (string, bool) {
	if v, ok := p.by[c]; ok {
		return v, true
	}
	return p.def, p.set
}

func (p *perChain) uint(c model.Chain) (uint64, bool) {
	v, set := p.get(c)
	n, _ := strconv.ParseUint(v, 10, 64) // checked by Set
	return n, set
}

func checkUint(v string) error {
	if _, err := strconv.ParseUint(v, 10, 64); err != nil {
		return fmt.Errorf("want a block count or number, got %q", v)
	}
	return nil
}

func checkTracer(v string) error { _, err := eth.ParseTracer(v); return err }

// followNode is one followed node and the chain its blocks are stored as.
type followNode struct {
	chain  model.Chain
	rpc    string
	u      *url.URL
	legacy bool // given as --follow-rpc (chain eth, a chain-id mismatch only warns)
}

func (n followNode) flag() string {
	if n.legacy {
		return "--follow-rpc " + redact(n.u)
	}
	return "--follow " + string(n.chain) + "=" + redact(n.u)
}

func (fo *followFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&fo.rpc, "follow-rpc", "", "`URL`: follow this Ethereum node (JSON-RPC) as chain eth: ingest new blocks while serving (same as --follow eth=URL)")
	f.StringArrayVar(&fo.follow, "follow", nil, "`CHAIN=URL`: follow the EVM node at URL as chain CHAIN (eth, bsc, arb, op, base, polygon, avax, ftm or etc); repeat for several chains, one node each")
	fo.tracer = perChain{def: "auto", check: checkTracer}
	fo.confirmations = perChain{def: "0", check: checkUint}
	fo.from = perChain{def: "0", check: checkUint}
	fo.maxLag = perChain{def: strconv.Itoa(defaultFollowMaxLag), check: checkUint}
	f.Var(&fo.tracer, "tracer", "with --follow-rpc/--follow, internal transfers from: auto, parity, geth or none; CHAIN=TRACER sets one chain's node (repeatable)")
	f.StringVar(&fo.rewards, "rewards", "", rewardsUsage)
	f.Var(&fo.confirmations, "confirmations", "with --follow-rpc/--follow, stay N blocks behind the node's head; CHAIN=N sets one chain's (repeatable)")
	f.DurationVar(&fo.poll, "poll", 2*time.Second, "with --follow-rpc/--follow, how often to poll each node for new blocks")
	f.Var(&fo.from, "follow-from", "with --follow-rpc/--follow, the first block to ingest of a followed chain with no blocks in the store (default: the node's head); CHAIN=N sets one chain's (repeatable)")
	f.IntVar(&fo.window, "follow-window", 100, "with --follow-rpc/--follow, blocks per atomic store write when catching up")
	f.DurationVar(&fo.stall, "follow-stall", defaultFollowStall, "with --follow-rpc/--follow, /healthz says degraded when a chain's follower finished no poll and wrote no block for this long (a node that hangs; 0: no bound; at least 1s and 3 × --poll; default 2m or 3 × --poll if longer)")
	f.Var(&fo.maxLag, "follow-max-lag", "with --follow-rpc/--follow, blocks a chain may lag beyond its confirmations before /healthz says degraded (0: no bound); CHAIN=N sets one chain's (repeatable)")
}

// following reports whether any node is followed (after check).
func (fo *followFlags) following() bool { return len(fo.nodes) > 0 }

func (fo *followFlags) check(cmd *cobra.Command) error {
	fo.nodes = nil
	if fo.rpc == "" && len(fo.follow) == 0 {
		for _, n := range []string{"tracer", "rewards", "confirmations", "poll", "follow-from", "follow-window", "follow-max-lag", "follow-stall"} {
			if cmd.Flags().Changed(n) {
				return usagef("--%s needs --follow-rpc or --follow", n)
			}
		}
		return nil
	}
	parseURL := func(flag, raw string) (*url.URL, error) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("%s%s: want an http:// or https:// URL", flag, shownURL(raw))
		}
		return u, nil
	}
	seen := map[model.Chain]string{}
	add := func(n followNode) error {
		if prev, ok := seen[n.chain]; ok {
			return usagef("%s: chain %s is already followed (%s); follow one node per chain", n.flag(), n.chain, prev)
		}
		seen[n.chain] = n.flag()
		fo.nodes = append(fo.nodes, n)
		return nil
	}
	if fo.rpc != "" {
		u, err := parseURL("--follow-rpc ", fo.rpc)
		if err != nil {
			return err
		}
		if err := add(followNode{chain: model.ChainETH, rpc: fo.rpc, u: u, legacy: true}); err != nil {
			return err
		}
	}
	for _, v := range fo.follow {
		name, raw, ok := strings.Cut(v, "=")
		if !ok || name == "" || raw == "" || strings.ContainsAny(name, ":/@?") { // no CHAIN= before a URL
			return usagef("--follow %s: want CHAIN=URL, e.g. --follow bsc=http://127.0.0.1:8545", shownFollow(v))
		}
		chain := model.Chain(strings.ToLower(strings.TrimSpace(name)))
		if !followable(chain) {
			return usagef("--follow %s: chain %s is not an EVM chain redthread knows (want one of %s)", shownFollow(v), shownURL(name), strings.Join(followChainNames(), ", "))
		}
		u, err := parseURL("--follow "+string(chain)+"=", strings.TrimSpace(raw))
		if err != nil {
			return err
		}
		if err := add(followNode{chain: chain, rpc: strings.TrimSpace(raw), u: u}); err != nil {
			return err
		}
	}
	for name, p := range map[string]*perChain{"tracer": &fo.tracer, "confirmations": &fo.confirmations, "follow-from": &fo.from, "follow-max-lag": &fo.maxLag} {
		for c := range p.by {
			if _, ok := seen[c]; !ok {
				return usagef("--%s %s=%s: chain %s is not followed", name, c, p.by[c], c)
			}
		}
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
	// A healthy follower makes progress every --poll plus the poll's own
	// time, so a bound of --poll or less would flap between polls.
	if !cmd.Flags().Changed("follow-stall") {
		fo.stall = max(defaultFollowStall, followStallPolls*fo.poll)
	} else if fo.stall != 0 && (fo.stall < time.Second || fo.stall < followStallPolls*fo.poll) {
		return usagef("--follow-stall %s: want 0 (no bound) or at least 1s and %d × --poll (%s)", fo.stall, followStallPolls, followStallPolls*fo.poll)
	}
	return nil
}

// evmChainIDs are the chain ids of the EVM chains redthread names; a node
// reporting one of them is that chain.
var evmChainIDs = map[uint64]model.Chain{1: "eth", 56: "bsc", 42161: "arb", 10: "op", 8453: "base", 137: "polygon",
	43114: "avax", 250: "ftm", 61: "etc"}

// shownURL is raw as a message may show it: whole when it holds no
// credentials, path or query (where API keys live), else scheme and host
// only, or nothing of it when it cannot be parsed.
func shownURL(raw string) string {
	if !strings.ContainsAny(raw, "@/?#") {
		return strconv.Quote(raw) // e.g. localhost:8545
	}
	u, err := url.Parse(raw)
	if err == nil && u.User == nil && u.RawQuery == "" && u.Fragment == "" && u.Opaque == "" && (u.Path == "" || u.Path == "/") {
		return strconv.Quote(raw)
	}
	if err == nil && u.Host != "" {
		return strconv.Quote(redact(u))
	}
	return "(a URL not shown: it may hold credentials)"
}

// shownFollow is a --follow value as a message may show it (shownURL for
// its URL).
func shownFollow(v string) string {
	name, raw, ok := strings.Cut(v, "=")
	if !ok || strings.ContainsAny(name, ":/@?") {
		return shownURL(v) // no CHAIN= (or the = is inside a URL's query)
	}
	return strconv.Quote(name+"=") + " " + shownURL(raw)
}

// followable reports whether a chain can be followed over EVM JSON-RPC.
func followable(c model.Chain) bool {
	for _, k := range evmChainIDs {
		if k == c {
			return true
		}
	}
	return false
}

func followChainNames() []string {
	var out []string
	for _, c := range serveKnownChains {
		if followable(c) {
			out = append(out, string(c))
		}
	}
	return out
}

// nodeUnreachableError is a failure to get a JSON-RPC answer from a node
// (connection refused, timeout, an HTTP error status, a body that is not
// JSON-RPC): serve starts anyway and the follower retries. Every other
// error of source means the node answered and cannot be followed.
type nodeUnreachableError struct{ err error }

func (e *nodeUnreachableError) Error() string { return e.err.Error() }
func (e *nodeUnreachableError) Unwrap() error { return e.err }

// reachTimeout bounds one attempt to get the chain id of a node, so a
// node that does not answer at all delays the start by at most that.
const reachTimeout = 10 * time.Second

// defaultFollowMaxLag is --follow-max-lag's default: blocks beyond the
// confirmations before /healthz says degraded.
const defaultFollowMaxLag = 64

// defaultFollowStall is --follow-stall's default when 3 × --poll
// (followStallPolls) is shorter.
const defaultFollowStall = 2 * time.Minute

// followStallPolls is the least --follow-stall in --poll periods.
const followStallPolls = 3

// followMaxBackoff caps the delay between attempts to reach a node that
// has not answered yet (or --poll, if longer).
const followMaxBackoff = 30 * time.Second

// source makes the node adapter of n: it asks the node's chain id (one
// attempt, no retries: a failure here is a nodeUnreachableError, retried by
// the follower), checks that a chain id redthread knows names n's chain,
// then probes the node and its tracer (a failed probe of a node that then
// no longer answers is a nodeUnreachableError too).
func (fo *followFlags) source(ctx context.Context, n followNode, log *slog.Logger) (*eth.Adapter, error) {
	id, err := askChainID(ctx, n)
	if err != nil {
		return nil, err
	}
	if err := checkChainID(n, id, log); err != nil {
		return nil, err
	}
	tv, _ := fo.tracer.get(n.chain)
	tr, _ := eth.ParseTracer(tv)
	rw, _ := parseRewards(fo.rewards)
	src := eth.New(n.rpc, eth.Options{Chain: n.chain, Tracer: tr, Rewards: rw})
	if err := src.Probe(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A node that stopped answering right after its chain id (it went
		// down again, its proxy answers errors) failed the probe for that
		// reason: it is unreachable, and retried. One that still answers
		// failed it for a reason of its own (no tracer): refused.
		if _, aerr := askChainID(ctx, n); aerr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &nodeUnreachableError{fmt.Errorf("%s: %w (and it no longer answers eth_chainId)", n.flag(), err)}
		}
		return nil, fmt.Errorf("%s: %w", n.flag(), err)
	}
	conf, _ := fo.confirmations.uint(n.chain)
	log.Info("following node", "chain", n.chain, "rpc", redact(n.u), "tracer", string(src.Tracer()), "poll", fo.poll, "confirmations", conf)
	return src, nil
}

// askChainID asks n its eth_chainId, one attempt of at most reachTimeout;
// no JSON-RPC answer is a nodeUnreachableError.
func askChainID(ctx context.Context, n followNode) (*eth.Call, error) {
	id := &eth.Call{Method: "eth_chainId"}
	if err := eth.NewClient(n.rpc, eth.ClientOptions{Timeout: reachTimeout, Retries: -1}).Batch(ctx, []*eth.Call{id}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &nodeUnreachableError{fmt.Errorf("%s: %w", n.flag(), err)}
	}
	return id, nil
}

// checkChainID refuses a node whose eth_chainId answer names a chain other
// than n's (only warns for --follow-rpc); an error answer or an unknown id
// is accepted as the chain given.
func checkChainID(n followNode, id *eth.Call, log *slog.Logger) error {
	if id.Err != nil {
		log.Warn("follow: the node's chain id is unknown; its blocks are stored as the chain given", "node", n.flag(), "err", id.Err)
		return nil
	}
	var hexID string
	if err := json.Unmarshal(id.Result, &hexID); err != nil {
		return fmt.Errorf("%s: eth_chainId: want a hex string, got %.40s", n.flag(), id.Result)
	}
	num, err := strconv.ParseUint(strings.TrimPrefix(hexID, "0x"), 16, 64)
	if err != nil || !strings.HasPrefix(hexID, "0x") {
		return fmt.Errorf("%s: eth_chainId: want a hex quantity, got %q", n.flag(), hexID)
	}
	if known, ok := evmChainIDs[num]; ok && known != n.chain {
		if n.legacy {
			log.Warn("follow: the node's chain id names another chain; its blocks are stored as eth, as --follow-rpc always did (use --follow "+string(known)+"=URL)",
				"node", n.flag(), "chain_id", num, "chain", known)
			return nil
		}
		return usagef("%s: the node reports chain id %d, which is %s, not %s", n.flag(), num, known, n.chain)
	}
	return nil
}

// follower makes the follower of chain; src is nil when the node has not
// been reached yet (then connect must be set before run).
func (fo *followFlags) follower(chain model.Chain, src ingest.Source, st *store.Store, gi *graph.Index, ex *exposure.Engine, wmu *sync.Mutex, log *slog.Logger) *follower {
	conf, _ := fo.confirmations.uint(chain)
	from, start := fo.from.uint(chain)
	maxLag, _ := fo.maxLag.uint(chain)
	f := &follower{chain: chain, src: src, st: st, ix: gi, ex: ex, wmu: wmu, log: log, conf: conf,
		poll: fo.poll, from: from, start: start, win: fo.window, maxBackoff: followMaxBackoff}
	f.status.Chain, f.status.Confirmations, f.status.MaxLag = string(chain), conf, maxLag
	f.status.StallAfter = uint64(fo.stall.Round(time.Second) / time.Second)
	f.status.State, f.status.LastProgress = api.FollowFollowing, time.Now().UTC()
	if src == nil {
		f.status.State, f.status.LastProgress = api.FollowConnecting, time.Time{}
	}
	return f
}

// followerSet is every follower of the server; /healthz and /metrics report
// each chain (api.FollowerSet).
type followerSet []*follower

// FollowStatus implements api.Follower: the first follower's status.
func (s followerSet) FollowStatus() api.FollowStatus { return s[0].FollowStatus() }

// FollowStatuses implements api.FollowerSet, in flag order.
func (s followerSet) FollowStatuses() []api.FollowStatus {
	out := make([]api.FollowStatus, len(s))
	for i, f := range s {
		out[i] = f.FollowStatus()
	}
	return out
}
