package synth

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/redthread/redthread/internal/model"
)

// The TagPack follows the published GraphSense format (header title,
// creator, description, is_public; tags with label, address, currency,
// network, category, abuse, confidence, source, actor, lastmod). Each tag's
// context also carries redthread's exact claim as JSON ({"redthread":
// {"chain": …}}), which internal/intel reads back exactly; plain GraphSense
// tools ignore it.

type tagPackTag struct {
	Label      string `yaml:"label"`
	Address    string `yaml:"address"`
	Currency   string `yaml:"currency"`
	Network    string `yaml:"network"`
	Category   string `yaml:"category"`
	Abuse      string `yaml:"abuse,omitempty"`
	Confidence string `yaml:"confidence"`
	Source     string `yaml:"source"`
	Actor      string `yaml:"actor,omitempty"`
	Lastmod    string `yaml:"lastmod"`
	Context    string `yaml:"context"`
}

type tagPackActor struct {
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
}

type tagPack struct {
	Title       string         `yaml:"title"`
	Creator     string         `yaml:"creator"`
	Description string         `yaml:"description"`
	IsPublic    bool           `yaml:"is_public"`
	Actors      []tagPackActor `yaml:"actors,omitempty"`
	Tags        []tagPackTag   `yaml:"tags"`
}

type tagContext struct {
	Redthread tagClaim `json:"redthread"`
}

type tagClaim struct {
	Chain      string    `json:"chain"`
	Entity     string    `json:"entity,omitempty"`
	Category   string    `json:"category"`
	Confidence int       `json:"confidence"`
	Incident   string    `json:"incident,omitempty"`
	Source     tagSource `json:"source"`
}

type tagSource struct {
	Name      string `json:"name"`
	File      string `json:"file"`
	URL       string `json:"url"`
	Published string `json:"published"`
}

// graphSenseConcept maps a category onto GraphSense's concept and abuse.
func graphSenseConcept(c model.Category) (string, string) {
	switch c {
	case model.CatHack, model.CatDPRK:
		return "perpetrator", "service_hack"
	case model.CatMixer:
		return "mixing_service", ""
	case model.CatBridge:
		return "defi_bridge", ""
	case model.CatDEX:
		return "defi_dex", ""
	case model.CatOTC, model.CatExchange:
		return "exchange", ""
	}
	return string(c), ""
}

// labelConfidence is the confidence (redthread's 0–100 scale) of every label
// of the pack; GraphSense calls it "forensic".
const labelConfidence = 80

// writeTagPack writes the labels as a GraphSense TagPack.
func (w *World) writeTagPack(out io.Writer, ls []Label) error {
	p := w.Params
	lastmod := p.Start.AddDate(0, 0, p.Days)
	tp := tagPack{
		Title:   fmt.Sprintf("redthread synthetic world seed %d scale %d", p.Seed, p.Scale),
		Creator: "redthread synth",
		Description: "Labels of a synthetic world as an investigator would find them: only part of the services " +
			"and theft addresses are labelled, and a few labels are wrong (truth/labels.csv says which).",
		IsPublic: false,
		Tags:     []tagPackTag{},
	}
	src := fmt.Sprintf("https://redthread.invalid/synth/seed-%d", p.Seed)
	actors := map[string]bool{}
	for _, l := range ls {
		concept, abuse := graphSenseConcept(l.Category)
		claim := tagClaim{Chain: string(l.Chain), Entity: l.Entity, Category: string(l.Category), Confidence: labelConfidence,
			Source: tagSource{Name: "redthread synth labels", File: "synth.tagpack.yaml", URL: src, Published: lastmod.Format("2006-01-02T15:04:05Z")}}
		var actor string
		if id, ok := strings.CutPrefix(l.Entity, "actor:"); ok {
			actor, claim.Incident = id, id
			actors[id] = true
		}
		ctx, err := json.Marshal(tagContext{Redthread: claim})
		if err != nil {
			return err
		}
		tp.Tags = append(tp.Tags, tagPackTag{Label: l.Label, Address: l.Address, Currency: chainTicker(l.Chain),
			Network: chainTicker(l.Chain), Category: concept, Abuse: abuse, Confidence: "forensic", Source: src,
			Actor: actor, Lastmod: lastmod.Format("2006-01-02"), Context: string(ctx)})
	}
	for id := range actors {
		tp.Actors = append(tp.Actors, tagPackActor{ID: id, Label: "Synthetic DPRK-style actor (" + id + ")"})
	}
	sort.Slice(tp.Actors, func(i, j int) bool { return tp.Actors[i].ID < tp.Actors[j].ID })
	enc := yaml.NewEncoder(out)
	enc.SetIndent(2)
	if err := enc.Encode(&tp); err != nil {
		return err
	}
	return enc.Close()
}
