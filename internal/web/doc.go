// Package web is the investigator web UI that `redthread serve` hosts at /:
// embedded static pages (search, address pages, trace graph and flow
// charts, incidents, cases), the JSON endpoints under /ui/ they need beyond
// the API (search, paginated transfers, transaction lookup, incidents,
// cases) and the server-side case store with its exports (JSON, CSV,
// TagPack, printable HTML report).
//
// Every label, name and note is untrusted: the pages build the DOM with
// textContent only, the report is rendered by html/template, and every
// response carries a Content-Security-Policy that forbids inline scripts.
// State-changing requests must carry the per-process CSRF token in the
// X-Redthread-CSRF header and, when the browser sends one, a same-origin
// Origin. docs/ui.md describes the pages, endpoints and case format.
package web
