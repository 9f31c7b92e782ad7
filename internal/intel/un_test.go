package intel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func TestLoadUN(t *testing.T) {
	ds, err := LoadUN(readInput(t, "testdata/un_consolidated_small.xml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2018, 10, 29, 23, 9, 49, 856e6, time.UTC); !ds.Source.Published.Equal(want) {
		t.Errorf("published %v, want %v", ds.Source.Published, want)
	}
	byID := map[string]model.Entity{}
	for _, e := range ds.Entities {
		byID[e.ID] = e
	}
	if len(byID) != 8 {
		t.Fatalf("%d entities, want 8", len(byID))
	}
	ri := byID["un:6908555"]
	if d := cmp.Diff([]model.DOB{{Kind: "exact", Date: time.Date(1964, 7, 17, 0, 0, 0, 0, time.UTC), From: 1964, To: 1964}}, ri.DOBs); d != "" {
		t.Errorf("RI WON HO DOB (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]model.Identifier{{Type: "un reference number", Number: "KPi.033"}, {Type: "passport", Number: "381310014"}}, ri.Identifiers); d != "" {
		t.Errorf("RI WON HO identifiers (-want +got):\n%s", d)
	}
	if ri.Type != model.EntityPerson || ri.Names[0].Full != "RI WON HO" || ri.Nationalities[0] != "Democratic People's Republic of Korea" {
		t.Errorf("RI WON HO: %+v", ri)
	}
	if got := byID["un:690740"].DOBs; len(got) != 1 || got[0].Kind != "year" || got[0].From != 1940 {
		t.Errorf("year DOB: %+v", got)
	}
	if got := byID["un:111109"].DOBs; len(got) != 1 || got[0].Kind != "approximate" || got[0].From != 1957 {
		t.Errorf("approximate DOB: %+v", got)
	}
	between := false
	for _, d := range byID["un:110577"].DOBs {
		between = between || (d.Kind == "between" && d.From < d.To)
	}
	if !between {
		t.Errorf("between DOB missing: %+v", byID["un:110577"].DOBs)
	}
	sh := byID["un:6908493"]
	wantNames := []model.Name{
		{Full: "SHAMIL MAGOMEDOVICH ISMAILOV"},
		{Full: "Шамиль Магомедович Измайлов", Quality: model.AliasStrong, Script: "Cyrillic"},
		{Full: "Shamil Magomedovich Aliev", Quality: model.AliasStrong},
		{Full: "Abu Hanifa", Quality: model.AliasWeak},
	}
	if d := cmp.Diff(wantNames, sh.Names); d != "" {
		t.Errorf("alias qualities (-want +got):\n%s", d)
	}
	komid := byID["un:690735"]
	if komid.Type != model.EntityCompany || len(komid.Names) != 5 || komid.Names[4].Full != "KOMID" {
		t.Errorf("KOMID: %+v", komid.Names)
	}
	if want := time.Date(2009, 4, 24, 0, 0, 0, 0, time.UTC); !komid.ListedOn.Equal(want) {
		t.Errorf("KOMID listed on %v", komid.ListedOn)
	}
	golden(t, "un_consolidated_small.golden.json", ds.Entities)
}

func TestLoadUNErrors(t *testing.T) {
	for _, tc := range []struct {
		name, xml, want string
	}{
		{"broken", "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DATAID>\n</INDIVIDUALS>", "bad.xml:4"},
		{"bad date", "<CONSOLIDATED_LIST><INDIVIDUALS>\n\n<INDIVIDUAL><DATAID>7</DATAID><FIRST_NAME>A</FIRST_NAME><LISTED_ON>2019-13-45</LISTED_ON></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>", "bad.xml:3: field LISTED_ON"},
		{"no name", "<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>7</DATAID></ENTITY></ENTITIES></CONSOLIDATED_LIST>", "field FIRST_NAME"},
		{"bad year", "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>7</DATAID><FIRST_NAME>A</FIRST_NAME><INDIVIDUAL_DATE_OF_BIRTH><YEAR>19x0</YEAR></INDIVIDUAL_DATE_OF_BIRTH></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>", "field INDIVIDUAL_DATE_OF_BIRTH"},
		{"no root", "<FOO/>", "field CONSOLIDATED_LIST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadUN(Input{Name: "bad.xml", Data: []byte(tc.xml)}, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
}

func FuzzLoadUN(f *testing.F) {
	f.Add(readInput(f, "testdata/un_consolidated_small.xml").Data)
	f.Add([]byte("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>A</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadUN(Input{Name: "f.xml", Data: b}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		for _, e := range ds.Entities {
			if e.ID == "" || len(e.Names) == 0 || e.Names[0].Full == "" {
				t.Fatalf("entity without id or name: %+v", e)
			}
		}
	})
}
