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
// syllables. It returns the segmentations with the fewest syllables (at most
// maxParses; "zhengen" is zheng-en or zhen-gen), or nil if the token reads
// as neither.
func parseChinese(s string) [][]chineseUnit {
	if len(s) == 0 || len(s) > 24 {
		return nil
	}
	p := segmentAll(s, pinyinRead)
	w := segmentAll(s, wadeGiles)
	best := 1 << 20
	for _, x := range append(append([][]chineseUnit(nil), p...), w...) {
		best = min(best, len(x))
	}
	var out [][]chineseUnit
	add := func(x []chineseUnit) {
		if len(x) != best {
			return
		}
		for _, y := range out {
			same := true
			for i := range x {
				if x[i].text != y[i].text {
					same = false
					break
				}
			}
			if same {
				for i := range x {
					y[i].py = unionIDs(y[i].py, x[i].py)
				}
				return
			}
		}
		if len(out) < maxParses {
			out = append(out, x)
		}
	}
	for _, x := range p {
		add(x)
	}
	for _, x := range w {
		add(x)
	}
	return out
}

func pinyinRead(t string) []string {
	if pinyinSyllables[t] {
		return []string{t}
	}
	return nil
}

// segmentAll returns up to maxParses splits of s into the fewest syllables
// that read returns readings for; nil if there is none.
func segmentAll(s string, read func(string) []string) [][]chineseUnit {
	const maxSyl = 6
	n := len(s)
	best := make([]int, n+1) // syllables needed for s[i:]
	for i := range best {
		best[i] = 1 << 20
	}
	best[n] = 0
	for i := n - 1; i >= 0; i-- {
		for l := 1; l <= 6 && i+l <= n; l++ {
			if best[i+l]+1 < best[i] && read(s[i:i+l]) != nil {
				best[i] = best[i+l] + 1
			}
		}
	}
	if best[0] > maxSyl {
		return nil
	}
	var out [][]chineseUnit
	var path []chineseUnit
	var walk func(i int)
	walk = func(i int) {
		if len(out) >= maxParses {
			return
		}
		if i == n {
			out = append(out, append([]chineseUnit(nil), path...))
			return
		}
		for l := 1; l <= 6 && i+l <= n; l++ {
			if best[i+l]+1 != best[i] {
				continue
			}
			t := s[i : i+l]
			rs := read(t)
			if rs == nil {
				continue
			}
			ids := make([]pyID, 0, len(rs))
			for _, r := range rs {
				ids = append(ids, internPinyin(r))
			}
			path = append(path, chineseUnit{text: t, py: sortIDs(ids)})
			walk(i + l)
			path = path[:len(path)-1]
		}
	}
	walk(0)
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
