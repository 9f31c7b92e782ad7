package intel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func ofacSet(t testing.TB, files ...string) []Input {
	var ins []Input
	for _, f := range files {
		ins = append(ins, readInput(t, "testdata/ofac/"+f))
	}
	return ins
}

func TestLoadOFACCSV(t *testing.T) {
	pub := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	ds, err := LoadOFACCSV(ofacSet(t, "sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"), Options{Published: pub})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]model.Entity{}
	for _, e := range ds.Entities {
		byID[e.ID] = e
	}
	laz := byID["ofac:27307"]
	var weak []string
	for _, n := range laz.Names[1:] {
		if n.Quality == model.AliasWeak {
			weak = append(weak, n.Full)
		}
	}
	// The last alias is cut off in sdn.csv and completed by sdn_comments.csv.
	if d := cmp.Diff([]string{"HIDDEN COBRA", "OFFICE 91", "GUARDIANS OF PEACE", "THE NEW ROMANTIC CYBER ARMY TEAM", "WHOIS HACKING TEAM", "APT 38"}, weak); d != "" {
		t.Errorf("Lazarus weak aliases (-want +got):\n%s", d)
	}
	if len(laz.Wallets) != 8 || laz.Wallets[0] != (model.Wallet{Chain: model.ChainETH, Ticker: "ETH", Address: "0x098b716b8aaf21512996dc57eb0615e2383e2f96"}) {
		t.Errorf("Lazarus wallets: %+v", laz.Wallets)
	}
	kim := byID["ofac:43377"]
	wantKim := model.Entity{
		ID: "ofac:43377", Type: model.EntityPerson,
		Names:         []model.Name{{Full: "KIM, Sang Man"}, {Full: "KIM, Sang-man José", Quality: model.AliasStrong}},
		DOBs:          []model.DOB{{Kind: "exact", Date: time.Date(1965, 4, 25, 0, 0, 0, 0, time.UTC), From: 1965, To: 1965}},
		Nationalities: []string{"Korea, North"},
		Identifiers: []model.Identifier{{Type: "passport", Number: "109420132", Country: "Korea, North"},
			{Type: "passport", Number: "827220538", Country: "Korea, North"}, {Type: "passport", Number: "563220082", Country: "Korea, North"}},
		Wallets: []model.Wallet{{Chain: "btc", Ticker: "XBT", Address: "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"},
			{Chain: "btc", Ticker: "XBT", Address: "1FCNgfZWpYMeYhy9t18AAkTBu8AsdoAc1Z"},
			{Chain: "eth", Ticker: "ETH", Address: "0x97b1043abd9e6fc31681635166d430a458d14f9c"},
			{Chain: "eth", Ticker: "ETH", Address: "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"},
			{Chain: "eth", Ticker: "USDT", Address: "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"},
			{Chain: "eth", Ticker: "USDC", Address: "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"}},
		Programs: []string{"DPRK4"},
	}
	if d := cmp.Diff(wantKim, kim, cmpEntityCore); d != "" {
		t.Errorf("KIM Sang Man (-want +got):\n%s", d)
	}
	yan := byID["ofac:25308"]
	if d := cmp.Diff([]model.Identifier{{Type: "chinese commercial code", Number: "7346 2556 0365"}, {Type: "national id", Number: "421002197703250019", Country: "China"}}, yan.Identifiers); d != "" {
		t.Errorf("YAN identifiers (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"China"}, yan.Nationalities); d != "" {
		t.Errorf("citizen → nationality (-want +got):\n%s", d)
	}
	if got := byID["ofac:18552"].Related; len(got) != 1 || got[0] != "KOREA MINING DEVELOPMENT TRADING CORPORATION" {
		t.Errorf("Linked To: %v", got)
	}
	vessel := byID["ofac:17069"]
	if vessel.Type != model.EntityVessel || len(vessel.Addresses) != 1 || vessel.Addresses[0] != "Nampo, Korea, North" ||
		len(vessel.Identifiers) != 1 || vessel.Identifiers[0] != (model.Identifier{Type: "imo", Number: "7937317"}) {
		t.Errorf("vessel: %+v", vessel)
	}
	if got := byID["ofac:39796"].Programs; len(got) != 2 || got[0] != "DPRK3" || got[1] != "CYBER2" {
		t.Errorf("programs: %v", got)
	}
	// Attributions: every wallet sanctioned; DPRK programs add a dprk claim.
	var lazSanctioned, lazDPRK int
	for _, a := range ds.Attributions {
		if a.Entity == "ofac:27307" {
			switch a.Category {
			case model.CatSanctioned:
				lazSanctioned++
			case model.CatDPRK:
				lazDPRK++
			}
			if a.Source.Published != pub || a.Label != "LAZARUS GROUP" || a.Confidence != 100 {
				t.Errorf("attribution provenance: %+v", a)
			}
		}
	}
	if lazSanctioned != 8 || lazDPRK != 8 {
		t.Errorf("Lazarus attributions: %d sanctioned, %d dprk; want 8, 8", lazSanctioned, lazDPRK)
	}
	golden(t, "ofac/golden.json", ds.Entities)
}

var cmpEntityCore = cmpIgnoreFields("Remarks", "Source", "ListedOn", "DelistedOn")

func TestLoadOFACCSVErrors(t *testing.T) {
	good := readInput(t, "testdata/ofac/sdn.csv").Data
	for _, tc := range []struct {
		name string
		ins  []Input
		want string
	}{
		{"columns", []Input{{Name: "sdn.csv", Data: []byte("1,\"A\",-0- ,\"X\"\r\n")}}, "sdn.csv:1: 4 columns, want 12"},
		{"ent_num", []Input{{Name: "sdn.csv", Data: []byte("1,\"A\",-0-,\"X\",,,,,,,,\r\nx2,\"B\",-0-,\"X\",,,,,,,,\r\n")}}, "sdn.csv:2: field ent_num"},
		{"quote", []Input{{Name: "sdn.csv", Data: []byte("1,\"A\",-0-,\"X\",,,,,,,,\r\n2,\"B\"x,-0-,\"X\",,,,,,,,\r\n")}}, "sdn.csv:2: field column"},
		{"address", []Input{{Name: "sdn.csv", Data: []byte("3,\"A\",\"individual\",\"X\",,,,,,,,\"Digital Currency Address - ETH 0x12zz.\"\r\n")}}, "field Remarks"},
		{"type", []Input{{Name: "sdn.csv", Data: []byte("3,\"A\",\"robot\",\"X\",,,,,,,,\r\n")}}, "field SDN_Type"},
		{"orphan alias", []Input{{Name: "sdn.csv", Data: good}, {Name: "alt.csv", Data: []byte("1,2,\"a.k.a.\",\"X\",-0-\r\n")}}, "alt.csv:1: field ent_num"},
		{"no sdn", []Input{{Name: "alt.csv", Data: []byte("1,2,\"a.k.a.\",\"X\",-0-\r\n")}}, "needs sdn.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadOFACCSV(tc.ins, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
}

func TestOFACRemarksWarning(t *testing.T) {
	ds, err := LoadOFACCSV([]Input{{Name: "sdn.csv", Data: []byte("\n\n3,\"A\",\"individual\",\"X\",,,,,,,,\"DOB 31 Foo 1960; nationality Iran.\"\r\n")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Warnings) != 1 || !strings.HasPrefix(ds.Warnings[0], "sdn.csv:3: field Remarks: \"DOB 31 Foo 1960\"") {
		t.Errorf("warnings: %q", ds.Warnings)
	}
	if e := ds.Entities[0]; len(e.DOBs) != 0 || len(e.Nationalities) != 1 || !strings.Contains(e.Remarks, "DOB 31 Foo 1960") {
		t.Errorf("entity: %+v", e)
	}
}

func TestParseOFACDOB(t *testing.T) {
	for in, want := range map[string]model.DOB{
		"25 Apr 1965":                {Kind: "exact", Date: time.Date(1965, 4, 25, 0, 0, 0, 0, time.UTC), From: 1965, To: 1965},
		"1965":                       {Kind: "year", From: 1965, To: 1965},
		"Apr 1965":                   {Kind: "year", From: 1965, To: 1965},
		"circa 1965":                 {Kind: "approximate", From: 1965, To: 1965},
		"circa 1979-1982":            {Kind: "between", From: 1979, To: 1982},
		"1961 to 1963":               {Kind: "between", From: 1961, To: 1963},
		"01 Jan 1961 to 31 Dec 1963": {Kind: "between", From: 1961, To: 1963},
	} {
		got, err := parseOFACDOB(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", in, d)
		}
	}
	for _, bad := range []string{"", "1963 to 1961", "31 Feb 1960", "Foo 1960", "12345"} {
		if _, err := parseOFACDOB(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzLoadOFACCSV(f *testing.F) {
	f.Add(readInput(f, "testdata/ofac/sdn.csv").Data, readInput(f, "testdata/ofac/sdn_comments.csv").Data)
	f.Fuzz(func(t *testing.T, sdn, comments []byte) {
		ds, err := LoadOFACCSV([]Input{{Name: "sdn.csv", Data: sdn}, {Name: "sdn_comments.csv", Data: comments}}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		for _, a := range ds.Attributions {
			if _, err := NormalizeAddress(a.Chain, a.Address); err != nil {
				t.Fatalf("attribution with a bad address: %+v", a)
			}
		}
	})
}
