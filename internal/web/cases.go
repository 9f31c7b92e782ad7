package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redthread/redthread/internal/trace"
)

// CaseSchema names the case file format (docs/ui.md).
const CaseSchema = "redthread.case/v1"

// Case is an investigation: addresses, traces, notes and tags.
type Case struct {
	Schema    string        `json:"schema"`
	ID        string        `json:"id"`
	Title     string        `json:"title"`
	Created   time.Time     `json:"created"`
	Updated   time.Time     `json:"updated"`
	Tags      []string      `json:"tags"`
	Notes     []Note        `json:"notes"`
	Addresses []CaseAddress `json:"addresses"`
	Traces    []CaseTrace   `json:"traces"`
}

// Note is an investigator's note.
type Note struct {
	ID   int       `json:"id"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// CaseAddress is an address added to a case.
type CaseAddress struct {
	Chain   string    `json:"chain"`
	Address string    `json:"address"`
	Added   time.Time `json:"added"`
	Comment string    `json:"comment,omitempty"`
}

// CaseTrace is a trace saved in a case: the request and, in its own file
// (trace-ID.json), the result as it was when saved.
type CaseTrace struct {
	ID      int           `json:"id"`
	Added   time.Time     `json:"added"`
	Title   string        `json:"title,omitempty"`
	Request TraceRequest  `json:"request"`
	Nodes   int           `json:"nodes"`
	Edges   int           `json:"edges"`
	Result  *trace.Result `json:"result,omitempty"` // only in exports and GET of one trace
}

// Limits of case contents.
const (
	MaxTitle     = 200
	MaxNote      = 20_000
	MaxTag       = 64
	MaxTags      = 50
	MaxNotes     = 1000
	MaxAddresses = 5000
	MaxTraces    = 100
)

var caseIDRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// CaseStore keeps cases as JSON files under a directory, one directory per
// case (case.json and trace-N.json), each written atomically (temporary
// file, fsync, rename, fsync of the directory).
type CaseStore struct {
	dir string
	mu  sync.Mutex
}

// OpenCaseStore opens (creating) a case store.
func OpenCaseStore(dir string) (*CaseStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open case store: %w", err)
	}
	return &CaseStore{dir: dir}, nil
}

// ErrNoCase is returned for an unknown case id.
var ErrNoCase = errors.New("no such case")

func (cs *CaseStore) caseDir(id string) (string, error) {
	if !caseIDRe.MatchString(id) {
		return "", fmt.Errorf("case id %q: %w", id, ErrNoCase)
	}
	return filepath.Join(cs.dir, id), nil
}

// List returns every case, most recently updated first (without traces'
// results).
func (cs *CaseStore) List() ([]Case, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ents, err := os.ReadDir(cs.dir)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	out := []Case{}
	for _, e := range ents {
		if !e.IsDir() || !caseIDRe.MatchString(e.Name()) {
			continue
		}
		c, err := cs.load(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out, nil
}

// Get returns one case.
func (cs *CaseStore) Get(id string) (*Case, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.load(id)
}

func (cs *CaseStore) load(id string) (*Case, error) {
	d, err := cs.caseDir(id)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(d, "case.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("case %s: %w", id, ErrNoCase)
	}
	if err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read case %s: %w", p, err)
	}
	if c.Schema != CaseSchema || c.ID != id {
		return nil, fmt.Errorf("read case %s: schema %q id %q, want %s and %s", p, c.Schema, c.ID, CaseSchema, id)
	}
	return &c, nil
}

// TraceResult reads the saved result of a case's trace.
func (cs *CaseStore) TraceResult(id string, n int) (*trace.Result, error) {
	d, err := cs.caseDir(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(d, fmt.Sprintf("trace-%d.json", n)))
	if err != nil {
		return nil, fmt.Errorf("read trace %d of case %s: %w", n, id, err)
	}
	var r trace.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read trace %d of case %s: %w", n, id, err)
	}
	return &r, nil
}

// Create makes a new case.
func (cs *CaseStore) Create(title string, tags []string) (*Case, error) {
	title, err := cleanText("title", title, MaxTitle, false)
	if err != nil {
		return nil, err
	}
	if title == "" {
		return nil, badRequest("title: empty")
	}
	tags, err = cleanTags(tags)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := &Case{Schema: CaseSchema, ID: hex.EncodeToString(b[:]), Title: title, Created: now, Updated: now,
		Tags: tags, Notes: []Note{}, Addresses: []CaseAddress{}, Traces: []CaseTrace{}}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	d := filepath.Join(cs.dir, c.ID)
	if err := os.Mkdir(d, 0o700); err != nil {
		return nil, fmt.Errorf("create case: %w", err)
	}
	if err := syncDir(cs.dir); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(d, "case.json"), c); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies fn to a case and saves it; fn's error leaves the case as
// it was.
func (cs *CaseStore) Update(id string, fn func(c *Case) error) (*Case, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, err := cs.load(id)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	c.Updated = time.Now().UTC().Truncate(time.Second)
	d, _ := cs.caseDir(id)
	if err := writeAtomic(filepath.Join(d, "case.json"), c); err != nil {
		return nil, err
	}
	return c, nil
}

// AddTrace saves a trace result in a case.
func (cs *CaseStore) AddTrace(id, title string, req TraceRequest, res *trace.Result) (*Case, error) {
	title, err := cleanText("title", title, MaxTitle, false)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, err := cs.load(id)
	if err != nil {
		return nil, err
	}
	if len(c.Traces) >= MaxTraces {
		return nil, badRequest("a case holds at most %d traces", MaxTraces)
	}
	n := 1
	for _, t := range c.Traces {
		n = max(n, t.ID+1)
	}
	d, _ := cs.caseDir(id)
	// The result first: a case never names a trace file that is missing.
	if err := writeAtomic(filepath.Join(d, fmt.Sprintf("trace-%d.json", n)), res); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c.Traces = append(c.Traces, CaseTrace{ID: n, Added: now, Title: title, Request: req, Nodes: len(res.Nodes), Edges: len(res.Edges)})
	c.Updated = now
	if err := writeAtomic(filepath.Join(d, "case.json"), c); err != nil {
		return nil, err
	}
	return c, nil
}

// writeAtomic writes v as JSON to path through a temporary file in the
// same directory, synced before and after the rename.
func writeAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", filepath.Base(path), err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// cleanText checks a user-supplied string: valid UTF-8, at most max bytes,
// no control characters (newlines and tabs only when multiline).
func cleanText(field, s string, maxLen int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", badRequest("%s: not valid UTF-8", field)
	}
	if len(s) > maxLen {
		return "", badRequest("%s: %d bytes, at most %d", field, len(s), maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return "", badRequest("%s: control character %U", field, r)
		}
	}
	return s, nil
}

func cleanTags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, badRequest("tags: %d, at most %d", len(tags), MaxTags)
	}
	out := []string{}
	seen := map[string]bool{}
	for i, t := range tags {
		t, err := cleanText(fmt.Sprintf("tags[%d]", i), t, MaxTag, false)
		if err != nil {
			return nil, err
		}
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}
