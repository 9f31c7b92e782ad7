package screen

import (
	"fmt"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// Attribute effects (docs/screening.md).
const (
	bonusDOBExact     = 0.10 // added to the name-only cap
	bonusDOBYear      = 0.05
	bonusNationality  = 0.03
	penaltyDOB        = 0.75 // multiplies the score when every listed date of birth differs
	penaltyNationalty = 0.90
	penaltyDocument   = 0.90 // the query's document numbers differ from every listed one
)

// personalDocument reports identifier types that identify one person or
// company (not list reference numbers, codes or vessel ids).
func personalDocument(typ string) bool {
	switch strings.ToLower(typ) {
	case "un reference number", "chinese commercial code", "call sign", "imo", "mmsi", "email", "swift/bic",
		"aircraft msn", "aircraft tail number", "website":
		return false
	}
	return true
}

// queryDOB is a date of birth given with a query.
type queryDOB struct {
	year, month, day int // month, day 0 when not given
}

func parseQueryDOB(s string) (*queryDOB, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		d := &queryDOB{year: t.Year()}
		if len(layout) >= 7 {
			d.month = int(t.Month())
		}
		if len(layout) == 10 {
			d.day = t.Day()
		}
		return d, nil
	}
	return nil, fmt.Errorf("date of birth %q: want YYYY, YYYY-MM or YYYY-MM-DD", s)
}

// attributeScore turns a name score into a final score with the secondary
// attributes: the name alone is capped at nameOnlyCap; a matching date of
// birth or nationality raises the cap, a conflicting one (or document
// numbers that differ from every listed one) lowers the score.
func attributeScore(name float64, dob *queryDOB, nat string, qdocs []string, e *model.Entity, ex *Explanation) float64 {
	cap := nameOnlyCap
	mult := 1.0
	if dob != nil {
		switch v := dobVerdict(dob, e.DOBs); v {
		case "exact":
			cap += bonusDOBExact
			ex.Factors = append(ex.Factors, Factor{"dob", "date of birth matches", bonusDOBExact})
		case "year":
			cap += bonusDOBYear
			ex.Factors = append(ex.Factors, Factor{"dob", "year of birth matches", bonusDOBYear})
		case "differs":
			mult *= penaltyDOB
			ex.Factors = append(ex.Factors, Factor{"dob", "date of birth differs from every listed one", penaltyDOB})
		}
	}
	if nat = strings.TrimSpace(nat); nat != "" && len(e.Nationalities) > 0 {
		q := countryKey(nat)
		hit := false
		for _, n := range e.Nationalities {
			if countryKey(n) == q {
				hit = true
			}
		}
		if hit {
			cap += bonusNationality
			ex.Factors = append(ex.Factors, Factor{"nationality", "nationality matches", bonusNationality})
		} else {
			mult *= penaltyNationalty
			ex.Factors = append(ex.Factors, Factor{"nationality", "nationality differs from every listed one", penaltyNationalty})
		}
	}
	if len(qdocs) > 0 {
		listed := false
		for _, d := range e.Identifiers {
			if personalDocument(d.Type) && normIdentifier(d.Type, d.Number) != "" {
				listed = true
			}
		}
		// A matching document made the match exact before scoring names,
		// so here every listed document differs.
		if listed {
			mult *= penaltyDocument
			ex.Factors = append(ex.Factors, Factor{"identifier", "identifier differs from every listed document", penaltyDocument})
		}
	}
	if cap == nameOnlyCap {
		ex.Factors = append(ex.Factors, Factor{"name", "name-only evidence capped", nameOnlyCap})
	}
	s := name * cap * mult
	if s > 1 {
		s = 1
	}
	return s
}

// dobVerdict compares a query date of birth with an entity's: "exact",
// "year", "differs" or "" when the entity lists none.
func dobVerdict(q *queryDOB, ds []model.DOB) string {
	if len(ds) == 0 {
		return ""
	}
	best := "differs"
	for _, d := range ds {
		switch d.Kind {
		case "exact":
			if d.Date.IsZero() {
				if d.From != 0 && q.year >= d.From && q.year <= max(d.To, d.From) {
					best = "year"
				}
				continue
			}
			if d.Date.Year() == q.year {
				if q.month != 0 && q.day != 0 && int(d.Date.Month()) == q.month && d.Date.Day() == q.day {
					return "exact"
				}
				if q.month == 0 || int(d.Date.Month()) == q.month {
					best = "year"
				}
			}
		default: // year, approximate, between
			lo, hi := d.From, d.To
			if lo == 0 && !d.Date.IsZero() {
				lo = d.Date.Year()
			}
			if hi < lo {
				hi = lo
			}
			if d.Kind == "approximate" {
				lo, hi = lo-1, hi+1
			}
			if lo != 0 && q.year >= lo && q.year <= hi {
				best = "year"
			}
			if lo == 0 {
				return "" // unknown range: no evidence either way
			}
		}
	}
	return best
}

// countryKey folds country names and codes onto one key for comparison.
func countryKey(s string) string {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer(".", "", "’", "'").Replace(k)
	if v, ok := countryAliases[k]; ok {
		return v
	}
	return k
}

var countryAliases = map[string]string{
	"kp": "kp", "prk": "kp", "dprk": "kp", "north korea": "kp", "korea, north": "kp",
	"democratic people's republic of korea": "kp", "korea (democratic people's republic of)": "kp",
	"kr": "kr", "kor": "kr", "south korea": "kr", "korea, south": "kr", "republic of korea": "kr", "korea": "kr",
	"cn": "cn", "chn": "cn", "china": "cn", "people's republic of china": "cn", "prc": "cn",
	"ru": "ru", "rus": "ru", "russia": "ru", "russian federation": "ru",
	"us": "us", "usa": "us", "united states": "us", "united states of america": "us",
	"gb": "gb", "uk": "gb", "united kingdom": "gb", "tw": "tw", "taiwan": "tw", "hk": "hk", "hong kong": "hk",
	"sg": "sg", "singapore": "sg", "jp": "jp", "japan": "jp", "ir": "ir", "iran": "ir", "sy": "sy", "syria": "sy",
	"vn": "vn", "vietnam": "vn", "viet nam": "vn", "mn": "mn", "mongolia": "mn", "th": "th", "thailand": "th",
	"in": "in", "india": "in", "tr": "tr", "turkey": "tr", "ae": "ae", "united arab emirates": "ae",
}
