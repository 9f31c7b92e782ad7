package synth

import (
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

type tagPackTag struct {
	Label      string `yaml:"label"`
	Address    string `yaml:"address"`
	Currency   string `yaml:"currency"`
	Network    string `yaml:"network,omitempty"`
	Category   string `yaml:"category"`
	Confidence string `yaml:"confidence"`
	Source     string `yaml:"source"`
	Actor      string `yaml:"actor,omitempty"`
}

type tagPack struct {
	Title       string       `yaml:"title"`
	Creator     string       `yaml:"creator"`
	Description string       `yaml:"description"`
	IsPublic    bool         `yaml:"is_public"`
	LastMod     string       `yaml:"lastmod"`
	Tags        []tagPackTag `yaml:"tags"`
}

// writeTagPack writes the labels as a GraphSense TagPack.
func (w *World) writeTagPack(out io.Writer, ls []Label) error {
	p := w.Params
	tp := tagPack{
		Title:   fmt.Sprintf("redthread synthetic world seed %d scale %d", p.Seed, p.Scale),
		Creator: "redthread synth",
		Description: "Labels of a synthetic world as an investigator would find them: only part of the services " +
			"and theft addresses are labelled, and a few labels are wrong (see truth/labels.csv).",
		IsPublic: false,
		LastMod:  p.Start.AddDate(0, 0, p.Days).Format("2006-01-02"),
	}
	src := fmt.Sprintf("https://redthread.invalid/synth/seed-%d", p.Seed)
	for _, l := range ls {
		t := tagPackTag{Label: l.Label, Address: l.Address, Currency: chainTicker(l.Chain), Network: string(l.Chain),
			Category: string(l.Category), Confidence: "forensic", Source: src}
		tp.Tags = append(tp.Tags, t)
	}
	enc := yaml.NewEncoder(out)
	enc.SetIndent(2)
	if err := enc.Encode(&tp); err != nil {
		return err
	}
	return enc.Close()
}
