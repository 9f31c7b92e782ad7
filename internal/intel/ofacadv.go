package intel

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

const ofacAdvancedURL = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_ADVANCED.XML"

// The subset of OFAC's advanced sanctions data model (SDN_ADVANCED.XML)
// redthread reads. Elements are matched by local name, so the document's
// namespace does not matter.

type advRef struct {
	ID          string `xml:"ID,attr"`
	PartyTypeID string `xml:"PartyTypeID,attr"`
	Text        string `xml:",chardata"`
}

type advRefSets struct {
	AliasTypes    []advRef `xml:"AliasTypeValues>AliasType"`
	Countries     []advRef `xml:"CountryValues>Country"`
	FeatureTypes  []advRef `xml:"FeatureTypeValues>FeatureType"`
	PartySubTypes []advRef `xml:"PartySubTypeValues>PartySubType"`
	PartyTypes    []advRef `xml:"PartyTypeValues>PartyType"`
	IDRegDocTypes []advRef `xml:"IDRegDocTypeValues>IDRegDocType"`
	DetailRefs    []advRef `xml:"DetailReferenceValues>DetailReference"`
}

type advDate struct {
	Year  string `xml:"Year"`
	Month string `xml:"Month"`
	Day   string `xml:"Day"`
}

type advLocation struct {
	ID        string `xml:"ID,attr"`
	Countries []struct {
		CountryID string `xml:"CountryID,attr"`
	} `xml:"LocationCountry"`
	Parts []struct {
		Values []string `xml:"LocationPartValue>Value"`
	} `xml:"LocationPart"`
}

type advDoc struct {
	TypeID     string `xml:"IDRegDocTypeID,attr"`
	IdentityID string `xml:"IdentityID,attr"`
	CountryID  string `xml:"IssuedBy-CountryID,attr"`
	Number     string `xml:"IDRegistrationNo"`
}

type advDatePoint struct {
	Approximate string  `xml:"Approximate,attr"`
	From        advDate `xml:"From"`
	To          advDate `xml:"To"`
}

type advFeature struct {
	TypeID   string `xml:"FeatureTypeID,attr"`
	Versions []struct {
		Details []struct {
			RefID string `xml:"DetailReferenceID,attr"`
			Text  string `xml:",chardata"`
		} `xml:"VersionDetail"`
		Locations []struct {
			ID string `xml:"LocationID,attr"`
		} `xml:"VersionLocation"`
		Period *struct {
			Start advDatePoint `xml:"Start"`
			End   advDatePoint `xml:"End"`
		} `xml:"DatePeriod"`
	} `xml:"FeatureVersion"`
}

type advProfile struct {
	ID        string `xml:"ID,attr"`
	SubTypeID string `xml:"PartySubTypeID,attr"`
	Identity  []struct {
		ID      string `xml:"ID,attr"`
		Aliases []struct {
			TypeID     string `xml:"AliasTypeID,attr"`
			Primary    string `xml:"Primary,attr"`
			LowQuality string `xml:"LowQuality,attr"`
			Names      []struct {
				Parts []string `xml:"DocumentedNamePart>NamePartValue"`
			} `xml:"DocumentedName"`
		} `xml:"Alias"`
	} `xml:"Identity"`
	Features []advFeature `xml:"Feature"`
}

type advParty struct {
	FixedRef string       `xml:"FixedRef,attr"`
	Profiles []advProfile `xml:"Profile"`
	line     int
}

type advEntry struct {
	ProfileID string    `xml:"ProfileID,attr"`
	Events    []advDate `xml:"EntryEvent>Date"`
	Measures  []string  `xml:"SanctionsMeasure>Comment"`
}

type advRelation struct {
	From string `xml:"From-ProfileID,attr"`
	To   string `xml:"To-ProfileID,attr"`
}

// LoadOFACAdvanced reads OFAC's SDN_ADVANCED.XML. Reference values (feature
// types, alias types, party types, countries, document types) are resolved by
// their names, never by fixed ids: "Digital Currency Address - XBT" is a
// wallet whatever its id is in a given edition.
func LoadOFACAdvanced(in Input, o Options) (*Dataset, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		refs      advRefSets
		haveRefs  bool
		root      bool
		issued    advDate
		locations = map[string]advLocation{}
		docs      = map[string][]advDoc{}
		parties   []advParty
		entries   = map[string]advEntry{}
		relations []advRelation
	)
	decode := func(se *xml.StartElement, v any) error {
		if err := d.DecodeElement(v, se); err != nil {
			line, _ := d.InputPos()
			return perr(in.Name, line, se.Name.Local, "xml: %v", err)
		}
		return nil
	}
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
		if !root {
			if se.Name.Local != "Sanctions" {
				line, _ := d.InputPos()
				return nil, perr(in.Name, line, "Sanctions", "root element is %s", se.Name.Local)
			}
			root = true
			continue
		}
		switch se.Name.Local {
		case "DateOfIssue":
			err = decode(&se, &issued)
		case "ReferenceValueSets":
			haveRefs = true
			err = decode(&se, &refs)
		case "Location":
			var l advLocation
			if err = decode(&se, &l); err == nil {
				locations[l.ID] = l
			}
		case "IDRegDocument":
			var doc advDoc
			if err = decode(&se, &doc); err == nil {
				docs[doc.IdentityID] = append(docs[doc.IdentityID], doc)
			}
		case "DistinctParty":
			line, _ := d.InputPos()
			var p advParty
			if err = decode(&se, &p); err == nil {
				p.line = line
				parties = append(parties, p)
			}
		case "SanctionsEntry":
			var e advEntry
			if err = decode(&se, &e); err == nil {
				entries[e.ProfileID] = e
			}
		case "ProfileRelationship":
			var r advRelation
			if err = decode(&se, &r); err == nil {
				relations = append(relations, r)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if !root {
		return nil, perr(in.Name, 1, "Sanctions", "missing root element")
	}
	if !haveRefs {
		return nil, perr(in.Name, 0, "ReferenceValueSets", "missing; feature types cannot be resolved")
	}
	r := newAdvResolver(&refs, locations)
	if pub, ok := advTime(issued); ok && o.Published.IsZero() {
		o.Published = pub
	}
	ds := &Dataset{Kind: KindOFACAdvanced, List: ListOFACDigitalCurrency}
	ds.Source = o.source(ofacSourceName, ofacAdvancedURL, ofacLicense, in.Name)
	related := map[string][]string{}
	for _, rel := range relations {
		related[rel.From] = append(related[rel.From], "ofac:"+rel.To)
	}
	covered := map[model.Chain]bool{}
	for _, p := range parties {
		for _, prof := range p.Profiles {
			e, err := r.entity(p.FixedRef, prof.ID, prof.SubTypeID, &prof, docs)
			if err != nil {
				return nil, perr(in.Name, p.line, err.field, "%v", err.err)
			}
			if se, ok := entries[prof.ID]; ok {
				e.Programs = append(e.Programs, cleanAll(se.Measures)...)
				for _, ev := range se.Events {
					if t, ok := advTime(ev); ok && (e.ListedOn.IsZero() || t.Before(e.ListedOn)) {
						e.ListedOn = t
					}
				}
			}
			e.Related = append(e.Related, related[prof.ID]...)
			e.Source = ds.Source
			for _, w := range e.Wallets {
				covered[w.Chain] = true
			}
			ds.Entities = append(ds.Entities, e)
		}
	}
	// The advanced file is the whole list: it is complete for every chain.
	ds.Covers = []model.Chain{coverAll}
	for i := range ds.Entities {
		ds.Attributions = append(ds.Attributions, walletAttributions(&ds.Entities[i], ds.Source)...)
	}
	return ds, nil
}

// coverAll in Dataset.Covers says a snapshot is complete for every chain.
const coverAll model.Chain = "*"

type fieldErr struct {
	field string
	err   error
}

type advResolver struct {
	aliasType, country, featureType, partyType, docType, detailRef map[string]string
	subTypeParty                                                   map[string]string
	locations                                                      map[string]advLocation
}

func refMap(rs []advRef) map[string]string {
	m := make(map[string]string, len(rs))
	for _, r := range rs {
		m[r.ID] = clean(r.Text)
	}
	return m
}

func newAdvResolver(refs *advRefSets, locs map[string]advLocation) *advResolver {
	r := &advResolver{
		aliasType: refMap(refs.AliasTypes), country: refMap(refs.Countries),
		featureType: refMap(refs.FeatureTypes), partyType: refMap(refs.PartyTypes),
		docType: refMap(refs.IDRegDocTypes), detailRef: refMap(refs.DetailRefs),
		subTypeParty: map[string]string{}, locations: locs,
	}
	for _, st := range refs.PartySubTypes {
		name := clean(st.Text)
		if pt := r.partyType[st.PartyTypeID]; pt != "" && (name == "" || name == "Unknown") {
			name = pt
		}
		r.subTypeParty[st.ID] = name
	}
	return r
}

func (r *advResolver) entity(fixedRef, profileID, subType string, prof *advProfile, docs map[string][]advDoc) (model.Entity, *fieldErr) {
	var e model.Entity
	id := defaultStr(strings.TrimSpace(fixedRef), strings.TrimSpace(profileID))
	if id == "" {
		return e, &fieldErr{"FixedRef", errors.New("missing")}
	}
	e.ID = "ofac:" + id
	switch strings.ToLower(r.subTypeParty[subType]) {
	case "individual":
		e.Type = model.EntityPerson
	case "vessel":
		e.Type = model.EntityVessel
	case "aircraft":
		e.Type = model.EntityAircraft
	case "entity":
		e.Type = model.EntityCompany
	default:
		e.Type = model.EntityOther
	}
	var primary []model.Name
	for _, ident := range prof.Identity {
		for _, a := range ident.Aliases {
			for _, dn := range a.Names {
				full := joinNames(dn.Parts...)
				if full == "" {
					continue
				}
				n := model.Name{Full: full, Script: scriptOf(full)}
				if a.Primary == "true" && len(primary) == 0 {
					primary = append(primary, n)
					continue
				}
				n.Quality = model.AliasStrong
				if a.LowQuality == "true" {
					n.Quality = model.AliasWeak
				}
				e.Names = append(e.Names, n)
			}
		}
		for _, doc := range docs[ident.ID] {
			typ := strings.ToLower(r.docType[doc.TypeID])
			if typ == "" {
				return e, &fieldErr{"IDRegDocTypeID", fmt.Errorf("unknown document type id %q", doc.TypeID)}
			}
			if mapped, ok := identifierLabels[r.docType[doc.TypeID]]; ok {
				typ = mapped
			}
			if num := clean(doc.Number); num != "" {
				e.Identifiers = append(e.Identifiers, model.Identifier{Type: typ, Number: num, Country: r.country[doc.CountryID]})
			}
		}
	}
	if len(primary) == 0 {
		return e, &fieldErr{"Alias", errors.New("no primary name")}
	}
	e.Names = append(primary, e.Names...)
	for _, f := range prof.Features {
		name, ok := r.featureType[f.TypeID]
		if !ok {
			return e, &fieldErr{"FeatureTypeID", fmt.Errorf("unknown feature type id %q", f.TypeID)}
		}
		for _, v := range f.Versions {
			var texts []string
			for _, dt := range v.Details {
				if s := clean(dt.Text); s != "" {
					texts = append(texts, s)
				} else if s := r.detailRef[dt.RefID]; s != "" {
					texts = append(texts, s)
				}
			}
			switch {
			case strings.HasPrefix(name, "Digital Currency Address - "):
				ticker := strings.TrimSpace(strings.TrimPrefix(name, "Digital Currency Address - "))
				for _, t := range texts {
					c, err := chainForTicker(ticker, t)
					if err != nil {
						return e, &fieldErr{"VersionDetail", err}
					}
					a, err := NormalizeAddress(c, t)
					if err != nil {
						return e, &fieldErr{"VersionDetail", err}
					}
					e.Wallets = append(e.Wallets, model.Wallet{Chain: c, Ticker: ticker, Address: a})
				}
			case name == "Birthdate":
				if v.Period != nil {
					dob, err := advDOB(v.Period.Start, v.Period.End)
					if err != nil {
						return e, &fieldErr{"DatePeriod", err}
					}
					e.DOBs = append(e.DOBs, dob)
				}
			case name == "Nationality Country" || name == "Citizenship Country":
				for _, l := range v.Locations {
					if c := r.locationCountry(l.ID); c != "" {
						e.Nationalities = appendUniq(e.Nationalities, c)
					}
				}
			case name == "Email Address":
				for _, t := range texts {
					e.Identifiers = append(e.Identifiers, model.Identifier{Type: "email", Number: t})
				}
			case name == "Website":
				for _, t := range texts {
					e.Identifiers = append(e.Identifiers, model.Identifier{Type: "website", Number: t})
				}
			case name == "Location":
				for _, l := range v.Locations {
					if s := r.locationText(l.ID); s != "" {
						e.Addresses = append(e.Addresses, s)
					}
				}
			}
		}
	}
	return e, nil
}

func (r *advResolver) locationCountry(id string) string {
	l, ok := r.locations[id]
	if !ok {
		return ""
	}
	for _, c := range l.Countries {
		if n := r.country[c.CountryID]; n != "" {
			return n
		}
	}
	for _, p := range l.Parts {
		for _, v := range p.Values {
			return clean(v)
		}
	}
	return ""
}

func (r *advResolver) locationText(id string) string {
	l, ok := r.locations[id]
	if !ok {
		return ""
	}
	var parts []string
	for _, p := range l.Parts {
		for _, v := range p.Values {
			parts = append(parts, v)
			break
		}
	}
	for _, c := range l.Countries {
		parts = append(parts, r.country[c.CountryID])
	}
	return joinParts(parts...)
}

func advTime(d advDate) (time.Time, bool) {
	if d.Year == "" {
		return time.Time{}, false
	}
	s := fmt.Sprintf("%04s-%02s-%02s", strings.TrimSpace(d.Year), defaultStr(strings.TrimSpace(d.Month), "1"), defaultStr(strings.TrimSpace(d.Day), "1"))
	s = strings.ReplaceAll(s, " ", "0")
	t, err := day(s)
	return t, err == nil
}

// advDOB reads a Birthdate DatePeriod: one day is exact, one calendar year
// a year (approximate when flagged), anything wider between two years.
func advDOB(start, end advDatePoint) (model.DOB, error) {
	from, ok1 := advTime(start.From)
	to, ok2 := advTime(end.To)
	if !ok1 || !ok2 {
		return model.DOB{}, errors.New("birth date period without years")
	}
	if to.Before(from) {
		return model.DOB{}, errors.New("birth date period ends before it starts")
	}
	approx := start.Approximate == "true" || end.Approximate == "true"
	switch {
	case from.Equal(to):
		d := model.DOB{Kind: "exact", Date: from, From: from.Year(), To: from.Year()}
		if approx {
			d.Kind = "approximate"
		}
		return d, nil
	case from.Year() == to.Year():
		d := model.DOB{Kind: "year", From: from.Year(), To: to.Year()}
		if approx {
			d.Kind = "approximate"
		}
		return d, nil
	}
	return model.DOB{Kind: "between", From: from.Year(), To: to.Year()}, nil
}

func cleanAll(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = clean(x); x != "" {
			out = appendUniq(out, x)
		}
	}
	return out
}
