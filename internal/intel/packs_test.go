package intel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redthread/redthread/internal/model"
)

func TestLoadDPRK(t *testing.T) {
	ds, err := LoadDPRK([]Input{readInput(t, "testdata/dprk/dprk_hack_addresses.csv"), readInput(t, "testdata/dprk/dprk_incidents_tayvano.csv")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[string]model.Attribution{}
	for _, a := range ds.Attributions {
		byAddr[a.Address] = a
	}
	primary := byAddr[lazarusRonin]
	want := model.Attribution{Chain: model.ChainETH, Address: lazarusRonin, Entity: "actor:lazarus-group", Label: "Ronin Bridge: Primary",
		Category: model.CatDPRK, Incident: "ronin-bridge", Role: "Primary", Confidence: ConfForensic}
	if d := cmp.Diff(want, primary, cmpIgnoreAttrSource); d != "" {
		t.Errorf("Ronin primary (-want +got):\n%s", d)
	}
	if !strings.Contains(primary.Source.URL, "22a53877b8a87a7ab06c513684e5fc30db5ac182/hacks-and-thefts/Ronin%20Bridge.md") ||
		primary.Source.Name != "tayvano/lazarus-bluenoroff-research" || primary.Source.File != "dprk_hack_addresses.csv" {
		t.Errorf("Ronin source: %+v", primary.Source)
	}
	victim := byAddr["0x715cdda5e9ad30a0ced14940f9997ee611496de6"]
	if victim.Category != model.CatVictim || victim.Entity != "" {
		t.Errorf("victim: %+v", victim)
	}
	if dep := byAddr["0x17a96cd2aff8bece22b54a83955fbab5c92a98ca"]; dep.Category != model.CatExchange || dep.Incident != "ronin-bridge" {
		t.Errorf("deposit address: %+v", dep)
	}
	if btc := byAddr["13bKZmMtLoCu3o1oUiGsqyCz3yWsbaDkp8"]; btc.Chain != model.ChainBTC || btc.Category != model.CatDPRK {
		t.Errorf("btc: %+v", btc)
	}
	if trx := byAddr["TXDSr5SDTKFzsXBsNdTwQEYyeyqcBQekh7"]; trx.Chain != ChainTRON {
		t.Errorf("tron: %+v", trx)
	}
	if stake := byAddr["0x94f1b9b64e2932f6a2db338f616844400cd58e8a"]; stake.Source.URL != "" || !strings.HasPrefix(stake.Source.Name, "FBI press release") {
		t.Errorf("Stake.com source: %+v", stake.Source)
	}
	incs := map[string]Incident{}
	for _, in := range ds.Incidents {
		incs[in.ID] = in
	}
	ronin := incs["ronin-bridge"]
	if ronin.StolenUSD != 625000000 || !ronin.StolenKnown || !ronin.Date.Equal(date("2022-04-14")) ||
		ronin.Attribution != "Lazarus/APT38 (FBI 2022-04-14; OFAC SDN LAZARUS GROUP)" {
		t.Errorf("Ronin incident: %+v", ronin)
	}
	if c8 := incs["c8"]; c8.StolenKnown {
		t.Errorf("C8 has no known amount: %+v", c8)
	}
	if yb := incs["youbit-aka-yapizon-aka-coinbin"]; yb.Year != 2017 || !yb.Date.IsZero() || yb.When() != "2017" {
		t.Errorf("year-only incident: %+v", yb)
	}
}

var cmpIgnoreAttrSource = cmpIgnoreAttr("Source")

func TestLoadDPRKErrors(t *testing.T) {
	head := "incident,incident_date,chain,address,role,source_repo,source_path,source_commit,attribution\n"
	for _, tc := range []struct{ name, data, want string }{
		{"chain", head + "X,2022-01-01,FOO,0x098b716b8aaf21512996dc57eb0615e2383e2f96,r,a/b,p,c,Lazarus\n", "f.csv:2: field chain"},
		{"address", head + "X,2022-01-01,ETH,0x098b,r,a/b,p,c,Lazarus\n", "f.csv:2: field address"},
		{"date", head + "X,2022-13-01,ETH,0x098b716b8aaf21512996dc57eb0615e2383e2f96,r,a/b,p,c,Lazarus\n", "field incident_date"},
		{"role", head + "X,2022-01-01,ETH,0x098b716b8aaf21512996dc57eb0615e2383e2f96,,a/b,p,c,Lazarus\n", "field role"},
		{"amount", "date,marker,incident,value_stolen_usd\n2020,key,X,12.5\n", "f.csv:2: field value_stolen_usd"},
		{"columns", head + "X,2022-01-01\n", "f.csv:2"},
		{"unknown", "a,b\n1,2\n", "neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDPRK([]Input{{Name: "f.csv", Data: []byte(tc.data)}}, Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadLabels(t *testing.T) {
	ds, err := LoadEtherscanLabels([]Input{readInput(t, "testdata/labels/etherscan_combinedAllLabels.json"),
		readInput(t, "testdata/labels/bscscan_combinedAllLabels.json")}, Options{Published: date("2023-10-02")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]model.Category{}
	for _, a := range ds.Attributions {
		got[a.Label] = a.Category
		if a.Confidence != ConfProvider || !a.Source.Published.Equal(date("2023-10-02")) {
			t.Errorf("provenance: %+v", a)
		}
	}
	for label, want := range map[string]model.Category{
		"Ronin Bridge Exploiter":  model.CatHack, // no slug classifies it; the name does. Never "sanctioned" from a label.
		"SushiSwap: sUSD-yCREDIT": model.CatDEX, "Tornado.Cash: TORN Token": model.CatMixer, "Lemon Bet (LBET)": model.CatGambling,
		"Binance 35": model.CatExchange, "Jointer: JNTR/e <> JNTR Bridge": model.CatBridge, "Rhino.fi: OTC": model.CatOTC,
	} {
		if got[label] != want {
			t.Errorf("%s: category %q, want %q", label, got[label], want)
		}
	}
	if ds.Skipped != 2 {
		t.Errorf("skipped %d scraper artefacts, want 2", ds.Skipped)
	}
	var bsc int
	for _, a := range ds.Attributions {
		if a.Chain == ChainBSC {
			bsc++
			if a.Source.File != "bscscan_combinedAllLabels.json" {
				t.Errorf("file: %q", a.Source.File)
			}
		}
	}
	if bsc != 2 {
		t.Errorf("%d bsc labels, want 2", bsc)
	}
	if _, err := LoadEtherscanLabels([]Input{{Name: "foo_combinedAllLabels.json", Data: []byte("{}")}}, Options{}); err == nil {
		t.Error("unknown explorer accepted")
	}
	_, err = LoadEtherscanLabels([]Input{{Name: "etherscan_combinedAllLabels.json", Data: []byte("{\n\"0x12\": {\"name\": \"x\", \"labels\": []}\n}")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "etherscan_combinedAllLabels.json:2: field address") {
		t.Errorf("bad address: %v", err)
	}
	_, err = LoadEtherscanLabels([]Input{{Name: "etherscan_combinedAllLabels.json", Data: []byte("{\n\"0x12\": [1,\n2]}")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "etherscan_combinedAllLabels.json:2") {
		t.Errorf("bad json: %v", err)
	}
}

func TestLoadForta(t *testing.T) {
	var ins []Input
	for _, f := range []string{"1/etherscan_malicious_labels.csv", "1/malicious_smart_contracts.csv", "1/phishing_scams.csv", "10/malicious_smart_contracts.csv"} {
		in := readInput(t, "testdata/forta/"+f)
		in.Name = "testdata/forta/" + f
		ins = append(ins, in)
	}
	ds, err := LoadForta(ins, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]model.Attribution{}
	for _, a := range ds.Attributions {
		got[a.Address] = a
	}
	if r := got["0x036587e77eabe6a7e181886a5a6ed10dc25654f9"]; r.Category != model.CatHack || r.Label != "Ronin Bridge Exploiter 3" || r.Source.File != "1/etherscan_malicious_labels.csv" {
		t.Errorf("Ronin exploiter 3: %+v", r)
	}
	if p := got["0x80d7bb18521acbef32d7906502ebe94928690e93"]; p.Category != model.CatScam {
		t.Errorf("phishing: %+v", p)
	}
	if w := got["0x4f3a120e72c76c22ae802d129f599bfdbc31cb81"]; w.Chain != ChainOptimism || w.Label != "Wintermute Exploiter Multisig" {
		t.Errorf("optimism contract: %+v", w)
	}
	if c := got["0x60b28637879b5a09d21b68040020ffbf7dba5107"]; c.Role != "malicious contract creator" {
		t.Errorf("contract creator: %+v", c)
	}
	_, err = LoadForta([]Input{{Name: "x.csv", Data: []byte("banned_address,wallet_tag,data_source\n0xnope,a,b\n")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "x.csv:2: field banned_address") {
		t.Errorf("bad address: %v", err)
	}
}

// TestShippedPacks loads every embedded pack and checks what the issue
// names: the Lazarus and Ronin exploiter addresses are explained.
func TestShippedPacks(t *testing.T) {
	db := shippedDB(t)
	st := db.Stats()
	if len(st.Datasets) != 8 || st.Addresses < 50000 || st.Entities < 15000 || st.Incidents != 86 {
		t.Fatalf("stats: %d datasets, %d addresses, %d entities, %d incidents", len(st.Datasets), st.Addresses, st.Entities, st.Incidents)
	}
	now := time.Now()
	as := db.Lookup(model.ChainETH, lazarusRonin, now)
	if !hasCategory(as, model.CatSanctioned, "OFAC") || !hasCategory(as, model.CatDPRK, "tayvano") {
		t.Errorf("Lazarus: %+v", as)
	}
	// A Ronin exploiter address from the incident pack and Forta.
	ex := db.Lookup(model.ChainETH, "0x5d84a732b355ada31a36b33c446e3dee28f51555", now)
	if !hasCategory(ex, model.CatHack, "Forta") || !hasCategory(ex, model.CatDPRK, "tayvano") {
		t.Errorf("Ronin exploiter 2: %+v", ex)
	}
	// Sources disagree on "Ronin Bridge Exploiter 3": Etherscan (via Forta)
	// calls it an exploiter, the incident pack an FTX deposit address. Both
	// are returned.
	ex3 := db.Lookup(model.ChainETH, "0x036587e77eabe6a7e181886a5a6ed10dc25654f9", now)
	if len(ex3) != 2 || !hasCategory(ex3, model.CatHack, "Forta") || !hasCategory(ex3, model.CatExchange, "tayvano") {
		t.Errorf("Ronin exploiter 3: %+v", ex3)
	}
	// Mixed-case input is normalized.
	if len(db.Lookup(model.ChainETH, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", now)) != len(as) {
		t.Error("lookup is case-sensitive")
	}
	if len(db.Lookup(model.ChainETH, "0x0000000000000000000000000000000000c0ffee", now)) != 0 {
		t.Error("unknown address attributed")
	}
	laz, ok := db.Entity("ofac:27307")
	if !ok || laz.Names[0].Full != "LAZARUS GROUP" {
		t.Errorf("entity: %+v", laz)
	}
	var un int
	for _, e := range db.Entities() {
		if strings.HasPrefix(e.ID, "un:") {
			un++
		}
	}
	if un != 1093 {
		t.Errorf("%d UN entries, want 1093", un)
	}
}

func FuzzLoadEtherscanLabels(f *testing.F) {
	f.Add(readInput(f, "testdata/labels/etherscan_combinedAllLabels.json").Data)
	f.Add(readInput(f, "testdata/labels/bscscan_combinedAllLabels.json").Data)
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := LoadEtherscanLabels([]Input{{Name: "etherscan_combinedAllLabels.json", Data: b}}, Options{})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		for _, a := range ds.Attributions {
			if _, ok := evmKey(a.Address); !ok || a.Chain != model.ChainETH {
				t.Fatalf("bad attribution %+v", a)
			}
		}
	})
}
