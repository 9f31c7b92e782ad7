package web

import (
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// incidentJSON is one incident with its attributed addresses.
type incidentJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	When        string         `json:"when,omitempty"`
	StolenUSD   uint64         `json:"stolen_usd,omitempty"`
	StolenKnown bool           `json:"stolen_known"`
	Attribution string         `json:"attribution,omitempty"`
	Marker      string         `json:"marker,omitempty"`
	Source      string         `json:"source,omitempty"`
	SourceURL   string         `json:"source_url,omitempty"`
	Addresses   int            `json:"addresses"`
	Indexed     int            `json:"indexed"` // addresses on chains the server indexed
	Chains      []string       `json:"chains"`
	Seeds       []incidentSeed `json:"seeds,omitempty"`
	Members     []incidentAddr `json:"members,omitempty"`
}

// incidentSeed is a theft address: where a trace of the incident starts.
type incidentSeed struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
}

type incidentAddr struct {
	Chain    string `json:"chain"`
	Address  string `json:"address"`
	Label    string `json:"label,omitempty"`
	Role     string `json:"role,omitempty"`
	Category string `json:"category"`
	Source   string `json:"source,omitempty"`
	Indexed  bool   `json:"indexed"`
}

// incidentCache holds the incidents of one intel DB.
type incidentCache struct {
	mu  sync.Mutex
	db  *intel.DB
	all []incidentJSON
	by  map[string]*incidentJSON
}

// incidentList gathers the incidents of the intel DB: the incident packs'
// incidents and every incident id named by an attribution.
func (h *Handler) incidentList() ([]incidentJSON, map[string]*incidentJSON) {
	db := h.current().DB
	if db == nil {
		return []incidentJSON{}, map[string]*incidentJSON{}
	}
	h.inc.mu.Lock()
	defer h.inc.mu.Unlock()
	if h.inc.db == db {
		return h.inc.all, h.inc.by
	}
	byID := map[string]*incidentJSON{}
	var order []string
	for _, in := range db.Incidents() {
		in := in
		byID[in.ID] = &incidentJSON{ID: in.ID, Name: in.Name, When: in.When(), StolenUSD: in.StolenUSD, StolenKnown: in.StolenKnown,
			Attribution: in.Attribution, Marker: in.Marker, Source: in.Source.Name, SourceURL: in.Source.URL}
		order = append(order, in.ID)
	}
	indexed := map[model.Chain]*graph.Chain{}
	var gr *graph.Reader
	if h.opts.Graph != nil {
		gr = h.opts.Graph.Reader()
		defer gr.Close()
		for _, c := range gr.Chains() {
			indexed[c], _ = gr.Chain(c)
		}
	}
	db.Each(func(a model.Attribution) bool {
		if a.Incident == "" {
			return true
		}
		in, ok := byID[a.Incident]
		if !ok {
			in = &incidentJSON{ID: a.Incident, Name: a.Incident, Source: a.Source.Name, SourceURL: a.Source.URL}
			byID[a.Incident] = in
			order = append(order, a.Incident)
		}
		in.Addresses++
		ch, ok := indexed[a.Chain]
		m := incidentAddr{Chain: string(a.Chain), Address: a.Address, Label: a.Label, Role: a.Role, Category: string(a.Category), Source: a.Source.Name}
		if ok {
			if _, known := ch.Lookup(a.Address); known {
				m.Indexed = true
				in.Indexed++
			}
		}
		if !containsStr(in.Chains, string(a.Chain)) {
			in.Chains = append(in.Chains, string(a.Chain))
		}
		if len(in.Members) < 2000 {
			in.Members = append(in.Members, m)
		}
		return true
	})
	all := make([]incidentJSON, 0, len(order))
	for _, id := range order {
		in := byID[id]
		sort.Strings(in.Chains)
		in.Seeds = theftSeeds(in.Members, indexed)
		all = append(all, *in)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if (all[i].Indexed > 0) != (all[j].Indexed > 0) {
			return all[i].Indexed > 0
		}
		return all[i].When > all[j].When
	})
	by := map[string]*incidentJSON{}
	for i := range all {
		by[all[i].ID] = &all[i]
	}
	h.inc.db, h.inc.all, h.inc.by = db, all, by
	return all, by
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// theftSeeds picks where a trace of an incident starts, per indexed chain:
// the addresses with role "theft" if any; otherwise the attributed
// addresses that received nothing from another attributed address (the
// roots of the incident's flow).
func theftSeeds(members []incidentAddr, indexed map[model.Chain]*graph.Chain) []incidentSeed {
	var out []incidentSeed
	byChain := map[string][]incidentAddr{}
	for _, m := range members {
		if m.Indexed {
			byChain[m.Chain] = append(byChain[m.Chain], m)
		}
	}
	chains := make([]string, 0, len(byChain))
	for c := range byChain {
		chains = append(chains, c)
	}
	sort.Strings(chains)
	for _, c := range chains {
		ms := byChain[c]
		var theft []incidentSeed
		for _, m := range ms {
			if strings.EqualFold(m.Role, "theft") || strings.Contains(strings.ToLower(m.Label), " theft") {
				theft = append(theft, incidentSeed{c, m.Address})
			}
		}
		if len(theft) > 0 {
			out = append(out, dedupSeeds(theft)...)
			continue
		}
		ch := indexed[model.Chain(c)]
		ids := map[uint32]bool{}
		for _, m := range ms {
			if id, ok := ch.Lookup(m.Address); ok {
				ids[id] = true
			}
		}
		var roots []incidentSeed
		for _, m := range ms {
			id, _ := ch.Lookup(m.Address)
			if !reachedFrom(ch, id, ids) {
				roots = append(roots, incidentSeed{c, m.Address})
			}
		}
		if len(roots) == 0 && len(ms) > 0 {
			roots = append(roots, incidentSeed{c, ms[0].Address})
		}
		out = append(out, dedupSeeds(roots)...)
	}
	return out
}

func dedupSeeds(s []incidentSeed) []incidentSeed {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x.Address] {
			seen[x.Address] = true
			out = append(out, x)
		}
	}
	if len(out) > 50 {
		out = out[:50]
	}
	return out
}

func (h *Handler) incidents(w http.ResponseWriter, r *http.Request) error {
	all, _ := h.incidentList()
	list := make([]incidentJSON, len(all))
	for i, in := range all {
		in.Members = nil
		list[i] = in
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": list})
	return nil
}

func (h *Handler) incident(w http.ResponseWriter, r *http.Request) error {
	_, by := h.incidentList()
	in, ok := by[r.PathValue("id")]
	if !ok {
		return notFound("no incident %q", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// searchIncidents matches incident ids and names.
func (h *Handler) searchIncidents(q string) []Hit {
	all, _ := h.incidentList()
	lq := lower(q)
	var hits []Hit
	for _, in := range all {
		if strings.Contains(strings.ToLower(in.ID), lq) || strings.Contains(strings.ToLower(in.Name), lq) {
			d := in.When
			if in.Indexed > 0 {
				d += " · traceable here"
			}
			hits = append(hits, Hit{Kind: HitIncident, ID: in.ID, Title: in.Name, Detail: strings.TrimPrefix(d, " · ")})
			if len(hits) == 20 {
				break
			}
		}
	}
	return hits
}

// reachedFrom reports whether another attributed address sends to id within
// three hops (a backward walk over at most 200 inputs per address and 5,000
// addresses in all, so hubs stay cheap).
func reachedFrom(ch *graph.Chain, id uint32, members map[uint32]bool) bool {
	seen := map[uint32]bool{id: true}
	frontier := []uint32{id}
	var buf []uint32
	for depth := 0; depth < 3 && len(frontier) > 0; depth++ {
		var next []uint32
		for _, a := range frontier {
			buf = ch.In(a, buf[:0])
			if len(buf) > 200 {
				buf = buf[:200]
			}
			for _, s := range buf {
				src := ch.Transfer(s).Src
				if seen[src] {
					continue
				}
				if members[src] {
					return true
				}
				seen[src] = true
				if len(seen) > 5000 {
					return false
				}
				next = append(next, src)
			}
		}
		frontier = next
	}
	return false
}
