package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// table gives named-column access to the records of a CSV file with a
// header or of a JSON lines file (one object per line), so the
// ethereum-etl readers handle both the same way.
type table struct {
	file     string
	json     bool
	cols     []string // wanted columns
	required []bool
	idx      []int // CSV: column index of each wanted column, -1 if absent
	ncols    int   // CSV: columns in the header
	vals     [][]byte
	present  []bool
	obj      map[string]json.RawMessage
	scratch  []byte
}

// newTable wants the required columns and, optionally, more.
func newTable(file string, isJSON bool, required, optional []string) *table {
	t := &table{file: file, json: isJSON}
	for _, c := range required {
		t.cols = append(t.cols, c)
		t.required = append(t.required, true)
	}
	for _, c := range optional {
		t.cols = append(t.cols, c)
		t.required = append(t.required, false)
	}
	t.vals = make([][]byte, len(t.cols))
	t.present = make([]bool, len(t.cols))
	return t
}

// header maps the CSV header onto the wanted columns.
func (t *table) header(f [][]byte) error {
	t.ncols = len(f)
	t.idx = make([]int, len(t.cols))
	for i := range t.idx {
		t.idx[i] = -1
	}
	for j, name := range f {
		n := strings.TrimSpace(string(name))
		for i, c := range t.cols {
			if n == c {
				t.idx[i] = j
			}
		}
	}
	var missing []string
	for i, c := range t.cols {
		if t.required[i] && t.idx[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing column(s) %s", strings.Join(missing, ", "))
	}
	return nil
}

// has reports whether a column is in the CSV header (always true for JSON,
// where presence is per row).
func (t *table) has(col int) bool { return t.json || t.idx[col] >= 0 }

// row loads one record: CSV fields, or for JSON a single field, the line.
func (t *table) row(f [][]byte, line int64) error {
	if !t.json {
		if len(f) != t.ncols {
			return &RowError{File: t.file, Line: line, Err: fmt.Errorf("%d fields, want %d as in the header", len(f), t.ncols)}
		}
		for i, j := range t.idx {
			if j >= 0 {
				t.vals[i], t.present[i] = f[j], true
			} else {
				t.vals[i], t.present[i] = nil, false
			}
		}
		return nil
	}
	clear(t.obj)
	if t.obj == nil {
		t.obj = make(map[string]json.RawMessage)
	}
	if err := json.Unmarshal(f[0], &t.obj); err != nil {
		return &RowError{File: t.file, Line: line, Err: fmt.Errorf("malformed JSON object: %v", err)}
	}
	t.scratch = t.scratch[:0]
	for i, c := range t.cols {
		raw, ok := t.obj[c]
		if !ok {
			if t.required[i] {
				return &RowError{File: t.file, Line: line, Field: c, Err: errors.New("missing")}
			}
			t.vals[i], t.present[i] = nil, false
			continue
		}
		v, err := jsonScalar(raw)
		if err != nil {
			return rowErr(t.file, line, c, raw, "%v", err)
		}
		t.vals[i], t.present[i] = v, true
	}
	return nil
}

// jsonScalar renders a JSON value as the text a CSV export would hold:
// strings unquoted, numbers verbatim, null empty, arrays of numbers joined
// with commas (trace_address).
func jsonScalar(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("bad JSON string")
		}
		return []byte(s), nil
	case raw[0] == '[':
		var a []json.Number
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, errors.New("want an array of integers")
		}
		var b []byte
		for i, n := range a {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, n...)
		}
		return b, nil
	case raw[0] == '{':
		return nil, errors.New("want a scalar, got an object")
	case string(raw) == "true":
		return []byte("1"), nil
	case string(raw) == "false":
		return []byte("0"), nil
	}
	return raw, nil
}

// isJSONFile decides between JSON lines and CSV: by extension, else by the
// first non-blank byte.
func isJSONFile(path string) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".jsonl", ".ndjson":
		return true, nil
	case ".csv":
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for {
		c, err := br.ReadByte()
		if err != nil {
			return false, nil
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xef || c == 0xbb || c == 0xbf {
			continue
		}
		return c == '{', nil
	}
}
