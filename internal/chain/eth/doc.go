// Package eth ingests Ethereum (and other EVM chains) from a node's JSON-RPC
// API into redthread's ledger model: it fetches blocks, receipts, traces and
// withdrawals with batched, retried requests and normalizes each block into a
// model.Block of transactions and transfers (native value, fees, internal
// calls, ERC-20 token transfers, withdrawals). docs/ingest-eth.md specifies
// the mapping.
package eth
