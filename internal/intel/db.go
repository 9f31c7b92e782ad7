package intel

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// DB is an immutable in-memory index of attributions, entities and
// incidents built from datasets. Lookups are safe for concurrent use.
//
// Memory layout: strings (labels, roles, entities, incidents) are interned
// once; each attribution is a fixed-size record of string ids; an address
// maps to a contiguous run of records. EVM addresses are keyed by their 20
// bytes, other chains by their text.
type DB struct {
	strs     []string
	sources  []model.Source
	chains   []model.Chain
	chainIdx map[model.Chain]uint16
	evm      map[evmAddrKey]uint32
	other    map[string]uint32
	starts   []uint32 // record run of address group g: recs[starts[g]:starts[g+1]]
	recs     []rec
	entities []model.Entity
	byEntity map[string]int
	incs     []Incident
	byInc    map[string]int
	stats    Stats
	// evidence tables of the inferred datasets (a record with evidenceBit
	// names its table and row), and the inference runs
	evTables []evidenceTable
	inferred []InferredInfo
}

type evmAddrKey struct {
	chain uint16
	addr  [20]byte
}

type rec struct {
	entity, label, incident, role uint32
	from, to                      int32 // days since 1970-01-01 UTC; noFrom / noTo when open
	// delBy and delNote are the delisting's sources; in a record with
	// evidenceBit (an inferred claim, never delisted) they locate its
	// evidence instead: table delBy-1 of DB.evTables, row delNote.
	source, delBy, delNote uint32
	cat, conf              uint8 // cat: category | evidenceBit; conf: confidence 0–100 | inferredBit for an inferred claim
	chain                  uint16
}

// inferredBit marks an inferred claim in rec.conf (confidences are at most
// 100), and evidenceBit one whose evidence the DB can read in rec.cat
// (there are 16 categories), keeping a record at 40 bytes: an inferred
// address costs what a listed one does, its evidence stays in its table
// (on disk for a store's DB) until asked for.
const (
	inferredBit = 0x80
	evidenceBit = 0x80
)

func (r *rec) inferred() bool { return r.conf&inferredBit != 0 }

func (r *rec) category() model.Category { return categories[r.cat&^evidenceBit] }

// delisting returns the sources of the record's delisting (0: none).
func (r *rec) delisting() (by, note uint32) {
	if r.cat&evidenceBit != 0 {
		return 0, 0
	}
	return r.delBy, r.delNote
}

// evidenceRef returns where the record's evidence is, if it has any.
func (r *rec) evidenceRef() (table int, row uint32, ok bool) {
	if r.cat&evidenceBit == 0 {
		return 0, 0, false
	}
	return int(r.delBy) - 1, r.delNote, true
}

// claim is the record without its evidence location: two records with the
// same claim are the same claim loaded twice.
func (r rec) claim() rec {
	if r.cat&evidenceBit != 0 {
		r.cat &^= evidenceBit
		r.delBy, r.delNote = 0, 0
	}
	return r
}

const (
	noFrom int32 = math.MinInt32
	noTo   int32 = math.MaxInt32
)

var categories = []model.Category{"", model.CatSanctioned, model.CatDPRK, model.CatHack, model.CatScam, model.CatVictim,
	model.CatMixer, model.CatExchange, model.CatBridge, model.CatDEX, model.CatOTC, model.CatGambling, model.CatDeFi,
	model.CatMiner, model.CatToken, model.CatOther}

var catIndex = func() map[model.Category]uint8 {
	m := map[model.Category]uint8{}
	for i, c := range categories {
		m[c] = uint8(i)
	}
	return m
}()

func toDays(t time.Time, open int32) int32 {
	if t.IsZero() {
		return open
	}
	return int32(t.Unix() / 86400)
}

func fromDays(d int32) time.Time {
	if d == noFrom || d == noTo {
		return time.Time{}
	}
	return time.Unix(int64(d)*86400, 0).UTC()
}

// dayOf rounds a time down to its UTC day, as validity is kept.
func dayOf(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	s := t.Unix()
	if s < 0 {
		return int32((s - 86399) / 86400)
	}
	return int32(s / 86400)
}

// Claim is an attribution with its state at the asked date and, for a
// delisted claim, the sources that show the delisting.
type Claim struct {
	model.Attribution
	Status        string // "active", "delisted", "expired", "not yet valid" or (inferred claims) "superseded"
	DelistedBy    *model.Source
	DelistingNote *model.Source
	// Inferred marks redthread's own inference (IsInferred), with its
	// evidence.
	Inferred bool
	Evidence *Evidence
	// EvidenceError says why the evidence of an inferred claim could not
	// be read (Evidence is nil then): a failed read of the stored set, or
	// a set file written over in place since the DB opened it.
	EvidenceError string
}

// Claim statuses.
const (
	StatusActive   = "active"
	StatusDelisted = "delisted"
	StatusExpired  = "expired"
	StatusNotYet   = "not yet valid"
	// StatusSuperseded: an inferred claim that would hold, but a listed
	// claim holds at the same date, so Lookup leaves it out.
	StatusSuperseded = "superseded"
)

type builder struct {
	db     *DB
	strIdx map[string]uint32
	srcIdx map[model.Source]uint32
	chIdx  map[model.Chain]uint16
}

func (b *builder) str(s string) uint32 {
	if i, ok := b.strIdx[s]; ok {
		return i
	}
	i := uint32(len(b.db.strs))
	b.db.strs = append(b.db.strs, s)
	b.strIdx[s] = i
	return i
}

func (b *builder) source(s model.Source) uint32 {
	if i, ok := b.srcIdx[s]; ok {
		return i
	}
	i := uint32(len(b.db.sources))
	b.db.sources = append(b.db.sources, s)
	b.srcIdx[s] = i
	return i
}

func (b *builder) chain(c model.Chain) uint16 {
	if i, ok := b.chIdx[c]; ok {
		return i
	}
	if len(b.db.chains) >= 1<<16-1 {
		panic("intel: more than 65535 chains")
	}
	i := uint16(len(b.db.chains))
	b.db.chains = append(b.db.chains, c)
	b.chIdx[c] = i
	return i
}

type keyed struct {
	chain model.Chain
	addr  string
	r     rec
	seq   int // load order, which an address's records keep
}

// Build indexes datasets. Later snapshots of a list delist what they no
// longer carry (docs/intel.md, "Listing and delisting"); OFAC entities lend
// their id and name to address-only list entries.
func Build(datasets []*Dataset) *DB {
	db, err := build(datasets)
	if err != nil {
		// Only the datasets a Store streams from its files can fail, and
		// the Store calls build itself.
		panic("intel: Build: " + err.Error())
	}
	return db
}

func build(datasets []*Dataset) (*DB, error) {
	db := &DB{byEntity: map[string]int{}, byInc: map[string]int{}}
	b := &builder{db: db, strIdx: map[string]uint32{}, srcIdx: map[model.Source]uint32{}, chIdx: map[model.Chain]uint16{}}
	b.str("")
	b.source(model.Source{})
	for _, ds := range datasets {
		db.stats.add(ds)
		for _, e := range ds.Entities {
			if j, ok := db.byEntity[e.ID]; !ok || e.Source.Published.After(db.entities[j].Source.Published) {
				db.byEntity[e.ID] = len(db.entities)
			}
			db.entities = append(db.entities, e)
		}
		for _, in := range ds.Incidents {
			if _, ok := db.byInc[in.ID]; !ok {
				db.byInc[in.ID] = len(db.incs)
			}
			db.incs = append(db.incs, in)
		}
	}
	enrich := enricher(db, datasets)
	del := delistings(datasets)
	total := 0
	for _, ds := range datasets {
		total += ds.count()
	}
	all := make([]keyed, 0, total)
	for _, ds := range datasets {
		inferred := ds.Kind == KindInferred
		if inferred && ds.Inferred != nil {
			db.inferred = append(db.inferred, *ds.Inferred)
		}
		table, rows := -1, 0
		if inferred {
			var t evidenceTable
			switch {
			case ds.evidence != nil:
				t, rows = ds.evidence, ds.count()
			case len(ds.Evidence) > 0:
				t, rows = evidenceMem(ds.Evidence), len(ds.Evidence)
			}
			if t != nil {
				table = len(db.evTables)
				db.evTables = append(db.evTables, t)
			}
		}
		add := func(i int, a model.Attribution) {
			enrich(&a)
			r := rec{entity: b.str(a.Entity), label: b.str(a.Label), incident: b.str(a.Incident), role: b.str(a.Role),
				from: toDays(a.ValidFrom, noFrom), to: toDays(a.ValidTo, noTo), source: b.source(a.Source),
				cat: catIndex[a.Category], conf: uint8(min(a.Confidence, 100)), chain: b.chain(a.Chain)}
			if inferred || IsInferred(&a) {
				r.conf |= inferredBit
			}
			if a.Category != "" && r.cat == 0 {
				r.cat = catIndex[model.CatOther]
			}
			if d, ok := del[delKey{ds, a.Chain, a.Address}]; ok && !d.listed.IsZero() {
				if f := toDays(d.listed, noFrom); f > r.from {
					r.from = f
				}
			}
			if d, ok := del[delKey{ds, a.Chain, a.Address}]; ok && !d.on.IsZero() {
				if r.to == noTo || toDays(d.on, noTo) < r.to {
					r.to = toDays(d.on, noTo)
				}
				r.delBy = b.source(d.by)
				if d.note != nil {
					r.delNote = b.source(*d.note)
				}
			}
			if table >= 0 && i < rows && r.delBy == 0 && r.delNote == 0 {
				r.cat |= evidenceBit
				r.delBy, r.delNote = uint32(table+1), uint32(i)
			}
			all = append(all, keyed{a.Chain, a.Address, r, len(all)})
		}
		if ds.stream != nil {
			if err := ds.stream(func(i int, a *model.Attribution) error { add(i, *a); return nil }); err != nil {
				return nil, err
			}
			continue
		}
		for i := range ds.Attributions {
			add(i, ds.Attributions[i])
		}
	}
	// Sorted by address, then load order (a stable sort of records this
	// size moves them O(n log² n) times; this sorts in O(n log n)).
	slices.SortFunc(all, func(x, y keyed) int {
		if c := strings.Compare(string(x.chain), string(y.chain)); c != 0 {
			return c
		}
		if c := strings.Compare(x.addr, y.addr); c != 0 {
			return c
		}
		return x.seq - y.seq
	})
	db.evm = map[evmAddrKey]uint32{}
	db.other = map[string]uint32{}
	db.recs = make([]rec, 0, len(all))
	for i := 0; i < len(all); {
		j := i
		g := uint32(len(db.starts))
		db.starts = append(db.starts, uint32(len(db.recs)))
		first := len(db.recs)
	next:
		for ; j < len(all) && all[j].chain == all[i].chain && all[j].addr == all[i].addr; j++ {
			for k := range db.recs[first:] {
				r := &db.recs[first+k]
				if r.claim() == all[j].r.claim() {
					// The same claim from the same source, loaded twice:
					// kept once, with the evidence of either copy.
					if _, _, ok := r.evidenceRef(); !ok {
						*r = all[j].r
					}
					continue next
				}
			}
			db.recs = append(db.recs, all[j].r)
		}
		c := all[i].chain
		if k, ok := evmKey(all[i].addr); ok && IsEVM(c) {
			db.evm[evmAddrKey{b.chain(c), k}] = g
		} else {
			db.other[string(c)+"\x00"+all[i].addr] = g
		}
		i = j
	}
	db.starts = append(db.starts, uint32(len(db.recs)))
	db.recs = db.recs[:len(db.recs):len(db.recs)]
	db.starts = append([]uint32(nil), db.starts...)
	db.strs = append([]string(nil), db.strs...)
	db.chainIdx = b.chIdx
	db.stats.Addresses = len(db.starts) - 1
	db.stats.Records = len(db.recs)
	for _, r := range db.recs {
		db.stats.ByCategory[r.category()]++
		db.stats.ByChain[db.chains[r.chain]]++
	}
	return db, nil
}

// enricher fills in the OFAC entity of address-only OFAC list entries: by
// wallet, or by the entity's primary name.
func enricher(db *DB, datasets []*Dataset) func(*model.Attribution) {
	type wk struct {
		c model.Chain
		a string
	}
	delisted := map[wk]string{}
	for _, ds := range datasets {
		for _, d := range ds.Delistings {
			delisted[wk{d.Chain, d.Address}] = d.Entity
		}
	}
	byWallet := map[wk]*model.Entity{}
	byName := map[string]*model.Entity{}
	for i := range db.entities {
		e := &db.entities[i]
		if !strings.HasPrefix(e.ID, "ofac:") {
			continue
		}
		for _, w := range e.Wallets {
			byWallet[wk{w.Chain, w.Address}] = e
		}
		if len(e.Names) > 0 {
			byName[strings.ToUpper(e.Names[0].Full)] = e
		}
	}
	return func(a *model.Attribution) {
		if a.Entity != "" || a.Category != model.CatSanctioned {
			return
		}
		e := byWallet[wk{a.Chain, a.Address}]
		if e == nil && a.Label != "" {
			e = byName[strings.ToUpper(a.Label)]
		}
		if e == nil && delisted[wk{a.Chain, a.Address}] != "" {
			e = byName[strings.ToUpper(delisted[wk{a.Chain, a.Address}])]
		}
		if e == nil {
			return
		}
		a.Entity = e.ID
		if a.Label == "" && len(e.Names) > 0 {
			a.Label = e.Names[0].Full
		}
	}
}

type delKey struct {
	ds   *Dataset
	c    model.Chain
	addr string
}

type delInfo struct {
	on   time.Time
	by   model.Source
	note *model.Source
	// listed is set (on a claim without a delisting) when an earlier
	// snapshot complete for the chain did not carry the address: the claim
	// is then known to hold from this snapshot's date only.
	listed time.Time
}

// delistings finds, for every attribution of a list snapshot, the first
// later snapshot of the same list that is complete for its chain and no
// longer carries it. The delisting date is that snapshot's date, or an
// official delisting date from a delistings dataset when one falls between
// the two snapshots.
func delistings(datasets []*Dataset) map[delKey]delInfo {
	type ak struct {
		c model.Chain
		a string
	}
	lists := map[string][]*Dataset{}
	known := map[string]map[ak]Delisting{}
	for _, ds := range datasets {
		if ds.List != "" && !ds.Source.Published.IsZero() {
			lists[ds.List] = append(lists[ds.List], ds)
		}
		for _, d := range ds.Delistings {
			if known[d.List] == nil {
				known[d.List] = map[ak]Delisting{}
			}
			known[d.List][ak{d.Chain, d.Address}] = d
		}
	}
	out := map[delKey]delInfo{}
	for list, snaps := range lists {
		sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].Source.Published.Before(snaps[j].Source.Published) })
		members := make([]map[ak]bool, len(snaps))
		for i, s := range snaps {
			members[i] = map[ak]bool{}
			for _, a := range s.Attributions {
				members[i][ak{a.Chain, a.Address}] = true
			}
		}
		covers := func(s *Dataset, c model.Chain) bool {
			for _, x := range s.Covers {
				if x == c || x == coverAll {
					return true
				}
			}
			return false
		}
		for i, s := range snaps {
			for _, a := range s.Attributions {
				k := ak{a.Chain, a.Address}
				for j := i - 1; j >= 0; j-- {
					earlier := snaps[j]
					if !earlier.Source.Published.Before(s.Source.Published) || !covers(earlier, a.Chain) {
						continue
					}
					if !members[j][k] {
						info := out[delKey{s, a.Chain, a.Address}]
						info.listed = s.Source.Published
						out[delKey{s, a.Chain, a.Address}] = info
					}
					break
				}
				for j := i + 1; j < len(snaps); j++ {
					later := snaps[j]
					if !later.Source.Published.After(s.Source.Published) || !covers(later, a.Chain) {
						continue
					}
					if members[j][k] {
						continue
					}
					info := out[delKey{s, a.Chain, a.Address}]
					info.on, info.by = later.Source.Published, later.Source
					if d, ok := known[list][k]; ok && d.On.After(s.Source.Published) && !d.On.After(later.Source.Published) {
						info.on = d.On
						note := d.Source
						info.note = &note
					}
					out[delKey{s, a.Chain, a.Address}] = info
					break
				}
			}
		}
	}
	return out
}

func (db *DB) group(c model.Chain, addr string) ([]rec, string, bool) {
	if IsEVM(c) {
		// Fast path: parse the 20 bytes straight from the input, whatever
		// its case; build the canonical text only if it is not already.
		a := strings.TrimSpace(addr)
		if len(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') {
			return nil, "", false
		}
		k, ok := evmKey(a)
		ci := db.chainIndex(c)
		if !ok || ci < 0 {
			return nil, "", false
		}
		g, ok := db.evm[evmAddrKey{uint16(ci), k}]
		if !ok {
			return nil, "", false
		}
		if !isCanonicalHex(a) {
			a = evmString(k)
		}
		return db.recs[db.starts[g]:db.starts[g+1]], a, true
	}
	a, err := NormalizeAddress(c, addr)
	if err != nil {
		return nil, "", false
	}
	g, ok := db.other[string(c)+"\x00"+a]
	if !ok {
		return nil, a, false
	}
	return db.recs[db.starts[g]:db.starts[g+1]], a, true
}

func isCanonicalHex(a string) bool {
	if a[1] != 'x' {
		return false
	}
	for i := 2; i < len(a); i++ {
		if c := a[i]; 'A' <= c && c <= 'F' {
			return false
		}
	}
	return true
}

func (db *DB) chainIndex(c model.Chain) int {
	if i, ok := db.chainIdx[c]; ok {
		return int(i)
	}
	return -1
}

func (db *DB) attribution(r *rec, addr string) model.Attribution {
	return model.Attribution{Chain: db.chains[r.chain], Address: addr, Entity: db.strs[r.entity], Label: db.strs[r.label],
		Category: r.category(), Incident: db.strs[r.incident], Role: db.strs[r.role], Source: db.sources[r.source],
		Confidence: model.Confidence(r.conf &^ inferredBit), ValidFrom: fromDays(r.from), ValidTo: fromDays(r.to)}
}

// Lookup returns every attribution of addr on chain c that holds at asOf.
// When sources disagree all are returned, in a stable order; none wins.
// Inferred attributions (IsInferred) are returned only when no listed
// claim holds: a list or label set always outranks redthread's own
// inference.
func (db *DB) Lookup(c model.Chain, addr string, asOf time.Time) []model.Attribution {
	return db.lookup(c, addr, asOf, true)
}

// LookupListed is Lookup without the inferred attributions.
func (db *DB) LookupListed(c model.Chain, addr string, asOf time.Time) []model.Attribution {
	return db.lookup(c, addr, asOf, false)
}

func (db *DB) lookup(c model.Chain, addr string, asOf time.Time, inferred bool) []model.Attribution {
	rs, a, ok := db.group(c, addr)
	if !ok {
		return nil
	}
	d := dayOf(asOf)
	listed, inf := 0, 0
	for i := range rs {
		if rs[i].from <= d && d < rs[i].to {
			if rs[i].inferred() {
				inf++
			} else {
				listed++
			}
		}
	}
	if listed > 0 || !inferred {
		inf = 0
	}
	if listed+inf == 0 {
		return nil
	}
	out := make([]model.Attribution, 0, listed+inf)
	for i := range rs {
		if rs[i].from <= d && d < rs[i].to && (!rs[i].inferred() || inf > 0) {
			out = append(out, db.attribution(&rs[i], a))
		}
	}
	return out
}

// Evidence returns what an inferred attribution rests on (by its chain,
// address and source name); false for a listed one, and false if reading
// it fails (ReadEvidence says why).
func (db *DB) Evidence(a *model.Attribution) (Evidence, bool) {
	ev, ok, err := db.ReadEvidence(a)
	return ev, ok && err == nil
}

// ReadEvidence is Evidence with the error of a failed read: a store's DB
// reads the evidence from the stored set's file, which can fail (an I/O
// error, or the file written over in place since the DB opened it). It
// returns false and no error when the DB holds no evidence for a.
func (db *DB) ReadEvidence(a *model.Attribution) (Evidence, bool, error) {
	rs, _, ok := db.group(a.Chain, a.Address)
	if !ok {
		return Evidence{}, false, nil
	}
	for i := range rs {
		if _, _, ok := rs[i].evidenceRef(); ok && db.sources[rs[i].source].Name == a.Source.Name {
			return db.evidenceOf(&rs[i])
		}
	}
	return Evidence{}, false, nil
}

func (db *DB) evidenceOf(r *rec) (Evidence, bool, error) {
	t, row, ok := r.evidenceRef()
	if !ok || t < 0 || t >= len(db.evTables) {
		return Evidence{}, false, nil
	}
	ev, err := db.evTables[t].evidence(row)
	if err != nil {
		return Evidence{}, false, err
	}
	return ev, true, nil
}

// Inferred describes the inferred sets the DB holds.
func (db *DB) Inferred() []InferredInfo { return db.inferred }

// HasInferred reports whether the DB holds an inferred set of method for
// chain.
func (db *DB) HasInferred(chain model.Chain, method string) (InferredInfo, bool) {
	for _, x := range db.inferred {
		if x.Chain == chain && x.Method == method {
			return x, true
		}
	}
	return InferredInfo{}, false
}

// Explain returns every attribution of addr ever made, each with its status
// at asOf and, for delisted claims, the sources of the delisting.
func (db *DB) Explain(c model.Chain, addr string, asOf time.Time) []Claim {
	rs, a, ok := db.group(c, addr)
	if !ok {
		return nil
	}
	d := dayOf(asOf)
	listed := false
	for i := range rs {
		listed = listed || !rs[i].inferred() && rs[i].from <= d && d < rs[i].to
	}
	out := make([]Claim, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		delBy, delNote := r.delisting()
		cl := Claim{Attribution: db.attribution(r, a), Status: StatusActive, Inferred: r.inferred()}
		switch {
		case d < r.from:
			cl.Status = StatusNotYet
		case d >= r.to && delBy != 0:
			cl.Status = StatusDelisted
		case d >= r.to:
			cl.Status = StatusExpired
		case r.inferred() && listed:
			cl.Status = StatusSuperseded
		}
		if r.inferred() {
			ev, ok, err := db.evidenceOf(r)
			if !ok && err == nil { // e.g. an exported inference imported again: the set's evidence
				ev, ok, err = db.ReadEvidence(&cl.Attribution)
			}
			switch {
			case err != nil:
				cl.EvidenceError = err.Error()
			case ok:
				cl.Evidence = &ev
			}
		}
		if delBy != 0 {
			s := db.sources[delBy]
			cl.DelistedBy = &s
		}
		if delNote != 0 {
			s := db.sources[delNote]
			cl.DelistingNote = &s
		}
		out = append(out, cl)
	}
	return out
}

// Entities returns every entity of every loaded list (people, companies,
// vessels, actors). The slice is shared; do not modify it.
func (db *DB) Entities() []model.Entity { return db.entities }

// Entity returns the entity with the given id (the newest edition when
// several lists carry it).
func (db *DB) Entity(id string) (model.Entity, bool) {
	i, ok := db.byEntity[id]
	if !ok {
		return model.Entity{}, false
	}
	return db.entities[i], true
}

// Incidents returns every incident of the loaded incident packs.
func (db *DB) Incidents() []Incident { return db.incs }

// Incident returns the incident with the given id.
func (db *DB) Incident(id string) (Incident, bool) {
	i, ok := db.byInc[id]
	if !ok {
		return Incident{}, false
	}
	return db.incs[i], true
}

// Stats summarizes what a DB holds.
type Stats struct {
	Datasets   []DatasetStats         `json:"datasets"`
	Addresses  int                    `json:"addresses"`
	Records    int                    `json:"attributions"`
	Entities   int                    `json:"entities"`
	Incidents  int                    `json:"incidents"`
	ByCategory map[model.Category]int `json:"by_category"`
	ByChain    map[model.Chain]int    `json:"by_chain"`
}

// DatasetStats describes one loaded dataset.
type DatasetStats struct {
	Kind         string       `json:"kind"`
	Source       model.Source `json:"source"`
	Attributions int          `json:"attributions"`
	Entities     int          `json:"entities"`
	Incidents    int          `json:"incidents"`
	Delistings   int          `json:"delistings"`
	Skipped      int          `json:"skipped,omitempty"`
	Warnings     int          `json:"warnings,omitempty"`
}

func (s *Stats) add(ds *Dataset) {
	if s.ByCategory == nil {
		s.ByCategory = map[model.Category]int{}
		s.ByChain = map[model.Chain]int{}
	}
	s.Datasets = append(s.Datasets, DatasetStats{Kind: ds.Kind, Source: ds.Source, Attributions: ds.count(),
		Entities: len(ds.Entities), Incidents: len(ds.Incidents), Delistings: len(ds.Delistings), Skipped: ds.Skipped, Warnings: len(ds.Warnings)})
	s.Entities += len(ds.Entities)
	s.Incidents += len(ds.Incidents)
}

// Stats returns a summary of what is loaded.
func (db *DB) Stats() Stats { return db.stats }

// Each calls fn for every attribution in the DB, address by address, until
// fn returns false.
func (db *DB) Each(fn func(model.Attribution) bool) {
	addrs := make([]string, len(db.starts))
	for k, g := range db.evm {
		addrs[g] = evmString(k.addr)
	}
	for k, g := range db.other {
		_, a, _ := strings.Cut(k, "\x00")
		addrs[g] = a
	}
	for g := 0; g+1 < len(db.starts); g++ {
		for i := db.starts[g]; i < db.starts[g+1]; i++ {
			if !fn(db.attribution(&db.recs[i], addrs[g])) {
				return
			}
		}
	}
}
