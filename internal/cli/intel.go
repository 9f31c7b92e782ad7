package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/cluster"
	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

func init() { register(newIntelCmd) }

// intelStore returns the intel store under the data directory.
func (e *env) intelStore() *intel.Store { return intel.NewStore(filepath.Join(e.dataDir, "intel")) }

func newIntelCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "intel",
		Short: "Sanctions lists, incident packs and labels: load, query, refresh",
		Long: `The intel layer: attributions (address → entity, category, incident) with their
source, confidence and validity dates, and the listed entities (people,
companies, vessels) behind them.

redthread ships packs (OFAC and UN lists, the DPRK incident pack, explorer
and Forta labels) inside the binary, so everything works offline. "intel
load" adds your own files; "intel update" refreshes the official lists.
Formats, categories and the confidence scale: docs/intel.md.`,
	}
	cmd.AddCommand(newIntelLoadCmd(e), newIntelShowCmd(e), newIntelStatsCmd(e), newIntelUpdateCmd(e), newIntelExportCmd(e), newIntelInferCmd(e))
	return cmd
}

func parseDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("--%s must be a date YYYY-MM-DD, not %q", flag, s)
	}
	return t, nil
}

func newIntelLoadCmd(e *env) *cobra.Command {
	var published, url, name, license string
	cmd := &cobra.Command{
		Use:   "load KIND FILE...",
		Short: "Load a sanctions list, incident pack, label set or TagPack",
		Long: `Parse FILE(s) with the loader of KIND and add the result to the intel store
(DATA/intel). A file that does not parse is reported with its line and field,
and nothing changes. Loading the same content twice changes nothing.

Kinds:
  un-xml            UN Security Council consolidated list (consolidated.xml)
  ofac-csv          OFAC sdn.csv, with add.csv, alt.csv, sdn_comments.csv when given
  ofac-advanced     OFAC SDN_ADVANCED.XML
  ofac-addresses    sanctioned_addresses_<TICKER>.json/.txt per-ticker address lists
  ofac-eth-csv      address,name CSV of OFAC-listed Ethereum addresses
  dprk              DPRK incident pack (addresses CSV and/or incidents CSV)
  etherscan-labels  <explorer>_combinedAllLabels.json label clouds
  forta             Forta labelled-datasets CSVs
  tagpack           GraphSense TagPack YAML
  delistings        known official delistings CSV

Files may be gzip-compressed. --published dates a list that carries no date
of its own; it matters for listing and delisting (docs/intel.md).`,
		Example: `  redthread intel load ofac-csv sdn.csv alt.csv add.csv sdn_comments.csv --published 2024-05-03
  redthread intel load un-xml consolidated.xml
  redthread intel load ofac-addresses sanctioned_addresses_ETH.json sanctioned_addresses_XBT.json --published 2024-09-27
  redthread intel load tagpack my_tags.yaml`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			known := false
			for _, k := range intel.Kinds {
				known = known || k == kind
			}
			if !known {
				return usagef("unknown kind %q (known: %s)", kind, strings.Join(intel.Kinds, ", "))
			}
			pub, err := parseDay("published", published)
			if err != nil {
				return err
			}
			var ins []intel.Input
			for _, f := range args[1:] {
				b, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("read %s: %w", f, err)
				}
				ins = append(ins, intel.Input{Name: f, Data: b})
			}
			res, err := e.intelStore().Load(kind, ins, intel.Options{Published: pub, URL: url, Name: name, License: license})
			if err != nil {
				return fmt.Errorf("load %s: %w", kind, err)
			}
			ds := res.Dataset
			state := "loaded"
			if !res.Added {
				state = "already loaded, nothing changed"
			}
			fmt.Fprintf(e.stdout, "%s %s: %d attributions, %d entities, %d incidents, %d delistings", kind, state,
				len(ds.Attributions), len(ds.Entities), len(ds.Incidents), len(ds.Delistings))
			if ds.Skipped > 0 {
				fmt.Fprintf(e.stdout, ", %d non-address records skipped", ds.Skipped)
			}
			fmt.Fprintf(e.stdout, " (id %s)\n", res.ID)
			for i, w := range ds.Warnings {
				if i == 5 {
					fmt.Fprintf(e.stdout, "warning: … and %d more\n", len(ds.Warnings)-5)
					break
				}
				fmt.Fprintf(e.stdout, "warning: %s (kept as text)\n", w)
			}
			if ds.List != "" && ds.Source.Published.IsZero() {
				fmt.Fprintf(e.stdout, "note: %s carries no publication date, so it takes no part in listing and delisting; load it again with --published\n", kind)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&published, "published", "", "publication date of the list, YYYY-MM-DD (default: the date the file carries, if any)")
	cmd.Flags().StringVar(&url, "url", "", "where the source is published (default per kind)")
	cmd.Flags().StringVar(&name, "name", "", "source name shown in provenance (default per kind)")
	cmd.Flags().StringVar(&license, "license", "", "license of the data (default per kind)")
	return cmd
}

// showReport is the JSON form of intel show.
type showReport struct {
	Chain     model.Chain      `json:"chain"`
	Address   string           `json:"address"`
	AsOf      string           `json:"as_of"`
	Claims    []intel.Claim    `json:"claims"`
	Entities  []model.Entity   `json:"entities,omitempty"`
	Incidents []intel.Incident `json:"incidents,omitempty"`
}

func newIntelShowCmd(e *env) *cobra.Command {
	var asOf string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CHAIN ADDR",
		Short: "Explain an address: every attribution with its source, status and validity",
		Long: `List every attribution of an address with its provenance (source, file,
publication date, URL), confidence, validity dates and status as of --as-of
(default today): active, delisted (with the sources that show the delisting),
expired or not yet valid. When sources disagree all are shown; none wins.
The listed entities and incidents the attributions point at follow.`,
		Example: `  redthread intel show eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96
  redthread intel show eth 0x8589427373d6d84e98730d7795d8f6f8731fda16 --as-of 2025-06-01
  redthread intel show eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			chain := model.Chain(strings.ToLower(args[0]))
			addr, err := intel.NormalizeAddress(chain, args[1])
			if err != nil {
				return usagef("%v", err)
			}
			when := time.Now().UTC()
			if asOf != "" {
				if when, err = parseDay("as-of", asOf); err != nil {
					return err
				}
			}
			db, err := e.intelStore().DB()
			if err != nil {
				return err
			}
			rep := showReport{Chain: chain, Address: addr, AsOf: when.Format(time.DateOnly), Claims: db.Explain(chain, addr, when)}
			if rep.Claims == nil {
				rep.Claims = []intel.Claim{}
			}
			seenE, seenI := map[string]bool{}, map[string]bool{}
			for _, c := range rep.Claims {
				if c.Entity != "" && !seenE[c.Entity] {
					seenE[c.Entity] = true
					if ent, ok := db.Entity(c.Entity); ok {
						rep.Entities = append(rep.Entities, ent)
					}
				}
				if c.Incident != "" && !seenI[c.Incident] {
					seenI[c.Incident] = true
					if inc, ok := db.Incident(c.Incident); ok {
						rep.Incidents = append(rep.Incidents, inc)
					}
				}
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printShow(e.stdout, &rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "date to judge validity at, YYYY-MM-DD (default today)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func fmtSource(s model.Source) string {
	parts := []string{s.Name}
	if s.File != "" {
		parts = append(parts, "file "+s.File)
	}
	if !s.Published.IsZero() {
		parts = append(parts, "published "+s.Published.UTC().Format(time.DateOnly))
	}
	if s.URL != "" {
		parts = append(parts, s.URL)
	}
	return strings.Join(parts, "; ")
}

func printShow(w io.Writer, r *showReport) {
	fmt.Fprintf(w, "%s %s as of %s: %d attribution(s)\n", r.Chain, r.Address, r.AsOf, len(r.Claims))
	if len(r.Claims) == 0 {
		fmt.Fprintln(w, "  no attribution in any loaded source")
	}
	active := map[model.Category]bool{}
	for i, c := range r.Claims {
		who := c.Label
		if c.Entity != "" {
			who += " [" + c.Entity + "]"
		}
		fmt.Fprintf(w, "\n%d. %-10s %s — %s\n", i+1, strings.ToUpper(string(c.Category)), who, c.Status)
		if c.Incident != "" || c.Role != "" {
			fmt.Fprintf(w, "   incident: %s  role: %s\n", dash(c.Incident), dash(c.Role))
		}
		fmt.Fprintf(w, "   confidence: %d/100 (GraphSense %s)\n", c.Confidence, c.JSON().GraphSense)
		fmt.Fprintf(w, "   source: %s\n", fmtSource(c.Source))
		if c.Inferred {
			fmt.Fprintf(w, "   inferred by redthread from the ledger, not listed by any source")
			if c.Status == intel.StatusSuperseded {
				fmt.Fprintf(w, "; a listed claim holds, so this one is not used")
			}
			fmt.Fprintln(w)
		}
		if ev := c.Evidence; ev != nil {
			fmt.Fprintf(w, "   evidence: %d sweep(s) into %s", ev.Sweeps, dash(ev.Target))
			if ev.Senders > 0 {
				fmt.Fprintf(w, ", %d distinct sender(s)", ev.Senders)
			}
			if !ev.FirstSweep.IsZero() {
				fmt.Fprintf(w, ", first %s, last %s", ev.FirstSweep.Format(time.RFC3339), ev.LastSweep.Format(time.RFC3339))
			}
			fmt.Fprintln(w)
			if len(ev.Txs) > 0 {
				fmt.Fprintf(w, "   sweep transactions: %s\n", strings.Join(ev.Txs, ", "))
			}
		}
		if !c.ValidFrom.IsZero() || !c.ValidTo.IsZero() {
			fmt.Fprintf(w, "   valid: %s → %s\n", dayOrOpen(c.ValidFrom), dayOrOpen(c.ValidTo))
		}
		if c.DelistedBy != nil {
			fmt.Fprintf(w, "   delisted on %s: absent from %s\n", c.ValidTo.Format(time.DateOnly), fmtSource(*c.DelistedBy))
		}
		if c.DelistingNote != nil {
			fmt.Fprintf(w, "   official delisting: %s\n", fmtSource(*c.DelistingNote))
		}
		if c.Status == intel.StatusActive {
			active[c.Category] = true
		}
	}
	if len(active) > 0 {
		var cats []string
		for c := range active {
			cats = append(cats, string(c))
		}
		sort.Strings(cats)
		fmt.Fprintf(w, "\nactive categories: %s\n", strings.Join(cats, ", "))
	}
	for _, ent := range r.Entities {
		fmt.Fprintf(w, "\nentity %s: %s (%s)", ent.ID, ent.Names[0].Full, ent.Type)
		if len(ent.Programs) > 0 {
			fmt.Fprintf(w, ", programs %s", strings.Join(ent.Programs, ", "))
		}
		fmt.Fprintln(w)
		var aka []string
		for _, n := range ent.Names[1:] {
			aka = append(aka, fmt.Sprintf("%s (%s)", n.Full, n.Quality))
		}
		if len(aka) > 0 {
			fmt.Fprintf(w, "   a.k.a. %s\n", strings.Join(aka, "; "))
		}
		if len(ent.Wallets) > 0 {
			fmt.Fprintf(w, "   %d listed wallet(s); source %s\n", len(ent.Wallets), fmtSource(ent.Source))
		}
	}
	for _, inc := range r.Incidents {
		fmt.Fprintf(w, "\nincident %s: %s", inc.ID, inc.Name)
		if when := inc.When(); when != "" {
			fmt.Fprintf(w, ", %s", when)
		}
		if inc.StolenKnown {
			fmt.Fprintf(w, ", US$%d stolen", inc.StolenUSD)
		}
		if inc.Attribution != "" {
			fmt.Fprintf(w, ", attributed to %s", inc.Attribution)
		}
		fmt.Fprintf(w, " (source %s)\n", inc.Source.Name)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dayOrOpen(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.DateOnly)
}

func newIntelStatsCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Summarize the loaded intel: datasets, addresses, categories, chains",
		Long: `List every dataset in use (shipped packs, refreshed official lists, your
loads) with its source, publication date and counts, then the number of
attributed addresses, attributions, entities and incidents, per category and
per chain. --json adds skipped records and warnings per dataset.`,
		Example: `  redthread intel stats
  redthread intel stats --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.intelStore().DB()
			if err != nil {
				return err
			}
			st := db.Stats()
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tSOURCE\tPUBLISHED\tATTRIBUTIONS\tENTITIES\tINCIDENTS")
			for _, d := range st.Datasets {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", d.Kind, d.Source.Name, dayOrOpen(d.Source.Published), d.Attributions, d.Entities, d.Incidents)
			}
			tw.Flush()
			fmt.Fprintf(e.stdout, "\n%d attributed addresses, %d attributions, %d entities, %d incidents\n", st.Addresses, st.Records, st.Entities, st.Incidents)
			printCounts(e.stdout, "by category", st.ByCategory)
			printCounts(e.stdout, "by chain", st.ByChain)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printCounts[K ~string](w io.Writer, title string, m map[K]int) {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	fmt.Fprintf(w, "%s: %s\n", title, strings.Join(parts, ", "))
}

func newIntelUpdateCmd(e *env) *cobra.Command {
	var baseURL string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download fresh official lists (OFAC, UN), validate them and swap them in",
		Long: `Download the official OFAC SDN CSV set and SDN_ADVANCED.XML and the UN
consolidated list from their publishers, parse each to validate it, and only
when all parse swap them in atomically under DATA/intel/official. A failed or
broken download leaves the current lists in place. The refreshed lists
replace the shipped copies of the same lists; older snapshots still count for
listing and delisting dates.`,
		Example: `  redthread intel update
  redthread intel update --base-url http://mirror.example/ofac-un`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := e.logger()
			ctx := cmd.Context()
			res, err := e.intelStore().Update(ctx, intel.UpdateOptions{BaseURL: baseURL, Client: &http.Client{Timeout: timeout},
				Log: func(f string, a ...any) { log.Info(fmt.Sprintf(f, a...)) }})
			if err != nil {
				return fmt.Errorf("intel update (current lists kept): %w", err)
			}
			for _, p := range res.Packs {
				fmt.Fprintf(e.stdout, "%s: %s\n", p.Slot, strings.Join(p.Files, ", "))
			}
			fmt.Fprintf(e.stdout, "official lists updated (generation %s)\n", res.Generation)
			return nil
		},
	}
	cmd.Flags().StringVar(&baseURL, "base-url", "", "download every file from BASE-URL/<file name> instead of the official URLs")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "timeout per download")
	return cmd
}

func newIntelExportCmd(e *env) *cobra.Command {
	var out, chain, category, entity, title, creator string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export attributions as a GraphSense TagPack (YAML)",
		Long: `Write the loaded attributions, filtered by --chain, --category and --entity,
as a GraphSense TagPack. Each tag carries GraphSense's fields and, in its
context, redthread's exact claim, so "intel load tagpack" of the export gives
the same attributions back.`,
		Example: `  redthread intel export --category dprk -o dprk.yaml
  redthread intel export --entity ofac:27307`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.intelStore().DB()
			if err != nil {
				return err
			}
			var attrs []model.Attribution
			db.Each(func(a model.Attribution) bool {
				if (chain == "" || string(a.Chain) == chain) && (category == "" || string(a.Category) == category) &&
					(entity == "" || a.Entity == entity) {
					attrs = append(attrs, a)
				}
				return true
			})
			b, err := intel.ExportTagPack(title, creator, "Exported by redthread intel export", attrs).Marshal()
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = e.stdout.Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(e.stdout, "%d tags written to %s\n", len(attrs), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default stdout)")
	cmd.Flags().StringVar(&chain, "chain", "", "only this chain")
	cmd.Flags().StringVar(&category, "category", "", "only this category")
	cmd.Flags().StringVar(&entity, "entity", "", "only this entity id")
	cmd.Flags().StringVar(&title, "title", "redthread attributions", "TagPack title")
	cmd.Flags().StringVar(&creator, "creator", "redthread", "TagPack creator")
	return cmd
}

// depositMethod names the deposit-address heuristic's inferred sets (the
// API's name for them).
const depositMethod = api.DepositMethod

// inferDeposits runs the deposit-address heuristic (internal/cluster) over
// one chain of the graph and returns the set to store: every finding with
// its evidence (the transaction hashes of its first sweeps). known are the
// listed attributions the heuristic starts from; head is the chain's
// newest block.
func inferDeposits(ctx context.Context, g trace.Graph, chain model.Chain, head uint64, known trace.Attributor, o cluster.Options) (*intel.InferredSet, error) {
	cg, ok := g.Chain(chain)
	if !ok {
		return nil, fmt.Errorf("infer deposit addresses: chain %s is not indexed", chain)
	}
	found, err := cluster.DepositAddresses(ctx, cg, chain, known, o)
	if err != nil {
		return nil, fmt.Errorf("infer deposit addresses of %s: %w", chain, err)
	}
	var seqs []uint32
	for _, f := range found {
		seqs = append(seqs, f.SweepSeqs...)
	}
	hashes, err := cg.TxHashes(ctx, seqs)
	if err != nil {
		return nil, fmt.Errorf("infer deposit addresses of %s: sweep transactions: %w", chain, err)
	}
	set := &intel.InferredSet{Method: depositMethod, Chain: chain, Computed: time.Now().UTC(), Head: head, Transfers: cg.Len(),
		Params: depositParams(o), Inferences: make([]intel.Inference, 0, len(found))}
	for _, f := range found {
		ev := intel.Evidence{Target: f.Target, Sweeps: f.Sweeps, Senders: f.Senders, FirstSweep: f.FirstSweep, LastSweep: f.LastSweep}
		if n := len(f.SweepSeqs); n > 0 {
			ev.Txs, hashes = hashes[:n:n], hashes[n:]
		}
		set.Inferences = append(set.Inferences, intel.Inference{Attribution: f.Attribution, Evidence: ev})
	}
	return set, nil
}

// depositParams records the heuristic's options as it ran with them.
func depositParams(o cluster.Options) string {
	o = o.WithDefaults()
	return fmt.Sprintf("max-delay=%s residual-per-mille=%d sweep-per-mille=%d max-degree=%d min-collector=%d",
		o.MaxDelay, o.ResidualPerMille, o.SweepPerMille, o.MaxDegree, o.MinCollector)
}

func newIntelInferCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "infer",
		Short: "Infer attributions from the ledger itself (exchange deposit addresses) and store them with the intel",
		Long: `Inferred attributions are what redthread concludes from the ledger, not what a
list says. They are stored under DATA/intel/inferred/CHAIN/METHOD.set, one
set per chain and method, each attribution with its evidence, and are part of
the intel from then on: "intel show", exposure and the API's address route see
them, labelled by their source (heuristic:…); "trace --deposit-heuristic" and
the API's trace with "deposit_heuristic" stop at them. A listed claim on the
same address always outranks an inferred one (docs/intel.md, "Inferred
attributions").`,
	}
	cmd.AddCommand(newIntelInferDepositsCmd(e), newIntelInferListCmd(e))
	return cmd
}

func newIntelInferDepositsCmd(e *env) *cobra.Command {
	var (
		chainFlag string
		labels    []string
		remove    bool
		o         cluster.Options
	)
	cmd := &cobra.Command{
		Use:   "deposits --chain CHAIN",
		Short: "Find exchange deposit addresses by the deposit-address heuristic and store them as inferred attributions",
		Long: `Run the exchange deposit-address heuristic (Victor 2020; docs/trace.md,
"Deposit addresses") over every address of CHAIN in the ledger store, starting
from the exchange wallets the listed intel (and --labels files) names, and
store every finding as an inferred attribution: deposit addresses (source
heuristic:deposit-address) and unlabelled wallets of their exchange (source
heuristic:deposit-collector), each with its confidence (50–85, or 60 for a
wallet; 10 less for an unidentified exchange), validity from the address's
first transfer, and its evidence: the wallet it sweeps into, the number of
sweeps and distinct senders, the first and last sweep, and the transactions
of the first three sweeps.

A run replaces the chain's previous set as a whole (so a re-run after new
blocks or new labels is the way to bring it up to date); a run that fails
changes nothing. The set records the newest block it saw; "trace
--deposit-heuristic" warns when the ledger has grown since. --remove deletes
the chain's set. With "serve" running (it holds the ledger store), use its
POST /api/v1/intel/infer/deposits route instead (docs/api.md).`,
		Example: `  redthread intel infer deposits --chain eth
  redthread intel infer deposits --chain synth --max-delay 48h --labels world/truth/exchanges.csv
  redthread intel infer deposits --chain eth --remove`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			chain := model.Chain(strings.ToLower(chainFlag))
			if chain == "" {
				return usagef("--chain is required")
			}
			is := e.intelStore()
			if remove {
				ok, err := is.RemoveInferred(chain, depositMethod)
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintf(e.stdout, "%s: no inferred deposit addresses stored; nothing changed\n", chain)
					return nil
				}
				fmt.Fprintf(e.stdout, "%s: inferred deposit addresses removed\n", chain)
				return nil
			}
			if o.MaxDelay < 0 {
				return usagef("--max-delay must be positive")
			}
			known, err := e.listedAttributor(labels)
			if err != nil {
				return err
			}
			st, err := e.openChainLedger(chain)
			if err != nil {
				return err
			}
			defer st.Close()
			head, _, err := st.Head(chain)
			if err != nil {
				return err
			}
			t0 := time.Now()
			ix := graph.New(graph.Options{Hashes: st})
			if err := ix.Load(ctx, st, chain); err != nil {
				return err
			}
			r := ix.Reader()
			defer r.Close()
			loaded := time.Since(t0)
			t1 := time.Now()
			set, err := inferDeposits(ctx, trace.Index(r), chain, head, known, o)
			if err != nil {
				return err
			}
			took := time.Since(t1)
			if err := is.SaveInferred(set); err != nil {
				return fmt.Errorf("store inferred deposit addresses (previous set kept): %w", err)
			}
			deps, wallets := 0, 0
			for _, x := range set.Inferences {
				if x.Attribution.Source.Name == cluster.SourceCollector {
					wallets++
				} else {
					deps++
				}
			}
			e.logger().Info("deposit-address heuristic", "chain", chain, "transfers", set.Transfers, "graph_load", loaded.Round(time.Millisecond),
				"heuristic", took.Round(time.Millisecond))
			fmt.Fprintf(e.stdout, "%s: %d deposit addresses and %d exchange wallets inferred from %d transfers up to block %d in %s; stored (replacing any previous set)\n",
				chain, deps, wallets, set.Transfers, head, took.Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&chainFlag, "chain", "", "chain to infer deposit addresses on (required)")
	f.StringSliceVar(&labels, "labels", nil, "labels CSV file(s) naming more exchange wallets: chain,address,category[,label,entity,confidence]")
	f.BoolVar(&remove, "remove", false, "delete the chain's stored inferred deposit addresses instead")
	f.DurationVar(&o.MaxDelay, "max-delay", 0, "a sweep forwards what arrived at most this long before it (default 24h)")
	f.IntVar(&o.MinCollector, "min-collector", 0, "deposit-shaped addresses, each sweeping at least twice, that make an unlabelled address an exchange wallet (default 10; negative: never)")
	return cmd
}

// listedAttributor is the intel store's listed claims (no inferred ones)
// and the labels files: what inference starts from.
func (e *env) listedAttributor(labelFiles []string) (trace.Attributor, error) {
	var attr attributors
	lab, err := readLabelFiles(labelFiles)
	if err != nil {
		return nil, err
	}
	if lab.Len() > 0 {
		attr = append(attr, lab)
	}
	is := e.intelStore()
	is.NoInferred = true
	db, err := is.DB()
	if err != nil {
		return nil, fmt.Errorf("open intel store: %w", err)
	}
	return append(attr, db), nil
}

func newIntelInferListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored inferred sets: chain, method, when, up to which block, how many attributions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			infos, err := e.intelStore().InferredInfos()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.stdout, infos)
			}
			if len(infos) == 0 {
				fmt.Fprintln(e.stdout, "no inferred attributions stored (redthread intel infer deposits --chain CHAIN)")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CHAIN\tMETHOD\tCOMPUTED\tHEAD BLOCK\tTRANSFERS\tATTRIBUTIONS")
			for _, x := range infos {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", x.Chain, x.Method, x.Computed.Format(time.RFC3339), x.Head, x.Transfers, x.Attributions)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
