package intel

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// identifierLabels maps the labels OFAC's Remarks put before an identity
// document or registration number onto identifier types. Longest labels are
// tried first.
var identifierLabels = map[string]string{
	"Passport":                              "passport",
	"Diplomatic Passport":                   "diplomatic passport",
	"National ID No.":                       "national id",
	"National Identification Number":        "national id",
	"Identification Number":                 "identification number",
	"Personal ID Card":                      "national id",
	"Citizen's Card Number":                 "national id",
	"Cedula No.":                            "cedula",
	"Tax ID No.":                            "tax id",
	"SSN":                                   "ssn",
	"C.U.R.P.":                              "curp",
	"R.F.C.":                                "rfc",
	"NIT #":                                 "nit",
	"RUC #":                                 "ruc",
	"D-U-N-S Number":                        "duns",
	"Birth Certificate Number":              "birth certificate",
	"Driver's License No.":                  "driver's license",
	"Residency Number":                      "residency number",
	"Travel Document Number":                "travel document",
	"Registration Number":                   "registration number",
	"Registration ID":                       "registration number",
	"Business Registration Number":          "registration number",
	"Business Registration Document #":      "registration number",
	"Commercial Registry Number":            "registration number",
	"Company Number":                        "registration number",
	"Public Registration Number":            "registration number",
	"Trade License No.":                     "trade license",
	"Business Number":                       "registration number",
	"Government Gazette Number":             "registration number",
	"Legal Entity Number":                   "lei",
	"SWIFT/BIC":                             "swift/bic",
	"Vessel Registration Identification":    "imo",
	"Chinese Commercial Code":               "chinese commercial code",
	"Unified Social Credit Code (USCC)":     "uscc",
	"MMSI":                                  "mmsi",
	"Aircraft Manufacturer's Serial Number": "aircraft msn",
	"Aircraft Tail Number":                  "aircraft tail number",
	"Stateless Person ID Card":              "national id",
	"Kenyan ID No.":                         "national id",
	"Immigration No.":                       "immigration number",
	"Matricula Mercantil No":                "registration number",
	"UK Company Number":                     "registration number",
	"Refugee ID Card":                       "refugee id",
	"Afghan Money Service Provider License Number": "license",
	"Certificate of Incorporation Number":          "registration number",
	"Serial No.":                                   "serial number",
	"Pasaporte":                                    "passport",
	"Electoral Registry No.":                       "electoral registry",
	"License":                                      "license",
	"Enterprise Number":                            "registration number",
	"Fiscal Code":                                  "tax id",
	"Tax ID":                                       "tax id",
	"Central Registration Depository (CRD) #":      "crd",
	"Turkish Identification Number":                "national id",
}

var identifierOrder = func() []string {
	ks := make([]string, 0, len(identifierLabels))
	for k := range identifierLabels {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return len(ks[i]) > len(ks[j]) })
	return ks
}()

// parseRemarks reads OFAC's semicolon-separated Remarks into e. A Remarks
// field that does not end with a full stop was cut off by the CSV format;
// its last item is then dropped as incomplete.
//
// An item redthread cannot read as what it says it is (a date of birth in
// an unknown form) is reported as a warning and kept in Remarks only; a
// digital currency address that is not an address is an error.
func parseRemarks(e *model.Entity, s string) (warnings []string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	items := strings.Split(s, ";")
	if strings.HasSuffix(s, ".") {
		last := strings.TrimSpace(items[len(items)-1])
		items[len(items)-1] = strings.TrimSuffix(last, ".")
	} else {
		items = items[:len(items)-1] // truncated
	}
	for _, it := range items {
		it = strings.TrimSpace(it)
		it = strings.TrimPrefix(it, "alt. ")
		if it == "" {
			continue
		}
		warn, err := remarkItem(e, it)
		if err != nil {
			return warnings, fmt.Errorf("%q: %w", it, err)
		}
		if warn != nil {
			warnings = append(warnings, fmt.Sprintf("%q: %v", it, warn))
		}
	}
	return warnings, nil
}

func remarkItem(e *model.Entity, it string) (warning, err error) {
	switch {
	case hasPrefixFold(it, "a.k.a. "), hasPrefixFold(it, "f.k.a. "), hasPrefixFold(it, "n.k.a. "):
		n := strings.Trim(strings.TrimSpace(it[7:]), "'\"")
		if n = clean(n); n != "" {
			e.Names = append(e.Names, model.Name{Full: n, Quality: model.AliasWeak, Script: scriptOf(n)})
		}
	case strings.HasPrefix(it, "DOB "):
		d, err := parseOFACDOB(strings.TrimSpace(it[4:]))
		if err != nil {
			return err, nil
		}
		e.DOBs = append(e.DOBs, d)
	case strings.HasPrefix(it, "nationality "):
		e.Nationalities = appendUniq(e.Nationalities, clean(it[len("nationality "):]))
	case strings.HasPrefix(it, "citizen "):
		e.Nationalities = appendUniq(e.Nationalities, clean(it[len("citizen "):]))
	case strings.HasPrefix(it, "Digital Currency Address - "):
		rest := strings.Fields(it[len("Digital Currency Address - "):])
		if len(rest) < 2 {
			return nil, fmt.Errorf("digital currency address without ticker and address")
		}
		ticker, addr := rest[0], rest[1]
		c, err := chainForTicker(ticker, addr)
		if err != nil {
			return nil, err
		}
		a, err := NormalizeAddress(c, addr)
		if err != nil {
			return nil, err
		}
		e.Wallets = append(e.Wallets, model.Wallet{Chain: c, Ticker: ticker, Address: a})
	case strings.HasPrefix(it, "Email Address "):
		e.Identifiers = append(e.Identifiers, model.Identifier{Type: "email", Number: clean(it[len("Email Address "):])})
	case strings.HasPrefix(it, "Website "):
		e.Identifiers = append(e.Identifiers, model.Identifier{Type: "website", Number: clean(it[len("Website "):])})
	case strings.HasPrefix(it, "Linked To: "):
		e.Related = appendUniq(e.Related, clean(strings.TrimSuffix(it[len("Linked To: "):], ".")))
	default:
		for _, label := range identifierOrder {
			if len(it) > len(label) && it[len(label)] == ' ' && strings.HasPrefix(it, label) {
				if id, ok := parseIdentifier(identifierLabels[label], strings.TrimSpace(it[len(label):])); ok {
					e.Identifiers = append(e.Identifiers, id)
				}
				return nil, nil
			}
		}
		// Anything else (POB, Gender, program notes, …) is kept in Remarks only.
	}
	return nil, nil
}

// parseIdentifier reads "NUMBER (COUNTRY) issued … expires …".
func parseIdentifier(typ, rest string) (model.Identifier, bool) {
	if typ == "imo" {
		rest = strings.TrimPrefix(rest, "IMO ")
	}
	id := model.Identifier{Type: typ}
	num := rest
	if i := strings.Index(rest, " ("); i >= 0 {
		num = rest[:i]
		if j := strings.Index(rest[i:], ")"); j > 0 {
			id.Country = clean(rest[i+2 : i+j])
		}
	}
	for _, cut := range []string{" issued ", " expires ", " Expires "} {
		if i := strings.Index(num, cut); i >= 0 {
			num = num[:i]
		}
	}
	id.Number = clean(num)
	return id, id.Number != ""
}

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7,
	"Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// parseOFACDOB reads "25 Apr 1965", "Apr 1965", "1965", "circa 1965",
// "1961 to 1963" and "01 Jan 1961 to 31 Dec 1963".
func parseOFACDOB(s string) (model.DOB, error) {
	s = clean(s)
	if rest, ok := strings.CutPrefix(s, "circa "); ok && len(rest) == 9 && rest[4] == '-' {
		s = rest[:4] + " to " + rest[5:] // "circa 1979-1982"
	}
	if lo, hi, ok := strings.Cut(s, " to "); ok {
		a, err := parseOFACDOB(lo)
		if err != nil {
			return model.DOB{}, err
		}
		b, err := parseOFACDOB(hi)
		if err != nil {
			return model.DOB{}, err
		}
		if b.To < a.From {
			return model.DOB{}, fmt.Errorf("DOB range %q ends before it starts", s)
		}
		return model.DOB{Kind: "between", From: a.From, To: b.To}, nil
	}
	approx := false
	if rest, ok := strings.CutPrefix(s, "circa "); ok {
		approx, s = true, rest
	}
	f := strings.Fields(s)
	var d model.DOB
	switch len(f) {
	case 1:
		y, err := dobYear(f[0])
		if err != nil {
			return d, err
		}
		d = model.DOB{Kind: "year", From: y, To: y}
	case 2:
		if _, ok := months[f[0]]; !ok {
			return d, fmt.Errorf("bad DOB month %q", f[0])
		}
		y, err := dobYear(f[1])
		if err != nil {
			return d, err
		}
		d = model.DOB{Kind: "year", From: y, To: y}
	case 3:
		t, err := time.Parse("02 Jan 2006", s)
		if err != nil {
			return d, fmt.Errorf("bad DOB %q", s)
		}
		d = model.DOB{Kind: "exact", Date: t, From: t.Year(), To: t.Year()}
	default:
		return d, fmt.Errorf("bad DOB %q", s)
	}
	if approx {
		d.Kind = "approximate"
	}
	return d, nil
}

func dobYear(s string) (int, error) {
	y, err := strconv.Atoi(s)
	if err != nil || y < 1800 || y > 2200 {
		return 0, fmt.Errorf("bad DOB year %q", s)
	}
	return y, nil
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

func appendUniq(xs []string, s string) []string {
	if s == "" {
		return xs
	}
	for _, x := range xs {
		if x == s {
			return xs
		}
	}
	return append(xs, s)
}
