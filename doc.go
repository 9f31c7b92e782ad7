// Package redthread is the root of the redthread module: one binary that
// follows stolen and sanctioned crypto funds and screens the people behind them.
//
// Layout and the allowed import directions (checked by layers_test.go):
//
//	cmd/redthread        thin main: runs internal/cli, maps errors to exit codes
//	internal/model       core vocabulary; imports nothing internal
//	internal/store       Pebble ledger store; imports model only
//	internal/chain/...   chain adapters (eth JSON-RPC); import model only
//	internal/importer    export-file readers; import model only
//	internal/ingest      drives adapters and importers into the store
//	internal/intel       attribution and entity loaders and the intel store
//	internal/synth       synthetic ledgers with ground truth
//	internal/screen      name, identifier and wallet screening
//	internal/progress    progress reporting interface and renderers
//	internal/graph       compact in-memory adjacency (CSR) built from the store; imports model only
//	internal/trace       taint tracing over the graph; imports model, graph
//	internal/exposure    exposure scoring over the graph; imports model, graph
//	internal/convert     swap and bridge conversions: THORChain memos, cross-chain matching; imports model
//	internal/cluster     address clustering heuristics (exchange deposit addresses); imports model, trace
//	internal/traceeval   trace quality against synthetic ground truth
//	internal/testscript  runner of the engines' data-driven test scripts (tests only)
//	internal/web         the investigator web UI and cases, served by the API
//	internal/api         HTTP API; wraps the engines (store, graph, trace, exposure, intel, screen)
//	internal/cli         the command tree; may import every internal package
//
// Nothing imports internal/cli or cmd/. Engines (model, store, synth, screen,
// progress, graph, trace, exposure) never import net/http.
package redthread
