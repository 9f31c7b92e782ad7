// Package graph is redthread's in-memory graph index: per chain, the
// transfers of the ledger as compact columns (dense local address ids,
// asset, exact amount, position) with CSR adjacency in both directions in
// chain order, so traces and exposure run at memory speed.
//
// An Index is built from the ledger store (Load, through the store's
// ScanTransfers) or directly from blocks (Append), and grows as new blocks
// arrive: Append adds them to a small tail that is folded into the CSR arrays
// when it grows. Readers take a Reader, which holds the index steady until it
// is closed. The package knows nothing of HTTP, the CLI or trace policies.
//
// Limits: one chain holds at most 2^32-1 transfers and addresses (the ids are
// uint32); amounts of 2^64-1 or more live in an overflow table.
package graph
