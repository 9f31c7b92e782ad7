package trace

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// Labels is a small in-memory Attributor: attributions from an analyst's
// CSV file or a test script. The intel store is the full-featured one.
type Labels struct {
	m map[string][]model.Attribution
}

// NewLabels returns an empty label set.
func NewLabels() *Labels { return &Labels{m: map[string][]model.Attribution{}} }

// Add adds one attribution.
func (l *Labels) Add(a model.Attribution) {
	k := string(a.Chain) + "/" + a.Address
	l.m[k] = append(l.m[k], a)
}

// Clone returns a copy of l that can be added to without changing l.
func (l *Labels) Clone() *Labels {
	c := &Labels{m: make(map[string][]model.Attribution, len(l.m))}
	for k, v := range l.m {
		c.m[k] = append([]model.Attribution(nil), v...)
	}
	return c
}

// Len returns the number of labelled addresses.
func (l *Labels) Len() int { return len(l.m) }

// Lookup returns the attributions of an address valid at asOf.
func (l *Labels) Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution {
	var out []model.Attribution
	for _, a := range l.m[string(chain)+"/"+addr] {
		if a.ValidAt(asOf) {
			out = append(out, a)
		}
	}
	return out
}

var categories = map[model.Category]bool{}

func init() {
	for _, c := range []model.Category{model.CatSanctioned, model.CatDPRK, model.CatHack, model.CatScam, model.CatVictim,
		model.CatMixer, model.CatExchange, model.CatBridge, model.CatDEX, model.CatOTC, model.CatGambling, model.CatDeFi,
		model.CatMiner, model.CatToken, model.CatOther} {
		categories[c] = true
	}
}

// ParseCategory checks a category name against the taxonomy.
func ParseCategory(s string) (model.Category, error) {
	c := model.Category(strings.ToLower(strings.TrimSpace(s)))
	if !categories[c] {
		names := make([]string, 0, len(categories))
		for k := range categories {
			names = append(names, string(k))
		}
		sort.Strings(names)
		return "", fmt.Errorf("unknown category %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return c, nil
}

// ReadLabels reads a labels CSV: a header with chain, address and category
// columns and optionally label (or owner), entity and confidence. The
// synthetic world's addresses.csv has this shape. Rows with an empty
// category are skipped. name is used in errors.
func ReadLabels(r io.Reader, name string, into *Labels) (int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%s: empty file, want a header", name)
		}
		return 0, fmt.Errorf("%s: line 1: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, h := range []string{"chain", "address", "category"} {
		if _, ok := col[h]; !ok {
			return 0, fmt.Errorf("%s: line 1: header lacks column %q", name, h)
		}
	}
	var add []model.Attribution
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		get := func(h string) string {
			i, ok := col[h]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if get("category") == "" {
			continue
		}
		chain := model.Chain(strings.ToLower(get("chain")))
		if chain == "" {
			return 0, fmt.Errorf("%s: line %d: field chain: empty", name, line)
		}
		a, err := model.NormalizeAddress(chain, get("address"))
		if err != nil {
			return 0, fmt.Errorf("%s: line %d: field address: %v", name, line, err)
		}
		cat, err := ParseCategory(get("category"))
		if err != nil {
			return 0, fmt.Errorf("%s: line %d: field category: %v", name, line, err)
		}
		at := model.Attribution{Chain: chain, Address: a, Category: cat, Label: get("label"), Entity: get("entity"),
			Confidence: 100, Source: model.Source{Name: name}}
		if at.Label == "" {
			at.Label = get("owner")
		}
		if s := get("confidence"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 || v > 100 {
				return 0, fmt.Errorf("%s: line %d: field confidence: %q is not 0..100", name, line, s)
			}
			at.Confidence = model.Confidence(v)
		}
		add = append(add, at)
	}
	for _, a := range add {
		into.Add(a)
	}
	return len(add), nil
}
