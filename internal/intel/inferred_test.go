package intel

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
)

const (
	depA   = "0x00000000000000000000000000000000000000a1"
	depB   = "0x00000000000000000000000000000000000000b2"
	hotW   = "0x00000000000000000000000000000000000000e0"
	listed = "0x00000000000000000000000000000000000000c3"
)

func day0(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// depositSet is an inferred set as the deposit-address command makes it.
func depositSet(computed string, addrs ...string) *InferredSet {
	set := &InferredSet{Method: "deposit-address", Chain: "eth", Computed: day0(computed), Head: 100, Transfers: 1000, Params: "max-delay=24h"}
	for i, a := range addrs {
		set.Inferences = append(set.Inferences, Inference{
			Attribution: model.Attribution{Chain: "eth", Address: a, Entity: "exchange:Kumbit", Label: "deposit address of exchange:Kumbit",
				Category: model.CatExchange, Role: "deposit address", Source: model.Source{Name: "heuristic:deposit-address"},
				Confidence: model.Confidence(50 + 10*i), ValidFrom: day0("2024-01-02")},
			Evidence: Evidence{Target: hotW, Sweeps: 1 + i, Senders: 1, Txs: []string{"0xaa", "0xbb", "0xcc"}[:1+i],
				FirstSweep: day0("2024-01-02"), LastSweep: day0("2024-01-03")},
		})
	}
	return set
}

func TestInferredStore(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	st.NoShipped = true
	// A listed claim on one address the inference also names (as after a
	// label set was loaded later than the inference ran).
	in := Input{Name: "labels.csv", Data: []byte("address,name\n" + listed + ",Some Service\n")}
	if _, err := st.Load(KindOFACETHCSV, []Input{in}, Options{Published: day0("2024-01-01")}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveInferred(depositSet("2024-02-01", depA, depB, listed)); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	asOf := day0("2024-03-01")

	// An inferred claim alone is returned, with its evidence.
	got := db.Lookup("eth", depB, asOf)
	if len(got) != 1 || got[0].Source.Name != "heuristic:deposit-address" || got[0].Confidence != 60 || !IsInferred(&got[0]) {
		t.Fatalf("Lookup(depB) = %+v, want the inferred claim at confidence 60", got)
	}
	ev, ok := db.Evidence(&got[0])
	if want := (Evidence{Target: hotW, Sweeps: 2, Senders: 1, Txs: []string{"0xaa", "0xbb"}, FirstSweep: day0("2024-01-02"), LastSweep: day0("2024-01-03")}); !ok || !cmp.Equal(ev, want) {
		t.Errorf("Evidence(depB) = %+v, %v; want %+v", ev, ok, want)
	}
	// Before its validity it is not.
	if got := db.Lookup("eth", depB, day0("2024-01-01")); len(got) != 0 {
		t.Errorf("Lookup(depB) before ValidFrom = %+v, want none", got)
	}
	// A listed claim outranks the inference: Lookup leaves it out, Explain
	// shows it superseded.
	got = db.Lookup("eth", listed, asOf)
	if len(got) != 1 || IsInferred(&got[0]) || got[0].Category != model.CatSanctioned {
		t.Errorf("Lookup(listed) = %+v, want only the listed claim", got)
	}
	var statuses []string
	for _, c := range db.Explain("eth", listed, asOf) {
		statuses = append(statuses, c.Source.Name+"="+c.Status)
		if c.Inferred != IsInferred(&c.Attribution) || c.Inferred && c.Evidence == nil {
			t.Errorf("Explain claim %+v: Inferred/Evidence wrong", c)
		}
	}
	if want := []string{"heuristic:deposit-address=superseded", "OFAC SDN Ethereum addresses (ultrasoundmoney extraction of SDN_ENHANCED.XML)=active"}; !sameSet(statuses, want) {
		t.Errorf("Explain(listed) statuses = %v, want %v", statuses, want)
	}
	// LookupListed and ListedOnly leave every inference out.
	if got := db.LookupListed("eth", depB, asOf); len(got) != 0 {
		t.Errorf("LookupListed(depB) = %+v, want none", got)
	}
	if got := (ListedOnly{db}).Lookup("eth", listed, asOf); len(got) != 1 {
		t.Errorf("ListedOnly.Lookup(listed) = %+v, want the listed claim", got)
	}
	if info, ok := db.HasInferred("eth", "deposit-address"); !ok || info.Attributions != 3 || info.Head != 100 {
		t.Errorf("HasInferred = %+v, %v", info, ok)
	}

	// Saving again replaces the whole set: depA is gone, depB stays.
	if err := st.SaveInferred(depositSet("2024-02-02", depB)); err != nil {
		t.Fatal(err)
	}
	// A bad set is refused and changes nothing.
	bad := depositSet("2024-02-03", depA)
	bad.Inferences[0].Attribution.Source.Name = "my labels"
	if err := st.SaveInferred(bad); err == nil || !strings.Contains(err.Error(), `does not start with "heuristic:"`) {
		t.Errorf("SaveInferred(listed source) error = %v", err)
	}
	bad = depositSet("2024-02-03", strings.ToUpper(depA[2:]))
	if err := st.SaveInferred(bad); err == nil || !strings.Contains(err.Error(), "not canonical") {
		t.Errorf("SaveInferred(non-canonical address) error = %v", err)
	}
	// An inference without a confidence or a validity is refused too.
	for _, c := range []struct {
		edit func(*model.Attribution)
		msg  string
	}{
		{func(a *model.Attribution) { a.Confidence = 0 }, "confidence 0, want 1-100"},
		{func(a *model.Attribution) { a.Confidence = 101 }, "confidence 101, want 1-100"},
		{func(a *model.Attribution) { a.ValidFrom = time.Time{} }, "no valid_from"},
		{func(a *model.Attribution) { a.ValidTo = a.ValidFrom }, "valid_to 2024-01-02T00:00:00Z is not after valid_from"},
	} {
		bad = depositSet("2024-02-03", depA)
		c.edit(&bad.Inferences[0].Attribution)
		if err := st.SaveInferred(bad); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("SaveInferred: error = %v, want %q", err, c.msg)
		}
	}
	db, err = st.DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup("eth", depA, asOf); len(got) != 0 {
		t.Errorf("after replacing: Lookup(depA) = %+v, want none", got)
	}
	if got := db.Lookup("eth", depB, asOf); len(got) != 1 || got[0].Confidence != 50 {
		t.Errorf("after replacing: Lookup(depB) = %+v, want the new claim (confidence 50)", got)
	}
	if info, _ := db.HasInferred("eth", "deposit-address"); !info.Computed.Equal(day0("2024-02-02")) {
		t.Errorf("after replacing: computed %s, want 2024-02-02", info.Computed)
	}
	// NoInferred leaves them out; RemoveInferred deletes them.
	st.NoInferred = true
	if db, err = st.DB(); err != nil || len(db.Lookup("eth", depB, asOf)) != 0 {
		t.Errorf("NoInferred: Lookup(depB) = %+v, %v; want none", db.Lookup("eth", depB, asOf), err)
	}
	st.NoInferred = false
	if ok, err := st.RemoveInferred("eth", "deposit-address"); !ok || err != nil {
		t.Fatalf("RemoveInferred = %v, %v", ok, err)
	}
	if ok, err := st.RemoveInferred("eth", "deposit-address"); ok || err != nil {
		t.Errorf("RemoveInferred again = %v, %v; want false, nil", ok, err)
	}
	if sets, err := st.InferredSets(); len(sets) != 0 || err != nil {
		t.Errorf("InferredSets after removal = %d, %v", len(sets), err)
	}
}

// A corrupt or misplaced set file is an error naming the file, not an
// empty set.
func TestInferredStoreCorrupt(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	if err := st.SaveInferred(depositSet("2024-02-01", depA)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "inferred", "eth", "deposit-address.gob")
	moved := filepath.Join(dir, "inferred", "bsc", "deposit-address.gob")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InferredSets(); err == nil || !strings.Contains(err.Error(), moved) {
		t.Errorf("misplaced set: error = %v, want one naming %s", err, moved)
	}
	if err := os.WriteFile(moved, []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB(); err == nil || !strings.Contains(err.Error(), moved) {
		t.Errorf("corrupt set: error = %v, want one naming %s", err, moved)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// Exported to a TagPack, an inferred attribution is a GraphSense
// "heuristic" tag whatever its value; loaded back it is inferred again
// (its source name says so) and still outranked by listed claims.
func TestInferredTagPackRoundTrip(t *testing.T) {
	set := depositSet("2024-02-01", depA, depB)
	var attrs []model.Attribution
	for _, x := range set.Inferences {
		attrs = append(attrs, x.Attribution)
	}
	b, err := ExportTagPack("t", "c", "d", attrs).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "confidence: heuristic"); n != 2 {
		t.Errorf("%d tags with confidence heuristic, want 2:\n%s", n, b)
	}
	ds, err := LoadTagPack(Input{Name: "export.yaml", Data: b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := Build([]*Dataset{ds})
	got := db.Explain("eth", depB, day0("2024-03-01"))
	if len(got) != 1 || !got[0].Inferred || got[0].Confidence != 60 || got[0].Source.Name != "heuristic:deposit-address" {
		t.Errorf("round trip: %+v", got)
	}
}

// FuzzDecodeInferred feeds stored-set bytes, seeded from a real encoding, to
// the reader: it must refuse or return a set that passes the store's checks
// and encodes again to a set equal to itself.
func FuzzDecodeInferred(f *testing.F) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(depositSet("2024-02-01", depA, depB)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := decodeInferred(b)
		if err != nil {
			return
		}
		if err := set.check(); err != nil {
			t.Fatalf("accepted a set the checks refuse: %v", err)
		}
		var again bytes.Buffer
		if err := gob.NewEncoder(&again).Encode(set); err != nil {
			t.Fatal(err)
		}
		back, err := decodeInferred(again.Bytes())
		if err != nil {
			t.Fatalf("re-encoded set refused: %v", err)
		}
		if diff := cmp.Diff(set, back); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
