// Package intel loads sanctions lists, incident packs, label sets and
// TagPacks into attributions and entities with provenance, and keeps them in
// an intel store that answers "who is behind this address, on whose word,
// since when" as of any date.
//
// Loaders (one per source format) turn a file into a Dataset. The DB indexes
// every dataset it holds (the shipped packs, refreshed official lists and
// datasets loaded by the user) and answers Lookup, Explain and Entities.
// Formats, the category taxonomy and the confidence scale are documented in
// docs/intel.md.
package intel
