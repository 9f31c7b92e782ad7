package redthread

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/redthread/redthread/"

// allowed lists, for each package directory (or prefix ending in "/"), the
// internal packages its production code may import. Directories not listed
// may import anything internal except internal/cli (checked below).
var allowed = map[string][]string{
	"internal/model":     {},
	"internal/progress":  {},
	"internal/store":     {"internal/model"},
	"internal/chain/":    {"internal/model", "internal/chain/"},
	"internal/importer":  {"internal/model", "internal/progress"},
	"internal/ingest":    {"internal/model", "internal/store", "internal/chain/", "internal/progress"},
	"internal/intel":     {"internal/model", "packs"},
	"internal/synth":     {"internal/model", "internal/store", "internal/progress"},
	"internal/screen":    {"internal/model", "internal/intel"},
	"internal/graph":     {"internal/model"},
	"internal/trace":     {"internal/model", "internal/graph"},
	"internal/exposure":  {"internal/model", "internal/graph"},
	"internal/convert":   {"internal/model"},
	"internal/cluster":   {"internal/model", "internal/trace"},
	"internal/traceeval": {"internal/model", "internal/graph", "internal/trace", "internal/synth", "internal/importer", "internal/intel"},
	"internal/api":       {"internal/model", "internal/store", "internal/graph", "internal/trace", "internal/exposure", "internal/intel", "internal/screen"},
}

// noHTTP lists engines that must not know HTTP.
var noHTTP = []string{"internal/model", "internal/store", "internal/synth", "internal/screen", "internal/progress",
	"internal/graph", "internal/trace", "internal/exposure", "internal/traceeval", "internal/convert", "internal/cluster"}

func rule(dir string) ([]string, bool) {
	if a, ok := allowed[dir]; ok {
		return a, true
	}
	for k, a := range allowed {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(dir, k) {
			return a, true
		}
	}
	return nil, false
}

func permitted(imp string, list []string) bool {
	for _, a := range list {
		if imp == a || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a) {
			return true
		}
	}
	return false
}

// TestLayers enforces the import directions written in doc.go.
func TestLayers(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		list, ruled := rule(dir)
		for _, is := range f.Imports {
			imp, _ := strconv.Unquote(is.Path.Value)
			if imp == "net/http" {
				for _, e := range noHTTP {
					if dir == e {
						t.Errorf("%s imports net/http: engines know nothing of HTTP", path)
					}
				}
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			rel := strings.TrimPrefix(imp, module)
			if (rel == "internal/cli" || strings.HasPrefix(rel, "cmd/")) && dir != "cmd/redthread" {
				t.Errorf("%s imports %s: nothing imports the command layer", path, rel)
			}
			if ruled && !permitted(rel, list) {
				t.Errorf("%s imports %s: %s may import only %v", path, rel, dir, list)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPackageDocs requires a package comment in every package.
func TestPackageDocs(t *testing.T) {
	fset := token.NewFileSet()
	documented := map[string]bool{}
	seen := map[string]bool{}
	filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Error(err)
			return nil
		}
		dir := filepath.Dir(path)
		seen[dir] = true
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			documented[dir] = true
		}
		return nil
	})
	for dir := range seen {
		if !documented[dir] {
			t.Errorf("package in %s has no package doc comment", dir)
		}
	}
}
