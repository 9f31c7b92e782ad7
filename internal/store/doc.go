// Package store is redthread's durable ledger store: transfers, per-address
// adjacency in both directions in chain order, 64-bit counters and
// checkpoints, on the Pebble LSM engine.
//
// The byte layout of every key and value is specified in docs/store-format.md.
// Writes are idempotent, keyed by (chain, block, position); a batch of blocks
// and the checkpoint that records it commit atomically, so a crashed ingest
// resumes from its checkpoint and replays safely. Rollback deletes a block
// range (reorgs).
package store
