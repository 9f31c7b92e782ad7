// Package screen matches names, dates of birth, nationalities, identifiers
// and wallet addresses of people and companies against listed sanctions
// entities (model.Entity), with matching rules made for Korean and Chinese
// names.
//
// A name is normalized (Unicode NFKD with marks stripped, Hangul romanized,
// "LAST, First" reordered, company legal forms dropped, punctuation and
// hyphens split) and cut into units: Korean syllables where a run of Latin
// letters parses as romanized Korean, pinyin or Wade–Giles syllables where it
// parses as Chinese, the whole token otherwise. Two names are compared unit
// by unit under three readings (Korean–Korean, Chinese–Chinese and the
// Chinese reading of a Korean hanja name) and the best reading wins; every
// matched pair carries the rule that matched it and its weight, so each score
// can be explained. docs/screening.md lists the rules and weights.
//
// An Index holds prepared entities with a blocking index (canonical syllable,
// pinyin and spelling keys to names) so that a query scores only candidates.
package screen
