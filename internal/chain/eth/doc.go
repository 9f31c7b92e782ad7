// Package eth ingests Ethereum (and other EVM chains) from a node's JSON-RPC
// API into redthread's ledger model: it fetches blocks, receipts, traces and
// withdrawals with batched, retried requests and normalizes each block into a
// model.Block of transactions and transfers (native value, fees, internal
// calls, ERC-20 token transfers, withdrawals) and the conversions its logs
// record (Uniswap V2/V3 swaps, THORChain router deposits and payouts), linked
// to those transfers. docs/ingest-eth.md and docs/conversions.md specify the
// mapping.
package eth
