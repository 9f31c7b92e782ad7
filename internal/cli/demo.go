package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newDemoCmd) }

// lazarusETH is an Ethereum address that OFAC lists for the Lazarus Group
// and the DPRK pack ties to the Ronin Bridge theft (both shipped).
const lazarusETH = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"

func newDemoCmd(e *env) *cobra.Command {
	var (
		seed      int
		scale     int
		endpoints int
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the main job end to end on the embedded default data and print what redthread finds",
		Long: `Run redthread end to end on data it carries, with no external service:

  1. generate a synthetic two-chain world with DPRK-style laundering (an
     exchange hot-wallet theft split into 40 lots as Bybit 2025, a bridge drain
     as Ronin 2022) and load it into the ledger store;
  2. load the world's partial, partly wrong labels (a GraphSense TagPack) next
     to the shipped intel packs (OFAC, UN, DPRK incidents, explorer labels);
  3. explain a real OFAC-listed Lazarus Group address from the shipped packs;
  4. summarize the theft address from the ledger store;
  5. trace the stolen funds forward (haircut policy, across swaps and the
     bridge) to their cash-out endpoints;
  6. score the exposure of an exchange deposit address the loot reached;
  7. screen a DPRK name written another way.

Each step prints the command it runs, so every step can be rerun by hand.
Without --data the store lives in a fresh temporary directory that is kept
(its path is printed) so the other commands can explore it afterwards.`,
		Example: `  redthread demo
  redthread demo --data /tmp/rt --scale 1000000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if scale < 10000 {
				return usagef("--scale %d: want at least 10000", scale)
			}
			data := e.dataDir
			if !cmd.Flags().Changed("data") && os.Getenv("REDTHREAD_DATA") == "" {
				d, err := os.MkdirTemp("", "redthread-demo-")
				if err != nil {
					return err
				}
				data = d
			}
			if err := os.MkdirAll(data, 0o755); err != nil {
				return err
			}
			d := &demo{e: e, data: data}
			world := filepath.Join(data, "world")
			fmt.Fprintf(e.stdout, "redthread demo: data directory %s\n", data)
			start := time.Now()

			d.step("Generate a synthetic world with DPRK-style laundering and load it into the ledger store")
			if err := d.run(nil, "synth", "--seed", fmt.Sprint(seed), "--scale", fmt.Sprint(scale), "--out", world, "--load", "--quiet"); err != nil {
				return err
			}
			theft, err := readTheft(filepath.Join(world, "truth", "summary.json"))
			if err != nil {
				return err
			}

			d.step("Load the world's labels (partial, some wrong) beside the shipped intel packs")
			if err := d.run(nil, "intel", "load", "tagpack", filepath.Join(world, "intel", "synth.tagpack.yaml")); err != nil {
				return err
			}

			d.step("Who is behind a real address? (shipped OFAC, UN, DPRK incident and label packs)")
			if err := d.run(nil, "intel", "show", "eth", lazarusETH); err != nil {
				return err
			}

			d.step(fmt.Sprintf("The theft address of scenario %s in the ledger store", theft.Name))
			if err := d.run(nil, "address", "synth", theft.Address, "--top", "5"); err != nil {
				return err
			}

			d.step("Where did the stolen coins go? Haircut trace forward, across swaps and the bridge, to cash-out endpoints")
			var out bytes.Buffer
			traceArgs := []string{"trace", "--chain", "synth", "--from", theft.Address,
				"--policy", "haircut", "--direction", "forward",
				"--swaps", filepath.Join(world, "swaps.csv"), "--bridges", filepath.Join(world, "bridges.csv")}
			if err := d.run(&out, traceArgs...); err != nil {
				return err
			}
			summarizeTrace(e.stdout, &out, endpoints)

			if dep, err := firstExchangeEndpoint(filepath.Join(world, "truth", "endpoints.csv"), theft.Name); err == nil {
				d.step("Exposure of an exchange deposit address the loot reached (source of funds, 3 hops)")
				if err := d.run(nil, "exposure", "--chain", "synth", dep, "--hops", "3"); err != nil {
					return err
				}
			}

			d.step("Screen a DPRK name written another way (UN alias pair, romanizations)")
			if err := d.run(nil, "screen", "compare", "Jang Myong Jin", "Chang Myong Chin"); err != nil {
				return err
			}
			if err := d.run(nil, "screen", "name", "Kim Jong-un", "--limit", "3"); err != nil {
				return err
			}

			fmt.Fprintf(e.stdout, "\ndone in %s. Explore the same data:\n", time.Since(start).Round(time.Millisecond))
			fmt.Fprintf(e.stdout, "  redthread --data %s address synth %s\n", data, theft.Address)
			fmt.Fprintf(e.stdout, "  redthread --data %s serve --swaps %s --bridges %s\n      # then open the web UI on http://127.0.0.1:8080/\n",
				data, filepath.Join(world, "swaps.csv"), filepath.Join(world, "bridges.csv"))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&seed, "seed", 1, "seed of the synthetic world")
	f.IntVar(&scale, "scale", 200000, "transfers in the synthetic world")
	f.IntVar(&endpoints, "endpoints", 12, "endpoints of the trace to print")
	return cmd
}

type demo struct {
	e    *env
	data string
	n    int
}

func (d *demo) step(title string) {
	d.n++
	fmt.Fprintf(d.e.stdout, "\n== %d. %s\n", d.n, title)
}

// run runs one redthread command in this process, against the demo's data
// directory, printing it first as it could be typed.
func (d *demo) run(out io.Writer, args ...string) error {
	fmt.Fprintf(d.e.stdout, "$ redthread %s\n", shellQuote(args))
	if out == nil {
		out = d.e.stdout
	}
	root := NewRoot(out, d.e.stderr)
	root.SetArgs(append([]string{"--data", d.data}, args...))
	if err := root.Execute(); err != nil {
		return fmt.Errorf("demo step %q: %w", args[0], err)
	}
	return nil
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$\\") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

type theftInfo struct{ Name, Address, Tx string }

// readTheft reads the first scenario's theft address from the synthetic
// world's ground-truth summary (docs/synth.md).
func readTheft(path string) (theftInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return theftInfo{}, err
	}
	var s struct {
		Scenarios []struct {
			Name    string `json:"name"`
			Address string `json:"theft_address"`
			Tx      string `json:"theft_tx"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return theftInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Scenarios) == 0 || s.Scenarios[0].Address == "" {
		return theftInfo{}, fmt.Errorf("%s: no laundering scenario", path)
	}
	sc := s.Scenarios[0]
	return theftInfo{sc.Name, sc.Address, sc.Tx}, nil
}

// firstExchangeEndpoint returns the first exchange cash-out address of a
// scenario in the ground truth's endpoints.csv.
func firstExchangeEndpoint(path, scenario string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return "", err
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for {
		rec, err := r.Read()
		if err != nil {
			return "", fmt.Errorf("%s: no exchange endpoint: %w", path, err)
		}
		if rec[col["scenario"]] == scenario && rec[col["category"]] == "exchange" && rec[col["chain"]] == "synth" {
			return rec[col["address"]], nil
		}
	}
}

// summarizeTrace prints the totals, the first n endpoints and the stats of a
// trace's text output (one fact per line, docs/trace.md).
func summarizeTrace(w io.Writer, out *bytes.Buffer, n int) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	shown, total := 0, 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "endpoint "):
			total++
			if shown < n {
				fmt.Fprintln(w, line)
				shown++
			}
		case strings.HasPrefix(line, "trace "), strings.HasPrefix(line, "total "), strings.HasPrefix(line, "stats"):
			fmt.Fprintln(w, line)
		}
	}
	if total > shown {
		fmt.Fprintf(w, "… %d more endpoints (the full flow graph: add --json, --dot or --csv)\n", total-shown)
	}
}
