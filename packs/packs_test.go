package packs

import (
	"encoding/json"
	"io/fs"
	"path"
	"testing"
)

// TestManifest: every file the manifest names is embedded, and every pack
// directory has a SOURCE.md naming its origin and license.
func TestManifest(t *testing.T) {
	b, err := fs.ReadFile(FS, "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Packs []struct {
			Slot  string   `json:"slot"`
			Kind  string   `json:"kind"`
			Files []string `json:"files"`
		} `json:"packs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Packs) == 0 {
		t.Fatal("no packs")
	}
	for _, p := range m.Packs {
		if p.Slot == "" || p.Kind == "" || len(p.Files) == 0 {
			t.Errorf("incomplete pack entry %+v", p)
		}
		dirs := map[string]bool{}
		for _, f := range p.Files {
			if _, err := fs.Stat(FS, f); err != nil {
				t.Errorf("pack %s: %v", p.Slot, err)
			}
			dirs[path.Dir(f)] = true
		}
		for d := range dirs {
			found := false
			for dd := d; dd != "." && !found; dd = path.Dir(dd) {
				_, err := fs.Stat(FS, path.Join(dd, "SOURCE.md"))
				found = err == nil
			}
			if !found {
				t.Errorf("pack %s: no SOURCE.md for %s", p.Slot, d)
			}
		}
	}
}
