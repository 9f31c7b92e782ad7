package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/cluster"
	"github.com/redthread/redthread/internal/convert"
	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/ingest"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
	"github.com/redthread/redthread/internal/web"
)

func init() { register(newServeCmd) }

// serveKnownChains are the chain names serve knows (the followable ones are
// offered to --follow).
var serveKnownChains = []model.Chain{"eth", "btc", "synth", "synth2", "bsc", "arb", "op", "base", "polygon", "avax", "ftm", "etc", "tron"}

func newServeCmd(e *env) *cobra.Command {
	var (
		listen, token, chainsFlag string
		timeout                   time.Duration
		noScreen                  bool
		cacheEntries              int
		residentMiB               int
		labels, convs             []string
		swapFiles, bridgeFiles    []string
		noStored                  bool
		fo                        followFlags
	)
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8080] [--token T]",
		Short: "Serve the investigator web UI and the JSON API (exposure, trace, screening, addresses) over HTTP",
		Long: `Serve redthread's HTTP API: JSON under /api/v1 (exposure of one address or a
batch of up to 10,000, traces, screening batches of up to 1,000 names, address
summaries), its OpenAPI document at /api/v1/openapi.json, /healthz and
Prometheus metrics at /metrics. Routes and examples: docs/api.md. The
investigator web UI is at / (docs/ui.md); its cases are kept under
DATA/cases.

At start the graph index of every chain in the ledger store (or of --chains) is
built in memory, and the intel store and the screening index are loaded.
Exposures are cached until the graph or the attributions change. --labels adds
label files to the intel store's attributions; the swaps and bridges recorded
in the ledger store at ingestion (unless --no-stored-conversions) and those of
--conversions, --swaps and --bridges files are the conversions the trace route
follows; bridge deposits without a payout are listed by GET
/api/v1/bridges/pending/CHAIN and in traces' pending_bridges.

Inferred exchange deposit addresses ('redthread intel infer deposits') are part
of the intel: exposure and address routes see them; traces use them when the
request sets "deposit_heuristic". POST /api/v1/intel/infer/deposits recomputes a
chain's set from the served graph, stores it and reloads the attributions (the
way to keep it current while following a node; docs/api.md).

--follow-rpc URL makes the server follow an Ethereum node: in the background
it ingests new blocks (as 'redthread ingest eth --head' would, with --tracer and
--confirmations) every --poll into the same ledger store, appends each
committed window to the graph index, and rolls both back when the node
reorganizes, so exposure and trace answers include a new block within one
poll (the web UI's traces and the pending bridge deposits too). It resumes
after the newest stored block of the chain, else at
--follow-from, else at the node's current head. /healthz and /metrics show the
node's head, the newest indexed block and the lag (docs/live-index.md).

--follow CHAIN=URL does the same for a node of any EVM chain redthread names
(eth, bsc, arb, op, base, polygon, avax, ftm, etc), storing its blocks as
CHAIN; repeat it to follow several chains at once, one node per chain
(--follow-rpc URL is --follow eth=URL). Each chain has its own poll loop,
checkpoint, reorganization handling and progress (/healthz "follows",
/metrics {chain="..."}); a node that fails at run time only fails its own
polls, retried every --poll, while the others go on. --tracer,
--confirmations and --follow-from take VALUE for every node or CHAIN=VALUE for
one chain's (repeat the flag: --confirmations 12 --confirmations bsc=15);
--follow-max-lag likewise; --poll and --follow-window apply to every node.

A node that does not answer at start (connection refused, timeout, an HTTP
error) does not stop the start: the server serves what the store holds, and
that chain's follower retries with backoff (--poll, doubling, at most 30s;
each attempt logged), then probes the node and follows it. A bad flag, or a
node that answers but whose eth_chainId is a known chain other than CHAIN,
is refused at start; found later, it stops that chain's follower. /healthz
says "degraded" (HTTP 200) while a chain's node is unreached, refused,
failing, without progress for --follow-stall (a hung node), or more than
--follow-max-lag blocks behind beyond its confirmations, and 503 only when
the store cannot be read.

The server binds to 127.0.0.1 by default. Binding any other address requires
an access token (--token, or the REDTHREAD_TOKEN environment variable, which
keeps it out of the process list); every request but /healthz must then send
"Authorization: Bearer TOKEN". Request bodies are size-limited and every
request has a deadline (--timeout). SIGHUP reloads the intel store (and the
screening index) and drops the exposure cache; SIGINT or SIGTERM stops the
server gracefully.`,
		Example: `  redthread serve
  curl -s localhost:8080/api/v1/exposure/eth/0x098b716b8aaf21512996dc57eb0615e2383e2f96
  REDTHREAD_TOKEN=$(openssl rand -hex 16) redthread serve --listen 0.0.0.0:8080
  redthread serve --chains synth,synth2 --listen 127.0.0.1:9000
  redthread serve --follow-rpc http://127.0.0.1:8545 --tracer geth --confirmations 2 --poll 4s
  redthread serve --follow eth=http://10.0.0.5:8545 --follow bsc=http://10.0.0.6:8545 --confirmations 12 --confirmations bsc=15`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("REDTHREAD_TOKEN")
			}
			if err := api.CheckListen(listen, token); err != nil {
				return usagef("%v", err)
			}
			if timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			if err := fo.check(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := e.logger()
			o := api.Options{Token: token, RequestTimeout: timeout, Logger: log}

			// Intel and screening, loaded again on SIGHUP.
			loadIntel := func() (exposure.Attributor, api.Screener, error) {
				attr, err := e.exposureAttributor(labels, false)
				if err != nil {
					return nil, nil, err
				}
				if noScreen {
					return attr, nil, nil
				}
				ix, err := screen.OpenIndex(e.intelStore(), screen.Options{})
				if err != nil {
					return nil, nil, err
				}
				log.Info("screening index built", "entities", ix.Stats().Entities, "took", ix.BuildDur.Round(time.Millisecond))
				return attr, ix, nil
			}
			attr, scr, err := loadIntel()
			if err != nil {
				return err
			}
			o.Attributor, o.Screener = attr, scr
			// The server and the UI, once built; reloadAttr reloads the
			// attributions only (after an inference), keeping the screener.
			var (
				srv *api.Server
				ui  *web.Handler
				// reloadMu serializes whole reloads (read and apply), so a
				// reload that read the intel store earlier cannot be applied
				// after one that read it later; it guards attr and scr once
				// the server runs.
				reloadMu sync.Mutex
			)
			// apply serves a and sc (reloadMu held).
			apply := func(a exposure.Attributor, sc api.Screener) {
				attr, scr = a, sc
				srv.SetAttributor(a)
				srv.SetScreener(sc)
				ui.SetIntel(uiIntel(a, sc))
			}
			reloadAttr := func() error {
				reloadMu.Lock()
				defer reloadMu.Unlock()
				a, err := e.exposureAttributor(labels, false)
				if err != nil {
					return err
				}
				apply(a, scr)
				return nil
			}

			// Ledger and graph.
			ledgerDir := filepath.Join(e.dataDir, "ledger")
			var fols followerSet
			var reloadConversions func(context.Context) error
			if _, err := os.Stat(ledgerDir); errors.Is(err, fs.ErrNotExist) && !fo.following() {
				log.Warn("no ledger store: exposure, trace and address routes answer 503 until one is ingested", "dir", ledgerDir)
			} else {
				// Every node is tried before the store opens: a bad flag or
				// a node that answers but cannot be followed (its chain id
				// names another chain, no tracer) stops the start; a node
				// that does not answer is retried by its follower while the
				// server serves what the store holds.
				srcs := make([]*eth.Adapter, len(fo.nodes)) // nil: not reached yet
				startErrs := make([]error, len(fo.nodes))
				for i, n := range fo.nodes {
					src, err := fo.source(ctx, n, log)
					var unreachable *nodeUnreachableError
					switch {
					case errors.As(err, &unreachable):
						startErrs[i] = err
						log.Warn("follow: node unreachable at start; serving the store and retrying in the background", "chain", n.chain, "err", err)
					case err != nil:
						return err
					default:
						srcs[i] = src
					}
				}
				st, err := e.openLedgerResident(!fo.following(), int64(residentMiB)<<20)
				if err != nil {
					return err
				}
				defer st.Close()
				chains, err := serveChains(st, chainsFlag)
				if err != nil {
					return err
				}
				for _, n := range fo.nodes {
					if !slices.Contains(chains, n.chain) {
						// A followed chain's stored history is indexed too,
						// or appends would start a graph without it.
						chains = append(chains, n.chain)
					}
				}
				gi, err := e.loadGraphChains(cmd, st, chains)
				if err != nil {
					return err
				}
				o.Graph, o.Ledger = gi, st
				o.StoreCheck = func() error { _, _, err := st.Checkpoint("healthz"); return err }
				o.Exposure = exposure.New(gi, attr, exposure.Options{CacheEntries: cacheEntries})
				if !fo.following() {
					logGraph(e, gi)
				}
				fileConvs, err := conversionFiles(gi, convs, swapFiles, bridgeFiles)
				if err != nil {
					return err
				}
				reloadConversions = func(ctx context.Context) error {
					cs, pend, err := serveConversions(ctx, st, fileConvs, noStored, log)
					if err != nil {
						return err
					}
					o.Conversions, o.PendingDeposits = cs, apiPending(pend)
					return nil
				}
				if err := reloadConversions(ctx); err != nil {
					return err
				}
				// POST /api/v1/intel/infer/deposits: the heuristic over the
				// served graph, stored, then the attributions reloaded.
				o.Infer = func(ctx context.Context, chain model.Chain) (intel.InferredInfo, error) {
					known, err := e.listedAttributor(labels)
					if err != nil {
						return intel.InferredInfo{}, err
					}
					r := gi.Reader()
					defer r.Close()
					var head uint64 // the newest indexed block (Stats' LastBlock, without sizing every chain's index)
					if ch, ok := r.Chain(chain); ok && ch.NumBlocks() > 0 {
						head, _, _, _ = ch.BlockAt(ch.NumBlocks() - 1)
					}
					set, err := inferDeposits(ctx, trace.Index(r), chain, head, known, cluster.Options{})
					if err != nil {
						return intel.InferredInfo{}, err
					}
					if err := e.intelStore().SaveInferred(set); err != nil {
						return intel.InferredInfo{}, fmt.Errorf("store inferred deposit addresses (previous set kept): %w", err)
					}
					if err := reloadAttr(); err != nil {
						return intel.InferredInfo{}, fmt.Errorf("stored, but reloading the attributions failed (send SIGHUP to retry): %w", err)
					}
					return set.Info(), nil
				}
				var wmu sync.Mutex // one store write (+ index append) at a time across followers
				for i, n := range fo.nodes {
					var src ingest.Source
					if srcs[i] != nil {
						src = srcs[i]
					}
					fol := fo.follower(n.chain, src, st, gi, o.Exposure, &wmu, log)
					if src == nil {
						fol.status.Errors = 1
						fol.status.Error = startErrs[i].Error()
						fol.connect = func(ctx context.Context) (ingest.Source, error) {
							a, err := fo.source(ctx, n, log)
							if err != nil {
								return nil, err
							}
							return a, nil
						}
					}
					if h, ok, err := st.Head(n.chain); err != nil {
						return err
					} else if ok {
						fol.status.Indexed = h
					}
					fols = append(fols, fol)
				}
				if len(fols) > 0 {
					o.Follower = fols
				}
			}
			ui, err = web.New(web.Options{Graph: o.Graph, Ledger: uiLedger(o.Ledger), Conversions: o.Conversions,
				Intel: uiIntel(attr, scr), CaseDir: filepath.Join(e.dataDir, "cases"), RequestTimeout: timeout, Logger: log})
			if err != nil {
				return err
			}
			o.UI = ui
			srv, err = api.New(o)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						reloadMu.Lock()
						a, sc, err := loadIntel()
						if err == nil {
							apply(a, sc)
						}
						reloadMu.Unlock()
						if err != nil {
							log.Error("reload intel on SIGHUP failed; keeping the loaded attributions", "err", err)
							continue
						}
						log.Info("intel reloaded on SIGHUP; exposure cache dropped")
					}
				}
			}()
			if len(fols) > 0 {
				// Followers reload the conversions one at a time (the set
				// spans every chain: a bridge pairs legs across them).
				var convMu sync.Mutex
				onConversions := func(ctx context.Context) error {
					convMu.Lock()
					defer convMu.Unlock()
					if err := reloadConversions(ctx); err != nil {
						return err
					}
					srv.SetConversions(o.Conversions)
					srv.SetPendingDeposits(o.PendingDeposits)
					ui.SetConversions(o.Conversions)
					return nil
				}
				fctx, stopFollow := context.WithCancel(ctx)
				var wg sync.WaitGroup
				for _, fol := range fols {
					fol.onConversions = onConversions
					wg.Add(1)
					go func() { defer wg.Done(); fol.run(fctx) }()
				}
				// Runs before the store closes (defers run last-in first-out):
				// each follower finishes its current atomic write, then stops.
				defer func() {
					stopFollow()
					wg.Wait()
					for _, fol := range fols {
						log.Info("follower stopped", "chain", fol.chain, "indexed_block", fol.FollowStatus().Indexed)
					}
				}()
			}
			fmt.Fprintf(e.stdout, "serving on http://%s (web UI: /, API: /api/v1/openapi.json)\n", ln.Addr())
			return srv.Serve(ctx, ln)
		},
	}
	// SIGINT or SIGTERM while starting (asking a node its chain id or
	// probing it, building the graph) is a requested stop, not a failure.
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err != nil && cmd.Context().Err() != nil && errors.Is(err, context.Canceled) {
			e.logger().Info("serve: stopped while starting", "err", err)
			return nil
		}
		return err
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on, HOST:PORT; non-loopback needs --token")
	f.StringVar(&token, "token", "", "access token required as Authorization: Bearer TOKEN (default $REDTHREAD_TOKEN)")
	f.StringVar(&chainsFlag, "chains", "", "chains to index, comma-separated (default: every chain with transfers)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "deadline of each request")
	f.BoolVar(&noScreen, "no-screen", false, "do not build the screening index (the screen route answers 503)")
	f.IntVar(&cacheEntries, "cache", exposure.DefaultCacheEntries, "exposure results to cache (negative: none)")
	f.IntVar(&residentMiB, "resident-memory", 2048, "MiB for the ledger's address names and block times held in memory, loaded in the background at start (about 25 bytes per address, 4 per block; 0: read them from the store)")
	f.StringSliceVar(&labels, "labels", nil, "labels CSV file(s) added to the intel store's attributions: chain,address,category[,label,entity,confidence]")
	f.StringSliceVar(&convs, "conversions", nil, "conversions CSV file(s) the trace route follows (docs/trace.md)")
	f.StringSliceVar(&swapFiles, "swaps", nil, "swap events CSV file(s) in the synthetic world's swaps.csv format")
	f.StringSliceVar(&bridgeFiles, "bridges", nil, "bridge events CSV file(s) in the synthetic world's bridges.csv format")
	f.BoolVar(&noStored, "no-stored-conversions", false, "ignore the swaps and bridges recorded in the ledger store at ingestion")
	fo.register(cmd)
	return cmd
}

// serveChains returns the chains to index: --chains, or every chain with
// transfers in the store.
func serveChains(st *store.Store, flag string) ([]model.Chain, error) {
	var out []model.Chain
	if flag != "" {
		for _, c := range strings.Split(flag, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			n, err := st.ChainStats(model.Chain(c))
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, usagef("--chains: %s has no transfers in the ledger store", c)
			}
			out = append(out, model.Chain(c))
		}
		return out, nil
	}
	return st.Chains()
}

// conversionFiles reads the conversions, swaps and bridges files.
func conversionFiles(gi *graph.Index, convs, swapFiles, bridgeFiles []string) ([]trace.Conversion, error) {
	var all []trace.Conversion
	for _, f := range convs {
		c, err := readEvents(f, func(fh *os.File) ([]trace.Conversion, error) { return trace.ReadConversions(fh, f) })
		if err != nil {
			return nil, err
		}
		all = append(all, c...)
	}
	r := gi.Reader()
	defer r.Close()
	g := trace.Index(r)
	for _, f := range swapFiles {
		c, err := readEvents(f, func(fh *os.File) ([]trace.Conversion, error) { return trace.ReadSwapEvents(fh, f, g) })
		if err != nil {
			return nil, err
		}
		all = append(all, c...)
	}
	for _, f := range bridgeFiles {
		c, err := readEvents(f, func(fh *os.File) ([]trace.Conversion, error) { return trace.ReadBridgeEvents(fh, f, g) })
		if err != nil {
			return nil, err
		}
		all = append(all, c...)
	}
	return all, nil
}

// serveConversions combines the file conversions with those recorded in
// the store (convert.FromStore over every chain with transfers; a recorded
// conversion that shares a leg with a file's is dropped).
func serveConversions(ctx context.Context, st *store.Store, files []trace.Conversion, noStored bool, log *slog.Logger) (trace.Conversions, []convert.Pending, error) {
	all := append([]trace.Conversion(nil), files...)
	var pending []convert.Pending
	if !noStored {
		chains, err := st.Chains()
		if err != nil {
			return nil, nil, err
		}
		res, err := convert.FromStore(ctx, st, chains...)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, withoutLegsOf(res.Conversions, files)...)
		pending = res.Pending
		log.Info("stored conversions", "conversions", len(res.Conversions), "pending_deposits", len(res.Pending),
			"orphan_payouts", res.OrphanPayouts, "extra_payouts", res.ExtraPayouts, "bad_memos", res.BadMemos)
	}
	if len(all) == 0 {
		return nil, pending, nil
	}
	cs, err := trace.NewConversionSet(all)
	if err != nil {
		return nil, nil, err
	}
	return cs, pending, nil
}

func logGraph(e *env, gi *graph.Index) {
	r := gi.Reader()
	defer r.Close()
	if len(r.Chains()) == 0 {
		e.logger().Warn("the ledger store has no transfers on a known chain; name them with --chains")
	}
}

// uiIntel gives the web UI the attributions, the intel DB (incidents) and
// the screening index.
func uiIntel(attr exposure.Attributor, scr api.Screener) web.Intel {
	in := web.Intel{}
	if attr != nil {
		in.Attributor = attr
	}
	if s, ok := scr.(web.Screener); ok && scr != nil {
		in.Screener = s
	}
	switch a := attr.(type) {
	case *intel.DB:
		in.DB = a
	case attributors:
		for _, x := range a {
			if db, ok := x.(*intel.DB); ok {
				in.DB = db
			}
		}
	}
	return in
}

// uiLedger gives the web UI the ledger store, if the server has one.
func uiLedger(l api.Ledger) web.Ledger {
	if st, ok := l.(*store.Store); ok && st != nil {
		return st
	}
	return nil
}
