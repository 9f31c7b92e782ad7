package intel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redthread/redthread/internal/model"
)

// TagFields are the fields of a GraphSense tag. In a TagPack header they
// are defaults for every tag.
type TagFields struct {
	Label            string   `yaml:"label,omitempty"`
	Address          string   `yaml:"address,omitempty"`
	TxHash           string   `yaml:"tx_hash,omitempty"`
	Currency         string   `yaml:"currency,omitempty"`
	Network          string   `yaml:"network,omitempty"`
	Category         string   `yaml:"category,omitempty"`
	Abuse            string   `yaml:"abuse,omitempty"`
	Concepts         []string `yaml:"concepts,omitempty"`
	Confidence       string   `yaml:"confidence,omitempty"`
	Source           string   `yaml:"source,omitempty"`
	Actor            string   `yaml:"actor,omitempty"`
	Context          string   `yaml:"context,omitempty"`
	TagType          string   `yaml:"tag_type,omitempty"`
	IsClusterDefiner *bool    `yaml:"is_cluster_definer,omitempty"`
	Lastmod          string   `yaml:"lastmod,omitempty"`
	// Extra keeps fields redthread does not interpret, so a round trip
	// loses nothing.
	Extra map[string]any `yaml:",inline"`
}

// TagPackActor is an actor defined in a TagPack header.
type TagPackActor struct {
	ID            string   `yaml:"id"`
	Label         string   `yaml:"label,omitempty"`
	URI           string   `yaml:"uri,omitempty"`
	Categories    []string `yaml:"categories,omitempty"`
	Jurisdictions []string `yaml:"jurisdictions,omitempty"`
}

// TagPack is a GraphSense TagPack: a header and a list of tags.
type TagPack struct {
	Title       string `yaml:"title"`
	Creator     string `yaml:"creator"`
	Description string `yaml:"description,omitempty"`
	Owner       string `yaml:"owner,omitempty"`
	IsPublic    *bool  `yaml:"is_public,omitempty"`
	TagFields   `yaml:",inline"`
	Actors      []TagPackActor `yaml:"actors,omitempty"`
	Tags        []TagFields    `yaml:"tags"`

	lines []int // line of each tag in the parsed document
}

// GraphSense confidence levels (tagpack-tool confidence.csv): id → level.
var gsConfidenceLevel = map[string]int{
	"override": 100, "ownership": 100, "manual_transaction": 90, "service_api": 70, "authority_data": 60,
	"trusted_provider": 50, "service_data": 50, "forensic": 50, "untrusted_transaction": 40,
	"web_crawl": 20, "heuristic": 10, "unknown": 5,
}

// gsToConfidence maps a GraphSense confidence id onto redthread's scale.
var gsToConfidence = map[string]model.Confidence{
	"override": ConfAuthority, "ownership": ConfAuthority, "authority_data": ConfAuthority,
	"manual_transaction": 90, "forensic": ConfForensic, "service_api": 70,
	"trusted_provider": ConfProvider, "service_data": ConfProvider,
	"untrusted_transaction": ConfUntrusted, "web_crawl": ConfWebCrawl, "heuristic": ConfHeuristic, "unknown": ConfUnknown,
}

// ConfidenceToGraphSense names the GraphSense confidence level for a value
// of redthread's scale (docs/intel.md has the table).
func ConfidenceToGraphSense(c model.Confidence) string {
	switch {
	case c >= 95:
		return "authority_data"
	case c >= 85:
		return "manual_transaction"
	case c >= 75:
		return "forensic"
	case c >= 65:
		return "service_api"
	case c >= 50:
		return "trusted_provider"
	case c >= 30:
		return "untrusted_transaction"
	case c >= 15:
		return "web_crawl"
	case c >= 8:
		return "heuristic"
	}
	return "unknown"
}

// Category ↔ GraphSense concept.
var catToConcept = map[model.Category][2]string{ // category, abuse
	model.CatSanctioned: {"sanction", "sanction"}, model.CatDPRK: {"perpetrator", "service_hack"},
	model.CatHack: {"perpetrator", "service_hack"}, model.CatScam: {"scam", "scam"}, model.CatVictim: {"victim", ""},
	model.CatMixer: {"mixing_service", ""}, model.CatExchange: {"exchange", ""}, model.CatBridge: {"defi_bridge", ""},
	model.CatDEX: {"defi_dex", ""}, model.CatOTC: {"exchange", ""}, model.CatGambling: {"gambling", ""},
	model.CatDeFi: {"defi", ""}, model.CatMiner: {"miner", ""}, model.CatToken: {"defi", ""}, model.CatOther: {"organization", ""},
}

var conceptToCat = map[string]model.Category{
	"sanction": model.CatSanctioned, "perpetrator": model.CatHack, "service_hack": model.CatHack, "scam": model.CatScam,
	"phishing": model.CatScam, "ransomware": model.CatScam, "investment_fraud": model.CatScam, "ponzi_scheme": model.CatScam,
	"victim": model.CatVictim, "mixing_service": model.CatMixer, "coinjoin": model.CatMixer, "mixing": model.CatMixer,
	"exchange": model.CatExchange, "atm": model.CatExchange, "defi_bridge": model.CatBridge, "defi_dex": model.CatDEX,
	"gambling": model.CatGambling, "defi": model.CatDeFi, "defi_lending": model.CatDeFi, "miner": model.CatMiner,
	"mining_service": model.CatMiner,
}

// tagContext is what redthread writes into a tag's context (a JSON string
// in the TagPack schema) so an export re-imports exactly.
type tagContext struct {
	Redthread *rtContext `json:"redthread,omitempty"`
}

type rtContext struct {
	Chain      string `json:"chain"`
	Entity     string `json:"entity,omitempty"`
	Category   string `json:"category"`
	Confidence int    `json:"confidence"`
	Incident   string `json:"incident,omitempty"`
	Role       string `json:"role,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidTo    string `json:"valid_to,omitempty"`
	Source     struct {
		Name      string `json:"name,omitempty"`
		File      string `json:"file,omitempty"`
		URL       string `json:"url,omitempty"`
		Published string `json:"published,omitempty"`
		License   string `json:"license,omitempty"`
	} `json:"source"`
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// ParseTagPack reads a TagPack YAML document.
func ParseTagPack(in Input) (*TagPack, error) {
	data, err := gunzip(in.Name, in.Data)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, perr(in.Name, yamlErrLine(err), "", "yaml: %v", err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, perr(in.Name, max(root.Line, 1), "", "a TagPack is a YAML mapping")
	}
	var tp TagPack
	if err := root.Content[0].Decode(&tp); err != nil {
		return nil, perr(in.Name, yamlErrLine(err), "", "yaml: %v", err)
	}
	lines := tagLines(root.Content[0])
	for len(lines) < len(tp.Tags) {
		lines = append(lines, 0)
	}
	tp.lines = lines
	if strings.TrimSpace(tp.Title) == "" {
		return nil, perr(in.Name, 1, "title", "missing (mandatory header field)")
	}
	if strings.TrimSpace(tp.Creator) == "" {
		return nil, perr(in.Name, 1, "creator", "missing (mandatory header field)")
	}
	if tp.Tags == nil {
		return nil, perr(in.Name, 1, "tags", "missing (mandatory header field)")
	}
	for i := range tp.Tags {
		eff := tp.effective(i)
		line := lines[i]
		for _, f := range []struct{ name, v string }{{"label", eff.Label}, {"source", eff.Source}, {"confidence", eff.Confidence}} {
			if strings.TrimSpace(f.v) == "" {
				return nil, perr(in.Name, line, f.name, "missing (mandatory tag field)")
			}
		}
		if eff.Currency == "" && eff.Network == "" {
			return nil, perr(in.Name, line, "currency", "missing (mandatory tag field)")
		}
		if _, ok := gsConfidenceLevel[eff.Confidence]; !ok {
			return nil, perr(in.Name, line, "confidence", "unknown GraphSense confidence %q", eff.Confidence)
		}
		if eff.Lastmod != "" {
			if _, err := parseLastmod(eff.Lastmod); err != nil {
				return nil, perr(in.Name, line, "lastmod", "%v", err)
			}
		}
		if eff.Context != "" {
			var c tagContext
			if err := json.Unmarshal([]byte(eff.Context), &c); err != nil && strings.HasPrefix(strings.TrimSpace(eff.Context), "{") {
				return nil, perr(in.Name, line, "context", "json: %v", err)
			}
		}
	}
	return &tp, nil
}

func yamlErrLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// tagLines returns the line of each item of the tags list.
func tagLines(m *yaml.Node) []int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "tags" && m.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, n := range m.Content[i+1].Content {
				out = append(out, n.Line)
			}
			return out
		}
	}
	return nil
}

// effective returns tag i with the header's defaults filled in.
func (tp *TagPack) effective(i int) TagFields {
	t := tp.Tags[i]
	h := tp.TagFields
	fill := func(dst *string, def string) {
		if *dst == "" {
			*dst = def
		}
	}
	fill(&t.Label, h.Label)
	fill(&t.Currency, h.Currency)
	fill(&t.Network, h.Network)
	fill(&t.Category, h.Category)
	fill(&t.Abuse, h.Abuse)
	fill(&t.Confidence, h.Confidence)
	fill(&t.Source, h.Source)
	fill(&t.Actor, h.Actor)
	fill(&t.Context, h.Context)
	fill(&t.Lastmod, h.Lastmod)
	fill(&t.TagType, h.TagType)
	if t.Concepts == nil {
		t.Concepts = h.Concepts
	}
	if t.IsClusterDefiner == nil {
		t.IsClusterDefiner = h.IsClusterDefiner
	}
	return t
}

func parseLastmod(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad datetime %q", s)
}

// LoadTagPack imports a GraphSense TagPack: address tags become
// attributions; tags without an address (transaction tags) are skipped and
// counted. Header actors become entities of type other.
func LoadTagPack(in Input, o Options) (*Dataset, error) {
	tp, err := ParseTagPack(in)
	if err != nil {
		return nil, err
	}
	return tp.dataset(in.Name, o)
}

func (tp *TagPack) dataset(name string, o Options) (*Dataset, error) {
	ds := &Dataset{Kind: KindTagPack}
	ds.Source = o.source(tp.Title, "", "", path.Base(filepath.ToSlash(name)))
	for i := range tp.Tags {
		t := tp.effective(i)
		if t.Address == "" {
			ds.Skipped++
			continue
		}
		a, field, err := tp.attribution(t, ds.Source)
		if err != nil {
			return nil, perr(name, tp.lines[i], field, "%v", err)
		}
		ds.Attributions = append(ds.Attributions, a)
	}
	for _, ac := range tp.Actors {
		if ac.ID == "" {
			return nil, perr(name, 0, "actors", "actor without id")
		}
		e := model.Entity{ID: "actor:" + ac.ID, Type: model.EntityOther, Source: ds.Source}
		e.Names = []model.Name{{Full: defaultStr(ac.Label, ac.ID)}}
		if ac.URI != "" {
			e.Identifiers = append(e.Identifiers, model.Identifier{Type: "website", Number: ac.URI})
		}
		ds.Entities = append(ds.Entities, e)
	}
	return ds, nil
}

func (tp *TagPack) attribution(t TagFields, base model.Source) (model.Attribution, string, error) {
	var ctx tagContext
	if t.Context != "" {
		_ = json.Unmarshal([]byte(t.Context), &ctx) // context is free text unless it is redthread's JSON
	}
	if rc := ctx.Redthread; rc != nil {
		c := model.Chain(rc.Chain)
		if !KnownChain(c) {
			return model.Attribution{}, "context", fmt.Errorf("unknown chain %q", rc.Chain)
		}
		addr, err := NormalizeAddress(c, t.Address)
		if err != nil {
			return model.Attribution{}, "address", err
		}
		a := model.Attribution{Chain: c, Address: addr, Entity: rc.Entity, Label: t.Label, Category: model.Category(rc.Category),
			Incident: rc.Incident, Role: rc.Role, Confidence: model.Confidence(min(max(rc.Confidence, 0), 100))}
		a.Source = model.Source{Name: rc.Source.Name, File: rc.Source.File, URL: rc.Source.URL, License: rc.Source.License}
		var perr error
		parse := func(s string) time.Time {
			if s == "" {
				return time.Time{}
			}
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil && perr == nil {
				perr = fmt.Errorf("context: bad time %q", s)
			}
			return tm.UTC()
		}
		a.ValidFrom, a.ValidTo, a.Source.Published = parse(rc.ValidFrom), parse(rc.ValidTo), parse(rc.Source.Published)
		return a, "context", perr
	}
	chainName := t.Network
	if chainName == "" {
		chainName = t.Currency
	}
	c, err := chainForTicker(chainName, t.Address)
	if err != nil {
		return model.Attribution{}, "currency", err
	}
	addr, err := NormalizeAddress(c, t.Address)
	if err != nil {
		return model.Attribution{}, "address", err
	}
	a := model.Attribution{Chain: c, Address: addr, Label: t.Label, Confidence: gsToConfidence[t.Confidence]}
	a.Category = model.CatOther
	for _, concept := range append([]string{t.Abuse, t.Category}, t.Concepts...) {
		if cat, ok := conceptToCat[concept]; ok {
			a.Category = cat
			break
		}
	}
	if t.Actor != "" {
		a.Entity = "actor:" + t.Actor
	}
	a.Source = base
	a.Source.Name = base.Name
	if strings.HasPrefix(t.Source, "http://") || strings.HasPrefix(t.Source, "https://") {
		a.Source.URL = t.Source
	} else {
		a.Source.Name = t.Source
	}
	if t.Lastmod != "" {
		a.Source.Published, _ = parseLastmod(t.Lastmod)
	}
	return a, "", nil
}

// ExportTagPack writes attributions as a GraphSense TagPack. Each tag
// carries the GraphSense fields (label, address, currency, network,
// category, abuse, confidence, source, actor, lastmod) and, in context,
// redthread's exact claim, so importing the export gives the same
// attributions back.
func ExportTagPack(title, creator, description string, attrs []model.Attribution) *TagPack {
	pub := true
	tp := &TagPack{Title: title, Creator: creator, Description: description, IsPublic: &pub, Tags: []TagFields{}}
	actors := map[string]bool{}
	for _, a := range attrs {
		cc := catToConcept[a.Category]
		t := TagFields{Label: a.Label, Address: a.Address, Currency: currencyOf(a.Chain), Network: currencyOf(a.Chain),
			Category: cc[0], Abuse: cc[1], Confidence: ConfidenceToGraphSense(a.Confidence),
			Source: defaultStr(a.Source.URL, a.Source.Name)}
		if t.Label == "" {
			t.Label = string(a.Category)
		}
		if IsInferred(&a) {
			t.Confidence = "heuristic" // redthread's own inference, whatever its value (kept in the context)
		}
		if t.Source == "" {
			t.Source = "redthread"
		}
		if !a.Source.Published.IsZero() {
			t.Lastmod = a.Source.Published.UTC().Format(time.DateOnly)
		}
		if id, ok := strings.CutPrefix(a.Entity, "actor:"); ok {
			t.Actor = id
			if !actors[id] {
				actors[id] = true
				tp.Actors = append(tp.Actors, TagPackActor{ID: id, Label: id})
			}
		}
		rc := &rtContext{Chain: string(a.Chain), Entity: a.Entity, Category: string(a.Category), Confidence: int(a.Confidence),
			Incident: a.Incident, Role: a.Role, ValidFrom: fmtTime(a.ValidFrom), ValidTo: fmtTime(a.ValidTo)}
		rc.Source.Name, rc.Source.File, rc.Source.URL, rc.Source.License = a.Source.Name, a.Source.File, a.Source.URL, a.Source.License
		rc.Source.Published = fmtTime(a.Source.Published)
		b, _ := json.Marshal(tagContext{Redthread: rc})
		t.Context = string(b)
		tp.Tags = append(tp.Tags, t)
	}
	sort.Slice(tp.Actors, func(i, j int) bool { return tp.Actors[i].ID < tp.Actors[j].ID })
	return tp
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// chainCurrency names each chain's currency as TagPacks do; every value
// maps back onto its chain through tickerChains.
var chainCurrency = map[model.Chain]string{
	model.ChainBTC: "BTC", model.ChainETH: "ETH", ChainTRON: "TRX", ChainLTC: "LTC", ChainBCH: "BCH", ChainBSV: "BSV",
	ChainBTG: "BTG", ChainDash: "DASH", ChainXMR: "XMR", ChainZEC: "ZEC", ChainXRP: "XRP", ChainXVG: "XVG", ChainSOL: "SOL",
	ChainADA: "ADA", ChainDOGE: "DOGE", ChainETC: "ETC", ChainBSC: "BSC", ChainArbitrum: "ARB", ChainPolygon: "MATIC",
	ChainOptimism: "OP", ChainAvalanche: "AVAX", ChainFantom: "FTM",
}

func currencyOf(c model.Chain) string {
	if s, ok := chainCurrency[c]; ok {
		return s
	}
	return strings.ToUpper(string(c))
}

// Marshal writes the TagPack as YAML.
func (tp *TagPack) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(tp); err != nil {
		return nil, fmt.Errorf("encode tagpack: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode tagpack: %w", err)
	}
	return buf.Bytes(), nil
}
