package screen

import (
	"strings"
	"unicode/utf8"
)

// unitKind says how a unit of a name was read.
type unitKind uint8

const (
	uRaw     unitKind = iota // a whole word, compared by spelling
	uKorean                  // a romanized Korean syllable
	uChinese                 // a pinyin or Wade–Giles syllable
)

// unit is the smallest part of a name that is matched.
type unit struct {
	text  string // spelling, for explanations
	tok   int    // index of the word it came from
	kind  unitKind
	k     ksyl   // uKorean
	hanja []pyID // uKorean: Mandarin readings of its usual hanja
	py    []pyID // uChinese: pinyin it may stand for
	w     float64
	han   bool // written as a hanja (Han character)
}

// reading is one way of cutting a whole name into units.
type reading struct {
	units []unit
	w     float64 // sum of unit weights
}

// Name is a normalized, prepared name, ready to compare.
type Name struct {
	Raw      string   // as given
	Norm     string   // normalized words, space-separated
	Notes    []string // what normalization did
	tokens   []token
	readings []reading // Latin/Korean readings (alternative segmentations)
	chinese  []reading // Chinese readings, if every word reads as Chinese
	korean   bool      // every word reads as romanized Korean (or Hangul)
}

// maxKoreanNameSyllables is the most syllables a Korean name has (family
// name and a given name of up to three syllables).
const maxKoreanNameSyllables = 4

// maxChineseSyllables is the most syllables one word of a Chinese name has
// (a joined given name such as Tiesan).
const maxChineseSyllables = 2

// Weights of units (docs/screening.md).
const (
	weightUnit   = 1.0
	weightFamily = 0.7 // a common Korean family name in family position
)

// maxReadings bounds the alternative readings of one name.
const maxReadings = 4

// PrepareName normalizes and prepares a name. kind is "person", "company"
// or "" when unknown.
func PrepareName(s string, kind string) (*Name, error) { return prepareName(s, kind, nil) }

// wordParses are the Korean and Chinese readings of one word.
type wordParses struct {
	korean     [][]ksyl
	koreanEnds [][]uint8 // end offset of each syllable in the word
	chinese    [][]chineseUnit
}

// parseCache memoizes word readings. An Index fills one while it is built
// (names repeat words: Kim, Trading, Company) and then only reads it, so
// queries share it safely.
type parseCache struct {
	m      map[string]*wordParses
	frozen bool
}

func (c *parseCache) get(w string) *wordParses {
	if c != nil {
		if p, ok := c.m[w]; ok {
			return p
		}
	}
	p := &wordParses{chinese: parseChinese(w)}
	p.korean, p.koreanEnds = parseKoreanEnds(w)
	if c != nil && !c.frozen {
		c.m[w] = p
	}
	return p
}

func prepareName(s string, kind string, cache *parseCache) (*Name, error) {
	nk := kindAny
	switch kind {
	case "person":
		nk = kindPerson
	case "company":
		nk = kindCompany
	}
	nz, err := normalizeName(s, nk)
	if err != nil {
		return nil, err
	}
	n := &Name{Raw: s, Notes: nz.notes, tokens: nz.tokens}
	words := make([]string, len(nz.tokens))
	for i, t := range nz.tokens {
		words[i] = t.text
	}
	n.Norm = strings.Join(words, " ")

	// Per word: its Korean segmentations, or the word itself. A word is cut
	// into several syllables only in a name that reads as Korean throughout.
	parsed := make([][][]ksyl, len(nz.tokens))
	wps := make([]*wordParses, len(nz.tokens))
	n.korean = true
	syl := 0
	for i, t := range nz.tokens {
		if !t.han {
			wps[i] = cache.get(t.text)
		} else if r, _ := utf8.DecodeRuneInString(t.text); hanWords[r] != nil {
			wps[i] = hanWords[r]
		}
		if wps[i] != nil {
			parsed[i] = wps[i].korean
		}
		switch {
		case len(parsed[i]) == 0:
			n.korean = false
		case len(parsed[i][0]) > 2 && len(nz.tokens) > 1:
			n.korean = false // only a fully joined name has three syllables in a word
		default:
			syl += len(parsed[i][0])
		}
	}
	if syl > maxKoreanNameSyllables || syl < 2 || (len(nz.tokens) < 2 && !nz.tokens[0].hangul) {
		n.korean = false
	}
	if n.korean && len(nz.tokens) > 1 {
		// A Korean name written in several words has a one-syllable word
		// (the family name, or each syllable written apart): "Kim Jongun"
		// but not "Abu Rida".
		one := false
		for i := range nz.tokens {
			if len(parsed[i][0]) == 1 {
				one = true
			}
		}
		n.korean = one
	}
	alts := make([][][]unit, len(nz.tokens))
	for i, t := range nz.tokens {
		parses := parsed[i]
		if len(parses) > 0 && len(parses[0]) > 1 && !n.korean {
			parses = nil
		}
		if len(parses) == 0 {
			alts[i] = [][]unit{{{text: t.text, tok: i, kind: uRaw, w: weightUnit}}}
			continue
		}
		for pi, p := range parses {
			us := make([]unit, len(p))
			from := 0
			for j, k := range p {
				var ids []pyID
				if n.korean {
					_, ids = hanjaFor(k)
				}
				text := t.text
				if len(p) > 1 {
					end := int(wps[i].koreanEnds[pi][j])
					text = t.text[from:end]
					from = end
				}
				us[j] = unit{text: text, tok: i, kind: uKorean, k: k, hanja: ids, w: weightUnit, han: t.han}
			}
			alts[i] = append(alts[i], us)
		}
	}
	fam := familyToken(nz.tokens, alts)
	n.readings = []reading{{}}
	for i := range alts {
		var next []reading
		for _, r := range n.readings {
			for j, a := range alts[i] {
				if len(next) >= maxReadings && j > 0 {
					break
				}
				us := append(append([]unit(nil), r.units...), a...)
				next = append(next, reading{units: us})
			}
		}
		if len(next) > maxReadings {
			next = next[:maxReadings]
		}
		n.readings = next
	}
	for ri := range n.readings {
		r := &n.readings[ri]
		for ui := range r.units {
			u := &r.units[ui]
			if u.tok == fam && u.kind == uKorean {
				u.w = weightFamily
			}
			r.w += u.w
		}
	}

	// Chinese readings: every word must read as pinyin or Wade–Giles.
	n.chinese = []reading{{}}
	for i, t := range nz.tokens {
		var segs [][]chineseUnit
		if wps[i] != nil {
			segs = wps[i].chinese
		}
		if len(segs) == 0 || len(segs[0]) > maxChineseSyllables {
			n.chinese = nil
			break
		}
		var next []reading
		for _, r := range n.chinese {
			for j, seg := range segs {
				if len(next) >= maxReadings && j > 0 {
					break
				}
				nr := reading{units: append([]unit(nil), r.units...), w: r.w}
				for _, c := range seg {
					w := weightUnit
					if i == fam && len(seg) == 1 {
						w = weightFamily
					}
					text := c.text
					if t.han {
						text = t.text
					}
					nr.units = append(nr.units, unit{text: text, tok: i, kind: uChinese, py: c.py, w: w, han: t.han})
					nr.w += w
				}
				next = append(next, nr)
			}
		}
		if len(next) > maxReadings {
			next = next[:maxReadings]
		}
		n.chinese = next
	}
	return n, nil
}

// familyToken picks the word that holds a common Korean family name: the
// words before a comma, else the first word, else the last; -1 if none.
func familyToken(ts []token, alts [][][]unit) int {
	isSurname := func(i int) bool {
		a := alts[i]
		return len(a) > 0 && len(a[0]) == 1 && a[0][0].kind == uKorean && commonSurnames[coarseKey(a[0][0].k)]
	}
	for i, t := range ts {
		if t.family {
			if isSurname(i) {
				return i
			}
			return -1
		}
	}
	if len(ts) < 2 {
		return -1
	}
	if isSurname(0) {
		return 0
	}
	if isSurname(len(ts) - 1) {
		return len(ts) - 1
	}
	return -1
}
