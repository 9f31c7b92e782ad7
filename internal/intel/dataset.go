package intel

import (
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redthread/redthread/internal/model"
)

// Kinds of dataset, one per loader. `redthread intel load KIND FILE…` takes
// these names.
const (
	KindUN              = "un-xml"           // UN Security Council consolidated list XML
	KindOFACCSV         = "ofac-csv"         // OFAC sdn.csv (+ add.csv, alt.csv, sdn_comments.csv)
	KindOFACAdvanced    = "ofac-advanced"    // OFAC SDN_ADVANCED.XML
	KindOFACAddresses   = "ofac-addresses"   // per-ticker sanctioned_addresses_<TICKER>.json/.txt
	KindOFACETHCSV      = "ofac-eth-csv"     // address,name CSV of OFAC-listed Ethereum addresses
	KindDPRK            = "dprk"             // DPRK incident pack (addresses and incidents CSVs)
	KindEtherscanLabels = "etherscan-labels" // <chain>_combinedAllLabels.json label clouds
	KindForta           = "forta"            // Forta labelled-datasets CSVs
	KindTagPack         = "tagpack"          // GraphSense TagPack YAML
	KindDelistings      = "delistings"       // known official delistings CSV
)

// Kinds lists every dataset kind.
var Kinds = []string{KindUN, KindOFACCSV, KindOFACAdvanced, KindOFACAddresses, KindOFACETHCSV,
	KindDPRK, KindEtherscanLabels, KindForta, KindTagPack, KindDelistings}

// The list whose snapshots the OFAC digital currency address sources are.
const ListOFACDigitalCurrency = "ofac-sdn-digital-currency"

// Incident is a theft or hack, as an incident pack describes it.
type Incident struct {
	ID          string       `json:"id"`            // e.g. "ronin-bridge"
	Name        string       `json:"name"`          // e.g. "Ronin Bridge"
	Date        time.Time    `json:"date,omitzero"` // zero if unknown; Year set when only the year is known
	Year        int          `json:"year,omitempty"`
	Marker      string       `json:"marker,omitempty"`     // how it happened, as the source classes it (key, wallet, job)
	StolenUSD   uint64       `json:"stolen_usd,omitempty"` // whole US dollars; see StolenKnown
	StolenKnown bool         `json:"stolen_known"`
	Attribution string       `json:"attribution,omitempty"` // who attributed it, e.g. "Lazarus/APT38 (FBI 2022-04-14)"
	Source      model.Source `json:"source"`
}

// Delisting records that an address left a list on a date, on someone's word.
type Delisting struct {
	List    string
	Chain   model.Chain
	Address string
	Entity  string // name of the delisted entity, e.g. "TORNADO CASH"
	On      time.Time
	Source  model.Source
}

// Dataset is what a loader produces from one file or one set of files.
type Dataset struct {
	Kind   string
	Source model.Source
	// List names the list this dataset is a snapshot of, when it is one
	// (ListOFACDigitalCurrency). Covers lists the chains on which the
	// snapshot is complete: an address of such a chain listed in an older
	// snapshot and absent here has been delisted.
	List         string
	Covers       []model.Chain
	Attributions []model.Attribution
	Entities     []model.Entity
	Incidents    []Incident
	Delistings   []Delisting
	// Skipped counts source records that are not addresses at all (scraper
	// artefacts such as "genesis"); they are dropped, not loaded.
	Skipped int
	// Warnings name items that were kept only as text because redthread
	// could not read them as what they claim to be (file:line: field: …).
	Warnings []string
	// Inferred describes the inference run of a KindInferred dataset, and
	// Evidence (parallel to Attributions) what each attribution rests on.
	Inferred *InferredInfo
	Evidence []Evidence
	// evidence, when set, replaces Evidence: a stored set's records, read
	// on demand (Store.DB). stream, when set, replaces Attributions: it
	// calls fn with each of the streamN attributions in turn.
	evidence evidenceTable
	stream   func(fn func(i int, a *model.Attribution) error) error
	streamN  int
}

// Input is one file handed to a loader.
type Input struct {
	Name string // file name as the user gave it (used in errors and provenance)
	Data []byte // raw bytes; gzip-compressed input is detected and expanded
}

// Options carry what a file cannot say about itself.
type Options struct {
	Published time.Time // publication date of the list or pack; zero if unknown
	URL       string    // where the source is published; a default per kind if empty
	License   string
	Name      string // source name; a default per kind if empty
}

// gunzip expands gzip-compressed data and passes other data through.
func gunzip(name string, b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, perr(name, 0, "", "gzip: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, 1<<30))
	if err != nil {
		return nil, perr(name, 0, "", "gzip: %v", err)
	}
	return out, nil
}

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 to runes; the other high
// bytes are Latin-1.
var cp1252 = [32]rune{
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
}

// toUTF8 returns b as UTF-8: valid UTF-8 passes through, anything else is
// read as Windows-1252 (OFAC's legacy CSV encoding).
func toUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/16)
	for _, c := range b {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xA0:
			sb.WriteRune(cp1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return []byte(sb.String())
}

// day parses a YYYY-MM-DD date as UTC midnight.
func day(s string) (time.Time, error) {
	return time.Parse("2006-01-02", strings.TrimSpace(s))
}

func defaultStr(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

func (o Options) source(defName, defURL, defLicense, file string) model.Source {
	return model.Source{
		Name:      defaultStr(o.Name, defName),
		File:      file,
		URL:       defaultStr(o.URL, defURL),
		Published: o.Published,
		License:   defaultStr(o.License, defLicense),
	}
}

// fileSource is src narrowed to the one file a claim was read from.
func fileSource(src model.Source, name string) model.Source {
	src.File = path.Base(filepath.ToSlash(name))
	return src
}

// count is the number of the dataset's attributions.
func (ds *Dataset) count() int {
	if ds.stream != nil {
		return ds.streamN
	}
	return len(ds.Attributions)
}
