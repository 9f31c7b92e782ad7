// Package importer turns export files into batches of model.Block for the
// ledger store: redthread's generic transfers CSV, ethereum-etl exports
// (transactions, receipts, token transfers, traces, blocks; CSV or JSON
// lines) and Etherscan's CSV downloads (normal, internal and token
// transfers).
//
// A reader is a Source: it yields batches of whole blocks together with the
// byte offset and line number just after the last row they contain, so the
// caller can commit each batch with a checkpoint and resume a crashed import
// from that offset. Every row is validated before its batch is returned; a
// bad row is an *RowError naming the file, line and field. Run drives a
// Source into a Sink (the store, through a small adapter in internal/cli).
//
// The formats, their columns and how each maps onto model.Transfer are
// specified in docs/formats.md.
package importer
