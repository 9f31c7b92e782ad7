package intel

import (
	"encoding/json"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// SourceJSON is the documented JSON form of a model.Source.
type SourceJSON struct {
	Name      string `json:"name"`
	File      string `json:"file,omitempty"`
	URL       string `json:"url,omitempty"`
	Published string `json:"published,omitempty"` // YYYY-MM-DD
	License   string `json:"license,omitempty"`
}

// ClaimJSON is the documented JSON form of a Claim (docs/intel.md).
type ClaimJSON struct {
	Chain         model.Chain    `json:"chain"`
	Address       string         `json:"address"`
	Category      model.Category `json:"category"`
	Status        string         `json:"status"`
	Entity        string         `json:"entity,omitempty"`
	Label         string         `json:"label,omitempty"`
	Incident      string         `json:"incident,omitempty"`
	Role          string         `json:"role,omitempty"`
	Confidence    int            `json:"confidence"`
	GraphSense    string         `json:"graphsense_confidence"`
	ValidFrom     string         `json:"valid_from,omitempty"` // YYYY-MM-DD; absent: unknown start
	ValidTo       string         `json:"valid_to,omitempty"`   // YYYY-MM-DD, first day it no longer holds; absent: open
	Source        SourceJSON     `json:"source"`
	DelistedBy    *SourceJSON    `json:"delisted_by,omitempty"`
	DelistingNote *SourceJSON    `json:"delisting_note,omitempty"`
	// Inferred marks redthread's own inference (source heuristic:…), with
	// its evidence when the DB keeps it.
	Inferred bool      `json:"inferred,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
	// EvidenceError: why the evidence could not be read (Claim.EvidenceError).
	EvidenceError string `json:"evidence_error,omitempty"`
}

func jsonDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// ToSourceJSON converts a source to its JSON form.
func ToSourceJSON(s model.Source) SourceJSON {
	return SourceJSON{Name: s.Name, File: s.File, URL: s.URL, Published: jsonDay(s.Published), License: s.License}
}

// JSON returns the claim's documented JSON form.
func (c Claim) JSON() ClaimJSON {
	j := ClaimJSON{Chain: c.Chain, Address: c.Address, Category: c.Category, Status: c.Status, Entity: c.Entity,
		Label: c.Label, Incident: c.Incident, Role: c.Role, Confidence: int(c.Confidence),
		GraphSense: ConfidenceToGraphSense(c.Confidence), ValidFrom: jsonDay(c.ValidFrom), ValidTo: jsonDay(c.ValidTo),
		Source: ToSourceJSON(c.Source), Inferred: c.Inferred, Evidence: c.Evidence, EvidenceError: c.EvidenceError}
	if c.Inferred {
		j.GraphSense = "heuristic"
	}
	if c.DelistedBy != nil {
		s := ToSourceJSON(*c.DelistedBy)
		j.DelistedBy = &s
	}
	if c.DelistingNote != nil {
		s := ToSourceJSON(*c.DelistingNote)
		j.DelistingNote = &s
	}
	return j
}

// MarshalJSON writes the documented JSON form.
func (c Claim) MarshalJSON() ([]byte, error) { return json.Marshal(c.JSON()) }
