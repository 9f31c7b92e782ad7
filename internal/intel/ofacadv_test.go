package intel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func TestLoadOFACAdvanced(t *testing.T) {
	ds, err := LoadOFACAdvanced(readInput(t, "testdata/ofac/SDN_ADVANCED.XML"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 9, 27, 0, 0, 0, 0, time.UTC); !ds.Source.Published.Equal(want) {
		t.Errorf("published %v, want %v", ds.Source.Published, want)
	}
	byID := map[string]model.Entity{}
	for _, e := range ds.Entities {
		byID[e.ID] = e
	}
	kim := byID["ofac:43377"]
	want := model.Entity{
		ID: "ofac:43377", Type: model.EntityPerson,
		Names:         []model.Name{{Full: "KIM Sang Man"}},
		DOBs:          []model.DOB{{Kind: "exact", Date: time.Date(1965, 4, 25, 0, 0, 0, 0, time.UTC), From: 1965, To: 1965}},
		Nationalities: []string{"Korea, North"},
		Identifiers:   []model.Identifier{{Type: "passport", Number: "109420132", Country: "Korea, North"}},
		Wallets: []model.Wallet{{Chain: "btc", Ticker: "XBT", Address: "1D6gG9iKEhPitTcWRJiniuj1jYM2hNeAfJ"},
			{Chain: "eth", Ticker: "ETH", Address: "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"}},
		Programs: []string{"DPRK4"},
		ListedOn: time.Date(2023, 5, 23, 0, 0, 0, 0, time.UTC),
	}
	if d := cmp.Diff(want, kim, cmpIgnoreFields("Source")); d != "" {
		t.Errorf("KIM (-want +got):\n%s", d)
	}
	laz := byID["ofac:27307"]
	if d := cmp.Diff([]model.Name{{Full: "LAZARUS GROUP"}, {Full: "HIDDEN COBRA", Quality: model.AliasWeak}, {Full: "APT 38", Quality: model.AliasWeak}}, laz.Names); d != "" {
		t.Errorf("Lazarus names (-want +got):\n%s", d)
	}
	if laz.Type != model.EntityCompany || len(laz.Wallets) != 2 {
		t.Errorf("Lazarus: %+v", laz)
	}
	front := byID["ofac:990001"]
	if d := cmp.Diff([]string{"ofac:27307"}, front.Related); d != "" {
		t.Errorf("relations (-want +got):\n%s", d)
	}
	if len(front.Identifiers) != 1 || front.Identifiers[0].Type != "email" {
		t.Errorf("email: %+v", front.Identifiers)
	}
	var tc int
	for _, a := range ds.Attributions {
		if a.Entity == "ofac:39796" && a.Category == model.CatSanctioned {
			tc++
		}
	}
	if tc != 2 || len(ds.Covers) != 1 || ds.List != ListOFACDigitalCurrency {
		t.Errorf("Tornado Cash attributions %d, covers %v", tc, ds.Covers)
	}
}

func TestLoadOFACAdvancedErrors(t *testing.T) {
	good := string(readInput(t, "testdata/ofac/SDN_ADVANCED.XML").Data)
	for _, tc := range []struct{ name, xml, want string }{
		{"unknown feature type", strings.Replace(good, `FeatureTypeID="907"`, `FeatureTypeID="999"`, 1), "field FeatureTypeID"},
		{"bad address", strings.Replace(good, "0xa0e1c89Ef1a489c9C7dE96311eD5Ce5D32c20E4B", "0xa0e1c89Ef1", 1), "field VersionDetail"},
		{"no refs", "<Sanctions><DistinctParties/></Sanctions>", "field ReferenceValueSets"},
		{"truncated", good[:len(good)/2], "SDN_ADVANCED.XML:"},
		{"wrong root", "<Foo/>", "field Sanctions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadOFACAdvanced(Input{Name: "SDN_ADVANCED.XML", Data: []byte(tc.xml)}, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
}

func FuzzLoadOFACAdvanced(f *testing.F) {
	f.Add(readInput(f, "testdata/ofac/SDN_ADVANCED.XML").Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := LoadOFACAdvanced(Input{Name: "SDN_ADVANCED.XML", Data: b}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
		}
	})
}
