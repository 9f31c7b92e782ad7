package intel

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redthread/redthread/internal/model"
)

// UN consolidated list defaults.
const (
	unSourceName = "UN Security Council consolidated list"
	unURL        = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
	unLicense    = "UN public data"
)

type unValues struct {
	Values []string `xml:"VALUE"`
}

type unAlias struct {
	Quality string `xml:"QUALITY"`
	Name    string `xml:"ALIAS_NAME"`
}

type unDOB struct {
	Type     string `xml:"TYPE_OF_DATE"`
	Date     string `xml:"DATE"`
	Year     string `xml:"YEAR"`
	FromYear string `xml:"FROM_YEAR"`
	ToYear   string `xml:"TO_YEAR"`
}

type unDocument struct {
	Type           string `xml:"TYPE_OF_DOCUMENT"`
	Type2          string `xml:"TYPE_OF_DOCUMENT2"`
	Number         string `xml:"NUMBER"`
	IssuingCountry string `xml:"ISSUING_COUNTRY"`
	CountryOfIssue string `xml:"COUNTRY_OF_ISSUE"`
}

type unAddress struct {
	Street  string `xml:"STREET"`
	City    string `xml:"CITY"`
	State   string `xml:"STATE_PROVINCE"`
	Zip     string `xml:"ZIP_CODE"`
	Country string `xml:"COUNTRY"`
}

type unEntry struct {
	DataID       string       `xml:"DATAID"`
	First        string       `xml:"FIRST_NAME"`
	Second       string       `xml:"SECOND_NAME"`
	Third        string       `xml:"THIRD_NAME"`
	Fourth       string       `xml:"FOURTH_NAME"`
	ListType     string       `xml:"UN_LIST_TYPE"`
	Reference    string       `xml:"REFERENCE_NUMBER"`
	ListedOn     string       `xml:"LISTED_ON"`
	DelistedOn   string       `xml:"DELISTED_ON"`
	OrigScript   string       `xml:"NAME_ORIGINAL_SCRIPT"`
	Comments     string       `xml:"COMMENTS1"`
	Nationality  unValues     `xml:"NATIONALITY"`
	IndAliases   []unAlias    `xml:"INDIVIDUAL_ALIAS"`
	EntAliases   []unAlias    `xml:"ENTITY_ALIAS"`
	DOBs         []unDOB      `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	Documents    []unDocument `xml:"INDIVIDUAL_DOCUMENT"`
	IndAddresses []unAddress  `xml:"INDIVIDUAL_ADDRESS"`
	EntAddresses []unAddress  `xml:"ENTITY_ADDRESS"`
}

// LoadUN reads the UN Security Council consolidated list XML: individuals
// become persons, entities companies; aliases keep their quality (Good →
// strong, Low → weak), dates of birth their kind (exact, year, approximate,
// between), documents become identifiers.
func LoadUN(in Input, o Options) (*Dataset, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Kind: KindUN}
	d := xml.NewDecoder(bytes.NewReader(data))
	var root bool
	var published time.Time
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, perr(in.Name, line, "", "xml: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "CONSOLIDATED_LIST":
			root = true
			for _, a := range se.Attr {
				if a.Name.Local == "dateGenerated" {
					t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(a.Value))
					if err != nil {
						line, _ := d.InputPos()
						return nil, perr(in.Name, line, "dateGenerated", "bad date %q", a.Value)
					}
					published = t.UTC()
				}
			}
		case "INDIVIDUAL", "ENTITY":
			if !root {
				line, _ := d.InputPos()
				return nil, perr(in.Name, line, se.Name.Local, "not inside CONSOLIDATED_LIST")
			}
			line, _ := d.InputPos()
			var e unEntry
			if err := d.DecodeElement(&e, &se); err != nil {
				l2, _ := d.InputPos()
				return nil, perr(in.Name, l2, se.Name.Local, "xml: %v", err)
			}
			ent, field, err := e.entity(se.Name.Local == "INDIVIDUAL")
			if err != nil {
				return nil, perr(in.Name, line, field, "%v", err)
			}
			ds.Entities = append(ds.Entities, ent)
		}
	}
	if !root {
		return nil, perr(in.Name, 1, "CONSOLIDATED_LIST", "missing root element")
	}
	if o.Published.IsZero() {
		o.Published = published
	}
	ds.Source = o.source(unSourceName, unURL, unLicense, in.Name)
	for i := range ds.Entities {
		ds.Entities[i].Source = ds.Source
	}
	return ds, nil
}

func (e *unEntry) entity(person bool) (model.Entity, string, error) {
	var ent model.Entity
	id := clean(e.DataID)
	if id == "" {
		return ent, "DATAID", errors.New("missing")
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return ent, "DATAID", errors.New("not a number: " + strconv.Quote(id))
	}
	ent.ID = "un:" + id
	ent.Type = model.EntityCompany
	if person {
		ent.Type = model.EntityPerson
	}
	full := joinNames(e.First, e.Second, e.Third, e.Fourth)
	if full == "" {
		return ent, "FIRST_NAME", errors.New("entry has no name")
	}
	ent.Names = append(ent.Names, model.Name{Full: full})
	if s := clean(e.OrigScript); s != "" {
		ent.Names = append(ent.Names, model.Name{Full: s, Quality: model.AliasStrong, Script: scriptOf(s)})
	}
	aliases := e.IndAliases
	if !person {
		aliases = e.EntAliases
	}
	for _, a := range aliases {
		n := clean(strings.Trim(clean(a.Name), `"`))
		if n == "" {
			continue
		}
		q := model.AliasStrong
		if strings.EqualFold(clean(a.Quality), "low") {
			q = model.AliasWeak
		}
		ent.Names = append(ent.Names, model.Name{Full: n, Quality: q, Script: scriptOf(n)})
	}
	for _, db := range e.DOBs {
		dob, ok, err := db.dob()
		if err != nil {
			return ent, "INDIVIDUAL_DATE_OF_BIRTH", err
		}
		if ok {
			ent.DOBs = append(ent.DOBs, dob)
		}
	}
	for _, n := range e.Nationality.Values {
		if n = clean(n); n != "" {
			ent.Nationalities = append(ent.Nationalities, n)
		}
	}
	if r := clean(e.Reference); r != "" {
		ent.Identifiers = append(ent.Identifiers, model.Identifier{Type: "un reference number", Number: r})
	}
	for _, doc := range e.Documents {
		num := clean(doc.Number)
		if num == "" {
			continue
		}
		t := strings.ToLower(clean(doc.Type))
		if t2 := strings.ToLower(clean(doc.Type2)); t2 != "" {
			if t == "" {
				t = t2
			} else {
				t += " (" + t2 + ")"
			}
		}
		if t == "" {
			t = "document"
		}
		ent.Identifiers = append(ent.Identifiers, model.Identifier{Type: t, Number: num,
			Country: defaultStr(clean(doc.IssuingCountry), clean(doc.CountryOfIssue))})
	}
	addrs := e.IndAddresses
	if !person {
		addrs = e.EntAddresses
	}
	for _, a := range addrs {
		if s := joinParts(a.Street, a.City, a.State, a.Zip, a.Country); s != "" {
			ent.Addresses = append(ent.Addresses, s)
		}
	}
	if lt := clean(e.ListType); lt != "" {
		ent.Programs = []string{"UN " + lt}
	}
	ent.Remarks = clean(e.Comments)
	if s := clean(e.ListedOn); s != "" {
		t, err := xsDate(s)
		if err != nil {
			return ent, "LISTED_ON", errors.New("bad date " + strconv.Quote(s))
		}
		ent.ListedOn = t
	}
	if s := clean(e.DelistedOn); s != "" {
		t, err := xsDate(s)
		if err != nil {
			return ent, "DELISTED_ON", errors.New("bad date " + strconv.Quote(s))
		}
		ent.DelistedOn = t
	}
	return ent, "", nil
}

func (db unDOB) dob() (model.DOB, bool, error) {
	typ := strings.ToUpper(clean(db.Type))
	year := func(s string) (int, error) {
		y, err := strconv.Atoi(clean(s))
		if err != nil || y < 1800 || y > 2200 {
			return 0, errors.New("bad year " + strconv.Quote(s))
		}
		return y, nil
	}
	switch {
	case clean(db.Date) != "":
		t, err := xsDate(clean(db.Date))
		if err != nil {
			return model.DOB{}, false, errors.New("bad date " + strconv.Quote(db.Date))
		}
		kind := "exact"
		if typ == "APPROXIMATELY" {
			kind = "approximate"
		}
		return model.DOB{Kind: kind, Date: t, From: t.Year(), To: t.Year()}, true, nil
	case clean(db.Year) != "":
		y, err := year(db.Year)
		if err != nil {
			return model.DOB{}, false, err
		}
		kind := "year"
		if typ == "APPROXIMATELY" {
			kind = "approximate"
		}
		return model.DOB{Kind: kind, From: y, To: y}, true, nil
	case clean(db.FromYear) != "" || clean(db.ToYear) != "":
		f, err := year(db.FromYear)
		if err != nil {
			return model.DOB{}, false, err
		}
		t, err := year(db.ToYear)
		if err != nil {
			return model.DOB{}, false, err
		}
		if t < f {
			return model.DOB{}, false, errors.New("FROM_YEAR after TO_YEAR")
		}
		return model.DOB{Kind: "between", From: f, To: t}, true, nil
	}
	return model.DOB{}, false, nil
}

// clean trims and collapses internal white space.
func clean(s string) string {
	if s == "" {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

func joinNames(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = clean(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func joinParts(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = clean(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// scriptOf names the dominant non-Latin script of s, or "" for Latin.
func scriptOf(s string) string {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hangul, r):
			return "Hangul"
		case unicode.Is(unicode.Han, r):
			return "Han"
		case unicode.Is(unicode.Arabic, r):
			return "Arabic"
		case unicode.Is(unicode.Cyrillic, r):
			return "Cyrillic"
		}
	}
	return ""
}

// xsDate parses an xs:date, which may carry a time-zone offset
// ("2015-04-14-04:00" or "2015-04-14Z"); the calendar date is kept.
func xsDate(s string) (time.Time, error) {
	if len(s) > 10 {
		z := s[10:]
		if z == "Z" || (len(z) == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':') {
			s = s[:10]
		}
	}
	return day(s)
}
