// Package traceeval measures the trace engine's quality against the ground
// truth of a synthetic world: for each laundering scenario and taint policy
// it runs a forward trace from the theft with default stop rules and
// compares what the trace found with what truly happened (cash-out value
// recovered, endpoints assigned, clean addresses wrongly tainted).
// Definitions: docs/trace-quality.md.
package traceeval
