package screen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/model"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixtureEntities are hand-made entities shaped like the UN and OFAC
// records the intel loaders produce.
func fixtureEntities() []model.Entity {
	return []model.Entity{
		{ID: "un:6908566", Type: model.EntityPerson, Names: []model.Name{{Full: "KIM CHOL SAM"}, {Full: "Jin Tiesan", Quality: model.AliasStrong}},
			DOBs: []model.DOB{{Kind: "exact", Date: day("1971-03-11"), From: 1971, To: 1971}}, Nationalities: []string{"Democratic People's Republic of Korea"},
			Programs: []string{"UN DPRK"}, Source: model.Source{Name: "UN Security Council consolidated list"}},
		{ID: "ofac:20157", Type: model.EntityPerson, Names: []model.Name{{Full: "KIM, Jong Un"}},
			DOBs: []model.DOB{{Kind: "exact", Date: day("1984-01-08"), From: 1984, To: 1984}}, Programs: []string{"DPRK3"}},
		{ID: "ofac:17622", Type: model.EntityPerson, Names: []model.Name{{Full: "KIM, Sok Chol"}},
			Identifiers: []model.Identifier{{Type: "passport", Number: "472310082"}}, Nationalities: []string{"Korea, North"}},
		{ID: "ofac:44718", Type: model.EntityPerson, Names: []model.Name{{Full: "SEMENOV, Roman"}},
			Identifiers: []model.Identifier{{Type: "email", Number: "semenov.roma@gmail.com"}},
			Wallets:     []model.Wallet{{Chain: model.ChainETH, Ticker: "ETH", Address: "0xdcbEfFBECcE100cCE9E4b153C4e15cB885643193"}}},
		{ID: "ofac:9345", Type: model.EntityCompany, Names: []model.Name{{Full: "KOREA MINING DEVELOPMENT TRADING CORPORATION"}, {Full: "KOMID", Quality: model.AliasWeak}}},
		{ID: "ofac:16084", Type: model.EntityPerson, Names: []model.Name{{Full: "KIM, Chol Nam"}}, DOBs: []model.DOB{{Kind: "exact", Date: day("1970-02-19")}}},
		{ID: "ofac:1", Type: model.EntityVessel, Names: []model.Name{{Full: "CHON MA SAN"}}},
	}
}

func TestScreenFixture(t *testing.T) {
	ix := NewIndex(fixtureEntities(), []model.Attribution{{Chain: model.ChainBTC, Address: "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ", Entity: "ofac:x", Label: "KIM, Sang Man", Category: model.CatSanctioned}}, Options{})
	top := func(q Query) Match {
		t.Helper()
		ms, err := ix.Screen(q)
		if err != nil {
			t.Fatalf("Screen(%+v): %v", q, err)
		}
		if len(ms) == 0 {
			t.Fatalf("Screen(%+v): no match", q)
		}
		return ms[0]
	}
	// Chinese reading of the hanja name, explained.
	m := top(Query{Name: "Jin Tiesan"})
	if m.EntityID != "un:6908566" || m.Score != 0.9 || m.MatchedName != "Jin Tiesan" {
		t.Errorf("Jin Tiesan: %+v", m)
	}
	// Name only is capped; a matching DOB raises, a conflicting one lowers.
	base := top(Query{Name: "Kim Chol Sam"})
	if base.Score != nameOnlyCap {
		t.Errorf("name only: %v, want %v", base.Score, nameOnlyCap)
	}
	if m := top(Query{Name: "Kim Chol Sam", DOB: "1971-03-11", Nationality: "KP"}); m.Score != 1 || len(m.Explanation.Factors) != 2 {
		t.Errorf("with dob and nationality: %+v", m)
	}
	if m := top(Query{Name: "Kim Chol Sam", DOB: "1971"}); m.Score <= base.Score || m.Score >= 1 {
		t.Errorf("with year: %v", m.Score)
	}
	if ms, _ := ix.Screen(Query{Name: "Kim Chol Sam", DOB: "1990-01-01"}); len(ms) > 0 && ms[0].EntityID == "un:6908566" && ms[0].Score >= base.Score {
		t.Errorf("conflicting dob did not lower: %+v", ms[0])
	}
	// Different person with a similar name ranks below.
	ms, _ := ix.Screen(Query{Name: "Kim Chol Sam"})
	for _, m := range ms[1:] {
		if m.Score >= ReferenceThreshold {
			t.Errorf("other person above the reference threshold: %+v", m)
		}
	}
	// Exact evidence.
	if m := top(Query{Name: "Someone Else", Identifiers: []string{"4723 10082"}}); !m.Exact || m.Score != 1 || m.EntityID != "ofac:17622" {
		t.Errorf("passport: %+v", m)
	}
	if m := top(Query{Name: "Kim Sok Chol", Identifiers: []string{"999999999"}}); m.Score >= nameOnlyCap || m.Exact {
		t.Errorf("different passport did not lower: %+v", m)
	}
	if ms, err := ix.Screen(Query{Identifiers: []string{"000000000"}}); err != nil || len(ms) != 0 {
		t.Errorf("identifier only, unlisted: %v %v", ms, err)
	}
	if m := top(Query{Name: "SEMENOV.ROMA@gmail.com"}); !m.Exact || m.EntityID != "ofac:44718" {
		t.Errorf("email as name: %+v", m)
	}
	// Type filter and legal forms.
	if m := top(Query{Name: "Korea Mining Development Trading Co., Ltd.", Type: "company"}); m.EntityID != "ofac:9345" || m.Score != 0.9 {
		t.Errorf("company: %+v", m)
	}
	if ms, _ := ix.Screen(Query{Name: "Chon Ma San", Type: "person"}); len(ms) != 0 {
		t.Errorf("vessel returned for type person: %+v", ms)
	}
	if _, err := ix.Screen(Query{Name: "x", Type: "ship"}); err == nil {
		t.Error("bad type accepted")
	}
	if _, err := ix.Screen(Query{Name: "Kim", DOB: "03/11/1971"}); err == nil {
		t.Error("bad dob accepted")
	}
	if _, err := ix.Screen(Query{Name: "kim\x00"}); !errors.Is(err, ErrControl) {
		t.Errorf("control character: %v", err)
	}

	// Wallets: exact, normalized, from entities and attributions.
	ws, err := ix.Wallet(model.ChainETH, "0xDCBEFFBECCE100CCE9E4B153C4E15CB885643193")
	if err != nil || len(ws) != 1 || ws[0].EntityID != "ofac:44718" || ws[0].Score != 1 {
		t.Errorf("eth wallet: %+v %v", ws, err)
	}
	ws, err = ix.Wallet(model.ChainBTC, "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ")
	if err != nil || len(ws) != 1 || ws[0].Name != "KIM, Sang Man" {
		t.Errorf("btc attribution: %+v %v", ws, err)
	}
	if ws, _ := ix.Wallet(model.ChainETH, "0x0000000000000000000000000000000000000001"); len(ws) != 0 {
		t.Errorf("unlisted wallet matched: %+v", ws)
	}
	if _, err := ix.Wallet(model.ChainETH, "0xnothex"); err == nil {
		t.Error("bad address accepted")
	}
}

func TestScreenBatch(t *testing.T) {
	ix := NewIndex(fixtureEntities(), nil, Options{})
	res, err := ix.ScreenBatch(context.Background(), []Query{{Name: "Kim Jong-un"}, {Name: ""}, {Name: "Jin Tiesan"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || len(res[0].Matches) == 0 || res[0].Matches[0].EntityID != "ofac:20157" {
		t.Errorf("first: %+v", res[0])
	}
	if res[1].Error == "" || res[1].Matches == nil {
		t.Errorf("empty query: %+v", res[1])
	}
	if len(res[2].Matches) == 0 {
		t.Errorf("third: %+v", res[2])
	}
	if _, err := ix.ScreenBatch(context.Background(), make([]Query, MaxBatch+1)); !errors.Is(err, ErrBatchSize) {
		t.Errorf("oversized batch: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.ScreenBatch(ctx, []Query{{Name: "Kim"}}); err == nil {
		t.Error("cancelled context ignored")
	}
}

func TestIndexSkipsBadNames(t *testing.T) {
	ents := []model.Entity{{ID: "x:1", Names: []model.Name{{Full: ""}, {Full: strings.Repeat("a", 600)}, {Full: "Ri Su Yong"}},
		Wallets: []model.Wallet{{Chain: model.ChainETH, Address: "0x12"}}}}
	ix := NewIndex(ents, nil, Options{})
	if len(ix.Skipped) != 3 || ix.Stats().Names != 1 {
		t.Errorf("skipped %q, stats %+v", ix.Skipped, ix.Stats())
	}
	if ms, _ := ix.Screen(Query{Name: "Lee Su-yong"}); len(ms) != 1 {
		t.Errorf("Lee Su-yong: %+v", ms)
	}
}

func FuzzPrepareName(f *testing.F) {
	for _, s := range []string{"KIM, Jong Un", "Ch’oe Ch’un-yo’ng", "김정은", "Jin Tiesan", "Mao Tse-tung", "Yanbian Silverstar Network Technology Co., Ltd.",
		"金鐵三", "", "\xff", "a\x00b", "Pyo’ng-ch’o’l", "ØRSTED", "jongunjongunjongun", "Ri Eun Song"} {
		f.Add(s, "Kim Chol Sam")
	}
	pairs, _ := EvalSet()
	for i, p := range pairs {
		if i%25 == 0 {
			f.Add(p.A, p.B)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r, err := Compare(a, b)
		if err != nil {
			return
		}
		if r.Score < 0 || r.Score > nameOnlyCap || r.NameScore < 0 || r.NameScore > 1 {
			t.Fatalf("Compare(%q, %q) = %v / %v", a, b, r.Score, r.NameScore)
		}
		r2, _ := Compare(a, b)
		if r2.Score != r.Score {
			t.Fatalf("not deterministic: %v vs %v", r.Score, r2.Score)
		}
		self, err := Compare(a, a)
		if err != nil || self.NameScore < 0.999 {
			t.Fatalf("Compare(%q, itself) = %+v, %v", a, self, err)
		}
	})
}

func FuzzScreen(f *testing.F) {
	ix := NewIndex(fixtureEntities(), nil, Options{})
	for _, s := range []string{"Kim Jong Un", "Jin Tiesan", "semenov.roma@gmail.com", "", "\x01", "Korea Mining Co"} {
		f.Add(s, "1971-03-11", "KP")
	}
	f.Fuzz(func(t *testing.T, name, dob, nat string) {
		ms, err := ix.Screen(Query{Name: name, DOB: dob, Nationality: nat})
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Score < 0 || m.Score > 1 || (!m.Exact && m.Score < ix.opts.MinScore) {
				t.Fatalf("%q: bad score %+v", name, m)
			}
		}
	})
}

func FuzzParseEvalSet(f *testing.F) {
	f.Add(evalPairsTSV[:2000])
	f.Add("dev\t1\talias\ta\tb\tsrc\n# c\n\ntest\t0\tx\tc\td")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseEvalSet(s)
		if err != nil {
			return
		}
		// Written back, the pairs parse to themselves.
		var b strings.Builder
		for _, p := range ps {
			if strings.HasPrefix(p.Split, "#") {
				t.Fatalf("comment parsed as a pair: %+v", p)
			}
			label := "0"
			if p.Match {
				label = "1"
			}
			b.WriteString(strings.Join([]string{p.Split, label, p.Category, p.A, p.B, p.Source}, "\t") + "\n")
		}
		again, err := ParseEvalSet(b.String())
		if err != nil || len(again) != len(ps) {
			t.Fatalf("round trip: %v, %d pairs, want %d", err, len(again), len(ps))
		}
		for i := range ps {
			if again[i] != ps[i] {
				t.Fatalf("round trip: %+v, want %+v", again[i], ps[i])
			}
		}
	})
}
