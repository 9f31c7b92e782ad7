package intel

import (
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// Confidence anchors of redthread's scale (docs/intel.md maps them onto
// GraphSense's named levels).
const (
	ConfAuthority  model.Confidence = 100 // official list of a public authority (OFAC, UN)
	ConfForensic   model.Confidence = 80  // curated forensic research tied to an official attribution
	ConfProvider   model.Confidence = 60  // trusted third-party labels (explorers, Forta)
	ConfUntrusted  model.Confidence = 40
	ConfWebCrawl   model.Confidence = 20
	ConfHeuristic  model.Confidence = 10
	ConfUnknown    model.Confidence = 5
	dprkPackSource                  = "DPRK incident pack (redthread, after tayvano/lazarus-bluenoroff-research)"
)

// LoadDPRK reads the DPRK incident pack: an addresses CSV
// (incident,incident_date,chain,address,role,source_repo,source_path,
// source_commit,attribution) and/or an incidents CSV
// (date,marker,incident,value_stolen_usd). Roles starting with "victim:"
// are victims; exchange deposit addresses are exchange-controlled; every
// other address is attacker-controlled and attributed to DPRK.
func LoadDPRK(ins []Input, o Options) (*Dataset, error) {
	ds := &Dataset{Kind: KindDPRK}
	var names []string
	for _, in := range ins {
		names = append(names, path.Base(filepath.ToSlash(in.Name)))
	}
	attributions := map[string]string{}
	ds.Source = o.source(dprkPackSource, "https://github.com/tayvano/lazarus-bluenoroff-research", "no license stated upstream; cite Taylor Monahan's research", strings.Join(names, ","))
	for _, in := range ins {
		head, err := csvHeader(in)
		if err != nil {
			return nil, err
		}
		switch {
		case head["address"] && head["role"]:
			if err := loadDPRKAddresses(ds, in, attributions); err != nil {
				return nil, err
			}
		case head["value_stolen_usd"]:
			if err := loadDPRKIncidents(ds, in); err != nil {
				return nil, err
			}
		default:
			return nil, perr(in.Name, 1, "", "neither an incident addresses CSV nor an incidents CSV")
		}
	}
	// Incidents take who attributed them from their address rows.
	for i := range ds.Incidents {
		if ds.Incidents[i].Attribution == "" {
			ds.Incidents[i].Attribution = attributions[ds.Incidents[i].ID]
		}
	}
	return ds, nil
}

func csvHeader(in Input) (map[string]bool, error) {
	recs, _, err := readCSVHeaderOnly(in)
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, h := range recs {
		m[strings.TrimSpace(h)] = true
	}
	return m, nil
}

func readCSVHeaderOnly(in Input) ([]string, int, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, 0, err
	}
	line, _, _ := strings.Cut(string(data[:min(len(data), 4096)]), "\n")
	line = strings.TrimPrefix(strings.TrimRight(line, "\r"), "\ufeff")
	return strings.Split(line, ","), 1, nil
}

// Slug makes an incident or actor id from a name: "Ronin Bridge" → "ronin-bridge".
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func loadDPRKAddresses(ds *Dataset, in Input, attributions map[string]string) error {
	recs, lines, err := readCSV(in, []string{"incident", "incident_date", "chain", "address", "role", "source_repo", "source_path", "source_commit", "attribution"})
	if err != nil {
		return err
	}
	for i, r := range recs {
		if r["incident"] == "" {
			return perr(in.Name, lines[i], "incident", "empty")
		}
		c, ok := tickerChains[strings.ToUpper(r["chain"])]
		if !ok {
			return perr(in.Name, lines[i], "chain", "unknown chain %q", r["chain"])
		}
		a, err := NormalizeAddress(c, r["address"])
		if err != nil {
			return perr(in.Name, lines[i], "address", "%v", err)
		}
		if r["incident_date"] != "" {
			if _, err := day(r["incident_date"]); err != nil {
				return perr(in.Name, lines[i], "incident_date", "bad date %q", r["incident_date"])
			}
		}
		if r["attribution"] != "" {
			attributions[Slug(r["incident"])] = r["attribution"]
		}
		role := clean(r["role"])
		if role == "" {
			return perr(in.Name, lines[i], "role", "empty")
		}
		at := model.Attribution{Chain: c, Address: a, Incident: Slug(r["incident"]), Role: role,
			Label: r["incident"] + ": " + role, Source: rowSource(fileSource(ds.Source, in.Name), r)}
		switch {
		case strings.HasPrefix(strings.ToLower(role), "victim:"):
			at.Category, at.Confidence = model.CatVictim, ConfForensic
		case strings.Contains(strings.ToLower(role), "deposit address"):
			// An exchange's deposit address the attacker paid into: the
			// exchange controls it; the trace ends there.
			at.Category, at.Confidence = model.CatExchange, ConfForensic
		default:
			at.Category, at.Confidence = model.CatDPRK, ConfForensic
			at.Entity = actorOf(r["attribution"])
		}
		ds.Attributions = append(ds.Attributions, at)
	}
	return nil
}

// actorOf names the actor an attribution statement points at.
func actorOf(attribution string) string {
	s := strings.ToLower(attribution)
	switch {
	case strings.Contains(s, "tradertraitor"):
		return "actor:tradertraitor"
	case strings.Contains(s, "lazarus"), strings.Contains(s, "apt38"):
		return "actor:lazarus-group"
	}
	return "actor:dprk"
}

func rowSource(base model.Source, r map[string]string) model.Source {
	s := base
	repo := r["source_repo"]
	if strings.Count(repo, "/") == 1 && !strings.ContainsAny(repo, " ()") {
		s.Name = repo
		if r["source_commit"] != "" && r["source_path"] != "" {
			s.URL = "https://github.com/" + repo + "/blob/" + r["source_commit"] + "/" + (&url.URL{Path: r["source_path"]}).EscapedPath()
		} else {
			s.URL = "https://github.com/" + repo
		}
	} else if p := r["source_path"]; p != "" {
		s.Name = p
		s.URL = ""
	}
	return s
}

func loadDPRKIncidents(ds *Dataset, in Input) error {
	recs, lines, err := readCSV(in, []string{"date", "marker", "incident", "value_stolen_usd"})
	if err != nil {
		return err
	}
	for i, r := range recs {
		inc := Incident{ID: Slug(r["incident"]), Name: r["incident"], Marker: r["marker"], Source: fileSource(ds.Source, in.Name)}
		if inc.ID == "" {
			return perr(in.Name, lines[i], "incident", "empty")
		}
		switch d := r["date"]; len(d) {
		case 0:
		case 4:
			y, err := strconv.Atoi(d)
			if err != nil {
				return perr(in.Name, lines[i], "date", "bad year %q", d)
			}
			inc.Year = y
		default:
			t, err := day(d)
			if err != nil {
				return perr(in.Name, lines[i], "date", "bad date %q", d)
			}
			inc.Date, inc.Year = t, t.Year()
		}
		if v := strings.ReplaceAll(r["value_stolen_usd"], ",", ""); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return perr(in.Name, lines[i], "value_stolen_usd", "not a whole number of dollars: %q", r["value_stolen_usd"])
			}
			inc.StolenUSD, inc.StolenKnown = n, true
		}
		ds.Incidents = append(ds.Incidents, inc)
	}
	return nil
}

// When is the incident date for display: the date, the year, or "".
func (i *Incident) When() string {
	switch {
	case !i.Date.IsZero():
		return i.Date.Format(time.DateOnly)
	case i.Year != 0:
		return strconv.Itoa(i.Year)
	}
	return ""
}
