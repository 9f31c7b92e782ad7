package intel

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// Store is the intel directory (dataDir/intel): datasets loaded by the
// user and official lists refreshed by Update. The packs shipped in the
// binary sit beneath both; a refreshed official list replaces the shipped
// pack of the same slot.
//
// Layout:
//
//	manifest.json            loaded datasets, in load order
//	datasets/<id>.gob        one normalized Dataset each (id: content hash)
//	official/CURRENT         name of the current official generation
//	official/<generation>/   downloaded files and their manifest.json
//
// Every change is written to a temporary file or directory and renamed into
// place, so a failed or interrupted load or update leaves the store as it was.
type Store struct {
	dir string
	// NoShipped leaves the embedded packs out of Datasets and DB.
	NoShipped bool
	// NoInferred leaves the stored inferred sets (SaveInferred) out of DB.
	NoInferred bool
}

// NewStore returns the store in dir; nothing is created until a load.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Open builds the DB of the store in dir: shipped packs, refreshed official
// lists and loaded datasets.
func Open(dir string) (*DB, error) { return NewStore(dir).DB() }

type storeManifest struct {
	Datasets []StoreEntry `json:"datasets"`
}

// StoreEntry describes one dataset loaded into a Store.
type StoreEntry struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Files    []string  `json:"files"`
	LoadedAt time.Time `json:"loaded_at"`
}

// LoadResult says what a load did.
type LoadResult struct {
	ID      string
	Added   bool // false: the same content was already loaded; nothing changed
	Dataset *Dataset
}

// Load parses files with the loader of kind and, if they parse, adds the
// dataset to the store. Loading the same content again changes nothing.
func (s *Store) Load(kind string, ins []Input, o Options) (LoadResult, error) {
	ds, err := LoadKind(kind, ins, o)
	if err != nil {
		return LoadResult{}, err
	}
	id := datasetID(kind, ins, o)
	unlock, err := s.lock()
	if err != nil {
		return LoadResult{}, err
	}
	defer unlock()
	m, err := s.manifest()
	if err != nil {
		return LoadResult{}, err
	}
	for _, e := range m.Datasets {
		if e.ID == id {
			return LoadResult{ID: id, Added: false, Dataset: ds}, nil
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ds); err != nil {
		return LoadResult{}, fmt.Errorf("encode dataset: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(s.dir, "datasets", id+".gob"), buf.Bytes()); err != nil {
		return LoadResult{}, err
	}
	var names []string
	for _, in := range ins {
		names = append(names, filepath.Base(in.Name))
	}
	m.Datasets = append(m.Datasets, StoreEntry{ID: id, Kind: kind, Files: names, LoadedAt: time.Now().UTC()})
	b, _ := json.MarshalIndent(m, "", " ")
	if err := writeFileAtomic(filepath.Join(s.dir, "manifest.json"), b); err != nil {
		return LoadResult{}, err
	}
	return LoadResult{ID: id, Added: true, Dataset: ds}, nil
}

func datasetID(kind string, ins []Input, o Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00", kind, o.Published.UTC().Format(time.RFC3339Nano), o.URL, o.Name, o.License)
	for _, in := range ins {
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(in.Name), len(in.Data))
		h.Write(in.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (s *Store) manifest() (storeManifest, error) {
	var m storeManifest
	b, err := os.ReadFile(filepath.Join(s.dir, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read intel manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parse intel manifest %s: %w", filepath.Join(s.dir, "manifest.json"), err)
	}
	return m, nil
}

// Loaded returns the datasets loaded into the store by the user.
func (s *Store) Loaded() ([]*Dataset, error) {
	m, err := s.manifest()
	if err != nil {
		return nil, err
	}
	var out []*Dataset
	for _, e := range m.Datasets {
		b, err := os.ReadFile(filepath.Join(s.dir, "datasets", e.ID+".gob"))
		if err != nil {
			return nil, fmt.Errorf("read dataset %s: %w", e.ID, err)
		}
		var ds Dataset
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ds); err != nil {
			return nil, fmt.Errorf("decode dataset %s: %w", e.ID, err)
		}
		out = append(out, &ds)
	}
	return out, nil
}

// Datasets returns everything the DB is built from: shipped packs (unless
// an official refresh replaced their slot), official refreshes, then the
// user's datasets.
func (s *Store) Datasets() ([]*Dataset, error) {
	var out []*Dataset
	official, slots, err := s.official()
	if err != nil {
		return nil, err
	}
	if !s.NoShipped {
		entries, ds, err := shippedDatasets()
		if err != nil {
			return nil, err
		}
		for i, p := range entries {
			if !slots[p.Slot] {
				out = append(out, ds[i])
			}
		}
	}
	out = append(out, official...)
	loaded, err := s.Loaded()
	if err != nil {
		return nil, err
	}
	return append(out, loaded...), nil
}

// DB builds the index of everything in the store: the datasets and,
// unless NoInferred, the inferred sets.
func (s *Store) DB() (*DB, error) {
	ds, err := s.Datasets()
	if err != nil {
		return nil, err
	}
	if s.NoInferred {
		return Build(ds), nil
	}
	inf, err := s.inferredDatasets()
	if err != nil {
		return nil, err
	}
	db, err := build(append(ds, inf...))
	if err != nil {
		closeInferred(inf)
		return nil, err
	}
	return db, nil
}

// official loads the current generation of refreshed official lists.
func (s *Store) official() ([]*Dataset, map[string]bool, error) {
	slots := map[string]bool{}
	gen, err := s.currentGeneration()
	if err != nil || gen == "" {
		return nil, slots, err
	}
	dir := filepath.Join(s.dir, "official", gen)
	ds, entries, err := loadManifest(os.DirFS(dir), filepath.ToSlash(dir)+"/")
	if err != nil {
		return nil, nil, fmt.Errorf("load official lists: %w", err)
	}
	for _, e := range entries {
		slots[e.Slot] = true
	}
	return ds, slots, nil
}

func (s *Store) currentGeneration() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "official", "CURRENT"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read official/CURRENT: %w", err)
	}
	gen := string(bytes.TrimSpace(b))
	if gen == "" || gen != path.Base(gen) || gen == "." || gen == ".." {
		return "", fmt.Errorf("official/CURRENT names no generation: %q", gen)
	}
	return gen, nil
}

// writeFileAtomic writes data to path through a synced temporary file and a
// rename, creating the directory if needed.
func writeFileAtomic(p string, data []byte) error {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("rename into %s: %w", p, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Entries lists the datasets loaded into the store, oldest first.
func (s *Store) Entries() ([]StoreEntry, error) {
	m, err := s.manifest()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(m.Datasets, func(i, j int) bool { return m.Datasets[i].LoadedAt.Before(m.Datasets[j].LoadedAt) })
	return m.Datasets, nil
}
