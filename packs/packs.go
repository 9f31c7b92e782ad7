// Package packs embeds redthread's shipped intel packs (sanctions lists,
// the DPRK incident pack and label sets copied from public sources, each
// with a SOURCE.md naming its origin and license) so the binary works
// offline from any directory. manifest.json says which loader reads which
// files; internal/intel reads it.
package packs

import "embed"

// FS holds manifest.json and every pack directory.
//
//go:embed manifest.json ofac-sdn-csv un-consolidated ofac-sanctioned-addresses ofac-eth-addresses ofac-delistings dprk etherscan-labels forta
var FS embed.FS
