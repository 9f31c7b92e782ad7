// Package api is redthread's HTTP server: a JSON API under /api/v1 over the
// exposure, trace and screening engines and the ledger store, with its
// OpenAPI document at /api/v1/openapi.json, health at /healthz, Prometheus
// metrics at /metrics and a hook for the web UI at /.
//
// The server binds to loopback by default; any other address needs an
// access token, which every request but /healthz must then present as
// "Authorization: Bearer TOKEN". Request bodies are size-limited (413),
// every request runs under a deadline, and errors become HTTP statuses in
// exactly one function (statusOf), which never passes storage errors on to
// clients. The API declares the small interfaces it needs from the engines;
// docs/api.md describes every route.
package api
