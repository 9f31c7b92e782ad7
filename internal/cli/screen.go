package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
)

func init() { register(newScreenCmd) }

func newScreenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "screen",
		Short: "Screen names, identifiers and wallets against sanctions lists",
		Long: `Match people, companies and wallet addresses against the entities of the
intel store (the shipped OFAC SDN and UN consolidated lists, refreshed lists
and anything loaded with "redthread intel load").

Names are matched with rules made for Korean and Chinese names: the Korean
romanization systems (Revised, McCune–Reischauer, North Korean, passport
spellings, Hangul), the initial-sound rule (Ri/Lee/Yi), pinyin against
Wade–Giles, and the Mandarin reading of a Korean name's hanja (Kim Chol Sam
= Jin Tiesan). Every score comes with its explanation. A name alone scores
at most 0.9; a matching date of birth or nationality raises the cap, a
conflicting one lowers the score; identifier, e-mail and wallet hits are
exact (score 1). Rules, weights and evaluation figures: docs/screening.md.`,
	}
	cmd.AddCommand(newScreenNameCmd(e), newScreenCompareCmd(e), newScreenWalletCmd(e), newScreenBatchCmd(e),
		newScreenEvalCmd(e), newScreenBenchCmd(e))
	return cmd
}

// screenIndex builds the screening index over the intel store.
func (e *env) screenIndex(o screen.Options) (*screen.Index, error) {
	ix, err := screen.OpenIndex(e.intelStore(), o)
	if err != nil {
		return nil, err
	}
	st := ix.Stats()
	e.logger().Debug("screening index built", "entities", st.Entities, "names", st.Names, "took", ix.BuildDur)
	return ix, nil
}

func newScreenNameCmd(e *env) *cobra.Command {
	var q screen.Query
	var asJSON bool
	var o screen.Options
	cmd := &cobra.Command{
		Use:   "name NAME",
		Short: "Screen one person or company name",
		Long: `Screen NAME against every listed entity. --dob, --nationality and --id add
evidence: a matching date of birth or nationality raises the score, a
conflicting one lowers it; an identifier (passport, registration number) or
e-mail address that a list carries is an exact match.`,
		Example: `  redthread screen name "Kim Jong Un"
  redthread screen name "KIM, Chol Sam" --dob 1971-03-11 --nationality KP
  redthread screen name "Jin Tiesan" --type person --json
  redthread screen name "" --id 472310082`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q.Name = args[0]
			if q.Type != "" && q.Type != "person" && q.Type != "company" {
				return usagef("--type must be person or company, not %q", q.Type)
			}
			if q.Name == "" && len(q.Identifiers) == 0 {
				return usagef("give a name or --id")
			}
			ix, err := e.screenIndex(o)
			if err != nil {
				return err
			}
			ms, err := ix.Screen(q)
			if err != nil {
				if isInputErr(err) {
					return usagef("name: %v", err)
				}
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, screen.Result{Query: q, Matches: ms})
			}
			return printMatches(e.stdout, ms)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.DOB, "dob", "", "date of birth: YYYY, YYYY-MM or YYYY-MM-DD")
	f.StringVar(&q.Nationality, "nationality", "", "nationality: country name or ISO code (KP, CN, …)")
	f.StringVar(&q.Type, "type", "", "person or company (default: any)")
	f.StringSliceVar(&q.Identifiers, "id", nil, "identifier or e-mail address (repeatable)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.IntVar(&o.Limit, "limit", 10, "most matches to print")
	f.Float64Var(&o.MinScore, "min-score", screen.DefaultMinScore, "lowest score to print")
	return cmd
}

func isInputErr(err error) bool {
	for _, s := range []error{screen.ErrEmpty, screen.ErrTooLong, screen.ErrInvalidUTF8, screen.ErrControl} {
		if errors.Is(err, s) {
			return true
		}
	}
	return strings.Contains(err.Error(), "date of birth") || strings.Contains(err.Error(), "type ")
}

func printMatches(w io.Writer, ms []screen.Match) error {
	if len(ms) == 0 {
		_, err := fmt.Fprintln(w, "no match")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tENTITY\tNAME\tMATCHED\tWHY")
	for _, m := range ms {
		fmt.Fprintf(tw, "%.3f\t%s\t%s\t%s\t%s\n", m.Score, m.EntityID, m.Name, m.MatchedName, why(m.Explanation))
	}
	return tw.Flush()
}

// why renders an explanation on one line.
func why(ex screen.Explanation) string {
	if ex.Exact != "" {
		return "exact: " + ex.Exact
	}
	var parts []string
	for _, p := range ex.Parts {
		switch {
		case p.Rule == "unmatched" && p.A != "":
			parts = append(parts, p.A+" unmatched")
		case p.Rule == "unmatched":
			parts = append(parts, p.B+" unmatched")
		case p.Rule == "exact":
			parts = append(parts, p.A)
		default:
			parts = append(parts, fmt.Sprintf("%s~%s (%s)", p.A, p.B, p.Rule))
		}
	}
	s := ex.Mode + ": " + strings.Join(parts, ", ")
	for _, f := range ex.Factors {
		s += "; " + f.Effect
	}
	return s
}

func newScreenCompareCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Score two names against each other, with the explanation",
		Long: `Score two names with no other evidence. The JSON object's "score" is in
[0, 0.9] (a name alone never scores more than 0.9); "name_score" is the raw
name similarity in [0, 1]; "explanation" lists the matched parts, the rule
that matched each and its weight.`,
		Example: `  redthread screen compare --json "Kim Chol Sam" "Jin Tiesan"
  redthread screen compare "Jang Myong Jin" "Chang Myong Chin"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := screen.Compare(args[0], args[1])
			if err != nil {
				return usagef("%v", err)
			}
			if asJSON {
				return writeJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "score %.3f (name %.3f, %s)\n", r.Score, r.NameScore, r.Explanation.Mode)
			tw := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "A\tB\tRULE\tSIMILARITY\tWEIGHT")
			for _, p := range r.Explanation.Parts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%.3f\n", p.A, p.B, p.Rule, p.Similarity, p.Weight)
			}
			for _, n := range r.Notes {
				fmt.Fprintf(tw, "note: %s\n", n)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newScreenWalletCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "wallet CHAIN ADDRESS",
		Short: "Screen a wallet address (exact match against listed wallets and attributions)",
		Example: `  redthread screen wallet eth 0x098B716B8Aaf21512996dC57EB0615e2383E2f96
  redthread screen wallet btc 1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ix, err := e.screenIndex(screen.Options{})
			if err != nil {
				return err
			}
			ms, err := ix.Wallet(model.Chain(strings.ToLower(args[0])), args[1])
			if err != nil {
				return usagef("%v", err)
			}
			if asJSON {
				if ms == nil {
					ms = []screen.WalletMatch{}
				}
				return writeJSON(e.stdout, map[string]any{"chain": strings.ToLower(args[0]), "address": args[1], "matches": ms})
			}
			if len(ms) == 0 {
				fmt.Fprintln(e.stdout, "no match")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "SCORE\tENTITY\tNAME\tCATEGORY\tSOURCE\tREASON")
			for _, m := range ms {
				fmt.Fprintf(tw, "%.0f\t%s\t%s\t%s\t%s\t%s\n", m.Score, m.EntityID, m.Name, m.Category, m.Source, m.Reason)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newScreenBatchCmd(e *env) *cobra.Command {
	var o screen.Options
	cmd := &cobra.Command{
		Use:   "batch FILE",
		Short: "Screen a batch of up to 1,000 queries (JSON lines) and print JSON lines",
		Long: `Read queries from FILE ("-" for standard input), one JSON object per line:
{"name": "...", "dob": "...", "nationality": "...", "type": "person", "identifiers": ["..."]}.
Print one JSON result per line, in order. A bad query gets an "error" field;
the others are still screened. This is what POST /api/v1/screen serves.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = os.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			var qs []screen.Query
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			line := 0
			for sc.Scan() {
				line++
				if strings.TrimSpace(sc.Text()) == "" {
					continue
				}
				var q screen.Query
				if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
					return usagef("%s line %d: %v", args[0], line, err)
				}
				qs = append(qs, q)
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("read %s: %w", args[0], err)
			}
			if len(qs) > screen.MaxBatch {
				return usagef("%s: %d queries, at most %d per batch", args[0], len(qs), screen.MaxBatch)
			}
			ix, err := e.screenIndex(o)
			if err != nil {
				return err
			}
			res, err := ix.ScreenBatch(cmd.Context(), qs)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(e.stdout)
			for _, r := range res {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Limit, "limit", 10, "most matches per query")
	cmd.Flags().Float64Var(&o.MinScore, "min-score", screen.DefaultMinScore, "lowest score to report")
	return cmd
}

func newScreenEvalCmd(e *env) *cobra.Command {
	var asJSON bool
	var split string
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Precision, recall and F1 of name matching on the shipped evaluation set",
		Long: `Score every pair of the evaluation set shipped with redthread
(internal/screen/testdata/eval/pairs.tsv: UN and OFAC DPRK persons and their
aliases, hand-made romanization variants and hard negatives; see its
SOURCE.md) with "screen compare" and print precision, recall and F1 at
several thresholds for the dev split (used while tuning), the held-out test
split and both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pairs, err := screen.EvalSet()
			if err != nil {
				return err
			}
			if split != "" {
				var sel []screen.EvalPair
				for _, p := range pairs {
					if p.Split == split {
						sel = append(sel, p)
					}
				}
				if len(sel) == 0 {
					return usagef("--split must be dev or test, not %q", split)
				}
				pairs = sel
			}
			rep, err := screen.Evaluate(pairs, screen.DefaultThresholds)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, rep)
			}
			_, err = io.WriteString(e.stdout, screen.FormatEval(rep))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&split, "split", "", "only the dev or the test split")
	return cmd
}

func newScreenBenchCmd(e *env) *cobra.Command {
	var n int
	var writeQueries string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure index build time and name-query latency over the loaded entities",
		Long: `Build the screening index over every entity of the intel store, then run
name queries on one goroutine locked to one OS thread: every Nth name of
the lists itself plus perturbed spellings of them (as a screening customer
would type them). Prints the build time and the per-query latency (p50,
p99, max) both as wall time and as the thread's CPU time (which is what a
shared machine's other load does not inflate), and queries per second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ds, err := e.intelStore().Datasets()
			if err != nil {
				return fmt.Errorf("load intel: %w", err)
			}
			ents, attrs := screen.FromDatasets(ds)
			runtime.GC()
			c0 := screen.ProcessCPUTime()
			ix := screen.NewIndex(ents, attrs, screen.Options{})
			buildCPU := screen.ProcessCPUTime() - c0
			st := ix.Stats()
			fmt.Fprintf(e.stdout, "index: %d entities, %d names, %d keys, %d wallet addresses\n", st.Entities, st.Names, st.Keys, st.Wallets)
			fmt.Fprintf(e.stdout, "build: wall %v, process CPU %v (GOMAXPROCS %d)\n", ix.BuildDur.Round(time.Millisecond), buildCPU.Round(time.Millisecond), runtime.GOMAXPROCS(0))
			qs := benchQueries(ents, n)
			if writeQueries != "" {
				var b strings.Builder
				for _, q := range qs {
					fmt.Fprintf(&b, "%s\t%s\n", q.Type, q.Name)
				}
				if err := os.WriteFile(writeQueries, []byte(b.String()), 0o644); err != nil {
					return err
				}
			}
			return runBench(cmd.Context(), e.stdout, ix, qs)
		},
	}
	cmd.Flags().IntVar(&n, "queries", 5000, "number of queries")
	cmd.Flags().StringVar(&writeQueries, "write-queries", "", "also write the queries to this file (type TAB name per line), to run another screener on them")
	return cmd
}

// benchQueries picks n queries spread over the entities' names, every
// other one perturbed (order swapped, hyphenated, upper-cased), typed
// person or company after the entity.
func benchQueries(ents []model.Entity, n int) []screen.Query {
	var all []screen.Query
	for _, e := range ents {
		typ := "company"
		if e.Type == model.EntityPerson {
			typ = "person"
		}
		for _, nm := range e.Names {
			all = append(all, screen.Query{Name: nm.Full, Type: typ})
		}
	}
	if len(all) == 0 || n <= 0 {
		return nil
	}
	step := max(1, len(all)/n)
	var qs []screen.Query
	for i := 0; len(qs) < n; i += step {
		q := all[i%len(all)]
		if len(qs)%2 == 1 {
			w := strings.Fields(strings.ReplaceAll(q.Name, ",", ""))
			if len(w) > 1 {
				w[0], w[len(w)-1] = w[len(w)-1], w[0]
			}
			q.Name = strings.ToUpper(strings.Join(w, "-"))
		}
		qs = append(qs, q)
	}
	return qs
}

func threadCPU() time.Duration { return screen.ThreadCPUTime() }

func runBench(ctx context.Context, w io.Writer, ix *screen.Index, qs []screen.Query) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, 0, len(qs))
	cpu := make([]time.Duration, 0, len(qs))
	errs := 0
	t0, c0 := time.Now(), threadCPU()
	for i, q := range qs {
		if i%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s, c := time.Now(), threadCPU()
		if _, err := ix.Screen(q); err != nil {
			errs++
		}
		cpu = append(cpu, threadCPU()-c)
		wall = append(wall, time.Since(s))
	}
	total, totalCPU := time.Since(t0), threadCPU()-c0
	pct := func(d []time.Duration, p float64) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[min(len(d)-1, int(p*float64(len(d))))]
	}
	fmt.Fprintf(w, "queries: %d (%d rejected as bad input)\n", len(qs), errs)
	fmt.Fprintf(w, "wall: p50 %v  p99 %v  max %v  throughput %.0f queries/s\n",
		pct(wall, 0.5), pct(wall, 0.99), pct(wall, 1), float64(len(qs))/total.Seconds())
	fmt.Fprintf(w, "thread CPU: p50 %v  p99 %v  max %v  throughput %.0f queries/s per core\n",
		pct(cpu, 0.5), pct(cpu, 0.99), pct(cpu, 1), float64(len(qs))/totalCPU.Seconds())
	return nil
}
