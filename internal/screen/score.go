package screen

import (
	"fmt"
	"math"
	"strings"
)

// Rule similarities (docs/screening.md).
const (
	simHanjaReading = 0.9  // a Korean syllable against the Mandarin reading of its hanja
	minSpelling     = 0.9  // Jaro–Winkler below this is no match
	nameOnlyCap     = 0.9  // the most a name alone can score
	weakAliasFactor = 0.95 // weak (low-quality) aliases
)

// Reading modes of a comparison.
const (
	ModeLatin   = "latin/korean"
	ModeChinese = "chinese"
	ModeHanja   = "hanja reading"
)

// Part is one matched (or unmatched) pair of units in an explanation.
type Part struct {
	A          string  `json:"a,omitempty"`
	B          string  `json:"b,omitempty"`
	Rule       string  `json:"rule"`
	Similarity float64 `json:"similarity"`
	Weight     float64 `json:"weight"` // share of the name score this pair can carry
}

// NameScore is the similarity of two names with its explanation.
type NameScore struct {
	Score float64 `json:"score"` // in [0,1], before attributes and the name-only cap
	Mode  string  `json:"mode"`  // which reading won
	Parts []Part  `json:"parts"`
}

// CompareNames scores two prepared names: the best of the Korean/Latin,
// Chinese and hanja-reading comparisons.
func CompareNames(a, b *Name) NameScore {
	var best NameScore
	best.Score = -1
	try := func(ra, rb *reading, mode string, sim simFunc) {
		s, parts := alignScore(ra, rb, sim, best.Score)
		if s > best.Score {
			best = NameScore{Score: s, Mode: mode, Parts: parts}
		}
	}
	for i := range a.readings {
		for j := range b.readings {
			try(&a.readings[i], &b.readings[j], ModeLatin, simLatin)
		}
	}
	if a.chinese != nil && b.chinese != nil {
		try(a.chinese, b.chinese, ModeChinese, simChinese)
	}
	if b.chinese != nil {
		for i := range a.readings {
			try(&a.readings[i], b.chinese, ModeHanja, simHanja)
		}
	}
	if a.chinese != nil {
		for j := range b.readings {
			try(a.chinese, &b.readings[j], ModeHanja, func(x, y *unit) (float64, string) { return simHanja(y, x) })
		}
	}
	if best.Score < 0 {
		best.Score = 0
	}
	if best.Parts == nil {
		best.Parts = []Part{}
	}
	return best
}

type simFunc func(a, b *unit) (float64, string)

func simLatin(a, b *unit) (float64, string) {
	if a.text == b.text {
		return 1, "exact"
	}
	if a.kind == uKorean && b.kind == uKorean {
		if a.k == b.k {
			return 1, "romanization variant"
		}
		if s, r := ksylSim(a.k, b.k); s > 0 {
			return s, r
		}
		return 0, ""
	}
	return spellingSim(a.text, b.text)
}

func spellingSim(a, b string) (float64, string) {
	if len(a) < 4 || len(b) < 4 {
		return 0, ""
	}
	if j := jaroWinkler(a, b); j >= minSpelling {
		return j, "spelling similarity"
	}
	return 0, ""
}

func simChinese(a, b *unit) (float64, string) {
	if a.text == b.text {
		return 1, "exact"
	}
	if id, ok := intersects(a.py, b.py); ok {
		return 1, "pinyin/Wade–Giles (" + pinyinNames[id] + ")"
	}
	return 0, ""
}

// simHanja compares a unit of a Korean/Latin reading with a Chinese unit.
func simHanja(k, c *unit) (float64, string) {
	if k.text == c.text {
		return 1, "exact"
	}
	if k.kind != uKorean {
		return 0, ""
	}
	if id, ok := intersects(k.hanja, c.py); ok {
		es, _ := hanjaFor(k.k)
		var hs []string
		for _, e := range es {
			if e.py == id {
				hs = append(hs, string(e.han))
			}
		}
		return simHanjaReading, fmt.Sprintf("hanja reading (%s %s → %s)", k.text, strings.Join(hs, ""), pinyinNames[id])
	}
	return 0, ""
}

// alignScore pairs units of two readings greedily by similarity and returns
// the weighted Dice score: Σ sim·(wa+wb) / (Wa+Wb). floor lets it skip the
// explanation when the result cannot beat an earlier reading.
func alignScore(a, b *reading, sim simFunc, floor float64) (float64, []Part) {
	na, nb := len(a.units), len(b.units)
	total := a.w + b.w
	if na == 0 || nb == 0 || total == 0 {
		return 0, nil
	}
	type cell struct {
		s    float64
		rule string
	}
	var small [64]cell
	m := small[:0]
	if na*nb > len(small) {
		m = make([]cell, 0, na*nb)
	}
	for i := 0; i < na; i++ {
		for j := 0; j < nb; j++ {
			s, r := sim(&a.units[i], &b.units[j])
			m = append(m, cell{s, r})
		}
	}
	var usedA, usedB [MaxTokens * maxKoreanSyllables * 2]bool
	ua, ub := usedA[:na], usedB[:nb]
	if na > len(usedA) || nb > len(usedB) {
		ua, ub = make([]bool, na), make([]bool, nb)
	}
	type pair struct{ i, j int }
	var pairs []pair
	score := 0.0
	for {
		bi, bj, bs := -1, -1, 0.0
		for i := 0; i < na; i++ {
			if ua[i] {
				continue
			}
			for j := 0; j < nb; j++ {
				if ub[j] {
					continue
				}
				// Prefer the higher similarity, then the same position.
				s := m[i*nb+j].s
				if s > bs || (s == bs && s > 0 && i == j) {
					bi, bj, bs = i, j, s
				}
			}
		}
		if bi < 0 {
			break
		}
		ua[bi], ub[bj] = true, true
		pairs = append(pairs, pair{bi, bj})
		score += bs * (a.units[bi].w + b.units[bj].w)
	}
	score /= total
	if score > 1 {
		score = 1
	}
	if score <= floor {
		return score, nil
	}
	parts := make([]Part, 0, na+nb)
	for _, p := range pairs {
		ua, ub := &a.units[p.i], &b.units[p.j]
		c := m[p.i*nb+p.j]
		parts = append(parts, Part{A: ua.text, B: ub.text, Rule: c.rule, Similarity: round3(c.s), Weight: round3((ua.w + ub.w) / total)})
	}
	for i := 0; i < na; i++ {
		if !ua[i] {
			parts = append(parts, Part{A: a.units[i].text, Rule: "unmatched", Weight: round3(a.units[i].w / total)})
		}
	}
	for j := 0; j < nb; j++ {
		if !ub[j] {
			parts = append(parts, Part{B: b.units[j].text, Rule: "unmatched", Weight: round3(b.units[j].w / total)})
		}
	}
	return score, parts
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// jaroWinkler is the Jaro–Winkler similarity of two ASCII strings.
func jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	win := max(la, lb)/2 - 1
	if win < 0 {
		win = 0
	}
	var ma, mb [64]bool
	if la > 64 || lb > 64 {
		return 0
	}
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-win), min(lb-1, i+win)
		for j := lo; j <= hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(t)/2)/m) / 3
	p := 0
	for p < 4 && p < la && p < lb && a[p] == b[p] {
		p++
	}
	return jaro + float64(p)*0.1*(1-jaro)
}
