package exposure

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// SchemaVersion names the JSON schema of Result (docs/exposure.md).
const SchemaVersion = "redthread.exposure/v1"

// Result is the exposure of one address. Amounts are decimal strings in the
// asset's smallest unit; every share is exactly amount/total of its side.
type Result struct {
	Schema       string          `json:"schema"`
	Chain        string          `json:"chain"`
	Address      string          `json:"address"`
	AsOf         string          `json:"as_of"` // YYYY-MM-DD
	Hops         int             `json:"hops"`
	Known        bool            `json:"known"` // the address has indexed transfers up to as_of
	Attributions []Attr          `json:"attributions"`
	Truncated    bool            `json:"truncated"`
	Reason       string          `json:"truncated_reason,omitempty"`
	Stats        Stats           `json:"stats"`
	Assets       []AssetExposure `json:"assets"`
}

// Stats count the work done.
type Stats struct {
	TransfersRead int64 `json:"transfers_read"`
	Nodes         int   `json:"nodes"`
	Hubs          int   `json:"hubs_not_expanded"`
}

// Attr is an attribution as shown in results.
type Attr struct {
	Label      string `json:"label,omitempty"`
	Category   string `json:"category"`
	Entity     string `json:"entity,omitempty"`
	Source     string `json:"source,omitempty"`
	Confidence int    `json:"confidence"`
}

// AssetExposure is the exposure of the value of one asset.
type AssetExposure struct {
	Asset       string `json:"asset"`
	Source      Side   `json:"source"`      // source of funds: received value
	Destination Side   `json:"destination"` // destination of funds: sent value
}

// Side is one direction of an asset's exposure.
type Side struct {
	Total      string             `json:"total"`     // value received (source) or sent (destination) up to as_of
	Transfers  int                `json:"transfers"` // transfers making up total
	Categories []CategoryExposure `json:"categories"`
	Paths      []Path             `json:"paths"`
}

// CategoryExposure is the part of a side's total that came from (or went to)
// one category. Shares are for display: the exact share is Direct/Total and
// Indirect/Total.
type CategoryExposure struct {
	Category      string  `json:"category"`
	Risky         bool    `json:"risky"`
	Direct        string  `json:"direct"` // from (to) attributed counterparties, 1 hop
	DirectShare   float64 `json:"direct_share"`
	Indirect      string  `json:"indirect"` // within hops, direct included
	IndirectShare float64 `json:"indirect_share"`
}

// Path is one chain of transfers that carries exposure between an
// attributed address and the scored address.
type Path struct {
	Category     string `json:"category"`
	Amount       string `json:"amount"`       // exposed value the path contributes to the side's total
	Counterparty string `json:"counterparty"` // the attributed address at the far end
	Labels       []Attr `json:"labels"`       // its attributions of this category
	Steps        []Step `json:"steps"`        // in the direction the value moved
}

// Step is one transfer of a path.
type Step struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Tx       string `json:"tx"`
	Block    uint64 `json:"block"`
	Position uint64 `json:"position"`
	Time     string `json:"time"`
	Value    string `json:"value"`
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func attrText(as []Attr) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Category)
		if a.Label != "" {
			fmt.Fprintf(&b, " %q", a.Label)
		}
	}
	return b.String()
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// WriteText writes a human-readable report with exact fractions.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "exposure of %s on %s as of %s within %d hops\n", r.Address, r.Chain, r.AsOf, r.Hops)
	if len(r.Attributions) > 0 {
		fmt.Fprintf(w, "attributed: %s\n", attrText(r.Attributions))
	}
	if !r.Known {
		fmt.Fprintln(w, "no indexed transfers up to that date")
	}
	if r.Truncated {
		fmt.Fprintf(w, "truncated: %s\n", r.Reason)
	}
	for _, a := range r.Assets {
		for _, s := range []struct {
			name string
			side *Side
			verb string
		}{{"source", &a.Source, "received"}, {"destination", &a.Destination, "sent"}} {
			if s.side.Transfers == 0 {
				continue
			}
			fmt.Fprintf(w, "%s of %s: %s %s in %d transfers\n", s.name, a.Asset, s.verb, s.side.Total, s.side.Transfers)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, c := range s.side.Categories {
				risk := ""
				if c.Risky {
					risk = "risky"
				}
				fmt.Fprintf(tw, "  %s\t%s\tdirect %s/%s\t%s\twithin %d hops %s/%s\t%s\n", c.Category, risk, c.Direct, s.side.Total,
					pct(c.DirectShare), r.Hops, c.Indirect, s.side.Total, pct(c.IndirectShare))
			}
			tw.Flush()
			for _, p := range s.side.Paths {
				var b strings.Builder
				for i, st := range p.Steps {
					if i == 0 {
						b.WriteString(st.From)
					}
					fmt.Fprintf(&b, " -%s-> %s", st.Tx, st.To)
				}
				fmt.Fprintf(w, "  path %s %s: %s\n", p.Category, p.Amount, b.String())
			}
		}
	}
	fmt.Fprintf(w, "stats: %d transfers read, %d nodes, %d hubs not expanded\n", r.Stats.TransfersRead, r.Stats.Nodes, r.Stats.Hubs)
	return nil
}
