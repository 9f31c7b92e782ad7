package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/convert"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

func init() { register(newTraceCmd) }

// attributors asks several attribution sources and returns all their
// claims; inferred claims (intel.IsInferred) only when no listed claim
// holds, as within the intel DB.
type attributors []trace.Attributor

func (a attributors) Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution {
	var out []model.Attribution
	listed, inferred := false, false
	for _, s := range a {
		got := s.Lookup(chain, addr, asOf)
		for i := range got {
			if intel.IsInferred(&got[i]) {
				inferred = true
			} else {
				listed = true
			}
		}
		out = append(out, got...)
	}
	if listed && inferred {
		keep := out[:0]
		for _, x := range out {
			if !intel.IsInferred(&x) {
				keep = append(keep, x)
			}
		}
		out = keep
	}
	return out
}

// HasInferred reports whether a member holds a stored inferred set of
// method for chain (api.InferredSets).
func (a attributors) HasInferred(chain model.Chain, method string) (intel.InferredInfo, bool) {
	for _, s := range a {
		if h, ok := s.(interface {
			HasInferred(model.Chain, string) (intel.InferredInfo, bool)
		}); ok {
			if info, ok := h.HasInferred(chain, method); ok {
				return info, true
			}
		}
	}
	return intel.InferredInfo{}, false
}

// parseSince accepts RFC 3339, a date (YYYY-MM-DD, UTC) or Unix seconds.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2024-01-31T12:00:00Z), a date (2024-01-31) or Unix seconds", s)
}

func newTraceCmd(e *env) *cobra.Command {
	var (
		chainFlag, from, tx, asset, policy, direction, since, stop, explain string
		mixer                                                               string
		mixDelay                                                            time.Duration
		minTaint                                                            string
		depositHeuristic                                                    bool
		maxHops, maxNodes, maxEdges, maxTouched                             int
		maxDegree                                                           uint64
		noSwaps, noBridges, noIntel, noStored, asJSON, asDOT, asCSV         bool
		labels, convs, swapFiles, bridgeFiles                               []string
	)
	cmd := &cobra.Command{
		Use:   "trace --chain CHAIN --from ADDR[,ADDR…] --policy P --direction D",
		Short: "Follow funds forward to where they went, or backward to where they came from",
		Long: `Trace funds through the ledger under an explicit taint policy:

  poison   any tainted input taints every later output of the address fully
  haircut  outputs carry taint in proportion to the tainted share of the balance
           (exact integers, shares rounded down; the rest stays held)
  fifo     units leave an address in the order they arrived

Forward traces start from the seeds' outgoing transfers (all of them since
--since, or those of one --tx) and follow the traced asset in chain order: value
leaves an address only after it arrived. Backward traces run the same policies
on the reversed ledger from the seeds' incoming transfers. Swaps and bridges
carry taint across assets and chains at their rates: those recorded by
'redthread ingest eth' (Uniswap V2/V3 swaps, THORChain deposits matched with
their payouts on any ingested chain; --no-stored-conversions to ignore them)
and those given with --conversions, --swaps and --bridges. A tainted bridge
deposit whose payout is not in the store is listed with the destination its
memo names (docs/conversions.md).

Funds that reach an attributed service (exchange, bridge, mixer, DEX, OTC,
gambling, DeFi, miner, token contract; see --stop) or a hub with more than
--max-degree transfers become endpoints and are not expanded. Bounds keep a
trace small: --max-hops, --max-nodes, --max-edges; a trace that hits one is
flagged truncated with the reason.

Attributions come from the intel store (unless --no-intel) and --labels CSV
files (chain,address,category[,label,entity,confidence]): the listed ones;
inferred attributions (exchange deposit addresses) only with
--deposit-heuristic, which reads those stored by 'redthread intel infer
deposits' for a chain that has them and otherwise runs the heuristic before
the trace. A listed claim always outranks an inferred one. The graph index is
built from the ledger store for each run. Semantics, worked examples and the
JSON schema: docs/trace.md.`,
		Example: `  redthread trace --chain eth --from 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --policy haircut --direction forward
  redthread trace --chain synth --from 0xabc…,0xdef… --policy fifo --direction forward --json > trace.json
  redthread trace --chain eth --from 0xabc… --tx 0x1234… --asset 0xdac17f958d2ee523a2206206994597c13d831ec7 --policy poison --direction forward --max-hops 5 --dot | dot -Tsvg > t.svg
  redthread trace --chain synth --from 0xabc… --policy haircut --direction forward --swaps world/swaps.csv --bridges world/bridges.csv --labels world/truth/addresses.csv
  redthread trace --chain eth --from 0xexchange… --policy haircut --direction backward --explain 0xsource…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			req := trace.Request{Chain: model.Chain(strings.ToLower(chainFlag)), Tx: tx, Asset: asset}
			if req.Chain == "" {
				return usagef("--chain is required")
			}
			if from == "" {
				return usagef("--from is required (one or more addresses, comma-separated)")
			}
			req.From = strings.Split(from, ",")
			var err error
			if req.Policy, err = trace.ParsePolicy(policy); err != nil {
				return usagef("--policy: %v", err)
			}
			if req.Direction, err = trace.ParseDirection(direction); err != nil {
				return usagef("--direction: %v", err)
			}
			if since != "" {
				if req.Since, err = parseSince(since); err != nil {
					return usagef("%v", err)
				}
			}
			n := 0
			for _, b := range []bool{asJSON, asDOT, asCSV} {
				if b {
					n++
				}
			}
			if n > 1 {
				return usagef("give at most one of --json, --dot, --csv")
			}
			for _, v := range []struct {
				n    int
				name string
			}{{maxHops, "--max-hops"}, {maxNodes, "--max-nodes"}, {maxEdges, "--max-edges"}, {maxTouched, "--max-touched"}} {
				if v.n < 0 {
					return usagef("%s must be positive", v.name)
				}
			}
			req.MaxHops, req.MaxNodes, req.MaxEdges, req.MaxTouched, req.MaxDegree = maxHops, maxNodes, maxEdges, maxTouched, maxDegree
			req.NoSwaps, req.NoBridges = noSwaps, noBridges
			if req.Mixer, err = trace.ParseMixerMode(mixer); err != nil {
				return usagef("--mixer: %v", err)
			}
			req.MixMaxDelay = mixDelay
			if minTaint != "" {
				if req.MinTaint, err = model.ParseAmount(minTaint); err != nil {
					return usagef("--min-taint: want a whole number of the traced asset's smallest units, not %q", minTaint)
				}
			}
			if cmd.Flags().Changed("stop") {
				req.Categories = []model.Category{}
				if stop != "none" && stop != "" {
					for _, s := range strings.Split(stop, ",") {
						c, err := trace.ParseCategory(s)
						if err != nil {
							return usagef("--stop: %v", err)
						}
						req.Categories = append(req.Categories, c)
					}
				}
			}
			var attr attributors
			lab := trace.NewLabels()
			for _, f := range labels {
				fh, err := os.Open(f)
				if err != nil {
					return err
				}
				_, err = trace.ReadLabels(fh, f, lab)
				fh.Close()
				if err != nil {
					return err
				}
			}
			if lab.Len() > 0 {
				attr = append(attr, lab)
			}
			var db *intel.DB
			if !noIntel {
				if db, err = e.intelStore().DB(); err != nil {
					return fmt.Errorf("open intel store: %w", err)
				}
				attr = append(attr, intel.ListedOnly{DB: db})
			}

			st, err := e.openChainLedger(req.Chain)
			if err != nil {
				return err
			}
			defer st.Close()
			ix := graph.New(graph.Options{Hashes: st})
			var conv, stored []trace.Conversion
			var pending []convert.Pending
			for _, f := range convs {
				fh, err := os.Open(f)
				if err != nil {
					return err
				}
				c, err := trace.ReadConversions(fh, f)
				fh.Close()
				if err != nil {
					return err
				}
				conv = append(conv, c...)
			}
			if !noStored {
				res, err := storedConversions(ctx, st, req.Chain)
				if err != nil {
					return err
				}
				stored, pending = res.Conversions, res.Pending
				e.logger().Info("stored conversions", "conversions", len(stored), "pending_deposits", len(res.Pending),
					"orphan_payouts", res.OrphanPayouts, "extra_payouts", res.ExtraPayouts, "bad_memos", res.BadMemos)
			}
			chains := map[model.Chain]bool{req.Chain: true}
			for _, cs := range [][]trace.Conversion{conv, stored} {
				for _, c := range cs {
					chains[c.In.Chain], chains[c.Out.Chain] = true, true
				}
			}
			synthFiles := len(swapFiles)+len(bridgeFiles) > 0
			if synthFiles {
				// Synthetic-world event files name their chains in rows; index the usual pair.
				chains["synth"], chains["synth2"] = true, true
			}
			start := time.Now()
			for c := range chains {
				if err := ix.Load(ctx, st, c); err != nil {
					return err
				}
			}
			r := ix.Reader()
			defer r.Close()
			for _, s := range r.Stats() {
				e.logger().Info("graph index built", "chain", s.Chain, "transfers", s.Transfers, "addresses", s.Addresses,
					"bytes", s.Bytes, "elapsed", time.Since(start).Round(time.Millisecond))
			}
			g := trace.Index(r)
			for _, f := range swapFiles {
				c, err := readEvents(f, func(fh *os.File) ([]trace.Conversion, error) { return trace.ReadSwapEvents(fh, f, g) })
				if err != nil {
					return err
				}
				conv = append(conv, c...)
			}
			for _, f := range bridgeFiles {
				c, err := readEvents(f, func(fh *os.File) ([]trace.Conversion, error) { return trace.ReadBridgeEvents(fh, f, g) })
				if err != nil {
					return err
				}
				conv = append(conv, c...)
			}
			if depositHeuristic {
				// Stored findings (intel infer deposits) where there are
				// some; else the heuristic runs now.
				inferred := trace.NewLabels()
				var storedChains []model.Chain
				for c := range chains {
					cg, ok := g.Chain(c)
					if !ok {
						continue
					}
					if db != nil {
						if info, ok := db.HasInferred(c, depositMethod); ok {
							storedChains = append(storedChains, c)
							head, _, err := st.Head(c)
							if err != nil {
								return err
							}
							if head > info.Head {
								e.logger().Warn("stored deposit addresses are older than the ledger; run 'redthread intel infer deposits' again",
									"chain", c, "computed_at_block", info.Head, "ledger_head", head)
							}
							e.logger().Info("deposit-address heuristic: stored findings", "chain", c, "attributions", info.Attributions, "computed", info.Computed)
							continue
						}
					}
					t0 := time.Now()
					found, err := depositFinder(ctx, cg, c, attr)
					if err != nil {
						return err
					}
					for _, a := range found {
						inferred.Add(a)
					}
					e.logger().Info("deposit-address heuristic: computed now (none stored)", "chain", c, "attributions", len(found),
						"elapsed", time.Since(t0).Round(time.Millisecond))
				}
				attr = append(attr, inferred)
				if len(storedChains) > 0 {
					attr = append(attr, storedInferred{db: db, chains: storedChains})
				}
			}
			eng := &trace.Engine{Graph: g}
			if len(attr) > 0 {
				eng.Attributor = attr
			}
			conv = append(conv, withoutLegsOf(stored, conv)...)
			if len(conv) > 0 {
				cs, err := trace.NewConversionSet(conv)
				if err != nil {
					return err
				}
				eng.Conversions = cs
			}
			t0 := time.Now()
			res, err := eng.Run(ctx, req)
			if err != nil {
				var ue error = err
				for _, s := range []error{trace.ErrBadRequest, trace.ErrUnknownAddress, trace.ErrUnknownAsset, trace.ErrUnknownChain, trace.ErrUnknownTx} {
					if errors.Is(err, s) {
						return usageError{ue}
					}
				}
				return err
			}
			e.logger().Info("trace done", "transfers_read", res.Stats.TransfersRead, "nodes", res.Stats.Nodes,
				"tainted_transfers", res.Stats.Edges, "elapsed", time.Since(t0).Round(time.Microsecond), "truncated", res.Truncated)
			if explain != "" {
				chain, a := req.Chain, explain
				if c, rest, ok := strings.Cut(explain, ":"); ok && !strings.HasPrefix(explain, "0x") {
					chain, a = model.Chain(c), rest
				}
				if a, err = model.NormalizeAddress(chain, a); err != nil {
					return usagef("--explain: %v", err)
				}
				path, err := res.Explain(chain, a)
				if err != nil {
					return usageError{err}
				}
				if asJSON {
					return writeJSON(e.stdout, path)
				}
				for _, s := range path {
					conv := ""
					if s.Conversion != "" {
						conv = " via " + s.Conversion
					}
					if s.Heuristic != "" {
						conv += fmt.Sprintf(" (%s, confidence %d)", s.Heuristic, s.Confidence)
					}
					fmt.Fprintf(e.stdout, "%s %s -> %s tx %s block %d %s%s\n", s.Chain, s.From, s.To, s.Tx, s.Block, s.Time, conv)
				}
				return nil
			}
			var pend []api.PendingBridge
			if req.Direction != trace.Backward {
				pend = api.TaintedDeposits(res, apiPending(pending))
			}
			switch {
			case asJSON:
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*trace.Result
					PendingBridges []api.PendingBridge `json:"pending_bridges,omitempty"`
				}{res, pend})
			case asDOT:
				return res.WriteDOT(e.stdout)
			case asCSV:
				return res.WriteCSV(e.stdout)
			}
			if err := res.WriteText(e.stdout); err != nil {
				return err
			}
			for _, p := range pend {
				fmt.Fprintf(e.stdout, "bridge deposit %s tx %s: tainted %s of %s %s, payout not ingested; memo %q", p.Leg, p.Tx, p.Tainted, p.Value, p.Asset, p.Memo)
				if p.DestChain != "" {
					fmt.Fprintf(e.stdout, " -> %s %s", p.DestChain, p.Dest)
				}
				fmt.Fprintln(e.stdout)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&chainFlag, "chain", "", "chain of the seeds (eth, synth, …)")
	f.StringVar(&from, "from", "", "seed addresses, comma-separated")
	f.StringVar(&tx, "tx", "", "taint only this transaction's transfers of the seeds")
	f.StringVar(&asset, "asset", "", "traced asset: native or a token contract (default: the --tx transfers' assets, else native)")
	f.StringVar(&policy, "policy", "", "taint policy: poison, haircut or fifo (required)")
	f.StringVar(&direction, "direction", "forward", "forward (where did it go) or backward (where did it come from)")
	f.StringVar(&since, "since", "", "taint only the seeds' transfers at or after this time (RFC 3339, YYYY-MM-DD or Unix seconds)")
	f.IntVar(&maxHops, "max-hops", 0, fmt.Sprintf("transfers from a seed before addresses become endpoints (default %d)", trace.DefaultMaxHops))
	f.IntVar(&maxNodes, "max-nodes", 0, fmt.Sprintf("addresses in the result before it is truncated (default %d)", trace.DefaultMaxNodes))
	f.IntVar(&maxEdges, "max-edges", 0, fmt.Sprintf("tainted transfers in the result before it is truncated (default %d)", trace.DefaultMaxEdges))
	f.IntVar(&maxTouched, "max-touched", 0, fmt.Sprintf("transfers the trace may read before it is truncated (default %d)", trace.DefaultMaxTouched))
	f.Uint64Var(&maxDegree, "max-degree", 0, fmt.Sprintf("addresses with more transfers are hubs and endpoints (default %d)", trace.DefaultMaxDegree))
	f.StringVar(&stop, "stop", "", "categories that end a trace, comma-separated, or none (default: exchange,bridge,mixer,dex,otc,gambling,defi,miner,token)")
	f.BoolVar(&noSwaps, "no-swaps", false, "stop at swaps instead of following them")
	f.BoolVar(&noBridges, "no-bridges", false, "stop at bridges instead of following them across chains")
	f.StringVar(&mixer, "mixer", "stop", "at fixed-denomination mixer pools: stop (endpoint), demix (follow deposit-withdrawal links of the address-match and linked-address heuristics) pool (demix, then follow the rest through the pool by its share under the policy) or fifo (demix, then the pool pays its unlinked notes out first in, first out)")
	f.StringVar(&minTaint, "min-taint", "", "explicit dust threshold, off by default: transfers of the traced asset carrying less taint than this many smallest units are not followed; the result reports that taint as below_min")
	f.DurationVar(&mixDelay, "mix-max-delay", 0, "link a mixer withdrawal only to deposits at most this long before it (0: no bound)")
	f.BoolVar(&depositHeuristic, "deposit-heuristic", false, "stop at exchange deposit addresses found by the deposit-address heuristic: the findings stored by 'intel infer deposits' for a chain that has them, else computed now before tracing (about 1.3 s per 8 M transfers)")
	f.StringSliceVar(&labels, "labels", nil, "labels CSV file(s): chain,address,category[,label,entity,confidence]")
	f.BoolVar(&noIntel, "no-intel", false, "do not read attributions from the intel store")
	f.StringSliceVar(&convs, "conversions", nil, "conversions CSV file(s) (docs/trace.md)")
	f.BoolVar(&noStored, "no-stored-conversions", false, "ignore the swaps and bridges recorded in the ledger store at ingestion")
	f.StringSliceVar(&swapFiles, "swaps", nil, "swap events CSV file(s) in the synthetic world's swaps.csv format")
	f.StringSliceVar(&bridgeFiles, "bridges", nil, "bridge events CSV file(s) in the synthetic world's bridges.csv format")
	f.StringVar(&explain, "explain", "", "print the path by which taint first reached this address ([CHAIN:]ADDR) instead of the result")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema in docs/trace.md)")
	f.BoolVar(&asDOT, "dot", false, "print the flow graph as Graphviz DOT")
	f.BoolVar(&asCSV, "csv", false, "print the tainted transfers as CSV")
	return cmd
}

func readEvents(name string, fn func(*os.File) ([]trace.Conversion, error)) ([]trace.Conversion, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return fn(fh)
}

// storedConversions reads the conversions recorded in the store for the
// traced chain and every other chain the store holds, and matches bridge
// deposits with their payouts (convert.FromStore).
func storedConversions(ctx context.Context, st *store.Store, traced model.Chain) (*convert.Result, error) {
	held, err := st.Chains()
	if err != nil {
		return nil, err
	}
	chains := []model.Chain{traced}
	for _, c := range held {
		if c != traced {
			chains = append(chains, c)
		}
	}
	return convert.FromStore(ctx, st, chains...)
}

// withoutLegsOf returns the stored conversions that use no leg of the given
// ones: conversions from files take precedence over recorded ones.
func withoutLegsOf(stored, given []trace.Conversion) []trace.Conversion {
	if len(given) == 0 {
		return stored
	}
	in, out := map[model.Leg]bool{}, map[model.Leg]bool{}
	for _, c := range given {
		in[c.In], out[c.Out] = true, true
	}
	var keep []trace.Conversion
	for _, c := range stored {
		if !in[c.In] && !out[c.Out] {
			keep = append(keep, c)
		}
	}
	return keep
}

// Inferred lists the stored inferred sets of the members (api: GET
// /api/v1/intel/inferred).
func (a attributors) Inferred() []intel.InferredInfo {
	var out []intel.InferredInfo
	for _, s := range a {
		if db, ok := s.(*intel.DB); ok {
			out = append(out, db.Inferred()...)
		}
	}
	return out
}

// ReadEvidence returns the evidence of an inferred attribution from the
// member that keeps it (api.Evidencer), or the error of reading it.
func (a attributors) ReadEvidence(x *model.Attribution) (intel.Evidence, bool, error) {
	for _, s := range a {
		if db, ok := s.(*intel.DB); ok {
			if ev, ok, err := db.ReadEvidence(x); ok || err != nil {
				return ev, ok, err
			}
		}
	}
	return intel.Evidence{}, false, nil
}

// storedInferred answers with the intel DB's inferred attributions of some
// chains (the sets stored by intel infer).
type storedInferred struct {
	db     *intel.DB
	chains []model.Chain
}

func (s storedInferred) Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution {
	if !slices.Contains(s.chains, chain) {
		return nil
	}
	var out []model.Attribution
	for _, a := range s.db.Lookup(chain, addr, asOf) {
		if intel.IsInferred(&a) {
			out = append(out, a)
		}
	}
	return out
}

// apiPending converts the matcher's pending deposits to the API's.
func apiPending(ps []convert.Pending) []api.PendingDeposit {
	out := make([]api.PendingDeposit, len(ps))
	for i, p := range ps {
		out[i] = api.PendingDeposit{Leg: p.In, Tx: p.TxHash, Amount: p.Amount, Memo: p.Memo, DestChain: p.DestChain, Dest: p.Dest, DestAsset: p.Asset}
	}
	return out
}
