package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/trace"
)

// loadFull reads a case with every trace's saved result.
func (h *Handler) loadFull(id string) (*Case, error) {
	cs, err := h.caseStore()
	if err != nil {
		return nil, err
	}
	c, err := cs.Get(id)
	if err != nil {
		return nil, caseErr(err)
	}
	for i := range c.Traces {
		if c.Traces[i].Result, err = cs.TraceResult(c.ID, c.Traces[i].ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request) error {
	c, err := h.loadFull(r.PathValue("id"))
	if err != nil {
		return err
	}
	var b []byte
	var ctype, ext string
	switch r.PathValue("format") {
	case "json":
		b, err = json.MarshalIndent(c, "", " ")
		ctype, ext = "application/json", "json"
	case "csv":
		b, err = ExportCSV(c)
		ctype, ext = "text/csv; charset=utf-8", "csv"
	case "tagpack":
		b, err = h.exportTagPack(c)
		ctype, ext = "application/yaml; charset=utf-8", "tagpack.yaml"
	case "html":
		b, err = h.Report(c)
		ctype, ext = "text/html; charset=utf-8", "html"
	default:
		return badRequest("format must be json, csv, tagpack or html, not %q", r.PathValue("format"))
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="case-%s.%s"`, c.ID, ext))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
	return nil
}

// CSVHeader is the header row of a case's CSV export.
const CSVHeader = "case,trace,chain,from,to,asset,tx,block,position,time,value,tainted"

// ExportCSV writes one row per tainted transfer of every trace of a case.
func ExportCSV(c *Case) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"case", "trace", "chain", "from", "to", "asset", "tx", "block", "position", "time", "value", "tainted"})
	for _, t := range c.Traces {
		if t.Result == nil {
			continue
		}
		for _, e := range t.Result.Edges {
			for _, tr := range e.Transfers {
				w.Write([]string{c.ID, strconv.Itoa(t.ID), e.Chain, e.From, e.To, e.Asset, tr.Tx,
					strconv.FormatUint(tr.Block, 10), strconv.FormatUint(tr.Position, 10), tr.Time, tr.Value, tr.Tainted})
			}
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// caseAttributions gathers the attributions of every address in a case
// (its addresses, and the nodes and endpoints of its traces), deduplicated.
func (h *Handler) caseAttributions(c *Case) []model.Attribution {
	attr := h.current().Attributor
	if attr == nil {
		return nil
	}
	type key struct{ chain, addr string }
	seen := map[key]bool{}
	var out []model.Attribution
	now := time.Now().UTC()
	add := func(chain, addr string) {
		k := key{chain, addr}
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, attr.Lookup(model.Chain(chain), addr, now)...)
	}
	for _, a := range c.Addresses {
		add(a.Chain, a.Address)
	}
	for _, t := range c.Traces {
		if t.Result == nil {
			continue
		}
		for _, n := range t.Result.Nodes {
			add(n.Chain, n.Address)
		}
	}
	return out
}

func (h *Handler) exportTagPack(c *Case) ([]byte, error) {
	attrs := h.caseAttributions(c)
	tp := intel.ExportTagPack("redthread case: "+c.Title, "redthread",
		fmt.Sprintf("Attributions of the addresses in case %s (%s), with their original sources.", c.ID, c.Title), attrs)
	return tp.Marshal()
}

// Report data.
type (
	reportData struct {
		Case      *Case
		Generated string
		Traces    []reportTrace
		Sources   []reportSource
	}
	reportTrace struct {
		T         CaseTrace
		Seeds     string
		Totals    []trace.Total
		Endpoints []trace.Endpoint
		Flow      template.HTML // server-built SVG, every text escaped
		Evidence  []reportTx
		More      int
		Truncated bool
	}
	reportTx struct {
		Chain, From, To, Asset, Tx, Time, Tainted string
		Block                                     uint64
	}
	reportSource struct {
		Chain, Address, Label, Category, Source, URL string
		Confidence                                   int
	}
)

// MaxReportTransfers bounds the evidence rows of one trace in a report.
const MaxReportTransfers = 2000

// Report renders a case as a self-contained HTML report that prints well.
func (h *Handler) Report(c *Case) ([]byte, error) {
	d := reportData{Case: c, Generated: time.Now().UTC().Format(time.RFC3339)}
	for _, t := range c.Traces {
		if t.Result == nil {
			continue
		}
		res := t.Result
		rt := reportTrace{T: t, Totals: res.Totals, Endpoints: res.Endpoints, Truncated: res.Truncated}
		rt.T.Result = nil
		rt.Seeds = fmt.Sprint(res.Request.From)
		rt.Flow = flowSVG(res)
		n := 0
		for _, e := range res.Edges {
			for _, tr := range e.Transfers {
				if n == MaxReportTransfers {
					rt.More++
					continue
				}
				n++
				rt.Evidence = append(rt.Evidence, reportTx{e.Chain, e.From, e.To, e.Asset, tr.Tx, tr.Time, tr.Tainted, tr.Block})
			}
		}
		d.Traces = append(d.Traces, rt)
	}
	for _, a := range h.caseAttributions(c) {
		d.Sources = append(d.Sources, reportSource{string(a.Chain), a.Address, a.Label, string(a.Category), a.Source.Name, a.Source.URL, int(a.Confidence)})
	}
	var b bytes.Buffer
	if err := reportTmpl.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return b.Bytes(), nil
}

// flowSVG draws a trace's flow from its seeds to its endpoints (the
// largest 15, per the first asset of the totals) as a two-column Sankey:
// band widths are proportional to the amounts. Text goes through
// template.HTMLEscapeString.
func flowSVG(res *trace.Result) template.HTML {
	if len(res.Endpoints) == 0 {
		return ""
	}
	asset := flowAsset(res)
	type ep struct {
		name string
		amt  *big.Int
	}
	var eps []ep
	total := new(big.Int)
	for _, e := range res.Endpoints {
		if e.Asset != asset {
			continue
		}
		a, ok := new(big.Int).SetString(e.Amount, 10)
		if !ok {
			continue
		}
		name := e.Address
		if e.Service != "" {
			name = e.Service + " " + e.Address[:min(10, len(e.Address))] + "…"
		}
		if e.Category != "" {
			name += " (" + e.Category + ")"
		}
		eps = append(eps, ep{name, a})
		total.Add(total, a)
	}
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].amt.Cmp(eps[j].amt) > 0 })
	if len(eps) > 15 {
		rest := new(big.Int)
		for _, e := range eps[15:] {
			rest.Add(rest, e.amt)
		}
		eps = append(eps[:15], ep{fmt.Sprintf("%d other endpoints", len(eps)-15), rest})
	}
	if total.Sign() == 0 {
		return ""
	}
	const W, H, gap, minLabel = 900.0, 420.0, 4.0, 13.0
	usable := H - gap*float64(len(eps))
	tf, _ := new(big.Float).SetInt(total).Float64()
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="flow" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img">`, int(W), int(H)+20+int(minLabel)*len(eps)/2)
	fmt.Fprintf(&b, `<rect x="10" y="10" width="24" height="%.1f" fill="#c0392b"/>`, usable)
	fmt.Fprintf(&b, `<text x="40" y="24" font-size="12">source (%s)</text>`, template.HTMLEscapeString(asset))
	y0, y1, ly := 10.0, 10.0, 0.0
	for _, e := range eps {
		f, _ := new(big.Float).SetInt(e.amt).Float64()
		hgt := usable * f / tf
		fmt.Fprintf(&b, `<path d="M34 %.1f C 300 %.1f, 300 %.1f, 560 %.1f L 560 %.1f C 300 %.1f, 300 %.1f, 34 %.1f Z" fill="#e6a09a" fill-opacity="0.6"/>`,
			y0, y0, y1, y1, y1+hgt, y1+hgt, y0+hgt, y0+hgt)
		fmt.Fprintf(&b, `<rect x="560" y="%.1f" width="14" height="%.1f" fill="#2c3e50"/>`, y1, max(hgt, 1))
		ly = max(y1+max(hgt, 1)/2+4, ly+minLabel)
		fmt.Fprintf(&b, `<text x="580" y="%.1f" font-size="11">%s — %s</text>`, ly,
			template.HTMLEscapeString(e.name), template.HTMLEscapeString(e.amt.String()))
		y0 += hgt
		y1 += hgt + gap
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Case report: {{.Case.Title}}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:20px;margin:0 0 .3em} h2{font-size:16px;border-bottom:1px solid #ccc;margin-top:1.6em} h3{font-size:14px}
table{border-collapse:collapse;width:100%;margin:.5em 0} th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#f2f2f2} td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,monospace;font-size:11px;word-break:break-all}
.note{white-space:pre-wrap;border-left:3px solid #999;padding-left:.6em;margin:.4em 0}
.tag{display:inline-block;border:1px solid #888;border-radius:3px;padding:0 4px;margin-right:3px}
svg.flow{width:100%;max-width:900px;height:auto}
@media print{body{margin:1cm} h2{page-break-after:avoid} tr,svg{page-break-inside:avoid} a{color:#000}}
</style></head><body>
<h1>Case report: {{.Case.Title}}</h1>
<p>Case <code>{{.Case.ID}}</code> · created {{.Case.Created.Format "2006-01-02 15:04 MST"}} · report generated {{.Generated}} by redthread</p>
{{if .Case.Tags}}<p>Tags: {{range .Case.Tags}}<span class="tag">{{.}}</span>{{end}}</p>{{end}}
<h2>Notes</h2>
{{range .Case.Notes}}<div class="note"><small>{{.Time.Format "2006-01-02 15:04 MST"}}</small>
{{.Text}}</div>{{else}}<p>No notes.</p>{{end}}
<h2>Addresses</h2>
{{if .Case.Addresses}}<table><tr><th>chain</th><th>address</th><th>added</th><th>comment</th></tr>
{{range .Case.Addresses}}<tr><td>{{.Chain}}</td><td class="mono">{{.Address}}</td><td>{{.Added.Format "2006-01-02"}}</td><td>{{.Comment}}</td></tr>{{end}}</table>
{{else}}<p>No addresses.</p>{{end}}
{{range $i, $t := .Traces}}
<h2>Trace {{$t.T.ID}}{{if $t.T.Title}}: {{$t.T.Title}}{{end}}</h2>
<p>{{$t.T.Request.Direction}} {{$t.T.Request.Policy}} trace on {{$t.T.Request.Chain}} from <span class="mono">{{$t.Seeds}}</span>{{if $t.T.Request.Tx}} (transaction <span class="mono">{{$t.T.Request.Tx}}</span>){{end}}{{if $t.T.Request.Asset}}, asset {{$t.T.Request.Asset}}{{end}} · saved {{$t.T.Added.Format "2006-01-02 15:04 MST"}} · {{$t.T.Nodes}} addresses{{if $t.Truncated}} · <b>truncated</b>{{end}}</p>
<h3>Flow from the source to the endpoints</h3>
{{$t.Flow}}
<h3>Totals</h3>
<table><tr><th>chain</th><th>asset</th><th>seeded</th><th>to endpoints</th><th>held</th><th>pending</th></tr>
{{range $t.Totals}}<tr><td>{{.Chain}}</td><td class="mono">{{.Asset}}</td><td class="num">{{.Seeded}}</td><td class="num">{{.Endpoints}}</td><td class="num">{{.Held}}</td><td class="num">{{.Pending}}</td></tr>{{end}}</table>
<h3>Endpoints</h3>
<table><tr><th>chain</th><th>address</th><th>service</th><th>category</th><th>asset</th><th>amount</th><th>transfers</th><th>first</th><th>last</th><th>first tx</th></tr>
{{range $t.Endpoints}}<tr><td>{{.Chain}}</td><td class="mono">{{.Address}}</td><td>{{.Service}}</td><td>{{.Category}}</td><td class="mono">{{.Asset}}</td><td class="num">{{.Amount}}</td><td class="num">{{.Transfers}}</td><td>{{.First}}</td><td>{{.Last}}</td><td class="mono">{{.FirstTx}}</td></tr>{{end}}</table>
<h3>Evidence: tainted transfers</h3>
<table><tr><th>tx</th><th>block</th><th>time</th><th>from</th><th>to</th><th>asset</th><th>tainted</th></tr>
{{range $t.Evidence}}<tr><td class="mono">{{.Tx}}</td><td class="num">{{.Block}}</td><td>{{.Time}}</td><td class="mono">{{.From}}</td><td class="mono">{{.To}}</td><td class="mono">{{.Asset}}</td><td class="num">{{.Tainted}}</td></tr>{{end}}</table>
{{if $t.More}}<p>{{$t.More}} more transfers are in the CSV export.</p>{{end}}
{{end}}
<h2>Label sources</h2>
{{if .Sources}}<table><tr><th>chain</th><th>address</th><th>label</th><th>category</th><th>confidence</th><th>source</th></tr>
{{range .Sources}}<tr><td>{{.Chain}}</td><td class="mono">{{.Address}}</td><td>{{.Label}}</td><td>{{.Category}}</td><td class="num">{{.Confidence}}</td><td>{{.Source}}{{if .URL}} <span class="mono">{{.URL}}</span>{{end}}</td></tr>{{end}}</table>
{{else}}<p>No attributions for the addresses of this case.</p>{{end}}
<p><small>Amounts are exact integers in the asset's smallest unit. Traces are as saved in the case; re-run them to include later blocks.</small></p>
</body></html>
`))

// flowAsset is the asset a flow chart draws: the request's, else native if
// it was seeded, else the asset with the most endpoint transfers.
func flowAsset(res *trace.Result) string {
	if res.Request.Asset != "" {
		return res.Request.Asset
	}
	for _, t := range res.Totals {
		if t.Asset == "native" && t.Seeded != "0" && t.Chain == res.Request.Chain {
			return "native"
		}
	}
	n := map[string]int{}
	best := res.Endpoints[0].Asset
	for _, e := range res.Endpoints {
		n[e.Asset] += e.Transfers
		if n[e.Asset] > n[best] {
			best = e.Asset
		}
	}
	return best
}
