// Package exposure scores an address for exposure to risk categories: the
// share of the value it received (source of funds) and of the value it sent
// (destination of funds) that came from or went to sanctioned, DPRK, hack,
// scam, mixer, exchange and other attributed addresses, directly and within
// N hops, as of a date, with the top contributing paths and their
// transaction hashes.
//
// The method is proportional (haircut-style) propagation over the graph
// index, backward in time for source of funds and forward for destination,
// asset by asset, in exact integers with documented floor rounding
// (docs/exposure.md). Work is bounded (hub degree, transfers read, nodes);
// a bounded result says so with truncated and a reason. Computed results are
// cached per chain, address, as-of date and hops, and the cache is
// invalidated when the graph grows or the attributions change. The package
// knows nothing of HTTP or the CLI.
package exposure
