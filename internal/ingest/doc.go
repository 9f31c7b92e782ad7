// Package ingest drives a chain adapter over a block range into the ledger
// store: it fetches windows of normalized blocks (prefetching the next while
// the current one is written), writes each window atomically together with
// a resume checkpoint, detects reorganizations by comparing each block's
// parent hash with the stored hash and rolls the store back to the fork
// point, and reports progress.
package ingest
