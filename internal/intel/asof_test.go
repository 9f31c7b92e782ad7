package intel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	tornadoRouter = "0x8589427373d6d84e98730d7795d8f6f8731fda16" // TORNADO CASH, delisted 2025-03-21
	lazarusRonin  = "0x098b716b8aaf21512996dc57eb0615e2383e2f96" // LAZARUS GROUP, Ronin exploiter
)

func hasCategory(as []model.Attribution, c model.Category, sourcePrefix string) bool {
	for _, a := range as {
		if a.Category == c && strings.HasPrefix(a.Source.Name, sourcePrefix) {
			return true
		}
	}
	return false
}

// TestAsOfTornadoCashShipped is the acceptance test on the shipped
// packs: the 2024-09 list flags Tornado Cash, the 2026-05 list does not; as
// of 2025-01-01 it is sanctioned, as of 2025-06-01 delisted, and both
// sources are shown.
func TestAsOfTornadoCashShipped(t *testing.T) {
	db := shippedDB(t)
	before := db.Lookup(model.ChainETH, tornadoRouter, date("2025-01-01"))
	if !hasCategory(before, model.CatSanctioned, "OFAC") {
		t.Fatalf("as of 2025-01-01 Tornado Cash is not sanctioned: %+v", before)
	}
	after := db.Lookup(model.ChainETH, tornadoRouter, date("2025-06-01"))
	if hasCategory(after, model.CatSanctioned, "") {
		t.Fatalf("as of 2025-06-01 Tornado Cash is still sanctioned: %+v", after)
	}
	var delisted []Claim
	for _, c := range db.Explain(model.ChainETH, tornadoRouter, date("2025-06-01")) {
		if c.Category == model.CatSanctioned {
			if c.Status != StatusDelisted {
				t.Errorf("claim from %s is %s, want delisted", c.Source.Name, c.Status)
			}
			delisted = append(delisted, c)
		}
	}
	if len(delisted) == 0 {
		t.Fatal("no sanctioned claim left to explain the delisting")
	}
	for _, c := range delisted {
		if !c.ValidTo.Equal(date("2025-03-21")) {
			t.Errorf("delisted on %v, want 2025-03-21 (official date)", c.ValidTo)
		}
		if c.DelistedBy == nil || !c.DelistedBy.Published.Equal(date("2026-05-26")) {
			t.Errorf("delisting evidence %+v, want the 2026-05-26 list", c.DelistedBy)
		}
		if c.DelistingNote == nil || !strings.Contains(c.DelistingNote.URL, "ofac.treasury.gov") {
			t.Errorf("official delisting note %+v", c.DelistingNote)
		}
		if c.Entity != "ofac:39796" {
			t.Errorf("entity %q, want ofac:39796 (TORNADO CASH)", c.Entity)
		}
	}
	// The 2024-09 list is among the sources of the delisted claims.
	found := false
	for _, c := range delisted {
		found = found || c.Source.Published.Equal(date("2024-09-27"))
	}
	if !found {
		t.Error("the 2024-09-27 list is not shown")
	}
	// Lazarus stays sanctioned in every snapshot.
	if !hasCategory(db.Lookup(model.ChainETH, lazarusRonin, date("2026-06-01")), model.CatSanctioned, "OFAC") {
		t.Error("Lazarus not sanctioned as of 2026-06-01")
	}
}

func TestDelistingRules(t *testing.T) {
	old, err := LoadOFACAddresses([]Input{readInput(t, "testdata/addresses/sanctioned_addresses_ETH.txt"),
		readInput(t, "testdata/addresses/sanctioned_addresses_XBT.json"), readInput(t, "testdata/addresses/sanctioned_addresses_USDT.json")},
		Options{Published: date("2024-09-27")})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]model.Chain{model.ChainBTC, model.ChainETH}, old.Covers); d != "" {
		t.Errorf("covers (-want +got):\n%s", d)
	}
	newer, err := LoadOFACETHCSV(readInput(t, "testdata/addresses/data.csv"), Options{Published: date("2026-05-26")})
	if err != nil {
		t.Fatal(err)
	}
	del, err := LoadDelistings(readInput(t, "testdata/addresses/delistings.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sdn, err := LoadOFACCSV(ofacSet(t, "sdn.csv"), Options{Published: date("2024-05-03")})
	if err != nil {
		t.Fatal(err)
	}
	db := Build([]*Dataset{sdn, old, newer, del})
	validTo := func(addr string, pub time.Time) time.Time {
		for _, c := range db.Explain(model.ChainETH, addr, date("2026-06-01")) {
			if c.Source.Published.Equal(pub) && c.Category == model.CatSanctioned {
				return c.ValidTo
			}
		}
		t.Fatalf("%s: no claim from %v", addr, pub)
		return time.Time{}
	}
	for _, tc := range []struct {
		addr string
		pub  time.Time
		want time.Time
	}{
		{tornadoRouter, date("2024-09-27"), date("2025-03-21")},                                // official date between the snapshots
		{"0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1", date("2024-09-27"), date("2026-05-26")}, // no known date: the newer snapshot's
		{lazarusRonin, date("2024-09-27"), time.Time{}},                                        // still listed
		{lazarusRonin, date("2024-05-03"), time.Time{}},                                        // sdn.csv claim, still listed later
		{lazarusRonin, date("2026-05-26"), time.Time{}},
	} {
		if got := validTo(tc.addr, tc.pub); !got.Equal(tc.want) {
			t.Errorf("%s from %v: valid to %v, want %v", tc.addr, tc.pub.Format(time.DateOnly), got, tc.want)
		}
	}
	// KIM Sang Man's address is in the 2026 list and not in the 2024 one,
	// which is complete for eth: known listed from 2026-05-26 only.
	for _, c := range db.Explain(model.ChainETH, "0x97b1043abd9e6fc31681635166d430a458d14f9c", date("2025-01-01")) {
		if c.Source.Published.Equal(date("2026-05-26")) && (c.Status != StatusNotYet || !c.ValidFrom.Equal(date("2026-05-26"))) {
			t.Errorf("newly listed claim: %s from %v", c.Status, c.ValidFrom)
		}
	}
	// The newer list covers eth only: BTC and TRON entries of the older one stay.
	for _, a := range old.Attributions {
		if a.Chain == model.ChainETH {
			continue
		}
		if got := db.Lookup(a.Chain, a.Address, date("2026-06-01")); len(got) == 0 {
			t.Errorf("%s %s dropped by a snapshot that does not cover its chain", a.Chain, a.Address)
		}
	}
	// A USDT address on Ethereum does not make the ETH-less USDT file a
	// witness: only ETH, XBT files declare coverage.
	// Enrichment: the address-only list entries get the OFAC entity.
	as := db.Lookup(model.ChainETH, lazarusRonin, date("2025-01-01"))
	for _, a := range as {
		if a.Category == model.CatSanctioned && a.Entity != "ofac:27307" {
			t.Errorf("claim from %s not tied to ofac:27307: %+v", a.Source.Name, a)
		}
	}
	// Sanctioned as of 2025-01-01, not as of 2025-06-01.
	if !hasCategory(db.Lookup(model.ChainETH, tornadoRouter, date("2025-01-01")), model.CatSanctioned, "") ||
		hasCategory(db.Lookup(model.ChainETH, tornadoRouter, date("2025-06-01")), model.CatSanctioned, "") {
		t.Error("as-of lookups disagree with the delisting")
	}
}

func TestAddressListErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"bad eth", Input{Name: "sanctioned_addresses_ETH.txt", Data: []byte("0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n\n0x12345\n")}, "sanctioned_addresses_ETH.txt:3: field address"},
		{"bad json", Input{Name: "sanctioned_addresses_XBT.json", Data: []byte("[\n\"1abc\",\n  42]")}, "sanctioned_addresses_XBT.json:3"},
		{"bad name", Input{Name: "addresses.txt", Data: []byte("x")}, "sanctioned_addresses_<TICKER>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadOFACAddresses([]Input{tc.in}, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
	_, err := LoadOFACETHCSV(Input{Name: "data.csv", Data: []byte("address,name\n0xzz,\"A\"\n")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "data.csv:2: field address") {
		t.Errorf("eth csv: %v", err)
	}
	_, err = LoadOFACETHCSV(Input{Name: "data.csv", Data: []byte("addr,name\n")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "data.csv:1: field address: missing column") {
		t.Errorf("eth csv header: %v", err)
	}
	_, err = LoadDelistings(Input{Name: "d.csv", Data: []byte("list,chain,address,entity,delisted_on,source_name,source_url\nl,eth,0x8589427373d6d84e98730d7795d8f6f8731fda16,X,2025-13-01,n,u\n")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "d.csv:2: field delisted_on") {
		t.Errorf("delistings: %v", err)
	}
}

func FuzzLoadOFACAddresses(f *testing.F) {
	f.Add(readInput(f, "testdata/addresses/sanctioned_addresses_ETH.txt").Data, false)
	f.Add(readInput(f, "testdata/addresses/sanctioned_addresses_XBT.json").Data, true)
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		name := "sanctioned_addresses_ETH.txt"
		if isJSON {
			name = "sanctioned_addresses_XBT.json"
		}
		ds, err := LoadOFACAddresses([]Input{{Name: name, Data: b}}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		for _, a := range ds.Attributions {
			if n, err := NormalizeAddress(a.Chain, a.Address); err != nil || n != a.Address {
				t.Fatalf("non-canonical address %q", a.Address)
			}
		}
	})
}

func FuzzLoadCSVKinds(f *testing.F) {
	f.Add(readInput(f, "testdata/addresses/data.csv").Data, uint8(0))
	f.Add(readInput(f, "testdata/addresses/delistings.csv").Data, uint8(1))
	f.Add(readInput(f, "testdata/dprk/dprk_hack_addresses.csv").Data, uint8(2))
	f.Add(readInput(f, "testdata/dprk/dprk_incidents_tayvano.csv").Data, uint8(2))
	f.Add(readInput(f, "testdata/forta/1/etherscan_malicious_labels.csv").Data, uint8(3))
	f.Add(readInput(f, "testdata/forta/1/malicious_smart_contracts.csv").Data, uint8(3))
	f.Add(readInput(f, "testdata/forta/1/phishing_scams.csv").Data, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, k uint8) {
		kinds := []string{KindOFACETHCSV, KindDelistings, KindDPRK, KindForta}
		_, err := LoadKind(kinds[int(k)%len(kinds)], []Input{{Name: "f.csv", Data: b}}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
		}
	})
}
