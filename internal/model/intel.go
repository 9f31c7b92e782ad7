package model

import "time"

// Category is a risk category of the attribution taxonomy (docs/intel.md).
type Category string

// The taxonomy. Engines treat the first group as risky sources or
// destinations of funds and the second as services that end a trace.
const (
	CatSanctioned Category = "sanctioned"
	CatDPRK       Category = "dprk" // attributed to DPRK state actors
	CatHack       Category = "hack" // hack or theft proceeds, attacker-controlled
	CatScam       Category = "scam" // scam, phishing, fraud
	CatVictim     Category = "victim"
	CatMixer      Category = "mixer"
	CatExchange   Category = "exchange"
	CatBridge     Category = "bridge"
	CatDEX        Category = "dex"
	CatOTC        Category = "otc"
	CatGambling   Category = "gambling"
	CatDeFi       Category = "defi"
	CatMiner      Category = "miner"
	CatToken      Category = "token"
	CatOther      Category = "other"
)

// Confidence is an integer 0–100; docs/intel.md maps it onto GraphSense's
// named confidence levels.
type Confidence uint8

// Source says on whose word an attribution stands.
type Source struct {
	Name      string    // e.g. "OFAC SDN", "UN consolidated list", "tayvano/lazarus-bluenoroff-research"
	File      string    // file the claim was read from
	URL       string    // where the source is published
	Published time.Time // publication date of the list or pack; zero if unknown
	License   string
}

// Attribution is one claim that an address belongs to an entity, actor or category.
type Attribution struct {
	Chain      Chain
	Address    string // canonical
	Entity     string // entity or actor id (e.g. "ofac:12345", "actor:lazarus"); may be empty
	Label      string // human-readable name or label
	Category   Category
	Incident   string // incident id, for hack packs
	Role       string // role in the incident, free text from the source
	Source     Source
	Confidence Confidence
	ValidFrom  time.Time // zero: unknown start
	ValidTo    time.Time // zero: still valid; otherwise the first instant it no longer holds (delisting)
}

// ValidAt reports whether the claim holds at t.
func (a *Attribution) ValidAt(t time.Time) bool {
	if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
		return false
	}
	return a.ValidTo.IsZero() || t.Before(a.ValidTo)
}

// EntityType says what kind of party a listed entity is.
type EntityType string

// Entity types.
const (
	EntityPerson   EntityType = "person"
	EntityCompany  EntityType = "company"
	EntityVessel   EntityType = "vessel"
	EntityAircraft EntityType = "aircraft"
	EntityOther    EntityType = "other"
)

// AliasQuality grades an alias as its source does.
type AliasQuality string

// Alias qualities (UN "Good"/"Low", OFAC "strong"/"weak" a.k.a.).
const (
	AliasStrong AliasQuality = "strong"
	AliasWeak   AliasQuality = "weak"
)

// Name is one name of an entity.
type Name struct {
	Full    string
	Quality AliasQuality // empty for the primary name
	Script  string       // e.g. "Latin", "Hangul", "Han"; empty if Latin or unknown
}

// DOB is a date of birth as lists give them: exact, a year, or a range of years.
type DOB struct {
	Kind string // "exact", "year", "approximate", "between"
	Date time.Time
	From int // years, for "between" and "approximate"
	To   int
}

// Identifier is an identity document or registration number.
type Identifier struct {
	Type    string // "passport", "national id", "email", …
	Number  string
	Country string
}

// Wallet is a digital currency address linked to an entity by a list.
type Wallet struct {
	Chain   Chain
	Ticker  string
	Address string
}

// Entity is a listed person, company, vessel or other party.
type Entity struct {
	ID            string // source-scoped, e.g. "ofac:12345", "un:6908555"
	Type          EntityType
	Names         []Name // Names[0] is the primary name
	DOBs          []DOB
	Nationalities []string
	Identifiers   []Identifier
	Addresses     []string // postal addresses, one line each ("street, city, country")
	Wallets       []Wallet
	Programs      []string // sanctions programs, e.g. "DPRK3"
	Related       []string // ids or names of linked entities
	Remarks       string
	Source        Source
	ListedOn      time.Time
	DelistedOn    time.Time
}
