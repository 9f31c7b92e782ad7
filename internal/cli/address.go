package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/api"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

func init() { register(newAddressCmd) }

// openLedger opens the ledger store under the data directory.
func (e *env) openLedger(readOnly bool) (*store.Store, error) {
	return e.openLedgerResident(readOnly, 0)
}

// openLedgerResident opens the ledger store for a long-running process that
// keeps up to residentBytes of address names and block times in memory
// (store.Options.ResidentBytes).
func (e *env) openLedgerResident(readOnly bool, residentBytes int64) (*store.Store, error) {
	return store.Open(filepath.Join(e.dataDir, "ledger"), store.Options{Logger: e.logger(), ReadOnly: readOnly, ResidentBytes: residentBytes})
}

func newAddressCmd(e *env) *cobra.Command {
	var (
		asJSON  bool
		top     int
		sample  int
		page    bool
		dirFlag string
		cursor  string
		limit   int
		newest  bool
		noIntel bool
	)
	cmd := &cobra.Command{
		Use:   "address CHAIN ADDR",
		Short: "Summarize an address: first/last seen, totals per asset, top counterparties",
		Long: `Summarize an address from the ledger store: first and last block seen, received
and sent per asset (exact integers in the asset's smallest unit), and the top
counterparties by transfer count. For hubs the counterparties are aggregated
over the most recent --sample transfers only (the output says so); totals are
always complete.

With --page, list the address's transfers one page at a time instead; pass the
printed cursor back with --cursor for the next page.`,
		Example: `  redthread address eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96
  redthread address eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --json
  redthread address eth 0xdac17f958d2ee523a2206206994597c13d831ec7 --page --dir in --limit 50`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			chain := model.Chain(strings.ToLower(args[0]))
			a, err := model.NormalizeAddress(chain, args[1])
			if err != nil {
				return usagef("%v", err)
			}
			var dir store.Direction
			switch dirFlag {
			case "both":
				dir = store.Both
			case "in":
				dir = store.In
			case "out":
				dir = store.Out
			default:
				return usagef("--dir must be in, out or both, not %q", dirFlag)
			}
			if limit < 1 || limit > 10000 {
				return usagef("--limit must be 1..10000")
			}
			s, err := e.openLedger(true)
			if err != nil {
				return err
			}
			defer s.Close()
			if page {
				pg, err := s.Neighbors(cmd.Context(), chain, a, dir, cursor, limit, newest)
				if err != nil {
					return err
				}
				return printPage(e.stdout, pg, asJSON)
			}
			sm, err := s.Summarize(cmd.Context(), chain, a, top, sample)
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			var attrs []model.Attribution
			if !noIntel {
				db, err := e.intelStore().DB()
				if err != nil {
					return fmt.Errorf("open intel store: %w", err)
				}
				attrs = db.Lookup(chain, a, now)
			}
			if asJSON {
				return writeJSON(e.stdout, api.NewAddressReport(sm, now, attrs))
			}
			printSummary(e.stdout, sm, attrs)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.IntVar(&top, "top", 10, "number of counterparties to show")
	f.IntVar(&sample, "sample", 100000, "most recent transfers to aggregate counterparties over")
	f.BoolVar(&page, "page", false, "list transfers page by page instead of summarizing")
	f.StringVar(&dirFlag, "dir", "both", "with --page: in, out or both")
	f.StringVar(&cursor, "cursor", "", "with --page: cursor printed by the previous page")
	f.IntVar(&limit, "limit", 100, "with --page: transfers per page (1..10000)")
	f.BoolVar(&newest, "newest-first", false, "with --page: newest transfers first")
	f.BoolVar(&noIntel, "no-intel", false, "do not look the address up in the intel store")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// JSON shape of a page of transfers; amounts are decimal strings.
type (
	edgeJSON struct {
		Block        uint64 `json:"block"`
		Time         string `json:"time"`
		Position     uint64 `json:"position"`
		Direction    string `json:"direction"`
		Counterparty string `json:"counterparty"`
		Asset        string `json:"asset"`
		Kind         string `json:"kind"`
		Amount       string `json:"amount"`
	}
	pageJSON struct {
		Transfers []edgeJSON `json:"transfers"`
		Next      string     `json:"next_cursor,omitempty"`
	}
)

func isoTime(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func dirName(d store.Direction) string {
	if d == store.In {
		return "in"
	}
	return "out"
}

func printPage(w io.Writer, pg store.Page, asJSON bool) error {
	out := pageJSON{Transfers: []edgeJSON{}, Next: pg.Next}
	for _, e := range pg.Edges {
		out.Transfers = append(out.Transfers, edgeJSON{e.Block, isoTime(e.Time), uint64(e.Position), dirName(e.Dir), e.Counterparty, e.Asset, e.Kind.String(), e.Amount.Dec()})
	}
	if asJSON {
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOCK\tTIME\tDIR\tCOUNTERPARTY\tASSET\tKIND\tAMOUNT")
	for _, e := range out.Transfers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Block, e.Time, e.Direction, e.Counterparty, e.Asset, e.Kind, e.Amount)
	}
	tw.Flush()
	if pg.Next != "" {
		fmt.Fprintf(w, "next page: --cursor %s\n", pg.Next)
	}
	return nil
}

func printSummary(w io.Writer, sm *store.Summary, attrs []model.Attribution) {
	fmt.Fprintf(w, "%s %s\n", sm.Chain, sm.Address)
	for _, at := range attrs {
		fmt.Fprintf(w, "  %-10s %s (confidence %d; source %s)\n", at.Category, at.Label, at.Confidence, at.Source.Name)
	}
	if !sm.Known || sm.FirstSeen == nil {
		fmt.Fprintln(w, "  no transfers in the ledger store")
		return
	}
	fmt.Fprintf(w, "  first seen  block %d  %s\n", sm.FirstSeen.Number, isoTime(sm.FirstSeen.Time))
	fmt.Fprintf(w, "  last seen   block %d  %s\n\n", sm.LastSeen.Number, isoTime(sm.LastSeen.Time))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ASSET\tIN\tRECEIVED\tOUT\tSENT")
	for _, a := range sm.Assets {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%s\n", a.Asset, a.CountIn, a.Received.String(), a.CountOut, a.Sent.String())
	}
	tw.Flush()
	note := ""
	if sm.Sampled {
		note = fmt.Sprintf(" (over the most recent %d transfers)", sm.SampleLimit)
	}
	fmt.Fprintf(w, "\n  top counterparties%s\n", note)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ADDRESS\tIN\tOUT")
	for _, c := range sm.Counterparties {
		fmt.Fprintf(tw, "  %s\t%d\t%d\n", c.Address, c.In, c.Out)
	}
	tw.Flush()
}
