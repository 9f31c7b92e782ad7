package screen

import "strings"

// Canonical Korean sounds. Romanization systems differ mostly in voicing and
// aspiration marks (g/k, j/ch, b/p, d/t), vowel spelling (eo/ŏ/o, eu/ŭ/u)
// and the initial-sound rule (r/l/n/∅). Spellings that one of the systems
// uses for the same jamo map to one code; codes that passport and North
// Korean spellings confuse are "near" (see ksylSim).
const (
	iNone uint8 = iota
	iK          // ㄱ ㄲ ㅋ: g k kk kh
	iT          // ㄷ ㄸ ㅌ: d t tt th
	iP          // ㅂ ㅃ ㅍ: b p pp ph
	iC          // ㅈ ㅉ ㅊ: j ch jj tch
	iS          // ㅅ ㅆ: s ss sh
	iH          // ㅎ
	iM          // ㅁ
	iN          // ㄴ
	iR          // ㄹ: r l
)

const (
	vA uint8 = iota + 1
	vAE
	vE
	vYA
	vYAE
	vYE
	vO
	vEO
	vYO
	vYEO
	vU
	vEU
	vYU
	vI
	vWA
	vOE // 외 왜 웨: oe oi we wae
	vWO
	vWI
	vUI
)

const (
	fNone uint8 = iota
	fK
	fN
	fNG
	fL
	fM
	fP
	fT
)

var initialNames = [...]string{"", "k", "t", "p", "ch", "s", "h", "m", "n", "r"}
var vowelNames = [...]string{"", "a", "ae", "e", "ya", "yae", "ye", "o", "eo", "yo", "yeo", "u", "eu", "yu", "i", "wa", "oe", "wo", "wi", "ui"}
var finalNames = [...]string{"", "k", "n", "ng", "l", "m", "p", "t"}

// ksyl is one Korean syllable in canonical form.
type ksyl struct{ i, v, f uint8 }

func (k ksyl) String() string { return initialNames[k.i] + vowelNames[k.v] + finalNames[k.f] }

type spelling struct {
	s    string
	code uint8
}

// Spellings, longest first within each table.
var initialSpellings = []spelling{
	{"tch", iC}, {"chh", iC},
	{"kk", iK}, {"gg", iK}, {"kh", iK}, {"tt", iT}, {"th", iT}, {"pp", iP}, {"bb", iP}, {"ph", iP},
	{"jj", iC}, {"ch", iC}, {"tj", iC}, {"ss", iS}, {"sh", iS}, {"rh", iR},
	{"g", iK}, {"k", iK}, {"d", iT}, {"t", iT}, {"b", iP}, {"p", iP}, {"j", iC}, {"s", iS},
	{"h", iH}, {"m", iM}, {"n", iN}, {"r", iR}, {"l", iR},
}

var vowelSpellings = []spelling{
	{"yeo", vYEO}, {"you", vYO}, {"yae", vYAE}, {"yoo", vYU}, {"woo", vU}, {"wae", vOE}, {"weo", vWO}, {"eui", vUI},
	{"ae", vAE}, {"ai", vAE}, {"ya", vYA}, {"ye", vYE}, {"eo", vEO}, {"yo", vYO}, {"oo", vU}, {"wu", vU},
	{"eu", vEU}, {"yu", vYU}, {"ee", vI}, {"yi", vI}, {"wa", vWA}, {"oe", vOE}, {"oi", vOE}, {"we", vOE},
	{"wo", vWO}, {"wi", vWI}, {"ui", vUI},
	{"a", vA}, {"e", vE}, {"o", vO}, {"u", vU}, {"i", vI},
}

var finalSpellings = []spelling{
	{"ng", fNG}, {"rk", fK}, {"ck", fK},
	{"k", fK}, {"g", fK}, {"n", fN}, {"l", fL}, {"r", fL}, {"m", fM}, {"p", fP}, {"b", fP}, {"t", fT}, {"d", fT},
}

func isVowelLetter(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'w', 'y':
		return true
	}
	return false
}

// maxKoreanSyllables is the most syllables a token may split into and still
// be read as Korean (a joined given name, or surname and given name).
const maxKoreanSyllables = 3

// maxParses bounds the alternative segmentations kept per token.
const maxParses = 3

// parseKorean splits a lower-case Latin token into romanized Korean
// syllables. It returns up to maxParses segmentations with the fewest
// syllables, or nil if the token does not parse.
func parseKorean(s string) [][]ksyl {
	ps, _ := parseKoreanEnds(s)
	return ps
}

// parseKoreanEnds is parseKorean with the end offset of every syllable in
// s, so explanations can show the spelling ("jong" and "un" of "jongun").
func parseKoreanEnds(s string) ([][]ksyl, [][]uint8) {
	if len(s) == 0 || len(s) > 5*maxKoreanSyllables {
		return nil, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return nil, nil
		}
	}
	type parse struct {
		k    []ksyl
		ends []uint8
	}
	memo := make(map[int][]parse, 8)
	var rec func(pos, depth int) []parse
	rec = func(pos, depth int) []parse {
		if pos == len(s) {
			return []parse{{}}
		}
		if depth == maxKoreanSyllables {
			return nil
		}
		if r, ok := memo[pos]; ok {
			return r
		}
		var best []parse
		for _, one := range syllablesAt(s, pos) {
			for _, rest := range rec(one.end, depth+1) {
				p := parse{append([]ksyl{one.k}, rest.k...), append([]uint8{uint8(one.end)}, rest.ends...)}
				switch {
				case len(best) == 0 || len(p.k) < len(best[0].k):
					best = []parse{p}
				case len(p.k) == len(best[0].k) && len(best) < maxParses && !containsParse(best, p.k, func(x parse) []ksyl { return x.k }):
					best = append(best, p)
				}
			}
		}
		memo[pos] = best
		return best
	}
	ps := rec(0, 0)
	if len(ps) == 0 {
		return nil, nil
	}
	ks := make([][]ksyl, len(ps))
	ends := make([][]uint8, len(ps))
	for i, p := range ps {
		ks[i], ends[i] = p.k, p.ends
	}
	return ks, ends
}

func containsParse[T any](ps []T, p []ksyl, get func(T) []ksyl) bool {
	for _, x := range ps {
		q := get(x)
		if len(q) != len(p) {
			continue
		}
		same := true
		for i := range q {
			if q[i] != p[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

type sylAt struct {
	k   ksyl
	end int
}

// syllablesAt lists every syllable that can start at pos.
func syllablesAt(s string, pos int) []sylAt {
	var out []sylAt
	inits := []spelling{{"", iNone}}
	for _, sp := range initialSpellings {
		if strings.HasPrefix(s[pos:], sp.s) {
			inits = append(inits, sp)
		}
	}
	for _, in := range inits {
		p1 := pos + len(in.s)
		for _, vs := range vowelSpellings {
			if !strings.HasPrefix(s[p1:], vs.s) {
				continue
			}
			p2 := p1 + len(vs.s)
			// A silent h after the vowel (Roh, Ahn, Oh) when no vowel follows.
			ends := []int{p2}
			if p2 < len(s) && s[p2] == 'h' && (p2+1 == len(s) || !isVowelLetter(s[p2+1])) {
				ends = append(ends, p2+1)
			}
			for _, p3 := range ends {
				out = append(out, sylAt{ksyl{in.code, vs.code, fNone}, p3})
				for _, fs := range finalSpellings {
					if strings.HasPrefix(s[p3:], fs.s) {
						out = append(out, sylAt{ksyl{in.code, vs.code, fs.code}, p3 + len(fs.s)})
					}
				}
			}
		}
	}
	return out
}

// iotized reports vowels that start with i or y, before which the
// initial-sound rule drops ㄹ and ㄴ.
func iotized(v uint8) bool {
	switch v {
	case vI, vYA, vYAE, vYE, vYO, vYEO, vYU:
		return true
	}
	return false
}

// Similarity of two syllables and the rule that decides it.
const (
	simInitialRule = 0.95 // Ri/Li/Yi/I, Ryu/Yu, Rim/Im, Ro/No
	simVowelNear   = 0.95 // o/eo (ŏ), u/eu (ŭ), yo/yeo, ae/e
	simVowelLoose  = 0.8  // o/eo against u/eu (Chul, Sung, Jung), yo/yeo against yu (Hyun)
)

// ksylSim compares two canonical syllables.
func ksylSim(a, b ksyl) (float64, rule) {
	if a.f != b.f {
		return 0, rule{}
	}
	sim, r := 1.0, rule{code: rVariant}
	if a.i != b.i {
		ai, bi := a.i, b.i
		if ai > bi {
			ai, bi = bi, ai
		}
		switch {
		case ai == iN && bi == iR:
		case ai == iNone && (bi == iR || bi == iN) && (iotized(a.v) || iotized(b.v)):
		default:
			return 0, rule{}
		}
		sim, r = simInitialRule, rule{code: rInitial, x: ai, y: bi}
	}
	if a.v != b.v {
		s, loose := vowelSim(a.v, b.v)
		if s == 0 {
			return 0, rule{}
		}
		sim *= s
		r.v1, r.v2 = a.v, b.v
		if loose {
			r.vowel = 2
		} else {
			r.vowel = 1
		}
		if r.code == rVariant {
			r.code = rVowel
		}
	}
	return sim, r
}

func vowelGroup(v uint8) uint8 {
	switch v {
	case vO, vEO:
		return 1
	case vU, vEU:
		return 2
	case vYO, vYEO:
		return 3
	case vYU:
		return 4
	case vAE, vE:
		return 5
	case vYAE, vYE:
		return 6
	case vI, vUI:
		return 7
	}
	return 0
}

// vowelSim compares two different vowels; loose marks the passport
// confusions (o/u, yo/yu, i/ui).
func vowelSim(a, b uint8) (sim float64, loose bool) {
	ga, gb := vowelGroup(a), vowelGroup(b)
	if ga > gb {
		ga, gb = gb, ga
	}
	switch {
	case ga == 0:
		return 0, false
	case ga == gb && ga != 7:
		return simVowelNear, false
	case ga == 1 && gb == 2, ga == 3 && gb == 4, ga == 7 && gb == 7:
		return simVowelLoose, true
	}
	return 0, false
}

// coarseKey is the blocking key of a syllable: near and loose vowel variants
// and r/n/∅ initials collide.
func coarseKey(k ksyl) string {
	i := k.i
	if i == iNone || i == iN {
		i = iR
	}
	v := k.v
	switch vowelGroup(v) {
	case 1, 2:
		v = vO
	case 3, 4:
		v = vYO
	case 5:
		v = vE
	case 6:
		v = vYE
	case 7:
		v = vI
	}
	return "k" + initialNames[i] + vowelNames[v] + finalNames[k.f]
}

// commonSurnames are the most frequent Korean family names; in the family
// position they weigh less than given-name syllables.
var commonSurnames = map[string]bool{}

func init() {
	for _, s := range strings.Fields("kim ri pak choe jong kang jo yun jang han rim o son ko mun yang song hong hwang jon ryu sin so kwon an paek ho nam sim ro ha ju ku min chae won chon pang hyon pae") {
		for _, p := range parseKorean(s) {
			if len(p) == 1 {
				commonSurnames[coarseKey(p[0])] = true
			}
		}
	}
}
