package screen

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// MaxBatch is the most queries one ScreenBatch call takes.
const MaxBatch = 1000

// Options tune an Index. The zero value means the defaults.
type Options struct {
	MinScore float64 // matches below this are dropped (default DefaultMinScore)
	Limit    int     // most matches per query (default 10)
}

// Blocking: a key found under more than len(names)/maxDFDivisor names (and
// more than minMaxDF) does not select candidates.
const (
	maxDFDivisor = 50
	minMaxDF     = 200
)

// boundMargin widens the word-coverage bound of a candidate: a matched
// family name weighs less than the given names, so coverage can understate
// the score a little.
const boundMargin = 1.2

// maxCap is the highest factor attributes can raise a name score by.
const maxCap = nameOnlyCap + bonusDOBExact + bonusNationality

// DefaultMinScore is the default reporting threshold of Screen.
const DefaultMinScore = 0.6

func (o Options) withDefaults() Options {
	if o.MinScore <= 0 {
		o.MinScore = DefaultMinScore
	}
	if o.Limit <= 0 {
		o.Limit = 10
	}
	return o
}

// indexedName is one name of one entity.
type indexedName struct {
	ent      int32
	quality  model.AliasQuality
	name     *Name
	tokUnits []uint8 // units per word, for the candidate bound
	units    int
}

// tokenUnits counts the units of each word of a name's first reading.
func tokenUnits(n *Name) ([]uint8, int) {
	tu := make([]uint8, len(n.tokens))
	total := 0
	for _, u := range n.readings[0].units {
		tu[u.tok]++
		total++
	}
	return tu, total
}

// walletRef is a wallet address linked to an entity or an attribution.
type walletRef struct {
	ent  int32 // -1: from an attribution only
	attr int32 // -1: from an entity
}

// Index holds prepared entities and the blocking index over their names.
type Index struct {
	opts     Options
	ents     []model.Entity
	names    []indexedName
	post     map[string][]uint32 // blocking key → name id<<5 | word index
	ids      map[string][]int32  // normalized identifier or e-mail → entity ids
	wallets  map[string][]walletRef
	attrs    []model.Attribution
	Skipped  []string // names and wallets left out of the index, with the reason
	BuildDur time.Duration
	pool     sync.Pool
	cache    *parseCache // word readings of the indexed names, read-only after NewIndex
}

// Stats describe what an index holds.
type Stats struct {
	Entities, Names, Keys, Identifiers, Wallets int
}

// Stats reports the size of the index.
func (ix *Index) Stats() Stats {
	return Stats{len(ix.ents), len(ix.names), len(ix.post), len(ix.ids), len(ix.wallets)}
}

// NewIndex prepares entities (and optional address attributions, for wallet
// screening) for screening.
func NewIndex(ents []model.Entity, attrs []model.Attribution, o Options) *Index {
	t0 := time.Now()
	ix := &Index{opts: o.withDefaults(), ents: ents, attrs: attrs, cache: &parseCache{m: map[string]*wordParses{}},
		post: map[string][]uint32{}, ids: map[string][]int32{}, wallets: map[string][]walletRef{}}
	prepared := prepareAll(ents, ix.cache)
	var keys []string
	var keyToks []int
	job := 0
	for ei := range ents {
		e := &ents[ei]
		for _, nm := range e.Names {
			pr := prepared[job]
			job++
			n, err := pr.n, pr.err
			if err != nil {
				ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: name %q: %v", e.ID, nm.Full, err))
				continue
			}
			id := int32(len(ix.names))
			tu, nu := tokenUnits(n)
			ix.names = append(ix.names, indexedName{ent: int32(ei), quality: nm.Quality, name: n, tokUnits: tu, units: nu})
			keyToks = keyToks[:0]
			keys = blockingKeys(n, keys[:0], &keyToks, false)
			for ki, k := range keys {
				ix.post[k] = append(ix.post[k], uint32(id)<<5|uint32(keyToks[ki]))
			}
		}
		for _, d := range e.Identifiers {
			if k := normIdentifier(d.Type, d.Number); k != "" {
				ix.ids[k] = appendUnique(ix.ids[k], int32(ei))
			}
		}
		for _, w := range e.Wallets {
			a, err := intel.NormalizeAddress(w.Chain, w.Address)
			if err != nil {
				ix.Skipped = append(ix.Skipped, fmt.Sprintf("%s: wallet %s %q: %v", e.ID, w.Chain, w.Address, err))
				continue
			}
			k := string(w.Chain) + ":" + a
			ix.wallets[k] = append(ix.wallets[k], walletRef{int32(ei), -1})
		}
	}
	for ai, a := range attrs {
		n, err := intel.NormalizeAddress(a.Chain, a.Address)
		if err != nil {
			continue
		}
		k := string(a.Chain) + ":" + n
		ix.wallets[k] = append(ix.wallets[k], walletRef{-1, int32(ai)})
	}
	ix.cache.frozen = true
	ix.BuildDur = time.Since(t0)
	return ix
}

type preparedName struct {
	n   *Name
	err error
}

// prepareAll prepares every name of ents, in entity and name order, on all
// processors; the word readings end up in cache.
func prepareAll(ents []model.Entity, cache *parseCache) []preparedName {
	type job struct {
		name, kind string
	}
	var jobs []job
	for i := range ents {
		kind := ""
		switch ents[i].Type {
		case model.EntityPerson:
			kind = "person"
		case model.EntityCompany:
			kind = "company"
		}
		for _, nm := range ents[i].Names {
			jobs = append(jobs, job{nm.Full, kind})
		}
	}
	out := make([]preparedName, len(jobs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(jobs)/1000))
	caches := make([]*parseCache, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		caches[w] = &parseCache{m: map[string]*wordParses{}}
		lo, hi := len(jobs)*w/workers, len(jobs)*(w+1)/workers
		wg.Add(1)
		go func(c *parseCache, lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				n, err := prepareName(jobs[i].name, jobs[i].kind, c)
				out[i] = preparedName{n, err}
			}
		}(caches[w], lo, hi)
	}
	wg.Wait()
	for _, c := range caches {
		for k, v := range c.m {
			cache.m[k] = v
		}
	}
	return out
}

func appendUnique(s []int32, v int32) []int32 {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	return append(s, v)
}

// normIdentifier is the lookup key of an identifier: e-mail addresses lower
// case, document numbers upper-case letters and digits only.
func normIdentifier(typ, num string) string {
	num = strings.TrimSpace(num)
	if strings.Contains(num, "@") || strings.EqualFold(typ, "email") {
		return "email:" + strings.ToLower(num)
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(num) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() < 4 {
		return "" // too short to be exact evidence
	}
	return "id:" + b.String()
}

// blockingKeys appends the keys a name is found under (query false) or
// looks for (query true); tok, if not nil, receives the word index of each
// key. Korean syllables give their canonical coarse key ("k…") and the
// Mandarin readings of their hanja ("h…"); Chinese syllables their pinyin
// ("p…"); other words their spelling ("t…") and consonant skeleton ("s…").
// A query looks for the hanja readings of its Korean syllables among
// Chinese names (h → p) and for its Chinese syllables among the hanja
// readings of Korean names (p → h).
func blockingKeys(n *Name, keys []string, tok *[]int, query bool) []string {
	add := func(k string, t int) {
		for _, x := range keys {
			if x == k {
				return
			}
		}
		keys = append(keys, k)
		if tok != nil {
			*tok = append(*tok, t)
		}
	}
	for _, r := range n.readings {
		for i := range r.units {
			u := &r.units[i]
			switch u.kind {
			case uKorean:
				add(coarseKey(u.k), u.tok)
				for _, id := range u.hanja {
					if query {
						add("p"+pinyinNames[id], u.tok)
					} else {
						add("h"+pinyinNames[id], u.tok)
					}
				}
			case uRaw:
				add("t"+u.text, u.tok)
				if sk := skeleton(u.text); sk != "" {
					add("s"+sk, u.tok)
				}
			}
		}
	}
	for _, r := range n.chinese {
		for _, u := range r.units {
			for _, id := range u.py {
				add("p"+pinyinNames[id], u.tok)
				if query {
					add("h"+pinyinNames[id], u.tok)
				}
			}
		}
	}
	return keys
}

// skeleton is a spelling-tolerant key of a long word: its first letter and
// its next consonants with doubled letters collapsed, at most five letters.
func skeleton(s string) string {
	if len(s) < 4 {
		return ""
	}
	b := []byte{s[0]}
	for i := 1; i < len(s) && len(b) < 5; i++ {
		c := s[i]
		if strings.IndexByte("aeiouyhw", c) >= 0 || c == b[len(b)-1] {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// Query is one screening request.
type Query struct {
	Name        string   `json:"name"`
	DOB         string   `json:"dob,omitempty"`         // YYYY, YYYY-MM or YYYY-MM-DD
	Nationality string   `json:"nationality,omitempty"` // country name or ISO 3166 code
	Type        string   `json:"type,omitempty"`        // "person", "company" or "" for any
	Identifiers []string `json:"identifiers,omitempty"` // document numbers or e-mail addresses
}

// Factor is one attribute's effect on a score.
type Factor struct {
	Attribute string  `json:"attribute"`
	Effect    string  `json:"effect"`
	Value     float64 `json:"value"` // added to the cap (bonus) or multiplied (penalty)
}

// Explanation says why an entity matched.
type Explanation struct {
	Mode    string   `json:"mode,omitempty"`
	Parts   []Part   `json:"parts,omitempty"`
	Factors []Factor `json:"factors,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	Exact   string   `json:"exact,omitempty"` // the identifier, e-mail or wallet that matched exactly
}

// Match is one entity a query matched.
type Match struct {
	EntityID    string      `json:"entity_id"`
	Name        string      `json:"name"`         // primary name
	MatchedName string      `json:"matched_name"` // the name (or alias) that matched best
	Type        string      `json:"type"`
	Score       float64     `json:"score"`
	NameScore   float64     `json:"name_score"`
	Exact       bool        `json:"exact"`
	Programs    []string    `json:"programs,omitempty"`
	Source      string      `json:"source,omitempty"`
	Explanation Explanation `json:"explanation"`
}

// Result is the answer to one query of a batch.
type Result struct {
	Query   Query   `json:"query"`
	Matches []Match `json:"matches"`
	Error   string  `json:"error,omitempty"`
}

// scratch is per-query working memory, pooled.
type scratch struct {
	qmask   []uint32 // query words that hit, per name
	nmask   []uint32 // name words that were hit, per name
	touched []int32
}

// Screen matches one query against the index.
func (ix *Index) Screen(q Query) ([]Match, error) {
	kind := ""
	switch q.Type {
	case "", "any":
	case "person", "company":
		kind = q.Type
	default:
		return nil, fmt.Errorf("type %q: want person, company or empty", q.Type)
	}
	dob, err := parseQueryDOB(q.DOB)
	if err != nil {
		return nil, err
	}
	byEnt := map[int32]*Match{}
	// Exact evidence first: identifiers and e-mails.
	ids := append([]string(nil), q.Identifiers...)
	if strings.Contains(q.Name, "@") {
		ids = append(ids, q.Name)
	}
	var qdocs []string // query document numbers, for the mismatch penalty
	for _, raw := range ids {
		k := normIdentifier("", raw)
		if k == "" {
			continue
		}
		if strings.HasPrefix(k, "id:") {
			qdocs = append(qdocs, k)
		}
		for _, ei := range ix.ids[k] {
			e := &ix.ents[ei]
			if !typeOK(e, kind) {
				continue
			}
			byEnt[ei] = &Match{EntityID: e.ID, Name: primaryName(e), Type: string(e.Type), Score: 1, Exact: true,
				Programs: e.Programs, Source: e.Source.Name, Explanation: Explanation{Exact: "identifier " + describeIdentifier(e, k)}}
		}
	}
	if strings.Contains(q.Name, "@") && len(byEnt) > 0 {
		return ix.finish(byEnt), nil
	}
	qn, err := prepareName(q.Name, kind, ix.cache)
	if err != nil {
		if len(ids) > 0 && strings.TrimSpace(q.Name) == "" {
			return ix.finish(byEnt), nil // identifiers only
		}
		return nil, err
	}
	var toks []int
	keys := blockingKeys(qn, nil, &toks, true)
	sc, _ := ix.pool.Get().(*scratch)
	if sc == nil || len(sc.qmask) != len(ix.names) {
		sc = &scratch{qmask: make([]uint32, len(ix.names)), nmask: make([]uint32, len(ix.names))}
	}
	// Words whose every key is frequent (company, trading, the syllable ri)
	// do not select candidates; the other words must hit at least half.
	maxDF := max(len(ix.names)/maxDFDivisor, minMaxDF)
	selective := uint32(0)
	for ki, k := range keys {
		if len(ix.post[k]) <= maxDF {
			selective |= 1 << uint(toks[ki]%32)
		}
	}
	if selective == 0 {
		maxDF = len(ix.names) + 1
		selective = 1<<uint(min(len(qn.tokens), 32)) - 1
	}
	for ki, k := range keys {
		p := ix.post[k]
		if len(p) > maxDF {
			continue
		}
		bit := uint32(1) << uint(toks[ki]%32)
		for _, v := range p {
			id := v >> 5
			if sc.qmask[id] == 0 {
				sc.touched = append(sc.touched, int32(id))
			}
			sc.qmask[id] |= bit
			sc.nmask[id] |= 1 << (v & 31)
		}
	}
	need := (bits.OnesCount32(selective) + 1) / 2
	qtu, qunits := tokenUnits(qn)
	// Units of query words that select nothing count as matched in the bound.
	freeUnits := 0
	for t, nu := range qtu {
		if selective&(1<<uint(t%32)) == 0 {
			freeUnits += 2 * int(nu)
		}
	}
	for _, id := range sc.touched {
		qm, nm := sc.qmask[id], sc.nmask[id]
		sc.qmask[id], sc.nmask[id] = 0, 0
		if bits.OnesCount32(qm) < need {
			continue
		}
		in := &ix.names[id]
		// Upper bound of the name score from the words that hit on both
		// sides, with a margin for the lighter family-name weight.
		hitUnits := freeUnits
		for t, nu := range qtu {
			if qm&(1<<uint(t%32)) != 0 {
				hitUnits += int(nu)
			}
		}
		for t, nu := range in.tokUnits {
			if nm&(1<<uint(t%32)) != 0 {
				hitUnits += int(nu)
			}
		}
		bound := boundMargin * float64(hitUnits) / float64(qunits+in.units)
		if bound*maxCap < ix.opts.MinScore {
			continue
		}
		e := &ix.ents[in.ent]
		if !typeOK(e, kind) {
			continue
		}
		s := nameScoreOnly(qn, in.name)
		if in.quality == model.AliasWeak {
			s *= weakAliasFactor
		}
		if s*maxCap < ix.opts.MinScore {
			continue
		}
		if m := byEnt[in.ent]; m != nil && (m.Exact || m.NameScore >= s) {
			continue
		}
		ns := CompareNames(qn, in.name)
		m := &Match{EntityID: e.ID, Name: primaryName(e), MatchedName: in.name.Raw, Type: string(e.Type),
			NameScore: round3(s), Programs: e.Programs, Source: e.Source.Name,
			Explanation: Explanation{Mode: ns.Mode, Parts: ns.Parts, Notes: qn.Notes}}
		if in.quality == model.AliasWeak {
			m.Explanation.Factors = append(m.Explanation.Factors, Factor{"alias", "weak alias", weakAliasFactor})
		}
		m.Score = round3(attributeScore(s, dob, q.Nationality, qdocs, e, &m.Explanation))
		byEnt[in.ent] = m
	}
	sc.touched = sc.touched[:0]
	ix.pool.Put(sc)
	return ix.finish(byEnt), nil
}

func (ix *Index) finish(byEnt map[int32]*Match) []Match {
	out := make([]Match, 0, len(byEnt))
	for _, m := range byEnt {
		if m.Score >= ix.opts.MinScore {
			out = append(out, *m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].EntityID < out[j].EntityID
	})
	if len(out) > ix.opts.Limit {
		out = out[:ix.opts.Limit]
	}
	return out
}

func typeOK(e *model.Entity, kind string) bool {
	switch kind {
	case "person":
		return e.Type == model.EntityPerson
	case "company":
		return e.Type != model.EntityPerson
	}
	return true
}

func primaryName(e *model.Entity) string {
	if len(e.Names) > 0 {
		return e.Names[0].Full
	}
	return e.ID
}

func describeIdentifier(e *model.Entity, key string) string {
	for _, d := range e.Identifiers {
		if normIdentifier(d.Type, d.Number) == key {
			return d.Type + " " + d.Number
		}
	}
	return key
}

// ScreenBatch screens up to MaxBatch queries on all processors, results in
// query order. A bad query gets its error in its Result; the call fails only
// on a batch that is too large or a cancelled context.
func (ix *Index) ScreenBatch(ctx context.Context, qs []Query) ([]Result, error) {
	if len(qs) > MaxBatch {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrBatchSize, len(qs), MaxBatch)
	}
	out := make([]Result, len(qs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(qs)/8))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(qs) || ctx.Err() != nil {
					return
				}
				out[i].Query = qs[i]
				ms, err := ix.Screen(qs[i])
				if err != nil {
					out[i].Error = err.Error()
					out[i].Matches = []Match{}
					continue
				}
				out[i].Matches = ms
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// WalletMatch is an exact hit of a wallet address.
type WalletMatch struct {
	Chain    string  `json:"chain"`
	Address  string  `json:"address"`
	EntityID string  `json:"entity_id,omitempty"`
	Name     string  `json:"name"`
	Category string  `json:"category,omitempty"`
	Source   string  `json:"source,omitempty"`
	Score    float64 `json:"score"`
	Reason   string  `json:"reason"`
}

// Wallet screens a wallet address: an exact match of the normalized address
// against entity wallets and address attributions.
func (ix *Index) Wallet(chain model.Chain, addr string) ([]WalletMatch, error) {
	a, err := intel.NormalizeAddress(chain, addr)
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	var out []WalletMatch
	for _, r := range ix.wallets[string(chain)+":"+a] {
		m := WalletMatch{Chain: string(chain), Address: a, Score: 1}
		if r.ent >= 0 {
			e := &ix.ents[r.ent]
			m.EntityID, m.Name, m.Category, m.Source = e.ID, primaryName(e), string(model.CatSanctioned), e.Source.Name
			m.Reason = "wallet listed on the entity's record"
		} else {
			at := &ix.attrs[r.attr]
			m.EntityID, m.Name, m.Category, m.Source = at.Entity, at.Label, string(at.Category), at.Source.Name
			m.Reason = "address attribution"
			if at.Role != "" {
				m.Reason += " (" + at.Role + ")"
			}
		}
		out = append(out, m)
	}
	return out, nil
}
