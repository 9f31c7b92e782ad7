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
	unmatchedWhole  = 2.0  // weight factor of units a hanja reading leaves unmatched
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
// Chinese and hanja-reading comparisons, with its explanation.
func CompareNames(a, b *Name) NameScore { return compareNames(a, b, true) }

// nameScoreOnly is CompareNames without the explanation.
func nameScoreOnly(a, b *Name) float64 { return compareNames(a, b, false).Score }

func compareNames(a, b *Name, explain bool) NameScore {
	best := -1.0
	var bra, brb *reading
	var bmode string
	var bsim simFunc
	try := func(ra, rb *reading, mode string, sim simFunc) {
		if s, _ := alignScore(ra, rb, sim, mode == ModeHanja, false); s > best {
			best, bra, brb, bmode, bsim = s, ra, rb, mode, sim
		}
	}
	for i := range a.readings {
		for j := range b.readings {
			try(&a.readings[i], &b.readings[j], ModeLatin, simLatin)
		}
	}
	for i := range a.chinese {
		for j := range b.chinese {
			try(&a.chinese[i], &b.chinese[j], ModeChinese, simChinese)
		}
	}
	if a.korean {
		for i := range a.readings {
			for j := range b.chinese {
				try(&a.readings[i], &b.chinese[j], ModeHanja, simHanja)
			}
		}
	}
	if b.korean {
		for i := range a.chinese {
			for j := range b.readings {
				try(&a.chinese[i], &b.readings[j], ModeHanja, simHanjaRev)
			}
		}
	}
	if best <= 0 || bra == nil {
		return NameScore{Score: 0, Mode: ModeLatin, Parts: []Part{}}
	}
	ns := NameScore{Score: best, Mode: bmode}
	if explain {
		_, ns.Parts = alignScore(bra, brb, bsim, bmode == ModeHanja, true)
	}
	return ns
}

func simHanjaRev(c, k *unit) (float64, rule) { return simHanja(k, c) }

type simFunc func(a, b *unit) (float64, rule)

// Rule codes of a matched pair.
const (
	rNone uint8 = iota
	rExact
	rVariant  // same canonical syllable, other spelling
	rInitial  // initial-sound rule (maybe with a vowel variant)
	rVowel    // vowel variant
	rSpelling // Jaro–Winkler
	rPinyin   // same pinyin reading
	rHanja    // Mandarin reading of a hanja
	rHanKor   // a written hanja read in Korean
	rHanMan   // a written hanja read in Mandarin
)

// rule says which rule matched a pair; String renders it for explanations.
type rule struct {
	code   uint8
	x, y   uint8 // initials (rInitial)
	vowel  uint8 // 1 near, 2 loose (passport)
	v1, v2 uint8
	id     pyID // rPinyin, rHanja
}

func (r rule) text(a, b *unit) string {
	var s string
	switch r.code {
	case rExact:
		return "exact"
	case rVariant:
		return "romanization variant"
	case rSpelling:
		return "spelling similarity"
	case rPinyin:
		return "pinyin/Wade–Giles (" + pinyinNames[r.id] + ")"
	case rHanKor:
		h, o := a, b
		if !h.han {
			h, o = b, a
		}
		return "hanja read in Korean (" + h.text + " → " + o.text + ")"
	case rHanMan:
		h := a
		if !h.han {
			h = b
		}
		return "hanja read in Mandarin (" + h.text + " → " + pinyinNames[r.id] + ")"
	case rHanja:
		k := a
		if k.kind != uKorean {
			k = b
		}
		es, _ := hanjaFor(k.k)
		var hs []string
		for _, e := range es {
			if e.py == r.id {
				hs = append(hs, string(e.han))
			}
		}
		return fmt.Sprintf("hanja reading (%s %s → %s)", k.text, strings.Join(hs, ""), pinyinNames[r.id])
	case rInitial:
		y := initialNames[r.y]
		x := initialNames[r.x]
		if x == "" {
			x = "∅"
		}
		s = "initial-sound rule (" + y + "/" + x + ")"
	}
	if r.vowel > 0 {
		v := "vowel variant (" + vowelNames[r.v1] + "/" + vowelNames[r.v2] + ")"
		if r.vowel == 2 {
			v = "passport " + v
		}
		if s != "" {
			s += ", "
		}
		s += v
	}
	return s
}

func simLatin(a, b *unit) (float64, rule) {
	if a.text == b.text {
		return 1, rule{code: rExact}
	}
	if a.kind == uKorean && b.kind == uKorean {
		if a.han != b.han {
			if s, _ := ksylSim(a.k, b.k); s > 0 {
				return s, rule{code: rHanKor}
			}
			return 0, rule{}
		}
		if a.k == b.k {
			return 1, rule{code: rVariant}
		}
		return ksylSim(a.k, b.k)
	}
	return spellingSim(a.text, b.text)
}

func spellingSim(a, b string) (float64, rule) {
	if len(a) < 4 || len(b) < 4 {
		return 0, rule{}
	}
	if j := jaroWinkler(a, b); j >= minSpelling {
		return j, rule{code: rSpelling}
	}
	return 0, rule{}
}

func simChinese(a, b *unit) (float64, rule) {
	if a.text == b.text {
		return 1, rule{code: rExact}
	}
	if id, ok := intersects(a.py, b.py); ok {
		if a.han || b.han {
			return 1, rule{code: rHanMan, id: id}
		}
		return 1, rule{code: rPinyin, id: id}
	}
	return 0, rule{}
}

// simHanja compares a unit of a Korean/Latin reading with a Chinese unit.
func simHanja(k, c *unit) (float64, rule) {
	if k.text == c.text {
		return 1, rule{code: rExact}
	}
	if k.kind != uKorean {
		return 0, rule{}
	}
	if id, ok := intersects(k.hanja, c.py); ok {
		return simHanjaReading, rule{code: rHanja, id: id}
	}
	return 0, rule{}
}

// alignScore pairs units of two readings greedily by similarity and returns
// the weighted Dice score: Σ sim·(wa+wb) / (Wa+Wb), and the explanation
// if asked for. With whole set, unmatched units weigh double: a Chinese
// rendering of a Korean name renders all of it, so a partial hanja reading
// is weak evidence.
func alignScore(a, b *reading, sim simFunc, whole, explain bool) (float64, []Part) {
	na, nb := len(a.units), len(b.units)
	total := a.w + b.w
	if na == 0 || nb == 0 || total == 0 {
		return 0, nil
	}
	type cell struct {
		s float64
		r rule
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
	var pairBuf [32]pair
	pairs := pairBuf[:0]
	score := 0.0
	if min(na, nb) <= maxExactAssign && max(na, nb) <= 2*maxExactAssign {
		// Best assignment by dynamic programming over the used units of
		// the smaller side.
		score, pairs = bestAssignment(a, b, func(i, j int) float64 { return m[i*nb+j].s }, pairs)
	} else {
		var usedA, usedB [MaxTokens * maxKoreanSyllables * 2]bool
		ua, ub := usedA[:na], usedB[:nb]
		if na > len(usedA) || nb > len(usedB) {
			ua, ub = make([]bool, na), make([]bool, nb)
		}
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
	}
	if whole {
		var ma, mb uint64
		for _, p := range pairs {
			ma |= 1 << uint(p.i%64)
			mb |= 1 << uint(p.j%64)
		}
		for i := 0; i < na; i++ {
			if ma&(1<<uint(i%64)) == 0 {
				total += (unmatchedWhole - 1) * a.units[i].w
			}
		}
		for j := 0; j < nb; j++ {
			if mb&(1<<uint(j%64)) == 0 {
				total += (unmatchedWhole - 1) * b.units[j].w
			}
		}
	}
	score /= total
	if score > 1 {
		score = 1
	}
	if !explain {
		return score, nil
	}
	uf := 1.0
	if whole {
		uf = unmatchedWhole
	}
	parts := make([]Part, 0, na+nb)
	for _, p := range pairs {
		ua, ub := &a.units[p.i], &b.units[p.j]
		c := m[p.i*nb+p.j]
		parts = append(parts, Part{A: ua.text, B: ub.text, Rule: c.r.text(ua, ub), Similarity: round3(c.s), Weight: round3((ua.w + ub.w) / total)})
	}
	var matchedA, matchedB uint64
	for _, p := range pairs {
		matchedA |= 1 << uint(p.i%64)
		matchedB |= 1 << uint(p.j%64)
	}
	for i := 0; i < na; i++ {
		if matchedA&(1<<uint(i%64)) == 0 {
			parts = append(parts, Part{A: a.units[i].text, Rule: "unmatched", Weight: round3(a.units[i].w * uf / total)})
		}
	}
	for j := 0; j < nb; j++ {
		if matchedB&(1<<uint(j%64)) == 0 {
			parts = append(parts, Part{B: b.units[j].text, Rule: "unmatched", Weight: round3(b.units[j].w * uf / total)})
		}
	}
	return score, parts
}

// maxExactAssign is the largest smaller side for which the best assignment
// is computed exactly; larger names are paired greedily.
const maxExactAssign = 6

type pair struct{ i, j int }

// bestAssignment pairs units of a and b to maximize Σ sim·(wa+wb), by
// dynamic programming over subsets of the smaller side.
func bestAssignment(a, b *reading, sim func(i, j int) float64, pairs []pair) (float64, []pair) {
	na, nb := len(a.units), len(b.units)
	swap := na < nb // iterate over the larger side, mask the smaller
	rows, cols := na, nb
	if swap {
		rows, cols = nb, na
	}
	val := func(r, c int) float64 {
		i, j := r, c
		if swap {
			i, j = c, r
		}
		s := sim(i, j)
		if s == 0 {
			return 0
		}
		return s * (a.units[i].w + b.units[j].w)
	}
	states := 1 << uint(cols)
	var buf [2 * (1 << maxExactAssign)]float64
	var choice [2 * maxExactAssign * (1 << maxExactAssign)]int8
	// dp over rows; dp[mask] = best value using columns in mask.
	cur, next := buf[:states], buf[states:2*states]
	for k := range cur {
		cur[k] = -1
	}
	cur[0] = 0
	for r := 0; r < rows; r++ {
		for k := range next {
			next[k] = -1
		}
		for mask := 0; mask < states; mask++ {
			v := cur[mask]
			if v < 0 {
				continue
			}
			if v > next[mask] { // leave row r unmatched
				next[mask] = v
				choice[r*states+mask] = -1
			}
			for c := 0; c < cols; c++ {
				if mask&(1<<uint(c)) != 0 {
					continue
				}
				w := val(r, c)
				if w == 0 {
					continue
				}
				nm := mask | 1<<uint(c)
				if v+w > next[nm] {
					next[nm] = v + w
					choice[r*states+nm] = int8(c)
				}
			}
		}
		cur, next = next, cur
	}
	bestMask, best := 0, -1.0
	for mask, v := range cur {
		if v > best {
			best, bestMask = v, mask
		}
	}
	// Walk back through the choices.
	mask := bestMask
	for r := rows - 1; r >= 0; r-- {
		c := choice[r*states+mask]
		if c < 0 {
			continue
		}
		i, j := r, int(c)
		if swap {
			i, j = j, i
		}
		pairs = append(pairs, pair{i, j})
		mask &^= 1 << uint(c)
	}
	return best, pairs
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
