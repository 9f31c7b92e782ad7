package intel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// OfficialSource is one official list Update downloads.
type OfficialSource struct {
	Slot     string
	Kind     string
	Files    []OfficialFile
	Optional bool // a failure of an optional source does not fail the update
}

// OfficialFile is one file of an official source.
type OfficialFile struct {
	Name     string // file name in the generation directory and under a --base-url
	URL      string // official URL
	Optional bool   // may be absent (HTTP 404) without failing the source
}

// OfficialSources are the lists `redthread intel update` refreshes, from
// their publishers' official URLs.
var OfficialSources = []OfficialSource{
	{Slot: "ofac-sdn-csv", Kind: KindOFACCSV, Files: []OfficialFile{
		{Name: "sdn.csv", URL: "https://www.treasury.gov/ofac/downloads/sdn.csv"},
		{Name: "add.csv", URL: "https://www.treasury.gov/ofac/downloads/add.csv", Optional: true},
		{Name: "alt.csv", URL: "https://www.treasury.gov/ofac/downloads/alt.csv", Optional: true},
		{Name: "sdn_comments.csv", URL: "https://www.treasury.gov/ofac/downloads/sdn_comments.csv", Optional: true},
	}},
	{Slot: "ofac-advanced", Kind: KindOFACAdvanced, Files: []OfficialFile{
		{Name: "SDN_ADVANCED.XML", URL: "https://www.treasury.gov/ofac/downloads/sanctions/1.0/sdn_advanced.xml"},
	}},
	{Slot: "un-consolidated", Kind: KindUN, Files: []OfficialFile{
		{Name: "consolidated.xml", URL: "https://scsanctions.un.org/resources/xml/en/consolidated.xml"},
	}},
}

// UpdateOptions configure Update.
type UpdateOptions struct {
	// BaseURL, when set, replaces every official URL by BaseURL + "/" +
	// file name (mirrors and tests).
	BaseURL string
	Client  *http.Client
	Sources []OfficialSource // OfficialSources if nil
	MaxSize int64            // per file; 1 GiB if zero
	Now     func() time.Time
	Log     func(format string, a ...any)
}

// UpdateResult describes a finished update.
type UpdateResult struct {
	Generation string
	Packs      []PackEntry
}

// Update downloads fresh official lists, validates each by parsing it, and
// only when all of them parse swaps them in as the new current generation
// (written to a temporary directory, renamed into place, then CURRENT is
// replaced atomically). Any failure leaves the current lists in place.
func (s *Store) Update(ctx context.Context, o UpdateOptions) (UpdateResult, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	if o.Sources == nil {
		o.Sources = OfficialSources
	}
	if o.MaxSize == 0 {
		o.MaxSize = 1 << 30
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	unlock, err := s.lock()
	if err != nil {
		return UpdateResult{}, err
	}
	defer unlock()
	offDir := filepath.Join(s.dir, "official")
	if err := os.MkdirAll(offDir, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("create %s: %w", offDir, err)
	}
	tmp, err := os.MkdirTemp(offDir, ".tmp-")
	if err != nil {
		return UpdateResult{}, fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; removed on failure
	var man PackManifest
	for _, src := range o.Sources {
		entry, err := s.fetchSource(ctx, o, tmp, src)
		if err != nil {
			if src.Optional {
				o.Log("skip %s: %v", src.Slot, err)
				continue
			}
			return UpdateResult{}, err
		}
		man.Packs = append(man.Packs, entry)
	}
	b, _ := json.MarshalIndent(man, "", " ")
	if err := writeFileAtomic(filepath.Join(tmp, "manifest.json"), b); err != nil {
		return UpdateResult{}, err
	}
	gen := o.Now().UTC().Format("20060102T150405Z")
	final := filepath.Join(offDir, gen)
	if _, err := os.Stat(final); err == nil {
		gen += fmt.Sprintf("-%d", o.Now().UnixNano()%1e6)
		final = filepath.Join(offDir, gen)
	}
	if err := os.Rename(tmp, final); err != nil {
		return UpdateResult{}, fmt.Errorf("move new lists into place: %w", err)
	}
	old, _ := s.currentGeneration()
	if err := writeFileAtomic(filepath.Join(offDir, "CURRENT"), []byte(gen+"\n")); err != nil {
		os.RemoveAll(final)
		return UpdateResult{}, err
	}
	if old != "" && old != gen {
		os.RemoveAll(filepath.Join(offDir, old)) // best effort: the old generation is no longer referenced
	}
	return UpdateResult{Generation: gen, Packs: man.Packs}, nil
}

func (s *Store) fetchSource(ctx context.Context, o UpdateOptions, dir string, src OfficialSource) (PackEntry, error) {
	entry := PackEntry{Slot: src.Slot, Kind: src.Kind}
	var ins []Input
	var lastMod time.Time
	for _, f := range src.Files {
		u := f.URL
		if o.BaseURL != "" {
			u = strings.TrimSuffix(o.BaseURL, "/") + "/" + f.Name
		}
		data, lm, status, err := download(ctx, o.Client, u, o.MaxSize)
		if err != nil {
			if f.Optional && status == http.StatusNotFound {
				o.Log("%s: %s not published, skipped", src.Slot, f.Name)
				continue
			}
			return entry, fmt.Errorf("download %s: %w", u, err)
		}
		if lm.After(lastMod) {
			lastMod = lm
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), data, 0o644); err != nil {
			return entry, fmt.Errorf("write %s: %w", f.Name, err)
		}
		if entry.URL == "" {
			entry.URL = f.URL
		}
		entry.Files = append(entry.Files, f.Name)
		ins = append(ins, Input{Name: f.Name, Data: data})
		o.Log("%s: downloaded %s (%d bytes)", src.Slot, f.Name, len(data))
	}
	// The CSV set carries no date of its own: use the server's
	// Last-Modified, or the day of the download.
	if src.Kind == KindOFACCSV {
		if lastMod.IsZero() {
			lastMod = o.Now()
		}
		entry.Published = lastMod.UTC().Format(time.DateOnly)
	}
	opts := Options{URL: entry.URL}
	if entry.Published != "" {
		opts.Published, _ = time.Parse(time.DateOnly, entry.Published)
	}
	ds, err := LoadKind(src.Kind, ins, opts)
	if err != nil {
		return entry, fmt.Errorf("validate %s: %w", src.Slot, err)
	}
	if len(ds.Entities) == 0 && len(ds.Attributions) == 0 {
		return entry, fmt.Errorf("validate %s: the download holds no entries", src.Slot)
	}
	o.Log("%s: %d entities, %d attributions", src.Slot, len(ds.Entities), len(ds.Attributions))
	return entry, nil
}

func download(ctx context.Context, c *http.Client, u string, max int64) ([]byte, time.Time, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, time.Time{}, 0, err
	}
	req.Header.Set("User-Agent", "redthread-intel-update")
	resp, err := c.Do(req)
	if err != nil {
		return nil, time.Time{}, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, time.Time{}, resp.StatusCode, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, time.Time{}, resp.StatusCode, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > max {
		return nil, time.Time{}, resp.StatusCode, fmt.Errorf("larger than %d bytes", max)
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, time.Time{}, resp.StatusCode, fmt.Errorf("truncated: %d of %d bytes", len(data), resp.ContentLength)
	}
	lm, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	return data, lm, resp.StatusCode, nil
}
