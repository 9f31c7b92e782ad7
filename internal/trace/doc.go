// Package trace follows funds through the graph index: from seed addresses
// (or one seed transaction) forward to where the value went, or backward to
// where it came from, under an explicit taint policy — poison, haircut or
// FIFO — with exact integer arithmetic, chain-order causality, asset
// awareness with conversion edges (swaps, bridges) and stop rules at
// services and hubs.
//
// The engine sweeps events in chain order over the addresses the taint has
// reached, so its cost is proportional to the edges it touches, not to the
// size of the ledger. Results are deterministic: the same graph, request,
// attributions and conversions give byte-identical output. Semantics, the
// JSON schema and worked examples are in docs/trace.md; each worked example
// is a test script in testdata/.
package trace
