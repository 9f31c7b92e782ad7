package screen

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareData(t *testing.T) {
	rows, err := readTSV("testdata/compare.tsv", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		lo, err1 := strconv.ParseFloat(r[2], 64)
		hi, err2 := strconv.ParseFloat(r[3], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad row %q", r)
		}
		res, err := Compare(r[0], r[1])
		if err != nil {
			t.Errorf("Compare(%q, %q): %v", r[0], r[1], err)
			continue
		}
		if res.Score < lo-1e-9 || res.Score > hi+1e-9 {
			t.Errorf("Compare(%q, %q) = %.3f, want [%.2f, %.2f]; explanation %+v", r[0], r[1], res.Score, lo, hi, res.Explanation)
		}
		if len(r) > 4 && r[4] != "" && res.Explanation.Mode != r[4] {
			t.Errorf("Compare(%q, %q) mode %q, want %q", r[0], r[1], res.Explanation.Mode, r[4])
		}
		if res.Score > nameOnlyCap || res.Score < 0 {
			t.Errorf("Compare(%q, %q) = %v outside [0, cap]", r[0], r[1], res.Score)
		}
	}
}

// The ordering: two people must score below one person's spellings.
func TestRequiredOrdering(t *testing.T) {
	two, err := Compare("Kim Song Il", "Kim Jong Il")
	if err != nil {
		t.Fatal(err)
	}
	one, err := Compare("Jang Myong Jin", "Chang Myong Chin")
	if err != nil {
		t.Fatal(err)
	}
	if two.Score >= one.Score {
		t.Fatalf("Kim Song Il/Kim Jong Il %.3f >= Jang Myong Jin/Chang Myong Chin %.3f", two.Score, one.Score)
	}
}

func TestExplanationHanja(t *testing.T) {
	r, err := Compare("Kim Chol Sam", "Jin Tiesan")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range r.Explanation.Parts {
		got[p.A+"/"+p.B] = p.Rule
	}
	want := map[string]string{
		"kim/jin":  "hanja reading (kim 金 → jin)",
		"chol/tie": "hanja reading (chol 鐵 → tie)",
		"sam/san":  "hanja reading (sam 三 → san)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parts (-want +got):\n%s", d)
	}
	sum := 0.0
	for _, p := range r.Explanation.Parts {
		sum += p.Weight
	}
	if sum < 0.99 || sum > 1.01 {
		t.Errorf("weights sum to %.3f, want 1", sum)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, kind, norm string
	}{
		{"KIM, Jong-Un", "", "kim jong un"},
		{"Ch’oe Ch’un-yo’ng", "", "choe chun yong"},
		{"Kim Chŏng-ŭn", "", "kim chong un"},
		{"김정은", "", "gim jeong eun"},
		{"리수용", "", "ri su yong"},
		{"이수용", "", "i su yong"},
		{"Yanbian Silverstar Network Technology Co., Ltd.", "", "yanbian silverstar network technology"},
		{"OOO Sovfracht", "company", "sovfracht"},
		{"GEOFARMA S.A. DE C.V.", "", "geofarma"},
		{"OPERADORA PARQUE ALAMEDAS, S. DE R.L. DE C.V.", "company", "operadora parque alamedas"},
		{"Limited Liability Company Additive Technology", "company", "limited liability company additive technology"},
		{"Additive Technology Joint Stock Company", "company", "additive technology"},
		{"Co", "company", "co"},
		{"Ali Co", "person", "ali co"},
		{"ØRSTED Æble", "", "orsted aeble"},
		{"金鐵三", "", "金 鐵 三"},
		{"龘 Kim", "", "龘 kim"},
	}
	for _, tt := range tests {
		n, err := PrepareName(tt.in, tt.kind)
		if err != nil {
			t.Errorf("PrepareName(%q): %v", tt.in, err)
			continue
		}
		if n.Norm != tt.norm {
			t.Errorf("PrepareName(%q).Norm = %q, want %q", tt.in, n.Norm, tt.norm)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"-.,;!", ErrEmpty},
		{strings.Repeat("kim ", 200), ErrTooLong},
		{"kim\x00jong", ErrControl},
		{"kim\njong", ErrControl},
		{"kim\u0085jong", ErrControl},
		{"kim\xffjong", ErrInvalidUTF8},
		{"\xc3", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		_, err := PrepareName(tt.in, "")
		if !errors.Is(err, tt.want) {
			t.Errorf("PrepareName(%q) error %v, want %v", tt.in, err, tt.want)
		}
		if _, err := Compare("Kim Jong Un", tt.in); !errors.Is(err, tt.want) {
			t.Errorf("Compare(_, %q) error %v, want %v", tt.in, err, tt.want)
		}
	}
}

// Spellings the issue lists must reach the same canonical syllable or a
// near variant of it.
func TestKoreanVariantsCollide(t *testing.T) {
	groups := [][]string{
		{"kim", "gim"}, {"pak", "park", "bak"}, {"choe", "choi", "chwe"}, {"jong", "chong", "cheong", "jeong"},
		{"chol", "cheol", "ch'ol", "ch'o'l"}, {"myong", "myeong"}, {"song", "seong"}, {"ri", "lee", "yi", "rhee", "i", "li"},
		{"ryu", "yu", "yoo"}, {"rim", "lim", "im"}, {"ro", "roh", "no", "noh"}, {"u", "woo", "oo"}, {"il"}, {"un", "eun", "u'n"},
	}
	for _, g := range groups {
		var first ksyl
		for i, s := range g {
			n, err := PrepareName(s+" x", "")
			if err != nil {
				t.Fatal(err)
			}
			ps := parseKorean(n.tokens[0].text)
			if len(ps) == 0 || len(ps[0]) != 1 {
				t.Errorf("%q does not parse as one Korean syllable: %v", s, ps)
				continue
			}
			if i == 0 {
				first = ps[0][0]
				continue
			}
			if sim, _ := ksylSim(first, ps[0][0]); sim < simInitialRule && first != ps[0][0] {
				t.Errorf("%q ~ %q similarity %.2f, want >= %.2f", g[0], s, sim, simInitialRule)
			}
		}
	}
}

func TestSegmentation(t *testing.T) {
	got := map[string]bool{}
	for _, p := range parseKorean("jongun") {
		var s []string
		for _, k := range p {
			s = append(s, k.String())
		}
		got[strings.Join(s, "-")] = true
	}
	if !got["chong-un"] {
		t.Errorf("jongun parses as %v, want chong-un among them", got)
	}
	if parseKorean("trading") != nil || parseKorean("vladimir") != nil {
		t.Error("English/Russian words parse as Korean")
	}
}

func TestWadeGiles(t *testing.T) {
	tests := map[string]string{"tsetung": "ze dong", "hsiaoping": "xiao ping", "chou": "zhou", "yen": "yan", "chih": "zhi", "ho": "he"}
	for wg, want := range tests {
		segs := parseChinese(wg)
		if len(segs) == 0 {
			t.Errorf("%q does not read as Chinese", wg)
			continue
		}
		cu := segs[0]
		ws := strings.Fields(want)
		if len(cu) != len(ws) {
			t.Errorf("%q: %d syllables, want %d", wg, len(cu), len(ws))
			continue
		}
		for i, u := range cu {
			if _, ok := intersects(u.py, []pyID{internPinyin(ws[i])}); !ok {
				var names []string
				for _, id := range u.py {
					names = append(names, pinyinNames[id])
				}
				t.Errorf("%q syllable %d reads %v, want %s among them", wg, i, names, ws[i])
			}
		}
	}
}

// The shipped evaluation set must meet the target at the reference
// threshold on the held-out split as well as the dev split.
func TestEvaluationTarget(t *testing.T) {
	pairs, err := EvalSet()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(pairs, []float64{ReferenceThreshold})
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"dev", "test", "all"} {
		m := rep.Splits[split][0]
		if m.TP+m.FN < 50 || m.TN+m.FP < 100 {
			t.Errorf("%s split too small: %+v", split, m)
		}
		if m.F1 < 0.95 {
			t.Errorf("%s F1 %.3f < 0.95 at %.2f: %+v", split, m.F1, ReferenceThreshold, m)
		}
	}
	if t.Failed() {
		t.Log("\n" + FormatEval(rep))
	}
}

func TestParseEvalSetErrors(t *testing.T) {
	for _, s := range []string{"dev\t1\talias\tonly a", "dev\tx\talias\ta\tb"} {
		if _, err := ParseEvalSet(s); err == nil {
			t.Errorf("ParseEvalSet(%q): no error", s)
		}
	}
}

func TestHanjaTableReadingsArePinyin(t *testing.T) {
	// init panics on a bad entry; check coverage of the examples.
	for syl, py := range map[string]string{"kim": "jin", "chol": "tie", "sam": "san", "ri": "li", "pak": "piao", "choe": "cui", "jong": "zheng", "song": "cheng"} {
		k := parseKorean(syl)[0][0]
		_, ids := hanjaFor(k)
		if _, ok := intersects(ids, []pyID{internPinyin(py)}); !ok {
			t.Errorf("%s has no hanja read %s", syl, py)
		}
	}
}
