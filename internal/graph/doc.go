// Package graph is redthread's in-memory graph index: per chain, the
// transfers of the ledger as compact columns (dense local address ids,
// asset, exact amount, position) with CSR adjacency in both directions in
// chain order, so traces and exposure run at memory speed.
//
// An Index is built from the ledger store (Load, through the store's
// ScanTransfers) or directly from blocks (Append), and stays current as new
// blocks arrive: per chain, an immutable CSR base plus an append-only delta
// of the transfers added since (O(1) per transfer), merged into a new base in
// the background when it grows. Truncate rolls back the newest blocks after a
// reorganization. Readers take a Reader, a consistent snapshot that neither
// waits for writers nor holds them up (docs/live-index.md). The package
// knows nothing of HTTP, the CLI or trace policies.
//
// Limits: one chain holds at most 2^32-1 transfers and addresses (the ids are
// uint32); amounts of 2^64-1 or more live in an overflow table.
package graph
