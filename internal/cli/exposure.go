package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
	"github.com/redthread/redthread/internal/trace"
)

func init() { register(newExposureCmd) }

// exposureAttributor combines the intel store with label files. With no
// label files it is the intel DB itself, which the exposure engine can list
// (its attributed-address bitmap needs that).
func (e *env) exposureAttributor(labelFiles []string, noIntel bool) (exposure.Attributor, error) {
	var attr attributors
	if len(labelFiles) > 0 {
		lab, err := readLabelFiles(labelFiles)
		if err != nil {
			return nil, err
		}
		attr = append(attr, lab)
	}
	if noIntel {
		if len(attr) == 0 {
			return nil, nil
		}
		return attr, nil
	}
	db, err := e.intelStore().DB()
	if err != nil {
		return nil, fmt.Errorf("open intel store: %w", err)
	}
	if len(attr) == 0 {
		return db, nil
	}
	return append(attr, db), nil
}

// readLabelFiles reads labels CSV files into one label set; a bad file is
// a usage error.
func readLabelFiles(files []string) (*trace.Labels, error) {
	lab := trace.NewLabels()
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		_, err = trace.ReadLabels(fh, f, lab)
		fh.Close()
		if err != nil {
			return nil, usageError{err}
		}
	}
	return lab, nil
}

// openChainLedger opens the ledger store read-only for a command about
// one chain; a chain without transfers in it is a usage error.
func (e *env) openChainLedger(chain model.Chain) (*store.Store, error) {
	st, err := e.openLedger(true)
	if err != nil {
		return nil, err
	}
	n, err := st.ChainStats(chain)
	if err == nil && n == 0 {
		err = usagef("unknown chain: %s has no transfers in the ledger store %s", chain, e.dataDir)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// loadGraphChains builds the graph index of the given chains from the
// ledger store, logging each chain's size.
func (e *env) loadGraphChains(cmd *cobra.Command, st *store.Store, chains []model.Chain) (*graph.Index, error) {
	ix := graph.New(graph.Options{Hashes: st})
	for _, c := range chains {
		t0 := time.Now()
		if err := ix.Load(cmd.Context(), st, c); err != nil {
			return nil, err
		}
		r := ix.Reader()
		if ch, ok := r.Chain(c); ok {
			s := ch.Stats()
			e.logger().Info("graph index built", "chain", c, "transfers", s.Transfers, "addresses", s.Addresses,
				"bytes", s.Bytes, "elapsed", time.Since(t0).Round(time.Millisecond))
		}
		r.Close()
	}
	return ix, nil
}

func newExposureCmd(e *env) *cobra.Command {
	var (
		chainFlag, asOf         string
		hops, topPaths, maxWork int
		maxDegree               uint64
		asJSON, noIntel         bool
		labels                  []string
		file                    string
	)
	cmd := &cobra.Command{
		Use:   "exposure --chain CHAIN ADDR",
		Short: "Score an address's exposure to sanctioned, stolen and other attributed funds",
		Long: `Score ADDR for exposure to risk categories: for each asset, the share of the
value it received (source of funds) that came from, and of the value it sent
(destination of funds) that went to, sanctioned, DPRK, hack, scam and mixer
addresses, and to services (exchange, bridge, ...), directly (1 hop) and within
--hops hops, as of a date, with the top contributing paths and their
transaction hashes.

Method: proportional (haircut-style) propagation, backward in time for source
of funds and forward for destination, asset by asset. A transfer from an
attributed counterparty counts fully for its categories; a transfer from an
unattributed one carries the categories of the value that counterparty had
received before it, in proportion, floor(value * exposed / received), up to
--hops hops. Amounts are exact integers; each share is exactly amount/total.
Hubs (more than --max-degree transfers) are not expanded; a computation that
reads more than --max-work transfers is flagged truncated (lower bounds).
Details and worked examples: docs/exposure.md.

Attributions come from the intel store (unless --no-intel) and --labels CSV
files (chain,address,category[,label,entity,confidence]). The graph index is
built from the ledger store for each run; "redthread serve" keeps it in
memory and caches results.`,
		Example: `  redthread exposure --chain eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96
  redthread exposure --chain eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --as-of 2022-04-14 --hops 2 --json
  redthread exposure --chain synth 0xabc… --labels world/truth/addresses.csv --no-intel
  redthread exposure --chain eth --file deposits.txt > exposures.jsonl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" && len(args) > 0 {
				return usagef("give an address or --file, not both")
			}
			if file == "" && len(args) != 1 {
				return usagef("want one address, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			chain := model.Chain(strings.ToLower(chainFlag))
			if chain == "" {
				return usagef("--chain is required")
			}
			d, err := exposure.ParseAsOf(asOf)
			if err != nil {
				return usagef("--as-of: %v", err)
			}
			if hops < 1 || hops > exposure.MaxHops {
				return usagef("--hops must be 1..%d, not %d", exposure.MaxHops, hops)
			}
			var reqs []exposure.Request
			if file != "" {
				addrs, err := readAddressFile(file, chain)
				if err != nil {
					return err
				}
				for _, a := range addrs {
					reqs = append(reqs, exposure.Request{Chain: chain, Address: a, AsOf: d, Hops: hops})
				}
			} else {
				if _, err := model.NormalizeAddress(chain, args[0]); err != nil {
					return usagef("address: %v", err)
				}
				reqs = []exposure.Request{{Chain: chain, Address: args[0], AsOf: d, Hops: hops}}
			}
			attr, err := e.exposureAttributor(labels, noIntel)
			if err != nil {
				return err
			}
			st, err := e.openChainLedger(chain)
			if err != nil {
				return err
			}
			defer st.Close()
			ix, err := e.loadGraphChains(cmd, st, []model.Chain{chain})
			if err != nil {
				return err
			}
			if topPaths <= 0 {
				topPaths = -1 // none
			}
			eng := exposure.New(ix, attr, exposure.Options{MaxDegree: maxDegree, MaxWork: maxWork, TopPaths: topPaths})
			t0 := time.Now()
			if file != "" {
				return exposureLines(cmd, e, eng, reqs, t0)
			}
			res, err := eng.Compute(cmd.Context(), reqs[0])
			if err != nil {
				if errors.Is(err, exposure.ErrBadRequest) || errors.Is(err, exposure.ErrUnknownChain) {
					return usageError{err}
				}
				return err
			}
			e.logger().Info("exposure done", "transfers_read", res.Stats.TransfersRead, "nodes", res.Stats.Nodes,
				"elapsed", time.Since(t0).Round(time.Microsecond), "truncated", res.Truncated)
			if asJSON {
				return res.WriteJSON(e.stdout)
			}
			return res.WriteText(e.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&chainFlag, "chain", "", "chain of the address (eth, synth, …)")
	f.StringVar(&asOf, "as-of", "", "date of the score, YYYY-MM-DD (default: today): transfers up to the end of that UTC day, attributions valid that day")
	f.IntVar(&hops, "hops", exposure.DefaultHops, fmt.Sprintf("depth of indirect exposure, 1..%d", exposure.MaxHops))
	f.BoolVar(&asJSON, "json", false, "print JSON (schema redthread.exposure/v1, docs/exposure.md)")
	f.Uint64Var(&maxDegree, "max-degree", exposure.DefaultMaxDegree, "counterparties with more transfers are hubs and are not expanded")
	f.IntVar(&maxWork, "max-work", exposure.DefaultMaxWork, "most transfers to read before the result is truncated")
	f.IntVar(&topPaths, "top-paths", exposure.DefaultTopPaths, "paths to report per asset, direction and category (0: none)")
	f.StringSliceVar(&labels, "labels", nil, "labels CSV file(s): chain,address,category[,label,entity,confidence]")
	f.BoolVar(&noIntel, "no-intel", false, "do not use the intel store's attributions")
	f.StringVar(&file, "file", "", "score every address of FILE (one per line, # comments; - for stdin) and print JSON lines")
	return cmd
}

// readAddressFile reads one address per line; blank lines and # comments
// are skipped. A bad address fails the whole file, naming its line.
func readAddressFile(name string, chain model.Chain) ([]string, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := model.NormalizeAddress(chain, line)
		if err != nil {
			return nil, usagef("%s:%d: address: %v", name, i+1, err)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, usagef("%s: no addresses", name)
	}
	return out, nil
}

// exposureLines scores requests in batches and prints one JSON line each,
// in input order.
func exposureLines(cmd *cobra.Command, e *env, eng *exposure.Engine, reqs []exposure.Request, t0 time.Time) error {
	w := bufio.NewWriter(e.stdout)
	for start := 0; start < len(reqs); start += exposure.MaxBatch {
		chunk := reqs[start:min(len(reqs), start+exposure.MaxBatch)]
		items, err := eng.Batch(cmd.Context(), chunk)
		if err != nil {
			return err
		}
		for i, it := range items {
			if it.Err != nil {
				return fmt.Errorf("%s: %w", chunk[i].Address, it.Err)
			}
			w.Write(it.JSON)
			w.WriteByte('\n')
		}
	}
	e.logger().Info("exposures done", "addresses", len(reqs), "elapsed", time.Since(t0).Round(time.Millisecond))
	return w.Flush()
}
