package trace

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteJSON writes the result as indented JSON (schema in docs/trace.md).
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// short renders an address, prefixed with its chain when it is not the
// trace's own chain.
func (r *Result) short(chain, addr string) string {
	if chain != r.Request.Chain {
		return chain + ":" + addr
	}
	return addr
}

func amounts(l []AssetAmount) string {
	var b strings.Builder
	for i, a := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Amount)
		if a.Asset != "native" {
			b.WriteString(" " + a.Asset)
		}
	}
	return b.String()
}

func assetSuffix(a string) string {
	if a == "native" {
		return ""
	}
	return " " + a
}

// WriteText writes a human-readable summary, one fact per line, no blank lines.
func (r *Result) WriteText(w io.Writer) error {
	q := r.Request
	fmt.Fprintf(w, "trace %s %s from %s", q.Policy, q.Direction, strings.Join(q.From, ","))
	if q.Tx != "" {
		fmt.Fprintf(w, " tx %s", q.Tx)
	}
	if q.Asset != "" {
		fmt.Fprintf(w, " asset %s", q.Asset)
	}
	fmt.Fprintf(w, " on %s\n", q.Chain)
	if r.Truncated {
		fmt.Fprintf(w, "TRUNCATED: %s\n", r.Reason)
	}
	for _, t := range r.Totals {
		fmt.Fprintf(w, "total %s: seeded %s", r.short(t.Chain, t.Asset), t.Seeded)
		for _, kv := range [][2]string{{"converted-in", t.ConvertedIn}, {"converted-out", t.ConvertedOut}, {"endpoints", t.Endpoints},
			{"held", t.Held}, {"pending", t.Pending}, {"returned", t.Returned}, {"dropped", t.Dropped}, {"below-min", t.BelowMin}} {
			if kv[1] != "0" && kv[1] != "" {
				fmt.Fprintf(w, ", %s %s", kv[0], kv[1])
			}
		}
		fmt.Fprintln(w)
	}
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "node %s %s hop %d", r.short(n.Chain, n.Address), n.Role, n.Hop)
		if n.Stop != "" {
			fmt.Fprintf(w, " stop %s", n.Stop)
		}
		if len(n.Received) > 0 {
			fmt.Fprintf(w, " received %s", amounts(n.Received))
		}
		if len(n.Sent) > 0 {
			fmt.Fprintf(w, " sent %s", amounts(n.Sent))
		}
		if len(n.Held) > 0 {
			fmt.Fprintf(w, " held %s", amounts(n.Held))
		}
		for _, a := range n.Attributions {
			fmt.Fprintf(w, " [%s %q]", a.Category, a.Label)
		}
		fmt.Fprintln(w)
	}
	for _, e := range r.Edges {
		fmt.Fprintf(w, "edge %s -> %s %s/%s%s", r.short(e.Chain, e.From), r.short(e.Chain, e.To), e.Tainted, e.Value, assetSuffix(e.Asset))
		for _, t := range e.Transfers {
			if t.Tainted != t.Value && len(e.Transfers) > 1 {
				fmt.Fprintf(w, " %s@%d(%s)", t.Tx, t.Block, t.Tainted)
			} else {
				fmt.Fprintf(w, " %s@%d", t.Tx, t.Block)
			}
		}
		fmt.Fprintln(w)
	}
	for _, c := range r.Conversions {
		fmt.Fprintf(w, "%s %s -> %s %s/%s%s => %s -> %s %s/%s%s", c.Kind,
			r.short(c.In.Chain, c.In.From), r.short(c.In.Chain, c.In.To), c.In.Tainted, c.In.Value, assetSuffix(c.In.Asset),
			r.short(c.Out.Chain, c.Out.From), r.short(c.Out.Chain, c.Out.To), c.Out.Tainted, c.Out.Value, assetSuffix(c.Out.Asset))
		if c.Ref != "" {
			fmt.Fprintf(w, " ref %s", c.Ref)
		}
		if c.Confidence > 0 {
			fmt.Fprintf(w, " confidence %d", c.Confidence)
		}
		fmt.Fprintln(w)
	}
	for _, e := range r.Endpoints {
		fmt.Fprintf(w, "endpoint %s %s", r.short(e.Chain, e.Address), e.Reason)
		if e.Service != "" {
			fmt.Fprintf(w, " %q", e.Service)
		}
		fmt.Fprintf(w, " %s%s in %d transfers, first %s last %s\n", e.Amount, assetSuffix(e.Asset), e.Transfers, e.First, e.Last)
	}
	_, err := fmt.Fprintf(w, "stats: %d transfers read, %d nodes, %d tainted transfers, %d endpoints\n",
		r.Stats.TransfersRead, r.Stats.Nodes, r.Stats.Edges, r.Stats.Endpoints)
	return err
}

// WriteCSV writes one row per tainted transfer.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"chain", "from", "to", "asset", "tx", "block", "position", "time", "value", "tainted"})
	for _, e := range r.Edges {
		for _, t := range e.Transfers {
			cw.Write([]string{e.Chain, e.From, e.To, e.Asset, t.Tx, strconv.FormatUint(t.Block, 10),
				strconv.FormatUint(t.Position, 10), t.Time, t.Value, t.Tainted})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteDOT writes the flow graph in Graphviz DOT.
func (r *Result) WriteDOT(w io.Writer) error {
	fmt.Fprintln(w, "digraph trace {")
	fmt.Fprintln(w, "  rankdir=LR;")
	fmt.Fprintln(w, "  node [shape=box, fontname=monospace, fontsize=10];")
	id := func(chain, addr string) string { return strconv.Quote(chain + ":" + addr) }
	for _, n := range r.Nodes {
		label := n.Address
		if len(label) > 14 {
			label = label[:8] + "…" + label[len(label)-4:]
		}
		label += "\\n" + n.Role
		if n.Stop != "" {
			label += " (" + n.Stop + ")"
		}
		for _, a := range n.Attributions {
			label += "\\n" + string(a.Category) + ": " + a.Label
		}
		style := ""
		switch n.Role {
		case "seed":
			style = ", style=filled, fillcolor=\"#f4cccc\""
		case "endpoint":
			style = ", style=filled, fillcolor=\"#cfe2f3\""
		}
		fmt.Fprintf(w, "  %s [label=%q%s];\n", id(n.Chain, n.Address), label, style)
	}
	for _, e := range r.Edges {
		fmt.Fprintf(w, "  %s -> %s [label=%q];\n", id(e.Chain, e.From), id(e.Chain, e.To),
			fmt.Sprintf("%s%s (%d tx)", e.Tainted, assetSuffix(e.Asset), len(e.Transfers)))
	}
	for _, c := range r.Conversions {
		fmt.Fprintf(w, "  %s -> %s [style=dashed, label=%q];\n", id(c.In.Chain, c.In.From), id(c.Out.Chain, c.Out.To), c.Kind)
	}
	_, err := fmt.Fprintln(w, "}")
	return err
}
