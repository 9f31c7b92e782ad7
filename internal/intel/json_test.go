package intel

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func TestClaimJSON(t *testing.T) {
	db := shippedDB(t)
	var got ClaimJSON
	for _, c := range db.Explain(model.ChainETH, tornadoRouter, date("2025-06-01")) {
		if c.Category != model.CatSanctioned {
			continue
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
	}
	want := ClaimJSON{Chain: "eth", Address: tornadoRouter, Category: "sanctioned", Status: "delisted", Entity: "ofac:39796",
		Label: "TORNADO CASH", Role: "listed ETH address", Confidence: 100, GraphSense: "authority_data", ValidTo: "2025-03-21",
		Source: SourceJSON{Name: b10cSourceName, File: "sanctioned_addresses_ETH.json", URL: b10cURL, Published: "2024-09-27",
			License: "MIT (list tooling); data: US government work"},
		DelistedBy: &SourceJSON{Name: ultrasoundName, File: "data.csv", URL: ultrasoundURL, Published: "2026-05-26",
			License: "MIT (list tooling); data: US government work"},
		DelistingNote: &SourceJSON{Name: "OFAC recent actions 2025-03-21: Cyber-related Designation Removal (Tornado Cash)",
			File: "delistings.csv", URL: "https://ofac.treasury.gov/recent-actions/20250321", Published: "2025-03-21"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("claim JSON (-want +got):\n%s", d)
	}
}

func TestAdvancedDOB(t *testing.T) {
	pt := func(y, m, d string, approx bool) advDatePoint {
		a := ""
		if approx {
			a = "true"
		}
		return advDatePoint{Approximate: a, From: advDate{y, m, d}, To: advDate{y, m, d}}
	}
	for _, tc := range []struct {
		start, end advDatePoint
		want       model.DOB
	}{
		{pt("1962", "1", "1", true), pt("1962", "12", "31", true), model.DOB{Kind: "approximate", From: 1962, To: 1962}},
		{pt("1962", "1", "1", false), pt("1962", "12", "31", false), model.DOB{Kind: "year", From: 1962, To: 1962}},
		{pt("1955", "1", "1", false), pt("1958", "12", "31", false), model.DOB{Kind: "between", From: 1955, To: 1958}},
	} {
		got, err := advDOB(tc.start, tc.end)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	}
	if _, err := advDOB(pt("1960", "1", "1", false), pt("1950", "1", "1", false)); err == nil {
		t.Error("backwards period accepted")
	}
}

// TestOpen: the package-level Open serves the shipped packs from an empty
// directory, without creating anything.
func TestOpen(t *testing.T) {
	dir := t.TempDir() + "/intel"
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Lookup(model.ChainETH, lazarusRonin, date("2025-01-01"))) == 0 {
		t.Error("no shipped attributions")
	}
	if _, ok := db.Incident("ronin-bridge"); !ok || len(db.Incidents()) != 86 {
		t.Error("incidents missing")
	}
	if entries, err := ShippedPacks(); err != nil || len(entries) != 8 {
		t.Errorf("shipped packs: %d %v", len(entries), err)
	}
}
