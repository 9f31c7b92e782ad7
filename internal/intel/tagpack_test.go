package intel

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redthread/redthread/internal/model"
)

func TestTagPackImport(t *testing.T) {
	ds, err := LoadTagPack(readInput(t, "testdata/tagpack/graphsense_example.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Attributions) != 4 || ds.Skipped != 1 || len(ds.Entities) != 1 {
		t.Fatalf("%d attributions, %d skipped, %d entities", len(ds.Attributions), ds.Skipped, len(ds.Entities))
	}
	a := ds.Attributions
	want0 := model.Attribution{Chain: model.ChainETH, Address: lazarusRonin, Entity: "actor:lazarus-group",
		Label: "Ronin Bridge exploiter (Lazarus Group)", Category: model.CatHack, Confidence: ConfAuthority,
		Source: model.Source{Name: "DPRK-related addresses (example)", File: "graphsense_example.yaml",
			URL: "https://ofac.treasury.gov/recent-actions/20220414", Published: date("2024-09-27")}}
	if d := cmp.Diff(want0, a[0]); d != "" {
		t.Errorf("tag 1 with header defaults (-want +got):\n%s", d)
	}
	if a[1].Category != model.CatSanctioned {
		t.Errorf("tag 2: %+v", a[1])
	}
	if a[2].Chain != model.ChainBTC || a[2].Entity != "actor:kim-sang-man" || !a[2].Source.Published.Equal(date("2023-05-23")) {
		t.Errorf("tag 3 overrides: %+v", a[2])
	}
	if a[3].Category != model.CatExchange || a[3].Confidence != ConfWebCrawl || a[3].Source.URL == "" {
		t.Errorf("tag 4: %+v", a[3])
	}
}

// TestTagPackRoundTrip: import → export → import is lossless, for a
// GraphSense pack and for redthread's own attributions.
func TestTagPackRoundTrip(t *testing.T) {
	in := readInput(t, "testdata/tagpack/graphsense_example.yaml")
	first, err := LoadTagPack(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	exported, err := ExportTagPack("round trip", "redthread", "", first.Attributions).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadTagPack(Input{Name: "export.yaml", Data: exported}, Options{})
	if err != nil {
		t.Fatalf("re-import: %v\n%s", err, exported)
	}
	if d := cmp.Diff(first.Attributions, second.Attributions); d != "" {
		t.Errorf("import → export → import (-first +second):\n%s", d)
	}
	// The same for attributions of every kind redthread makes.
	dprk, err := LoadDPRK([]Input{readInput(t, "testdata/dprk/dprk_hack_addresses.csv")}, Options{Published: date("2024-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	db := Build([]*Dataset{dprk, mustDelisting(t)})
	var attrs []model.Attribution
	for _, c := range db.Explain(model.ChainETH, lazarusRonin, date("2025-01-01")) {
		attrs = append(attrs, c.Attribution)
	}
	attrs = append(attrs, dprk.Attributions...)
	attrs[0].ValidFrom, attrs[0].ValidTo = date("2020-01-01"), date("2025-03-21")
	b, err := ExportTagPack("all", "redthread", "", attrs).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadTagPack(Input{Name: "all.yaml", Data: b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(attrs, back.Attributions); d != "" {
		t.Errorf("export → import (-want +got):\n%s", d)
	}
	// The YAML document itself survives parse → marshal → parse.
	tp, err := ParseTagPack(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tp2, err := ParseTagPack(Input{Name: "again.yaml", Data: out})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tp, tp2, cmpopts.IgnoreUnexported(TagPack{})); d != "" {
		t.Errorf("parse → marshal → parse (-want +got):\n%s", d)
	}
}

func mustDelisting(t *testing.T) *Dataset {
	ds, err := LoadDelistings(readInput(t, "testdata/addresses/delistings.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestTagPackErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"syntax", "title: x\ncreator: y\ntags:\n  - address: [\n", "bad.yaml:4"},
		{"no title", "creator: y\ntags: []\n", "field title"},
		{"no tags", "title: x\ncreator: y\n", "field tags"},
		{"no label", "title: x\ncreator: y\nsource: s\nconfidence: web_crawl\ncurrency: ETH\ntags:\n  - address: 0x098b716b8aaf21512996dc57eb0615e2383e2f96\n  - address: 0xa0e1c89ef1a489c9c7de96311ed5ce5d32c20e4b\n    label: ok\n", "bad.yaml:7: field label"},
		{"confidence", "title: x\ncreator: y\ntags:\n  - address: a\n    label: l\n    source: s\n    currency: BTC\n    confidence: very_sure\n", "bad.yaml:4: field confidence"},
		{"lastmod", "title: x\ncreator: y\ntags:\n  - address: a\n    label: l\n    source: s\n    currency: BTC\n    confidence: unknown\n    lastmod: yesterday\n", "field lastmod"},
		{"type", "title: x\ncreator: y\ntags: 7\n", "bad.yaml:3"},
		{"address", "title: x\ncreator: y\ntags:\n  - address: 0x12\n    label: l\n    source: s\n    currency: ETH\n    confidence: unknown\n", "field address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTagPack(Input{Name: "bad.yaml", Data: []byte(tc.yaml)}, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
}

func TestConfidenceMapping(t *testing.T) {
	// Every GraphSense level maps onto the scale and back onto a level of
	// the same band.
	for id := range gsConfidenceLevel {
		c := gsToConfidence[id]
		if c == 0 {
			t.Errorf("%s has no value", id)
		}
		if back := gsToConfidence[ConfidenceToGraphSense(c)]; back != c {
			t.Errorf("%s → %d → %s → %d", id, c, ConfidenceToGraphSense(c), back)
		}
	}
}

func FuzzParseTagPack(f *testing.F) {
	f.Add(readInput(f, "testdata/tagpack/graphsense_example.yaml").Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadTagPack(Input{Name: "f.yaml", Data: b}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		out, err := ExportTagPack("f", "f", "", ds.Attributions).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := LoadTagPack(Input{Name: "g.yaml", Data: out}, Options{})
		if err != nil {
			t.Fatalf("export does not re-import: %v", err)
		}
		if d := cmp.Diff(ds.Attributions, back.Attributions, cmpEmptyNil); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	})
}

func TestTagPackUnknownCurrency(t *testing.T) {
	_, err := LoadTagPack(Input{Name: "t.yaml", Data: []byte("title: x\ncreator: y\ntags:\n  - address: abcdefghijklmnopqrstuvwxyz\n    label: l\n    source: s\n    currency: ZZZ\n    confidence: unknown\n")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "t.yaml:4: field currency") {
		t.Errorf("unknown currency: %v", err)
	}
}
