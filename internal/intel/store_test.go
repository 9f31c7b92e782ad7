package intel

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// treeDigest hashes every file name and content under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestStoreLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "intel")
	s := NewStore(dir)
	s.NoShipped = true
	ins := ofacSet(t, "sdn.csv", "alt.csv")
	res, err := s.Load(KindOFACCSV, ins, Options{Published: date("2024-05-03")})
	if err != nil || !res.Added {
		t.Fatalf("first load: %+v %v", res, err)
	}
	before := treeDigest(t, dir)
	// The same content again changes nothing.
	res2, err := s.Load(KindOFACCSV, ofacSet(t, "sdn.csv", "alt.csv"), Options{Published: date("2024-05-03")})
	if err != nil || res2.Added || res2.ID != res.ID {
		t.Fatalf("second load: %+v %v", res2, err)
	}
	if after := treeDigest(t, dir); after != before {
		t.Errorf("repeated load changed the store:\n%s\n---\n%s", before, after)
	}
	// A bad file changes nothing and says where it is bad.
	bad := []Input{{Name: "consolidated.xml", Data: []byte("<CONSOLIDATED_LIST><INDIVIDUALS>\n<INDIVIDUAL><DATAID>x</DATAID></INDIVIDUAL>")}}
	if _, err := s.Load(KindUN, bad, Options{}); err == nil || !strings.Contains(err.Error(), "consolidated.xml:2: field DATAID") {
		t.Fatalf("bad load: %v", err)
	}
	if after := treeDigest(t, dir); after != before {
		t.Errorf("failed load changed the store")
	}
	// A new dataset is added and everything survives reopening.
	if _, err := s.Load(KindUN, []Input{readInput(t, "testdata/un_consolidated_small.xml")}, Options{}); err != nil {
		t.Fatal(err)
	}
	reopened := NewStore(dir)
	reopened.NoShipped = true
	db, err := reopened.DB()
	if err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); len(st.Datasets) != 2 || st.Entities != 7+8 {
		t.Errorf("reopened: %d datasets, %d entities", len(st.Datasets), st.Entities)
	}
	as := db.Lookup(model.ChainETH, lazarusRonin, time.Now())
	if len(as) != 2 || as[0].Entity != "ofac:27307" || !as[0].Source.Published.Equal(date("2024-05-03")) {
		t.Errorf("lookup after reopen: %+v", as)
	}
	if e, ok := db.Entity("ofac:18552"); !ok || len(e.Names) != 2 {
		t.Errorf("alt.csv alias lost: %+v", e)
	}
	if _, err := s.Load("nonsense", ins, Options{}); err == nil {
		t.Error("unknown kind accepted")
	}
}

// fixtureServer serves the official files from testdata; broken names a
// file to serve truncated, status overrides a file's HTTP status.
type fixtureServer struct {
	files  map[string][]byte
	broken atomic.Value // string
	status atomic.Value // map[string]int
	hits   atomic.Int64
}

func newFixtureServer(t *testing.T) (*fixtureServer, *httptest.Server) {
	fs := &fixtureServer{files: map[string][]byte{
		"sdn.csv":          readInput(t, "testdata/ofac/sdn.csv").Data,
		"alt.csv":          readInput(t, "testdata/ofac/alt.csv").Data,
		"sdn_comments.csv": readInput(t, "testdata/ofac/sdn_comments.csv").Data,
		"SDN_ADVANCED.XML": readInput(t, "testdata/ofac/SDN_ADVANCED.XML").Data,
		"consolidated.xml": readInput(t, "testdata/un_consolidated_small.xml").Data,
	}}
	fs.broken.Store("")
	fs.status.Store(map[string]int{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.hits.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/lists/")
		if code, ok := fs.status.Load().(map[string]int)[name]; ok {
			http.Error(w, "nope", code)
			return
		}
		b, ok := fs.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if fs.broken.Load().(string) == name {
			b = b[:len(b)/2] // a download cut off in the middle, served as if whole
		}
		w.Header().Set("Last-Modified", "Wed, 02 Oct 2024 10:00:00 GMT")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return fs, srv
}

func TestUpdate(t *testing.T) {
	fsrv, srv := newFixtureServer(t)
	dir := filepath.Join(t.TempDir(), "intel")
	s := NewStore(dir)
	s.NoShipped = true
	ctx := context.Background()
	opts := UpdateOptions{BaseURL: srv.URL + "/lists", Client: srv.Client(),
		Now: func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }}
	res, err := s.Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packs) != 3 || res.Packs[0].Published != "2024-10-02" {
		t.Fatalf("packs: %+v", res.Packs)
	}
	if got := res.Packs[0].Files; strings.Join(got, ",") != "sdn.csv,alt.csv,sdn_comments.csv" {
		t.Errorf("add.csv (404) should be skipped: %v", got)
	}
	db, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, d := range db.Stats().Datasets {
		kinds[d.Kind] = true
	}
	if !kinds[KindOFACCSV] || !kinds[KindOFACAdvanced] || !kinds[KindUN] {
		t.Fatalf("datasets after update: %v", kinds)
	}
	// Tornado Cash is in the advanced file: sanctioned, listed 2022-08-08.
	if as := db.Lookup(model.ChainETH, tornadoRouter, time.Now()); !hasCategory(as, model.CatSanctioned, "OFAC") {
		t.Errorf("tornado after update: %+v", as)
	}
	good := treeDigest(t, dir)

	// A broken download (truncated XML) fails validation: current lists stay.
	fsrv.broken.Store("SDN_ADVANCED.XML")
	opts.Now = func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	if _, err := s.Update(ctx, opts); err == nil || !strings.Contains(err.Error(), "SDN_ADVANCED.XML") {
		t.Fatalf("broken download: %v", err)
	}
	if after := treeDigest(t, dir); after != good {
		t.Errorf("a failed update changed the store:\n%s\n---\n%s", good, after)
	}
	// A server error on a required file also leaves everything in place.
	fsrv.broken.Store("")
	fsrv.status.Store(map[string]int{"consolidated.xml": http.StatusInternalServerError})
	if _, err := s.Update(ctx, opts); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("server error: %v", err)
	}
	if after := treeDigest(t, dir); after != good {
		t.Errorf("a failed update changed the store")
	}
	db2, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	if db2.Stats().Records != db.Stats().Records {
		t.Errorf("records %d after failed updates, want %d", db2.Stats().Records, db.Stats().Records)
	}
	// A good update replaces the generation and removes the old one.
	fsrv.status.Store(map[string]int{})
	res3, err := s.Update(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "official"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != res3.Generation+",CURRENT" {
		t.Errorf("official dir after second update: %v", names)
	}
}

// TestUpdateReplacesShippedSlot: a refreshed sdn.csv replaces the shipped
// one; the other shipped packs stay.
func TestUpdateReplacesShippedSlot(t *testing.T) {
	_, srv := newFixtureServer(t)
	dir := filepath.Join(t.TempDir(), "intel")
	s := NewStore(dir)
	if _, err := s.Update(context.Background(), UpdateOptions{BaseURL: srv.URL + "/lists", Client: srv.Client()}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	var csv, un, total int
	for _, d := range ds {
		total++
		switch d.Kind {
		case KindOFACCSV:
			csv++
			if len(d.Entities) != 7 {
				t.Errorf("the sdn.csv in use has %d entries, want the downloaded 7", len(d.Entities))
			}
		case KindUN:
			un++
		}
	}
	if csv != 1 || un != 1 || total != 9 {
		t.Errorf("%d datasets (%d ofac-csv, %d un), want 9 (1, 1)", total, csv, un)
	}
}
