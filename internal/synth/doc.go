// Package synth generates synthetic ledgers whose ground truth is known: two
// account-model chains ("synth" and "synth2") with heavy-tailed background
// traffic, services (exchanges with per-customer deposit addresses, DEX pools,
// a THORChain-style bridge, a fixed-denomination mixer, OTC brokers, gambling)
// and laundering scenarios shaped on published DPRK cases.
//
// Generate streams blocks and events to a Sink in time order, in bounded
// memory, from a seeded PCG: the same Params always give the same output.
// DirSink writes the generic transfers CSV, the swap and bridge events, the
// ground truth and a GraphSense TagPack of (partly wrong) labels; docs/synth.md
// documents the model and every file.
//
// Amounts are exact integers. Internally a balance is a uint64 count of the
// asset's granule (10^9 smallest units for 18-decimal assets, one smallest unit
// otherwise); every emitted amount is that count times the granule, as a
// uint256 in the smallest unit.
package synth
