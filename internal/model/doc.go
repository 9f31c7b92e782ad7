// Package model is redthread's core vocabulary: chains, addresses, assets,
// transfers and blocks of the ledger, and the attributions and entities of
// the intelligence layer. It imports nothing internal; every other package
// speaks in these types.
//
// Terms (defined once, used everywhere):
//
//   - address: an account or script on one chain, in the chain's canonical
//     text form (EVM: "0x" + 40 lower-case hex digits).
//   - asset: the chain's native coin ("native") or a token contract address.
//   - transfer: one movement of an exact amount of one asset from one address
//     to another, located by (chain, block, position) and justified by a
//     transaction hash.
//   - hop: one transfer followed by a trace.
//   - attribution: a claim, by a named source with a confidence and validity
//     dates, that an address belongs to an entity or a category.
package model
