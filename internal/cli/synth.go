package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/progress"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/synth"
)

func init() { register(newSynthCmd) }

// synthLoader writes generated blocks into the ledger store in batches.
type synthLoader struct {
	synth.Discard
	ctx     context.Context
	st      *store.Store
	batch   []model.Block
	pending int
	cp      string
}

func (l *synthLoader) Block(b *synth.Block) error {
	l.batch = append(l.batch, b.ModelBlock())
	l.pending += len(b.Transfers)
	if l.pending >= 200_000 {
		return l.flush()
	}
	return nil
}

func (l *synthLoader) flush() error {
	if len(l.batch) == 0 {
		return nil
	}
	if err := l.st.Write(l.ctx, l.batch, &store.Checkpoint{Name: "synth", Value: []byte(l.cp)}); err != nil {
		return fmt.Errorf("load into ledger store: %w", err)
	}
	l.batch, l.pending = l.batch[:0], 0
	return nil
}

// synthProgress reports generated transfers.
type synthProgress struct {
	synth.Discard
	p      progress.Reporter
	n      uint64
	blocks uint64
}

func (s *synthProgress) Block(b *synth.Block) error {
	s.n += uint64(len(b.Transfers))
	s.blocks++
	if s.blocks%64 == 0 {
		s.p.Update(s.n)
	}
	return nil
}

func newSynthCmd(e *env) *cobra.Command {
	var (
		p         synth.Params
		out       string
		load      bool
		noSync    bool
		quiet     bool
		scenarios string
		fanout    int
	)
	cmd := &cobra.Command{
		Use:   "synth --seed S --scale N --out DIR [--load]",
		Short: "Generate a synthetic two-chain ledger with DPRK-style laundering and its ground truth",
		Long: `Generate a synthetic world: two account-model chains ("synth", Ethereum-like,
and "synth2") linked by a THORChain-style bridge, with heavy-tailed background
traffic, exchanges with per-customer deposit addresses, DEX pools, a
fixed-denomination mixer, OTC brokers and gambling, and laundering scenarios
shaped on published DPRK cases (an exchange theft split into equal lots as
Bybit 2025; a bridge drain with stablecoin swaps, mixing and bridging as Ronin
2022).

DIR receives (docs/synth.md specifies every file):
  transfers-synth.csv, transfers-synth2.csv   the ledger, generic transfers CSV
  assets.csv, swaps.csv, bridges.csv          assets; DEX swaps and bridge crossings (conversion edges)
  truth/                                      flows, endpoints, mixer links, owners, labels, summary
  intel/synth.tagpack.yaml                    partial, partly wrong labels as a GraphSense TagPack

--load also writes the ledger into the store under --data (ledger/). The same
seed and parameters always give byte-identical files. --scale is the target
number of transfers over both chains (met within about 1 %).

Next steps: "redthread intel load tagpack DIR/intel/synth.tagpack.yaml" loads
the labels; the theft address to trace from is printed below and recorded in
DIR/truth/summary.json.`,
		Example: `  redthread synth --seed 1 --scale 100000 --out world1
  redthread synth --seed 1 --scale 1000000 --out world1m --load --data /tmp/rt
  redthread synth --seed 2 --scale 50000 --out w --scenarios bridge-drain --fanout 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			if p.LabelPercent == 0 {
				p.LabelPercent = -1 // none, not the default
			}
			if p.WrongLabelPercent == 0 {
				p.WrongLabelPercent = -1
			}
			if p.Scale < 1000 {
				return usagef("--scale %d: want at least 1000", p.Scale)
			}
			switch scenarios {
			case "", "default":
			case "none":
				p.Scenarios = []synth.Scenario{}
			default:
				named, err := synth.ScenariosNamed(p.Scale, strings.Split(scenarios, ","))
				if err != nil {
					return usagef("--scenarios: %v, or default or none", err)
				}
				p.Scenarios = named
			}
			if fanout > 0 {
				if p.Scenarios == nil {
					p.Scenarios = synth.DefaultScenarios(p.Scale)
				}
				for i := range p.Scenarios {
					p.Scenarios[i].FanOut = max(fanout, p.Scenarios[i].Lots)
				}
			}
			rep := progress.Nop()
			if !quiet {
				rep = progress.Auto(e.stderr, e.logger())
			}
			prog := &synthProgress{p: rep}
			extra := []synth.Sink{prog}
			var loader *synthLoader
			if load {
				dir := filepath.Join(e.dataDir, "ledger")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("create data directory: %w", err)
				}
				st, err := store.Open(dir, store.Options{Logger: e.logger(), NoSync: noSync})
				if err != nil {
					return err
				}
				defer st.Close()
				loader = &synthLoader{ctx: cmd.Context(), st: st, cp: fmt.Sprintf("seed=%d scale=%d", p.Seed, p.Scale)}
				extra = append(extra, loader)
			}
			rep.Start("synth", uint64(p.Scale), "transfers")
			began := time.Now()
			w, stats, err := synth.WriteDir(cmd.Context(), p, out, extra...)
			if err == nil && loader != nil {
				err = loader.flush()
				if err == nil && noSync {
					err = loader.st.Flush()
				}
			}
			rep.Finish(err)
			if err != nil {
				return err
			}
			el := time.Since(began)
			fmt.Fprintf(e.stdout, "generated %d transfers (synth %d, synth2 %d) in %s (%.0f transfers/s) into %s\n",
				stats.Total(), stats.Transfers[0], stats.Transfers[1], el.Round(time.Millisecond),
				float64(stats.Total())/max(el.Seconds(), 1e-9), out)
			fmt.Fprintf(e.stdout, "events: %d swaps, %d bridge crossings, %d mixer withdrawals; ground truth: %d laundering transfers, %d cash-outs, %d laundering addresses\n",
				stats.Swaps, stats.Bridges, stats.Mixes, stats.Flows, stats.Endpoints, len(w.Launder))
			for _, r := range w.Results {
				s := r.Sums[0][0]
				fmt.Fprintf(e.stdout, "scenario %s: stole %s SYN from %s to %s (tx %s); cashed out %s SYN on synth and %s SYX on synth2\n",
					r.Scenario.Name, coins(s.Stolen), r.Victim, r.Thief, r.TheftTx, coins(s.CashedOut), coins(r.Sums[1][0].CashedOut))
			}
			if load {
				fmt.Fprintf(e.stdout, "loaded into %s\n", filepath.Join(e.dataDir, "ledger"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&p.Seed, "seed", 1, "random seed")
	f.Int64Var(&p.Scale, "scale", 100_000, "target number of transfers (both chains)")
	f.StringVar(&out, "out", "", "output directory (must not exist or be empty)")
	f.BoolVar(&load, "load", false, "also write the ledger into the store under --data")
	f.IntVar(&p.Days, "days", 30, "simulated days")
	f.IntVar(&p.LabelPercent, "labels", 60, "percent of service and theft addresses labelled in the intel pack")
	f.IntVar(&p.WrongLabelPercent, "wrong-labels", 3, "percent of labels that are wrong")
	f.StringVar(&scenarios, "scenarios", "default", "comma-separated laundering scenarios: exchange-hot-wallet and bridge-drain (the default), mixer-burst (opt-in: a launderer who leaks through the mixer as public case reports describe, docs/synth.md), or none")
	f.IntVar(&fanout, "fanout", 0, "fresh addresses each scenario fans out to (default: scale/4000, 40 to 4000)")
	f.BoolVar(&noSync, "no-sync", false, "with --load: do not fsync each batch")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// coins renders a granule count of an 18-decimal coin (10^9 wei) as whole coins.
func coins(g uint64) string {
	return fmt.Sprintf("%d.%03d", g/1e9, g%1e9/1e6)
}
