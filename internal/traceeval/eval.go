package traceeval

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/synth"
	"github.com/redthread/redthread/internal/trace"
)

// Targets of issue 5 for the haircut policy, in basis points.
const (
	TargetRecoveryBP = 9500 // at least 95 % of the true cash-out value recovered
	TargetFalsePosBP = 500  // at most 5 % of the untainted active addresses tainted
)

// Options select what Evaluate runs.
type Options struct {
	// Policies to run; nil runs poison, haircut and fifo.
	Policies []trace.Policy
	// Scenarios to run by name; nil runs every scenario of the world.
	Scenarios []string
	// Labels are the attributions the trace sees: LabelsTruth (default)
	// or LabelsIntel.
	Labels string
	// Mixer is what the traces do at mixer pools (default trace.MixerStop).
	Mixer trace.MixerMode
	// MixMaxDelay is trace.Request.MixMaxDelay: the bound on the time from
	// a deposit to a withdrawal linked to it, and under pool and fifo the
	// window of the pool's unlinked rest (zero, the default: none).
	MixMaxDelay time.Duration
	// MinTaint is the traces' explicit dust threshold in the native coin's
	// smallest units (trace.Request.MinTaint; zero, the default: none).
	MinTaint uint256.Int
	// Deposits, if set, adds the attributions it finds on each chain to
	// the labels before tracing (the deposit-address heuristic of
	// internal/cluster; the command wires it).
	Deposits DepositFinder
}

// DepositFinder finds attributions from the ledger given known ones.
type DepositFinder func(ctx context.Context, g trace.ChainGraph, chain model.Chain, known trace.Attributor) ([]model.Attribution, error)

// Label sources.
const (
	LabelsTruth = "truth" // every service and deposit address, correctly (truth/addresses.csv)
	LabelsIntel = "intel" // the world's intel pack: 60 % of services, no deposit addresses, 3 % wrong
)

// AssetScore compares a trace with the truth for one chain and asset in
// which stolen value was cashed out. Amounts are exact, in the asset's
// smallest unit; shares are in basis points (1/100 of a percent), rounded down.
type AssetScore struct {
	Chain  model.Chain `json:"chain"`
	Asset  string      `json:"asset"`
	Symbol string      `json:"symbol"`
	// TrueCashout is the stolen value the ground truth says reached cash-out
	// endpoints (truth/endpoints.csv); ViaMixer the part of it cashed out by
	// mixer withdrawal addresses, which no trace that stops at the mixer sees.
	TrueCashout string `json:"true_cashout"`
	ViaMixer    string `json:"via_mixer"`
	ViaMixerBP  int64  `json:"via_mixer_bp"` // ViaMixer over TrueCashout
	// Recovered is Σ over the true endpoint addresses of min(taint the trace
	// delivered there, stolen value truly cashed out there).
	Recovered  string `json:"recovered"`
	RecoveryBP int64  `json:"recovery_bp"`
	// RecoveryNoMixBP is the same recovery counting only the cash-out that
	// did not pass the mixer: Σ min(taint delivered, true cash-out not via
	// the mixer) over TrueCashout − ViaMixer.
	RecoveryNoMixBP int64 `json:"recovery_excl_mixer_bp"`
	// AddressBP is the share of TrueCashout at addresses the trace reaches
	// with any taint (value-weighted endpoint address recall).
	AddressBP int64 `json:"address_bp"`
	// EntityBP is the value-weighted agreement of the split among cash-out
	// entities: Σ_e min(truth_e, trace_e) / max(Σ truth_e, Σ trace_e), where
	// trace_e is the taint the trace's endpoints attribute to entity e.
	EntityBP int64 `json:"entity_bp"`
	// TracedCashout is Σ trace_e: taint the trace puts at exchange and OTC
	// endpoints of this chain and asset.
	TracedCashout string `json:"traced_cashout"`
	// ExcessBP is the taint at exchange and OTC endpoints beyond what the
	// truth puts at the same entity (Σ_e max(0, trace_e − truth_e)), over
	// TrueCashout: value the trace wrongly calls stolen at cash-out.
	ExcessBP int64 `json:"excess_bp"`
}

// Score is the evaluation of one scenario under one policy.
type Score struct {
	Scenario string `json:"scenario"`
	Policy   string `json:"policy"`
	Labels   string `json:"labels"`
	Mixer    string `json:"mixer,omitempty"` // demix, pool or fifo (omitted: stop)
	// MixWindow is Options.MixMaxDelay (omitted: none).
	MixWindow string `json:"mix_max_delay,omitempty"`
	MixLinks  int    `json:"mix_links,omitempty"` // deposit-withdrawal links the taint crossed
	// Of MixLinks, MixLinksTrue are those whose withdrawal truly pays out a
	// note this scenario deposited (truth/mixes.csv; notes of one scenario
	// are interchangeable for its taint) and MixLinksExact those whose
	// deposit and withdrawal are the very pair of mixes.csv. MixNotes
	// counts the scenario's notes withdrawn in the world. MixPrecisionBP is
	// MixLinksTrue over MixLinks, MixRecallBP MixLinksTrue over MixNotes.
	MixLinksTrue   int   `json:"mix_links_true,omitempty"`
	MixLinksExact  int   `json:"mix_links_exact,omitempty"`
	MixNotes       int   `json:"mix_notes,omitempty"`
	MixPrecisionBP int64 `json:"mix_link_precision_bp,omitempty"`
	MixRecallBP    int64 `json:"mix_link_recall_bp,omitempty"`
	Inferred       int   `json:"inferred_labels,omitempty"` // attributions the deposit heuristic added
	// MinTaint is the trace's explicit dust threshold (smallest units of the
	// native coin; omitted: none); BelowMin the taint it left unfollowed on
	// the theft chain, and BelowMinBP that over the taint seeded there.
	MinTaint   string `json:"min_taint,omitempty"`
	BelowMin   string `json:"below_min,omitempty"`
	BelowMinBP int64  `json:"below_min_bp,omitempty"`
	// FalsePosViaPool counts the false positives whose explanation path
	// passes through a mixer pool followed as an ordinary address (--mixer
	// pool); FalsePosPoolRecipients those that received their first taint
	// directly as a pool withdrawal.
	FalsePosViaPool        int `json:"false_positives_via_pool,omitempty"`
	FalsePosPoolRecipients int `json:"false_positives_pool_recipients,omitempty"`
	// FalsePosOtherScenario counts the false positives that received
	// stolen value of another scenario of the world (both launder through
	// the same mixer pool; for this scenario they are still untainted).
	FalsePosOtherScenario int          `json:"false_positives_other_scenario,omitempty"`
	Truncated             bool         `json:"truncated"`
	Reason                string       `json:"truncated_reason,omitempty"`
	Assets                []AssetScore `json:"assets"`
	// Tainted counts the addresses (not seeds) the trace delivered taint to;
	// FalsePositives those of them that never received stolen value in this
	// scenario's ground truth; Untainted the addresses active (sending or
	// receiving) after the theft that never received stolen value.
	Tainted        int   `json:"tainted"`
	FalsePositives int   `json:"false_positives"`
	Untainted      int   `json:"untainted_active"`
	FalsePosBP     int64 `json:"false_positive_bp"`
	// Missed counts addresses that truly received stolen value but got no taint.
	Missed     int   `json:"missed"`
	TrulyHeld  int   `json:"truly_tainted"`
	Nodes      int   `json:"nodes"`
	Read       int64 `json:"transfers_read"`
	ElapsedMS  int64 `json:"elapsed_ms"`
	MeetsGoals bool  `json:"meets_targets"`
}

// Report is an evaluation of a world.
type Report struct {
	Seed   uint64  `json:"seed"`
	Scale  int64   `json:"scale"`
	Scores []Score `json:"scores"`
}

type addrKey struct {
	chain model.Chain
	addr  string
}

type assetKey struct {
	chain model.Chain
	asset string
}

type epKey struct {
	chain       model.Chain
	addr, asset string
}

type entKey struct {
	chain         model.Chain
	asset, entity string
}

// truthOf is one scenario's answer.
type truthOf struct {
	sum      synth.ScenarioSummary
	endpoint map[epKey]*uint256.Int    // stolen cashed out per address and asset
	epMixed  map[epKey]*uint256.Int    // of which by mixer withdrawal addresses
	entity   map[entKey]*uint256.Int   // stolen cashed out per entity
	total    map[assetKey]*uint256.Int // stolen cashed out per chain and asset
	mixed    map[assetKey]*uint256.Int // of which by mixer withdrawal addresses
	tainted  map[addrKey]bool          // every address that received stolen value
	other    map[addrKey]bool          // addresses that received stolen value of another scenario
	noteOf   map[txKey]string          // scenario of each laundering mixer withdrawal, by withdrawal tx
	pairs    map[[2]txKey]bool         // true (deposit, withdrawal) pairs of laundering notes
	notes    int                       // this scenario's notes withdrawn
}

// txKey names a transaction.
type txKey struct {
	chain model.Chain
	hash  string
}

func add(m map[assetKey]*uint256.Int, k assetKey, v *uint256.Int) {
	x := m[k]
	if x == nil {
		x = new(uint256.Int)
		m[k] = x
	}
	x.Add(x, v)
}

func (w *World) truth(s synth.ScenarioSummary) *truthOf {
	t := &truthOf{sum: s, endpoint: map[epKey]*uint256.Int{}, epMixed: map[epKey]*uint256.Int{}, entity: map[entKey]*uint256.Int{},
		total: map[assetKey]*uint256.Int{}, mixed: map[assetKey]*uint256.Int{}, tainted: map[addrKey]bool{}, other: map[addrKey]bool{}}
	for i := range w.Truth.Endpoints {
		e := &w.Truth.Endpoints[i]
		if e.Scenario != s.Name {
			continue
		}
		k := epKey{e.Chain, e.Address, e.Asset}
		if t.endpoint[k] == nil {
			t.endpoint[k] = new(uint256.Int)
		}
		t.endpoint[k].Add(t.endpoint[k], &e.Stolen)
		ek := entKey{e.Chain, e.Asset, e.Entity}
		if t.entity[ek] == nil {
			t.entity[ek] = new(uint256.Int)
		}
		t.entity[ek].Add(t.entity[ek], &e.Stolen)
		add(t.total, assetKey{e.Chain, e.Asset}, &e.Stolen)
	}
	t.noteOf, t.pairs = map[txKey]string{}, map[[2]txKey]bool{}
	for i := range w.Truth.Mixes {
		m := &w.Truth.Mixes[i]
		if m.Scenario == "" {
			continue
		}
		wk := txKey{m.Chain, m.WithdrawTx}
		t.noteOf[wk] = m.Scenario
		t.pairs[[2]txKey{{m.Chain, m.DepositTx}, wk}] = true
		if m.Scenario == s.Name {
			t.notes++
		}
	}
	role := map[addrKey]string{}
	for _, o := range w.Truth.Owners {
		role[addrKey{o.Chain, o.Address}] = o.Role
	}
	t.tainted[addrKey{synth.Chain1, s.Thief}] = true
	for i := range w.Truth.Flows {
		f := &w.Truth.Flows[i]
		if f.Stolen.IsZero() {
			continue
		}
		if f.Scenario != s.Name {
			t.other[addrKey{f.Chain, f.To}] = true
			continue
		}
		t.tainted[addrKey{f.Chain, f.To}] = true
		if f.Step == "cashout" && role[addrKey{f.Chain, f.From}] == "mix-withdraw" {
			add(t.mixed, assetKey{f.Chain, f.Asset}, &f.Stolen)
			k := epKey{f.Chain, f.To, f.Asset}
			if t.epMixed[k] == nil {
				t.epMixed[k] = new(uint256.Int)
			}
			t.epMixed[k].Add(t.epMixed[k], &f.Stolen)
		}
	}
	return t
}

// activeSince counts, per chain, the addresses that sent or received a
// transfer at or after t, and returns them.
func (w *World) activeSince(t int64) map[addrKey]bool {
	rd := w.Index.Reader()
	defer rd.Close()
	out := map[addrKey]bool{}
	for _, c := range rd.Chains() {
		ch, _ := rd.Chain(c)
		src, dst, _, _ := ch.Columns()
		seen := make([]bool, ch.NumAddresses())
		for s := int(ch.FirstAtOrAfter(t)); s < len(src); s++ {
			seen[src[s]], seen[dst[s]] = true, true
		}
		for id, ok := range seen {
			if ok {
				out[addrKey{c, ch.Address(uint32(id))}] = true
			}
		}
	}
	return out
}

// Evaluate runs a forward trace from each scenario's theft address (native
// coin, default stop rules and bounds, swaps and bridges followed, the true
// owners as attributions) under each policy and scores it.
func (w *World) Evaluate(ctx context.Context, o Options) (*Report, error) {
	pols := o.Policies
	if pols == nil {
		pols = []trace.Policy{trace.Poison, trace.Haircut, trace.FIFO}
	}
	want := map[string]bool{}
	for _, s := range o.Scenarios {
		want[s] = true
	}
	rep := &Report{Seed: w.Truth.Summary.Seed, Scale: w.Truth.Summary.Scale}
	symbol := map[assetKey]string{}
	for _, a := range w.Truth.Summary.Assets {
		symbol[assetKey{a.Chain, a.ID}] = a.Symbol
	}
	labels := w.Labels
	switch o.Labels {
	case "", LabelsTruth:
		o.Labels = LabelsTruth
	case LabelsIntel:
		labels = w.Intel
	default:
		return nil, fmt.Errorf("unknown label source %q (want %s or %s)", o.Labels, LabelsTruth, LabelsIntel)
	}
	inferred := 0
	if o.Deposits != nil {
		labels = labels.Clone()
		rd := w.Index.Reader()
		g := trace.Index(rd)
		for _, c := range []model.Chain{synth.Chain1, synth.Chain2} {
			cg, ok := g.Chain(c)
			if !ok {
				continue
			}
			found, err := o.Deposits(ctx, cg, c, labels)
			if err != nil {
				rd.Close()
				return nil, fmt.Errorf("deposit addresses on %s: %w", c, err)
			}
			for _, a := range found {
				labels.Add(a)
			}
			inferred += len(found)
		}
		rd.Close()
		o.Labels += "+deposits"
	}
	found := 0
	for _, s := range w.Truth.Summary.Scenarios {
		if len(want) > 0 && !want[s.Name] {
			continue
		}
		found++
		tr := w.truth(s)
		active := w.activeSince(s.TheftTime)
		untainted := 0
		for k := range active {
			if !tr.tainted[k] {
				untainted++
			}
		}
		for _, p := range pols {
			sc, err := w.score(ctx, tr, p, labels, &o, untainted, symbol)
			if err != nil {
				return nil, fmt.Errorf("scenario %s, policy %s: %w", s.Name, p, err)
			}
			sc.Labels, sc.Inferred = o.Labels, inferred
			if o.Mixer != trace.MixerStop {
				sc.Mixer = o.Mixer.String()
			}
			if o.MixMaxDelay > 0 {
				sc.MixWindow = o.MixMaxDelay.String()
			}
			rep.Scores = append(rep.Scores, *sc)
		}
	}
	if found < len(want) {
		var names []string
		for _, s := range w.Truth.Summary.Scenarios {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("unknown scenario in %v (the world has %v)", o.Scenarios, names)
	}
	return rep, nil
}

func dec(s string) *uint256.Int {
	v, err := uint256.FromDecimal(s)
	if err != nil {
		panic(fmt.Sprintf("trace result amount %q: %v", s, err)) // the engine writes decimals
	}
	return v
}

// bp is num/den in basis points, rounded down (0 when den is 0).
func bp(num, den *uint256.Int) int64 {
	if den.IsZero() {
		return 0
	}
	var x uint256.Int
	x.MulDivOverflow(num, uint256.NewInt(10000), den)
	return int64(x.Uint64())
}

func (w *World) score(ctx context.Context, tr *truthOf, p trace.Policy, labels *trace.Labels, o *Options, untainted int, symbol map[assetKey]string) (*Score, error) {
	rd := w.Index.Reader()
	defer rd.Close()
	eng := &trace.Engine{Graph: trace.Index(rd), Attributor: labels, Conversions: w.Conversions}
	req := trace.Request{Chain: synth.Chain1, From: []string{tr.sum.Thief}, Asset: model.NativeAsset,
		Policy: p, Direction: trace.Forward, Since: time.Unix(tr.sum.TheftTime, 0).UTC()}
	req.Mixer = o.Mixer
	req.MinTaint = o.MinTaint
	req.MixMaxDelay = o.MixMaxDelay
	t0 := time.Now()
	res, err := eng.Run(ctx, req)
	if err != nil {
		return nil, err
	}
	sc := &Score{Scenario: tr.sum.Name, Policy: p.String(), Truncated: res.Truncated, Reason: res.Reason,
		Nodes: res.Stats.Nodes, Read: res.Stats.TransfersRead, ElapsedMS: time.Since(t0).Milliseconds(),
		Untainted: untainted, TrulyHeld: len(tr.tainted)}
	for _, c := range res.Conversions {
		if c.Kind == string(trace.Mix) {
			sc.MixLinks++
			wk := txKey{model.Chain(c.Out.Chain), c.Out.Tx}
			if tr.noteOf[wk] == tr.sum.Name {
				sc.MixLinksTrue++
			}
			if tr.pairs[[2]txKey{{model.Chain(c.In.Chain), c.In.Tx}, wk}] {
				sc.MixLinksExact++
			}
		}
	}
	if o.Mixer != trace.MixerStop {
		sc.MixNotes = tr.notes
		if sc.MixLinks > 0 {
			sc.MixPrecisionBP = int64(sc.MixLinksTrue) * 10000 / int64(sc.MixLinks)
		}
		if tr.notes > 0 {
			sc.MixRecallBP = int64(sc.MixLinksTrue) * 10000 / int64(tr.notes)
		}
	}
	if !o.MinTaint.IsZero() {
		sc.MinTaint = o.MinTaint.Dec()
		for _, t := range res.Totals {
			if t.Chain == string(synth.Chain1) && t.Asset == model.NativeAsset && t.BelowMin != "" {
				sc.BelowMin = t.BelowMin
				sc.BelowMinBP = bp(dec(t.BelowMin), dec(t.Seeded))
			}
		}
	}
	pools := poolPaths(res)

	got := map[epKey]*uint256.Int{} // taint received per address and asset
	reached := map[addrKey]bool{}
	entity := map[addrKey]string{} // the entity the trace's attributions name
	for _, n := range res.Nodes {
		k := addrKey{model.Chain(n.Chain), n.Address}
		for _, a := range n.Attributions {
			if a.Category == n.Stop && entity[k] == "" {
				entity[k] = a.Entity
				if a.Entity == "" {
					entity[k] = a.Label
				}
			}
		}
		any := n.Role == "seed"
		for _, a := range n.Received {
			v := dec(a.Amount)
			if v.IsZero() {
				continue
			}
			any = true
			got[epKey{k.chain, n.Address, a.Asset}] = v
		}
		if !any {
			continue
		}
		reached[k] = true
		if n.Role == "seed" {
			continue
		}
		sc.Tainted++
		if !tr.tainted[k] {
			sc.FalsePositives++
			if tr.other[k] {
				sc.FalsePosOtherScenario++
			}
			switch pools[k] {
			case viaPoolDirect:
				sc.FalsePosPoolRecipients++
				sc.FalsePosViaPool++
			case viaPoolBelow:
				sc.FalsePosViaPool++
			}
		}
	}
	for k := range tr.tainted {
		if !reached[k] {
			sc.Missed++
		}
	}
	sc.FalsePosBP = bp(uint256.NewInt(uint64(sc.FalsePositives)), uint256.NewInt(uint64(untainted)))

	traced := map[entKey]*uint256.Int{}
	for _, e := range res.Endpoints {
		if e.Category != string(model.CatExchange) && e.Category != string(model.CatOTC) {
			continue
		}
		k := entKey{model.Chain(e.Chain), e.Asset, entity[addrKey{model.Chain(e.Chain), e.Address}]}
		if traced[k] == nil {
			traced[k] = new(uint256.Int)
		}
		traced[k].Add(traced[k], dec(e.Amount))
	}

	var keys []assetKey
	for k := range tr.total {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].chain != keys[j].chain {
			return keys[i].chain < keys[j].chain
		}
		return keys[i].asset < keys[j].asset
	})
	sc.MeetsGoals = sc.FalsePosBP <= TargetFalsePosBP && len(keys) > 0
	for _, ak := range keys {
		total := tr.total[ak]
		var rec, recNoMix, addrHit, agree, tracedSum, truthSum uint256.Int
		for k, v := range tr.endpoint {
			if k.chain != ak.chain || k.asset != ak.asset {
				continue
			}
			if g := got[k]; g != nil {
				addrHit.Add(&addrHit, v)
				rec.Add(&rec, minOf(g, v))
				nm := new(uint256.Int).Set(v)
				if m := tr.epMixed[k]; m != nil {
					nm.Sub(nm, m)
				}
				recNoMix.Add(&recNoMix, minOf(g, nm))
			}
		}
		ents := map[string]bool{}
		for k := range tr.entity {
			if k.chain == ak.chain && k.asset == ak.asset {
				ents[k.entity] = true
			}
		}
		for k := range traced {
			if k.chain == ak.chain && k.asset == ak.asset {
				ents[k.entity] = true
			}
		}
		for e := range ents {
			t, r := tr.entity[entKey{ak.chain, ak.asset, e}], traced[entKey{ak.chain, ak.asset, e}]
			if t != nil {
				truthSum.Add(&truthSum, t)
			}
			if r != nil {
				tracedSum.Add(&tracedSum, r)
			}
			if t != nil && r != nil {
				if t.Lt(r) {
					agree.Add(&agree, t)
				} else {
					agree.Add(&agree, r)
				}
			}
		}
		den := &truthSum
		if tracedSum.Gt(den) {
			den = &tracedSum
		}
		mixed := new(uint256.Int)
		if m := tr.mixed[ak]; m != nil {
			mixed = m
		}
		noMix := new(uint256.Int).Sub(total, mixed)
		as := AssetScore{Chain: ak.chain, Asset: ak.asset, Symbol: symbol[ak], TrueCashout: total.Dec(), ViaMixer: mixed.Dec(), ViaMixerBP: bp(mixed, total),
			Recovered: rec.Dec(), RecoveryBP: bp(&rec, total), RecoveryNoMixBP: bp(&recNoMix, noMix), AddressBP: bp(&addrHit, total),
			EntityBP: bp(&agree, den), TracedCashout: tracedSum.Dec()}
		var excess uint256.Int
		excess.Sub(&tracedSum, &agree)
		as.ExcessBP = bp(&excess, total)
		if as.RecoveryBP < TargetRecoveryBP {
			sc.MeetsGoals = false
		}
		sc.Assets = append(sc.Assets, as)
	}
	return sc, nil
}

func minOf(a, b *uint256.Int) *uint256.Int {
	if a.Lt(b) {
		return a
	}
	return b
}

// How a node's explanation path relates to mixer pools followed as
// ordinary addresses (--mixer pool).
const (
	viaNoPool     = iota
	viaPoolDirect // first taint came as a withdrawal from such a pool
	viaPoolBelow  // the path passes such a pool further up
)

// poolPaths classifies every node of a result by its explanation path
// (the chain of first-arrival transfers, nodes[].via): whether it passes
// through a mixer pool that the trace followed as an ordinary address.
func poolPaths(res *trace.Result) map[addrKey]int {
	type nk = addrKey
	byKey := make(map[nk]*trace.Node, len(res.Nodes))
	for i := range res.Nodes {
		n := &res.Nodes[i]
		byKey[nk{model.Chain(n.Chain), n.Address}] = n
	}
	isPool := func(n *trace.Node) bool {
		if n.Role != "intermediate" {
			return false
		}
		for _, a := range n.Attributions {
			if a.Category == string(model.CatMixer) {
				return true
			}
		}
		return false
	}
	out := make(map[addrKey]int, len(res.Nodes))
	for k, n := range byKey {
		class := viaNoPool
		cur := n
		for steps := 0; cur.Via != nil && steps < 4*len(res.Nodes)+1; steps++ {
			up := byKey[nk{model.Chain(cur.Via.UpChain), cur.Via.Upstream}]
			if up == nil || up == cur {
				break
			}
			if isPool(up) {
				class = viaPoolBelow
				if cur == n {
					class = viaPoolDirect
				}
				break
			}
			cur = up
		}
		out[k] = class
	}
	return out
}
