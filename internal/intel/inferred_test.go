package intel

import (
	"bytes"
	"encoding/binary"
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
	p := filepath.Join(dir, "inferred", "eth", "deposit-address.set")
	moved := filepath.Join(dir, "inferred", "bsc", "deposit-address.set")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InferredSets(); err == nil || !strings.Contains(err.Error(), moved) {
		t.Errorf("misplaced set: error = %v, want one naming %s", err, moved)
	}
	if err := os.WriteFile(moved, []byte("not a set"), 0o644); err != nil {
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
	b, err := encodeInferred(depositSet("2024-02-01", depA, depB))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(b[:len(b)-3])
	f.Add([]byte{})
	f.Add([]byte(inferredMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := decodeInferred(b)
		if err != nil {
			return
		}
		if err := set.check(); err != nil {
			t.Fatalf("accepted a set the checks refuse: %v", err)
		}
		again, err := encodeInferred(set)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeInferred(again)
		if err != nil {
			t.Fatalf("re-encoded set refused: %v", err)
		}
		if diff := cmp.Diff(set, back); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeEvidence feeds one evidence record, seeded from real records,
// to its decoder: it must refuse it or return evidence that encodes and
// decodes again to evidence equal to itself.
func FuzzDecodeEvidence(f *testing.F) {
	for _, x := range depositSet("2024-02-01", depA, depB, listed).Inferences {
		b, err := encodeEvidence(nil, &x.Evidence)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvidence(b)
		if err != nil {
			return
		}
		if len(ev.Txs) > MaxEvidenceTxs {
			t.Fatalf("accepted %d txs", len(ev.Txs))
		}
		again, err := encodeEvidence(nil, &ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeEvidence(again)
		if err != nil {
			t.Fatalf("re-encoded evidence refused: %v", err)
		}
		if diff := cmp.Diff(ev, back); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// variedSet is a deposit set whose evidence differs in every field from
// address to address, including none at all, no transactions and times with
// a zone.
func variedSet(computed string) *InferredSet {
	set := depositSet(computed, depA, depB, listed)
	fourth := set.Inferences[1]
	fourth.Attribution.Address, fourth.Evidence.Txs = hotW, []string{"0xdd"}
	set.Inferences = append(set.Inferences, fourth)
	zone := time.FixedZone("UTC+9", 9*3600)
	set.Inferences[0].Evidence = Evidence{}
	set.Inferences[1].Evidence.Txs = nil
	set.Inferences[2].Evidence = Evidence{Target: depA, Sweeps: 7, Senders: 3, Txs: []string{"0x01", "0x02", "0x03", "0x04", "0x05"},
		FirstSweep: time.Date(2024, 1, 2, 3, 4, 5, 6, zone), LastSweep: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	set.Inferences[3].Evidence.Senders = 0
	return set
}

// A store's DB reads every inferred address's evidence from the stored
// file, exactly as it was saved, through Evidence and Explain; it keeps
// none of it in memory.
func TestInferredEvidenceFromFile(t *testing.T) {
	st := NewStore(t.TempDir())
	st.NoShipped = true
	set := variedSet("2024-02-01")
	if err := st.SaveInferred(set); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	if len(db.evTables) != 1 {
		t.Fatalf("%d evidence tables, want 1", len(db.evTables))
	}
	if _, ok := db.evTables[0].(*evidenceFile); !ok {
		t.Fatalf("evidence table is %T, want it read from the file", db.evTables[0])
	}
	asOf := day0("2024-03-01")
	for _, x := range set.Inferences {
		a := x.Attribution
		got := db.Lookup(a.Chain, a.Address, asOf)
		if len(got) != 1 {
			t.Fatalf("Lookup(%s) = %+v", a.Address, got)
		}
		ev, ok := db.Evidence(&got[0])
		if !ok {
			t.Errorf("Evidence(%s): none", a.Address)
		} else if diff := cmp.Diff(x.Evidence, ev); diff != "" {
			t.Errorf("Evidence(%s) (-saved +read):\n%s", a.Address, diff)
		}
		cls := db.Explain(a.Chain, a.Address, asOf)
		if len(cls) != 1 || cls[0].Evidence == nil {
			t.Fatalf("Explain(%s) = %+v, want one claim with evidence", a.Address, cls)
		}
		if diff := cmp.Diff(x.Evidence, *cls[0].Evidence); diff != "" {
			t.Errorf("Explain(%s) evidence (-saved +read):\n%s", a.Address, diff)
		}
		// Asked with another source name, or as upper-case input, the
		// same rules as before apply.
		other := got[0]
		other.Source.Name = "heuristic:deposit-collector"
		if _, ok := db.Evidence(&other); ok {
			t.Errorf("Evidence(%s, another source) found some", a.Address)
		}
	}
	if _, ok := db.Evidence(&model.Attribution{Chain: "eth", Address: "0x00000000000000000000000000000000000000ff", Source: model.Source{Name: "heuristic:deposit-address"}}); ok {
		t.Error("Evidence of an unattributed address found some")
	}
	// In-memory sets (Build of set.Dataset()) answer the same.
	mem := Build([]*Dataset{set.Dataset(), set.Dataset()})
	for _, x := range set.Inferences {
		a := x.Attribution
		cls := mem.Explain(a.Chain, a.Address, asOf)
		if len(cls) != 1 || cls[0].Evidence == nil {
			t.Fatalf("in memory, loaded twice: Explain(%s) = %+v, want one claim with evidence", a.Address, cls)
		}
		if diff := cmp.Diff(x.Evidence, *cls[0].Evidence); diff != "" {
			t.Errorf("in memory: Explain(%s) evidence (-saved +read):\n%s", a.Address, diff)
		}
	}
}

// A DB goes on reading the evidence of the set it was built from after a
// new set replaces it in the store; a new DB reads the new one.
func TestInferredEvidenceAfterReplace(t *testing.T) {
	st := NewStore(t.TempDir())
	st.NoShipped = true
	if err := st.SaveInferred(depositSet("2024-02-01", depA, depB)); err != nil {
		t.Fatal(err)
	}
	old, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	next := depositSet("2024-02-02", depB, depA) // depB first now: other row, other evidence
	if err := st.SaveInferred(next); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	a := model.Attribution{Chain: "eth", Address: depB, Source: model.Source{Name: "heuristic:deposit-address"}}
	if ev, ok := old.Evidence(&a); !ok || ev.Sweeps != 2 || len(ev.Txs) != 2 {
		t.Errorf("old DB: Evidence(depB) = %+v, %v; want the first set's (2 sweeps)", ev, ok)
	}
	if ev, ok := db.Evidence(&a); !ok || ev.Sweeps != 1 || len(ev.Txs) != 1 {
		t.Errorf("new DB: Evidence(depB) = %+v, %v; want the second set's (1 sweep)", ev, ok)
	}
}

// A stored set whose evidence is damaged anywhere is an error naming the
// file, found when the DB is opened, not an address without evidence.
func TestInferredEvidenceCorrupt(t *testing.T) {
	good, err := encodeInferred(variedSet("2024-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	hlen := int(binary.LittleEndian.Uint64(good[8:16]))
	index := inferredPreamble + hlen
	records := index + 8*5
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		msg  string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "evidence"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, "after their end"},
		{"index out of order", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[index+16:], 1<<40); return b }, "evidence index"},
		{"six transactions", func(b []byte) []byte {
			// record 2 has five: sweeps, senders, target (1+42 bytes), then the count
			off := records + int(binary.LittleEndian.Uint64(b[index+16:]))
			b[off+2+1+42] = 6
			return b
		}, "6 transactions, at most 5"},
		{"non-canonical address in the head", func([]byte) []byte {
			set := variedSet("2024-02-01")
			set.Inferences[3].Attribution.Address = strings.ToUpper(hotW)
			b, err := encodeInferred(set)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "attribution 3: address \"0X00000000000000000000000000000000000000E0\" is not canonical"},
		{"negative sweeps", func(b []byte) []byte { b[records] = 1; return b }, "attribution 0: evidence sweeps -1"}, // record 0 is empty: sweeps 0 (zig-zag 0) becomes -1
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, "magic"},
		{"count one more", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 5); return b }, "evidence 0: "},
		{"count too big", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 1<<40); return b }, "fit a file"},
		{"evidence in the head", func(b []byte) []byte {
			head := *variedSet("2024-02-01") // the set with its inferences as one gob value
			var hb bytes.Buffer
			if err := gob.NewEncoder(&hb).Encode(&head); err != nil {
				t.Fatal(err)
			}
			out := append([]byte(inferredMagic), make([]byte, 16)...)
			binary.LittleEndian.PutUint64(out[8:], uint64(hb.Len()))
			binary.LittleEndian.PutUint64(out[16:], 4)
			return append(append(out, hb.Bytes()...), b[index:]...)
		}, "carries 4 inferences"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := NewStore(dir)
			st.NoShipped = true
			p := filepath.Join(dir, "inferred", "eth", "deposit-address.set")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c.edit(append([]byte(nil), good...)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := st.DB()
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("DB() error = %v, want one naming %s and %q", err, p, c.msg)
			}
			if _, err := st.InferredSets(); err == nil {
				t.Error("InferredSets() accepted it")
			}
		})
	}
}

// A set file overwritten in place (cp over it, a restored backup: the same
// file, not a save's rename) while a DB reads it does not hand out the new
// file's evidence as the old attributions': the DB reports the change.
func TestInferredEvidenceFileChangedInPlace(t *testing.T) {
	dir := t.TempDir()
	st := NewStore(dir)
	st.NoShipped = true
	if err := st.SaveInferred(depositSet("2024-02-01", depA, depB)); err != nil {
		t.Fatal(err)
	}
	db, err := st.DB()
	if err != nil {
		t.Fatal(err)
	}
	a := model.Attribution{Chain: "eth", Address: depB, Source: model.Source{Name: "heuristic:deposit-address"}}
	if ev, ok, err := db.ReadEvidence(&a); err != nil || !ok || ev.Sweeps != 2 {
		t.Fatalf("before: ReadEvidence(depB) = %+v, %v, %v; want 2 sweeps", ev, ok, err)
	}
	p := filepath.Join(dir, "inferred", "eth", "deposit-address.set")
	old, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	swapped := depositSet("2024-02-01", depA, depB) // the same attributions, depB's row holding depA's evidence
	swapped.Inferences[0].Evidence, swapped.Inferences[1].Evidence = swapped.Inferences[1].Evidence, swapped.Inferences[0].Evidence
	next, err := encodeInferred(swapped)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != len(old) {
		t.Fatalf("the two encodings differ in size (%d, %d): the test wants them equal", len(next), len(old))
	}
	time.Sleep(10 * time.Millisecond) // a new modification time on coarse clocks
	if err := os.WriteFile(p, next, 0o644); err != nil {
		t.Fatal(err)
	}
	ev, ok, err := db.ReadEvidence(&a)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "changed") {
		t.Errorf("after an in-place overwrite: ReadEvidence(depB) = %+v, %v, %v; want an error naming %s and the change", ev, ok, err, p)
	}
	if ev, ok := db.Evidence(&a); ok {
		t.Errorf("after an in-place overwrite: Evidence(depB) = %+v, want none", ev)
	}
	cls := db.Explain("eth", depB, day0("2024-03-01"))
	if len(cls) != 1 || cls[0].Evidence != nil || !strings.Contains(cls[0].EvidenceError, "changed") {
		t.Errorf("after an in-place overwrite: Explain(depB) = %+v, want no evidence and the error", cls)
	}
	if j := cls[0].JSON(); j.EvidenceError == "" {
		t.Error("the claim's JSON form leaves the evidence error out")
	}
}

// The same inferred claim loaded first as a listed dataset (an exported
// set loaded back with the very same source) and then with its set: the DB
// keeps one claim, and it keeps the set's evidence.
func TestInferredEvidenceOfDuplicateClaim(t *testing.T) {
	set := variedSet("2024-02-01")
	cp := &Dataset{Kind: "tagpack", Source: set.Dataset().Source}
	for _, x := range set.Inferences {
		cp.Attributions = append(cp.Attributions, x.Attribution)
	}
	db := Build([]*Dataset{cp, set.Dataset()})
	for _, x := range set.Inferences {
		a := x.Attribution
		cls := db.Explain(a.Chain, a.Address, day0("2024-03-01"))
		if len(cls) != 1 {
			t.Fatalf("Explain(%s): %d claims, want the one claim", a.Address, len(cls))
		}
		if cls[0].Evidence == nil {
			t.Errorf("Explain(%s): no evidence, want the set's", a.Address)
		} else if diff := cmp.Diff(x.Evidence, *cls[0].Evidence); diff != "" {
			t.Errorf("Explain(%s) evidence (-saved +got):\n%s", a.Address, diff)
		}
		if _, ok := db.Evidence(&a); !ok {
			t.Errorf("Evidence(%s): none, want the set's", a.Address)
		}
	}
}

// WithoutInferred leaves the inferred claims out of a *DB's answers
// (ListedOnly) and out of any other attributor's (a filter).
func TestWithoutInferred(t *testing.T) {
	src := model.Source{Name: "test labels"}
	labels := &Dataset{Kind: "test", Source: src, Attributions: []model.Attribution{
		{Chain: "eth", Address: listed, Category: model.CatHack, Source: src, Confidence: 90}}}
	db := Build([]*Dataset{labels, depositSet("2024-02-01", depA, listed).Dataset()})
	asOf := day0("2024-03-01")
	if got := db.Lookup("eth", depA, asOf); len(got) != 1 || !IsInferred(&got[0]) {
		t.Fatalf("Lookup(depA) = %+v, want the inferred claim", got)
	}
	type composed struct{ Attributor } // not a *DB
	for name, a := range map[string]Attributor{"db": db, "composed": composed{db}} {
		w := WithoutInferred(a)
		if got := w.Lookup("eth", depA, asOf); len(got) != 0 {
			t.Errorf("%s: Lookup(depA) = %+v, want none", name, got)
		}
		if got := w.Lookup("eth", listed, asOf); len(got) != 1 || IsInferred(&got[0]) || got[0].Source != src {
			t.Errorf("%s: Lookup(listed) = %+v, want the listed claim only", name, got)
		}
	}
}
