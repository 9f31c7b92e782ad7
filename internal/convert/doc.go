// Package convert turns the conversion halves recorded at ingestion into the
// conversion edges a trace follows: it parses THORChain memos, pairs each
// bridge deposit with the payout whose memo names the deposit's transaction
// (OUT:<hash>, REFUND:<hash>), on any chain, and reports deposits whose
// payout has not been ingested with the destination their memo gives.
// docs/conversions.md specifies the memo grammar and the matching rules.
package convert
