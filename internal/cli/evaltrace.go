package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/cluster"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/synth"
	"github.com/redthread/redthread/internal/trace"
	"github.com/redthread/redthread/internal/traceeval"
)

func init() { register(newEvalCmd) }

func newEvalCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure the engines against the ground truth of synthetic worlds",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newEvalTraceCmd(e))
	return cmd
}

func newEvalTraceCmd(e *env) *cobra.Command {
	var (
		seed                               uint64
		scale                              int64
		world, policies, scenarios, labels string
		mixer, minTaint                    string
		mixDelay                           time.Duration
		deposits, asJSON, asMarkdown       bool
	)
	cmd := &cobra.Command{
		Use:   "trace [--seed S --scale N | --world DIR] [--policies P,…] [--scenarios S,…] [--labels truth|intel] [--deposit-heuristic] [--mixer stop|demix|pool|fifo] [--mix-max-delay D] [--min-taint UNITS] [--json|--markdown]",
		Short: "Score forward traces from each theft against the synthetic world's ground truth",
		Long: `Generate a synthetic world (or read one written by 'redthread synth --out DIR'),
then, for each laundering scenario and each policy, trace forward from the theft
address (native coin, default stop rules and bounds, swaps and bridges followed,
the world's true owners from truth/addresses.csv as attributions, or with
--labels intel its partial intel pack) and compare
the result with the ground truth:

  recovered           taint delivered to the true cash-out addresses (capped at
                      the stolen value truly cashed out at each), over the true
                      cash-out value, per chain and asset
  excl. mixer         the same over the cash-out value that did not pass the mixer
  endpoint addresses  share of the true cash-out value at addresses the trace reaches
  entity agreement    value-weighted overlap of the split among cash-out entities
  excess at cash-out  taint at exchange/OTC endpoints beyond the truth, over the truth
  false-pos. rate     addresses tainted by the trace that never received stolen
                      value, over the addresses active after the theft that never did

--deposit-heuristic adds the exchange deposit addresses the deposit-address
heuristic (internal/cluster) finds from the labels' hot wallets; --mixer demix
links mixer deposits to withdrawals by published heuristics, --mixer pool also
follows the unlinked rest through the pool under the policy (docs/trace.md).
--min-taint sets an explicit dust threshold (off by default): it hides small
exposure, and the report says how much taint it left unfollowed.

Targets (issue 5, haircut): recovered ≥ 95 % and false-positive rate ≤ 5 %.
Nothing is written to the data directory; a generated world lives in a
temporary directory that is removed afterwards. Definitions: docs/trace-quality.md.`,
		Example: `  redthread eval trace --seed 1 --scale 200000
  redthread eval trace --seed 2 --scale 1000000 --policies haircut --json
  redthread synth --seed 1 --scale 100000 --out w && redthread eval trace --world w`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var o traceeval.Options
			for _, s := range strings.Split(policies, ",") {
				p, err := trace.ParsePolicy(strings.TrimSpace(s))
				if err != nil {
					return usagef("--policies: %v", err)
				}
				o.Policies = append(o.Policies, p)
			}
			o.Labels = labels
			if labels != traceeval.LabelsTruth && labels != traceeval.LabelsIntel {
				return usagef("--labels: want %s or %s, not %q", traceeval.LabelsTruth, traceeval.LabelsIntel, labels)
			}
			if scenarios != "" {
				o.Scenarios = strings.Split(scenarios, ",")
			}
			m, err := trace.ParseMixerMode(mixer)
			if err != nil {
				return usagef("--mixer: %v", err)
			}
			o.Mixer = m
			if mixDelay < 0 {
				return usagef("--mix-max-delay must not be negative, not %s", mixDelay)
			}
			o.MixMaxDelay = mixDelay
			if minTaint != "" {
				if o.MinTaint, err = model.ParseAmount(minTaint); err != nil {
					return usagef("--min-taint: want a whole number of the native coin's smallest units, not %q", minTaint)
				}
			}
			if deposits {
				o.Deposits = depositFinder
			}
			if asJSON && asMarkdown {
				return usagef("give at most one of --json, --markdown")
			}
			if world != "" && (cmd.Flags().Changed("seed") || cmd.Flags().Changed("scale")) {
				return usagef("give either --world or --seed/--scale, not both")
			}
			if scale <= 0 {
				return usagef("--scale must be positive, not %d", scale)
			}
			t0 := time.Now()
			var w *traceeval.World
			if world != "" {
				if _, err := os.Stat(world); err != nil {
					return usagef("--world: %v", err)
				}
				w, err = traceeval.Open(ctx, world)
			} else {
				dir, derr := os.MkdirTemp("", "redthread-eval-")
				if derr != nil {
					return derr
				}
				defer os.RemoveAll(dir)
				// an opt-in scenario (mixer-burst) is generated only when named,
				// on top of the default ones
				w, err = traceeval.Generate(ctx, synth.Params{Seed: seed, Scale: scale, Scenarios: synth.WithOptIn(scale, o.Scenarios)}, dir)
			}
			if err != nil {
				return err
			}
			e.logger().Info("world ready", "dir", w.Dir, "elapsed", time.Since(t0).Round(time.Millisecond))
			rep, err := w.Evaluate(ctx, o)
			if err != nil {
				if strings.Contains(err.Error(), "unknown scenario") {
					return usageError{err}
				}
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, rep)
			}
			if asMarkdown {
				return rep.WriteMarkdown(e.stdout)
			}
			return rep.WriteText(e.stdout)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 1, "random seed of the generated world")
	f.Int64Var(&scale, "scale", 200_000, "transfers in the generated world (both chains)")
	f.StringVar(&world, "world", "", "evaluate this world directory (from 'redthread synth --out') instead of generating one")
	f.StringVar(&policies, "policies", "poison,haircut,fifo", "taint policies to run, comma-separated")
	f.StringVar(&scenarios, "scenarios", "", "scenarios to evaluate, comma-separated (default: all of the world's); naming the opt-in scenario mixer-burst generates it on top of the default ones")
	f.StringVar(&labels, "labels", traceeval.LabelsTruth, "attributions the trace sees: truth (every service and deposit address, from truth/addresses.csv) or intel (the world's partial, partly wrong intel pack)")
	f.BoolVar(&deposits, "deposit-heuristic", false, "add the exchange deposit addresses the deposit-address heuristic finds to the labels")
	f.StringVar(&mixer, "mixer", "stop", "at mixer pools: stop (endpoint), demix (follow heuristic deposit-withdrawal links), pool (demix, then follow the rest through the pool under the policy) or fifo (as pool, the pool releasing its coins first in, first out)")
	f.DurationVar(&mixDelay, "mix-max-delay", 0, "link a mixer withdrawal only to deposits at most this long before it, and under --mixer pool|fifo let a withdrawal draw only on the pool's deposits of that window (e.g. 192h; default: no bound)")
	f.StringVar(&minTaint, "min-taint", "", "explicit dust threshold, off by default: transfers carrying less taint than this (smallest units of the native coin, e.g. 1000000000000000000 = 1 SYN) are not followed; the report states the taint left below it")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&asMarkdown, "markdown", false, "print the report as a Markdown table")
	return cmd
}

// depositFinder runs the deposit-address heuristic with its defaults.
func depositFinder(ctx context.Context, g trace.ChainGraph, chain model.Chain, known trace.Attributor) ([]model.Attribution, error) {
	found, err := cluster.DepositAddresses(ctx, g, chain, known, cluster.Options{})
	if err != nil {
		return nil, err
	}
	out := make([]model.Attribution, len(found))
	for i := range found {
		out[i] = found[i].Attribution
	}
	return out, nil
}
