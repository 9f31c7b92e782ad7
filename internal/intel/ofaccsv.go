package intel

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/redthread/redthread/internal/model"
)

// OFAC defaults.
const (
	ofacSourceName = "OFAC SDN List"
	ofacCSVURL     = "https://www.treasury.gov/ofac/downloads/sdn.csv"
	ofacLicense    = "US government work (public domain)"
	ofacNull       = "-0-"
)

// ofacFile says which file of the legacy CSV set an input is.
func ofacFile(in Input, cols int) string {
	switch strings.ToLower(filepath.Base(strings.TrimSuffix(in.Name, ".gz"))) {
	case "sdn.csv":
		return "sdn"
	case "add.csv":
		return "add"
	case "alt.csv":
		return "alt"
	case "sdn_comments.csv":
		return "comments"
	}
	switch cols {
	case 12:
		return "sdn"
	case 6:
		return "add"
	case 5:
		return "alt"
	case 2:
		return "comments"
	}
	return ""
}

// readOFACCSV decodes one legacy OFAC CSV file (Windows-1252, no header,
// "-0-" for null, a trailing Ctrl-Z) into records with their line numbers.
func readOFACCSV(in Input) ([][]string, []int, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimRight(data, "\x1a\r\n ")
	data = toUTF8(data)
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	var recs [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, perr(in.Name, pe.StartLine, "column "+strconv.Itoa(pe.Column), "csv: %v", pe.Err)
			}
			return nil, nil, perr(in.Name, 0, "", "csv: %v", err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
			if rec[i] == ofacNull {
				rec[i] = ""
			}
		}
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	return recs, lines, nil
}

// LoadOFACCSV reads OFAC's legacy CSV set: sdn.csv (required) and, when
// given, add.csv (addresses), alt.csv (strong aliases) and sdn_comments.csv
// (the continuation of Remarks that sdn.csv truncates). The Remarks are
// parsed for dates of birth, nationalities, identifiers, emails, weak
// a.k.a.s, "Linked To:" relations and digital currency addresses, which also
// become attributions of category sanctioned.
func LoadOFACCSV(ins []Input, o Options) (*Dataset, error) {
	type fileRecs struct {
		in    Input
		recs  [][]string
		lines []int
	}
	files := map[string]fileRecs{}
	for _, in := range ins {
		recs, lines, err := readOFACCSV(in)
		if err != nil {
			return nil, err
		}
		cols := 0
		if len(recs) > 0 {
			cols = len(recs[0])
		}
		kind := ofacFile(in, cols)
		if kind == "" {
			return nil, perr(in.Name, 0, "", "not a file of the OFAC CSV set (sdn.csv, add.csv, alt.csv, sdn_comments.csv)")
		}
		if _, dup := files[kind]; dup {
			return nil, perr(in.Name, 0, "", "second %s file in one load", kind)
		}
		files[kind] = fileRecs{in, recs, lines}
	}
	sdn, ok := files["sdn"]
	if !ok {
		return nil, perr("sdn.csv", 0, "", "the OFAC CSV set needs sdn.csv")
	}
	want := map[string]int{"sdn": 12, "add": 6, "alt": 5, "comments": 2}
	for kind, f := range files {
		for i, rec := range f.recs {
			if len(rec) != want[kind] {
				return nil, perr(f.in.Name, f.lines[i], "", "%d columns, want %d", len(rec), want[kind])
			}
			if _, err := strconv.ParseUint(rec[0], 10, 64); err != nil {
				return nil, perr(f.in.Name, f.lines[i], "ent_num", "not a number: %q", rec[0])
			}
		}
	}
	comments := map[string]string{}
	if f, ok := files["comments"]; ok {
		for _, rec := range f.recs {
			comments[rec[0]] += rec[1]
		}
	}
	names := make([]string, 0, len(ins))
	for _, in := range ins {
		names = append(names, path.Base(filepath.ToSlash(in.Name)))
	}
	ds := &Dataset{Kind: KindOFACCSV, List: ListOFACDigitalCurrency}
	ds.Source = o.source(ofacSourceName, ofacCSVURL, ofacLicense, strings.Join(names, ","))
	index := map[string]int{}
	for i, rec := range sdn.recs {
		ent, warns, err := sdnEntity(rec, comments[rec[0]], sdn.in.Name, sdn.lines[i])
		if err != nil {
			return nil, err
		}
		ds.Warnings = append(ds.Warnings, warns...)
		if _, dup := index[ent.ID]; dup {
			return nil, perr(sdn.in.Name, sdn.lines[i], "ent_num", "duplicate entry %s", rec[0])
		}
		ent.Source = ds.Source
		index[ent.ID] = len(ds.Entities)
		ds.Entities = append(ds.Entities, ent)
	}
	if f, ok := files["alt"]; ok {
		for i, rec := range f.recs {
			j, ok := index["ofac:"+rec[0]]
			if !ok {
				return nil, perr(f.in.Name, f.lines[i], "ent_num", "no sdn.csv entry %s", rec[0])
			}
			if rec[3] == "" {
				return nil, perr(f.in.Name, f.lines[i], "alt_name", "empty")
			}
			q := model.AliasStrong
			if strings.Contains(strings.ToLower(rec[4]), "weak") {
				q = model.AliasWeak
			}
			ds.Entities[j].Names = append(ds.Entities[j].Names, model.Name{Full: clean(rec[3]), Quality: q, Script: scriptOf(rec[3])})
		}
	}
	if f, ok := files["add"]; ok {
		for i, rec := range f.recs {
			j, ok := index["ofac:"+rec[0]]
			if !ok {
				return nil, perr(f.in.Name, f.lines[i], "ent_num", "no sdn.csv entry %s", rec[0])
			}
			if s := joinParts(rec[2], rec[3], rec[4]); s != "" {
				ds.Entities[j].Addresses = append(ds.Entities[j].Addresses, s)
			}
		}
	}
	for _, e := range ds.Entities {
		ds.Attributions = append(ds.Attributions, walletAttributions(&e, ds.Source)...)
	}
	return ds, nil
}

// walletAttributions turns the wallets of a listed entity into attributions
// of category sanctioned. An entity listed under DPRK programs only (LAZARUS
// GROUP, DPRK IT-worker facilitators) also gets a dprk claim; one listed
// jointly under other programs (Tornado Cash and Sinbad under DPRK3 and
// CYBER2) is a service DPRK used, not a DPRK actor, and gets none.
func walletAttributions(e *model.Entity, src model.Source) []model.Attribution {
	dprk := len(e.Programs) > 0
	for _, p := range e.Programs {
		u := strings.ToUpper(p)
		if !strings.HasPrefix(u, "DPRK") && !strings.Contains(u, "NKSPEA") {
			dprk = false
		}
	}
	name := ""
	if len(e.Names) > 0 {
		name = e.Names[0].Full
	}
	programs := ""
	if len(e.Programs) > 0 {
		programs = " (" + strings.Join(e.Programs, ", ") + ")"
	}
	var out []model.Attribution
	seen := map[model.Wallet]bool{}
	for _, w := range e.Wallets {
		k := model.Wallet{Chain: w.Chain, Address: w.Address}
		if seen[k] {
			continue
		}
		seen[k] = true
		a := model.Attribution{Chain: w.Chain, Address: w.Address, Entity: e.ID, Label: name,
			Category: model.CatSanctioned, Role: "listed " + w.Ticker + " address" + programs, Source: src,
			Confidence: ConfAuthority, ValidFrom: e.ListedOn, ValidTo: e.DelistedOn}
		out = append(out, a)
		if dprk {
			a.Category = model.CatDPRK
			a.Role = "listed under " + strings.Join(e.Programs, ", ")
			out = append(out, a)
		}
	}
	return out
}

func sdnEntity(rec []string, extra, file string, line int) (model.Entity, []string, error) {
	var e model.Entity
	e.ID = "ofac:" + rec[0]
	name := clean(rec[1])
	if name == "" {
		return e, nil, perr(file, line, "SDN_Name", "empty")
	}
	e.Names = []model.Name{{Full: name, Script: scriptOf(name)}}
	switch strings.ToLower(rec[2]) {
	case "individual":
		e.Type = model.EntityPerson
	case "vessel":
		e.Type = model.EntityVessel
	case "aircraft":
		e.Type = model.EntityAircraft
	case "":
		e.Type = model.EntityCompany
	default:
		return e, nil, perr(file, line, "SDN_Type", "unknown type %q", rec[2])
	}
	for _, p := range strings.Split(strings.Trim(rec[3], "[] "), "] [") {
		if p = strings.TrimSpace(p); p != "" {
			e.Programs = append(e.Programs, p)
		}
	}
	if rec[5] != "" {
		e.Identifiers = append(e.Identifiers, model.Identifier{Type: "call sign", Number: rec[5]})
	}
	remarks := rec[11]
	if extra != "" {
		remarks = strings.TrimSpace(remarks + extra)
	}
	e.Remarks = remarks
	warns, err := parseRemarks(&e, remarks)
	if err != nil {
		return e, nil, perr(file, line, "Remarks", "%v", err)
	}
	var out []string
	for _, w := range warns {
		out = append(out, fmt.Sprintf("%s:%d: field Remarks: %s", file, line, w))
	}
	return e, out, nil
}
