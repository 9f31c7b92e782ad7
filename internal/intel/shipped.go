package intel

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"runtime"
	"sync"
	"time"

	"github.com/redthread/redthread/packs"
)

// PackManifest lists packs: which files which loader reads, with what the
// files cannot say about themselves.
type PackManifest struct {
	Packs []PackEntry `json:"packs"`
}

// PackEntry is one pack of a manifest.
type PackEntry struct {
	Slot      string   `json:"slot"` // e.g. "ofac-sdn-csv"; an update replaces the shipped pack of the same slot
	Kind      string   `json:"kind"`
	Files     []string `json:"files"`
	Published string   `json:"published,omitempty"` // YYYY-MM-DD
	URL       string   `json:"url,omitempty"`
}

// loadManifest reads and loads every pack of a manifest from fsys.
func loadManifest(fsys fs.FS, prefix string) ([]*Dataset, []PackEntry, error) {
	b, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, nil, fmt.Errorf("read pack manifest: %w", err)
	}
	var m PackManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("parse pack manifest %smanifest.json: %w", prefix, err)
	}
	out, err := loadPacks(fsys, prefix, m.Packs)
	if err != nil {
		return nil, nil, err
	}
	return out, m.Packs, nil
}

// loadPacks parses packs concurrently (they are independent) and returns
// them in manifest order; the first error in that order wins.
func loadPacks(fsys fs.FS, prefix string, entries []PackEntry) ([]*Dataset, error) {
	out := make([]*Dataset, len(entries))
	errs := make([]error, len(entries))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, p := range entries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = loadPack(fsys, prefix, p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadPack(fsys fs.FS, prefix string, p PackEntry) (*Dataset, error) {
	var o Options
	if p.Published != "" {
		t, err := time.Parse(time.DateOnly, p.Published)
		if err != nil {
			return nil, fmt.Errorf("pack %s: bad published date %q", p.Slot, p.Published)
		}
		o.Published = t
	}
	o.URL = p.URL
	var ins []Input
	for _, f := range p.Files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", p.Slot, err)
		}
		ins = append(ins, Input{Name: prefix + f, Data: b})
	}
	ds, err := LoadKind(p.Kind, ins, o)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", p.Slot, err)
	}
	return ds, nil
}

// ShippedPacks returns the manifest of the packs embedded in the binary.
func ShippedPacks() ([]PackEntry, error) {
	b, err := fs.ReadFile(packs.FS, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("read pack manifest: %w", err)
	}
	var m PackManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse pack manifest: %w", err)
	}
	return m.Packs, nil
}

// LoadShipped parses every pack embedded in the binary.
func LoadShipped() ([]*Dataset, error) {
	ds, _, err := loadManifest(packsFS(), "packs/")
	return ds, err
}

// shippedCache keeps the parsed embedded packs for the life of the process:
// they never change, datasets are not modified after loading, and a server
// or test that opens the store again need not parse them again.
var shippedCache struct {
	once    sync.Once
	entries []PackEntry
	ds      []*Dataset
	err     error
}

func shippedDatasets() ([]PackEntry, []*Dataset, error) {
	shippedCache.once.Do(func() {
		shippedCache.ds, shippedCache.entries, shippedCache.err = loadManifest(packsFS(), "packs/")
	})
	return shippedCache.entries, shippedCache.ds, shippedCache.err
}

func packsFS() fs.FS { return packs.FS }

// LoadKind runs the loader of a dataset kind over its input files.
func LoadKind(kind string, ins []Input, o Options) (*Dataset, error) {
	one := func(f func(Input, Options) (*Dataset, error)) (*Dataset, error) {
		if len(ins) != 1 {
			return nil, fmt.Errorf("%s takes exactly one file, got %d", kind, len(ins))
		}
		return f(ins[0], o)
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("%s: no input files", kind)
	}
	switch kind {
	case KindUN:
		return one(LoadUN)
	case KindOFACCSV:
		return LoadOFACCSV(ins, o)
	case KindOFACAdvanced:
		return one(LoadOFACAdvanced)
	case KindOFACAddresses:
		return LoadOFACAddresses(ins, o)
	case KindOFACETHCSV:
		return one(LoadOFACETHCSV)
	case KindDPRK:
		return LoadDPRK(ins, o)
	case KindEtherscanLabels:
		return LoadEtherscanLabels(ins, o)
	case KindForta:
		return LoadForta(ins, o)
	case KindTagPack:
		return one(LoadTagPack)
	case KindDelistings:
		return one(LoadDelistings)
	}
	return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, kind, Kinds)
}
