// Package cluster finds the addresses of services from the way they move
// money: the exchange deposit-address heuristic of Victor (2020, "Address
// clustering heuristics for Ethereum") turns a labelled hot wallet into
// attributions for the deposit addresses that sweep into it, so tracing
// stops at the cash-out instead of running through the exchange's wallets.
// docs/trace.md ("Deposit addresses") fixes the rules.
package cluster
