package screen

import (
	"sort"
	"strings"
)

// Pinyin syllables are interned as small integers (pyID); a Chinese unit
// carries the set of pinyin syllables its spelling can stand for.
type pyID uint16

var (
	pinyinIDs   = map[string]pyID{}
	pinyinNames = []string{""}
)

// internPinyin returns the id of a valid pinyin syllable (0 if it is not
// one). All ids are assigned at init, so lookups are safe from any goroutine.
func internPinyin(s string) pyID { return pinyinIDs[s] }

func init() {
	all := make([]string, 0, len(pinyinSyllables))
	for s := range pinyinSyllables {
		all = append(all, s)
	}
	sort.Strings(all)
	for _, s := range all {
		pinyinIDs[s] = pyID(len(pinyinNames))
		pinyinNames = append(pinyinNames, s)
	}
}

var pinyinInitials = []string{"zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w", ""}

var pinyinFinals = []string{"iang", "iong", "uang", "ueng", "ang", "eng", "ing", "ong", "iao", "ian", "uai", "uan", "ai", "ei", "ao", "ou", "an", "en", "er", "ia", "ie", "iu", "in", "ua", "uo", "ui", "un", "ue", "a", "o", "e", "i", "u", "v"}

// validPinyin reports whether initial+final is a pinyin syllable (a slightly
// generous approximation of the syllable table).
func validPinyin(ini, fin string) bool {
	switch ini {
	case "j", "q", "x":
		return strings.HasPrefix(fin, "i") || fin == "u" || fin == "ue" || fin == "uan" || fin == "un"
	case "y":
		switch fin {
		case "a", "e", "ao", "ou", "an", "in", "ang", "ing", "ong", "i", "u", "ue", "uan", "un":
			return true
		}
		return false
	case "w":
		switch fin {
		case "u", "a", "o", "ai", "ei", "an", "en", "ang", "eng":
			return true
		}
		return false
	case "":
		switch fin {
		case "a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "er":
			return true
		}
		return false
	case "zh", "ch", "sh", "r", "z", "c", "s", "g", "k", "h":
		if fin == "er" || fin == "v" || fin == "ue" {
			return false
		}
		return fin == "i" || !strings.HasPrefix(fin, "i")
	case "b", "p", "m", "f":
		switch fin {
		case "ong", "uo", "ui", "uan", "un", "ua", "uai", "uang", "ue", "v", "er", "iong", "iang", "ia", "ueng":
			return false
		}
		return true
	}
	// d t n l
	return fin != "er" && fin != "ueng" && fin != "uang" && fin != "uai" && fin != "ua"
}

var pinyinSyllables = func() map[string]bool {
	m := map[string]bool{}
	for _, i := range pinyinInitials {
		for _, f := range pinyinFinals {
			if validPinyin(i, f) {
				m[i+f] = true
			}
		}
	}
	return m
}()

// Wade–Giles, apostrophes and umlauts already stripped: initial spelling →
// pinyin initials it can stand for.
var wgInitials = []struct {
	wg string
	py []string
}{
	{"tz", []string{"z", "c"}}, {"ts", []string{"z", "c"}}, {"hs", []string{"x"}}, {"ch", []string{"zh", "ch", "j", "q"}},
	{"sh", []string{"sh"}}, {"ss", []string{"s"}}, {"sz", []string{"s"}},
	{"k", []string{"g", "k"}}, {"p", []string{"b", "p"}}, {"t", []string{"d", "t"}}, {"j", []string{"r"}},
	{"s", []string{"s"}}, {"h", []string{"h"}}, {"l", []string{"l"}}, {"m", []string{"m"}}, {"n", []string{"n"}},
	{"f", []string{"f"}}, {"y", []string{"y"}}, {"w", []string{"w"}}, {"", []string{""}},
}

// wgFinals maps Wade–Giles finals to pinyin finals.
var wgFinals = []struct {
	wg string
	py []string
}{
	{"iung", []string{"iong"}}, {"iang", []string{"iang"}}, {"uang", []string{"uang"}}, {"ieh", []string{"ie"}},
	{"ien", []string{"ian"}}, {"iao", []string{"iao"}}, {"uai", []string{"uai"}}, {"uan", []string{"uan"}},
	{"ueh", []string{"ue"}}, {"erh", []string{"er"}}, {"ung", []string{"ong"}}, {"ang", []string{"ang"}},
	{"eng", []string{"eng"}}, {"ing", []string{"ing"}}, {"ih", []string{"i"}}, {"eh", []string{"e"}},
	{"ai", []string{"ai"}}, {"ei", []string{"ei"}}, {"ao", []string{"ao"}}, {"ou", []string{"ou"}},
	{"an", []string{"an"}}, {"en", []string{"en"}}, {"ia", []string{"ia"}}, {"iu", []string{"iu"}},
	{"in", []string{"in"}}, {"ua", []string{"ua"}}, {"uo", []string{"uo"}}, {"ui", []string{"ui"}},
	{"un", []string{"un"}}, {"a", []string{"a"}}, {"o", []string{"o", "e", "uo"}}, {"e", []string{"e"}},
	{"i", []string{"i"}}, {"u", []string{"u", "ou"}},
}

// chineseUnit is one Chinese syllable of a token with the pinyin it may be.
type chineseUnit struct {
	text string
	py   []pyID // sorted
}

// parseChinese reads a lower-case Latin token as pinyin or Wade–Giles
// syllables (fewest syllables first). It returns nil if the token reads as
// neither.
func parseChinese(s string) []chineseUnit {
	if len(s) == 0 || len(s) > 24 {
		return nil
	}
	p := segment(s, func(t string) []string {
		if pinyinSyllables[t] {
			return []string{t}
		}
		return nil
	})
	w := segment(s, wadeGiles)
	switch {
	case p == nil && w == nil:
		return nil
	case p == nil:
		return w
	case w == nil || len(w) != len(p):
		return p
	}
	for i := range p {
		if p[i].text != w[i].text {
			return p
		}
		p[i].py = unionIDs(p[i].py, w[i].py)
	}
	return p
}

// segment splits s into the fewest syllables that read returns readings
// for; nil if there is no split.
func segment(s string, read func(string) []string) []chineseUnit {
	const maxSyl = 6
	n := len(s)
	best := make([]int, n+1) // syllables needed for s[i:]
	next := make([]int, n+1)
	for i := range best {
		best[i] = 1 << 20
	}
	best[n] = 0
	for i := n - 1; i >= 0; i-- {
		for l := 1; l <= 6 && i+l <= n; l++ {
			if best[i+l]+1 < best[i] && read(s[i:i+l]) != nil {
				best[i], next[i] = best[i+l]+1, i+l
			}
		}
	}
	if best[0] > maxSyl {
		return nil
	}
	var out []chineseUnit
	for i := 0; i < n; i = next[i] {
		t := s[i:next[i]]
		var ids []pyID
		for _, r := range read(t) {
			ids = append(ids, internPinyin(r))
		}
		out = append(out, chineseUnit{text: t, py: sortIDs(ids)})
	}
	return out
}

// wadeGiles returns the pinyin syllables a Wade–Giles syllable may be.
func wadeGiles(t string) []string {
	var out []string
	for _, in := range wgInitials {
		if !strings.HasPrefix(t, in.wg) {
			continue
		}
		rest := t[len(in.wg):]
		for _, fi := range wgFinals {
			if rest != fi.wg {
				continue
			}
			for _, pi := range in.py {
				for _, pf := range fi.py {
					f := pf
					if in.wg == "y" && fi.wg == "en" {
						f = "an" // WG yen = pinyin yan
					}
					if in.wg == "y" && pf == "u" {
						f = "ou" // WG yu = pinyin you (and yü = yu)
						if pinyinSyllables["yu"] {
							out = append(out, "yu")
						}
					}
					if pinyinSyllables[pi+f] {
						out = append(out, pi+f)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return dedupStrings(out)
}

func dedupStrings(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func sortIDs(ids []pyID) []pyID {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:0]
	for i, x := range ids {
		if i == 0 || x != ids[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func unionIDs(a, b []pyID) []pyID {
	return sortIDs(append(append([]pyID(nil), a...), b...))
}

// intersects reports whether two sorted id sets share an element and returns it.
func intersects(a, b []pyID) (pyID, bool) {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return a[i], true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return 0, false
}
