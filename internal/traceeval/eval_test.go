package traceeval

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/redthread/redthread/internal/cluster"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/synth"
	"github.com/redthread/redthread/internal/trace"
)

// TestHaircutTargets holds the trace engine to the quality targets of
// issue 5 on small worlds: a forward haircut trace from each theft with
// default stop rules recovers at least 95 % of the stolen value that truly
// reached cash-out endpoints, on every chain and asset, and taints at most
// 5 % of the untainted active addresses.
func TestHaircutTargets(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		w := defaultWorld(t, seed)
		rep, err := w.Evaluate(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := rep.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d:\n%s", seed, buf.String())
		if len(rep.Scores) != 2*3 {
			t.Fatalf("seed %d: %d scores, want 2 scenarios × 3 policies", seed, len(rep.Scores))
		}
		tainted := map[string]map[string]int{}
		for _, s := range rep.Scores {
			if tainted[s.Scenario] == nil {
				tainted[s.Scenario] = map[string]int{}
			}
			tainted[s.Scenario][s.Policy] = s.Tainted
			if len(s.Assets) == 0 {
				t.Errorf("seed %d %s %s: no cash-out in the ground truth", seed, s.Scenario, s.Policy)
			}
			for _, a := range s.Assets {
				if a.RecoveryBP > a.RecoveryNoMixBP+1 || a.RecoveryBP > 10000 || a.AddressBP < a.RecoveryBP {
					t.Errorf("seed %d %s %s %s:%s: inconsistent shares: recovered %d, excl. mixer %d, addresses %d",
						seed, s.Scenario, s.Policy, a.Chain, a.Symbol, a.RecoveryBP, a.RecoveryNoMixBP, a.AddressBP)
				}
				if s.Policy == "haircut" && a.RecoveryBP < TargetRecoveryBP {
					t.Errorf("seed %d %s haircut %s:%s: recovered %s of the true cash-out, target ≥ 95%%",
						seed, s.Scenario, a.Chain, a.Symbol, pct(a.RecoveryBP))
				}
			}
			if s.Policy == "haircut" {
				if s.FalsePosBP > TargetFalsePosBP || s.Truncated {
					t.Errorf("seed %d %s haircut: false-positive rate %s (target ≤ 5%%), truncated %v", seed, s.Scenario, pct(s.FalsePosBP), s.Truncated)
				}
				if !s.MeetsGoals {
					t.Errorf("seed %d %s haircut: targets not met", seed, s.Scenario)
				}
			}
		}
		// Poison taints every later output of an address: never fewer addresses than haircut.
		for sc, m := range tainted {
			if m["poison"] < m["haircut"] {
				t.Errorf("seed %d %s: poison tainted %d addresses, haircut %d", seed, sc, m["poison"], m["haircut"])
			}
		}
	}
}

// TestOpenMatchesGenerate: evaluating a world read back from its files
// gives the same scores as evaluating it while it is generated.
func TestOpenMatchesGenerate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	o := Options{Policies: []trace.Policy{trace.Haircut, trace.FIFO}}
	w1, err := Generate(ctx, synth.Params{Seed: 4, Scale: 30_000}, dir)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := w1.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := w2.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r1, r2, cmpopts.IgnoreFields(Score{}, "ElapsedMS")); d != "" {
		t.Errorf("open vs generate (-gen +open):\n%s", d)
	}
}

// TestScoresRespondToTheTrace: the metrics measure the trace, not the
// truth. Without attributions no exchange stops the trace, so taint runs on
// through deposit addresses and hot wallets into the customers' accounts:
// the false-positive rate must rise above the target; with the intel pack's
// partial labels it lies between.
func TestScoresRespondToTheTrace(t *testing.T) {
	ctx := context.Background()
	w, err := Generate(ctx, synth.Params{Seed: 5, Scale: 30_000, Scenarios: synth.DefaultScenarios(30_000)[:1]}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Policies: []trace.Policy{trace.Haircut}}
	good, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	w.Labels = trace.NewLabels()
	bad, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	g, b := good.Scores[0], bad.Scores[0]
	if g.FalsePosBP > TargetFalsePosBP || b.FalsePosBP <= TargetFalsePosBP || b.FalsePositives <= g.FalsePositives {
		t.Errorf("false positives with true labels %d (%s), without labels %d (%s): want the second above 5%%",
			g.FalsePositives, pct(g.FalsePosBP), b.FalsePositives, pct(b.FalsePosBP))
	}
	for _, a := range b.Assets {
		if a.EntityBP != 0 || a.TracedCashout != "0" {
			t.Errorf("without labels %s:%s: entity agreement %s, traced cash-out %s; want none", a.Chain, a.Symbol, pct(a.EntityBP), a.TracedCashout)
		}
	}
	if _, err := w.Evaluate(ctx, Options{Scenarios: []string{"no-such"}}); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("unknown scenario: err %v", err)
	}
	if _, err := w.Evaluate(ctx, Options{Labels: "guess"}); err == nil {
		t.Error("unknown label source accepted")
	}
}

// TestDepositHeuristicWithIntel: with the intel pack alone, haircut runs from
// the unlabelled deposit addresses into the exchanges and taints most of the
// world; the deposit-address heuristic must bring the false-positive rate
// under the target without losing recovery off the mixer.
func TestDepositHeuristicWithIntel(t *testing.T) {
	ctx := context.Background()
	w := defaultWorld(t, 1)
	o := Options{Policies: []trace.Policy{trace.Haircut}, Labels: LabelsIntel}
	base, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Deposits = func(ctx context.Context, g trace.ChainGraph, c model.Chain, known trace.Attributor) ([]model.Attribution, error) {
		f, err := cluster.DepositAddresses(ctx, g, c, known, cluster.Options{})
		var out []model.Attribution
		for _, x := range f {
			out = append(out, x.Attribution)
		}
		return out, err
	}
	rep, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range rep.Scores {
		if s.Inferred == 0 {
			t.Errorf("%s: no attributions inferred", s.Scenario)
		}
		if s.FalsePosBP > TargetFalsePosBP || s.FalsePosBP >= base.Scores[i].FalsePosBP {
			t.Errorf("%s: false-positive rate %d bp with the heuristic, %d bp without; want ≤ %d", s.Scenario, s.FalsePosBP, base.Scores[i].FalsePosBP, TargetFalsePosBP)
		}
		for _, a := range s.Assets {
			if a.Chain == synth.Chain1 && a.RecoveryNoMixBP < TargetRecoveryBP {
				t.Errorf("%s %s: recovered %d bp of the cash-out off the mixer", s.Scenario, a.Chain, a.RecoveryNoMixBP)
			}
		}
	}
}

// TestDemixAgainstTruth checks the demixer against the world's hidden
// deposit–withdrawal pairs (truth/mixes.csv). The synthetic mixer users
// leak no link the published heuristics use (docs/trace-quality.md): their
// recipients are drawn independently of the depositors. So the demixer must
// stay quiet: few links (chance address reuse), and the count is reported.
func TestDemixAgainstTruth(t *testing.T) {
	w := defaultWorld(t, 2)
	truth := map[[2]string]bool{}
	for _, m := range w.Truth.Mixes {
		truth[[2]string{m.Depositor, m.Recipient}] = true
	}
	rd := w.Index.Reader()
	defer rd.Close()
	g, _ := trace.Index(rd).Chain(synth.Chain1)
	links, right, withdrawals := 0, 0, 0
	for _, o := range w.Truth.Owners {
		if o.Chain != synth.Chain1 || o.Role != "mixer-pool" {
			continue
		}
		id, ok := g.Lookup(o.Address)
		if !ok {
			continue
		}
		p := trace.AnalyzePool(g, synth.Chain1, id, trace.DemixOptions{})
		if p == nil {
			t.Errorf("%s: not recognised as a fixed-denomination pool", o.Address)
			continue
		}
		withdrawals += p.Withdrawals
		for _, l := range p.Links {
			links++
			d, r := g.Address(g.Transfer(l.Deposit).Src), g.Address(g.Transfer(l.Withdrawal).Dst)
			if truth[[2]string{d, r}] {
				right++
			}
		}
	}
	t.Logf("%d withdrawals, %d links, %d of them true", withdrawals, links, right)
	if withdrawals == 0 || links*100 > withdrawals {
		t.Errorf("%d withdrawals, %d links: want at most 1 %% linked in a world that leaks no links", withdrawals, links)
	}
}

// TestMixerPoolMode: following the unlinked rest through the pool must
// recover cash-out value that passed the mixer, which the default stop
// cannot.
func TestMixerPoolMode(t *testing.T) {
	ctx := context.Background()
	w := defaultWorld(t, 1)
	o := Options{Policies: []trace.Policy{trace.Haircut}, Scenarios: []string{"bridge-drain"}}
	stop, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Mixer = trace.MixerPool
	pool, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := stop.Scores[0].Assets[0], pool.Scores[0].Assets[0]
	if a.ViaMixerBP == 0 || b.RecoveryBP <= a.RecoveryBP || pool.Scores[0].Mixer != "pool" {
		t.Errorf("%s: recovered %d bp stopping at the mixer, %d bp through the pool (via mixer %d bp): want more", a.Chain, a.RecoveryBP, b.RecoveryBP, a.ViaMixerBP)
	}
	// The breakdown of false positives: none through a pool when the
	// trace stops there; through the pool, most of them.
	if s := stop.Scores[0]; s.FalsePosViaPool != 0 || s.FalsePosPoolRecipients != 0 {
		t.Errorf("stop: %d false positives through a pool (%d recipients), want 0", s.FalsePosViaPool, s.FalsePosPoolRecipients)
	}
	ps := pool.Scores[0]
	if ps.FalsePosViaPool == 0 || ps.FalsePosViaPool > ps.FalsePositives || ps.FalsePosPoolRecipients > ps.FalsePosViaPool {
		t.Errorf("pool: %d false positives, %d through a pool, %d pool recipients", ps.FalsePositives, ps.FalsePosViaPool, ps.FalsePosPoolRecipients)
	}

	// FIFO temporal matching at the pool recovers more than stopping and
	// spreads the pool's taint over fewer addresses than its haircut share.
	o.Mixer = trace.MixerFIFO
	fifo, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	fs, c := fifo.Scores[0], fifo.Scores[0].Assets[0]
	if fs.Mixer != "fifo" || c.RecoveryBP <= a.RecoveryBP || fs.FalsePositives >= ps.FalsePositives {
		t.Errorf("fifo: recovered %d bp (stop %d bp), %d false positives (pool %d): want more recovered than stop, fewer false positives than pool",
			c.RecoveryBP, a.RecoveryBP, fs.FalsePositives, ps.FalsePositives)
	}

	// An explicit dust threshold of 1 SYN: reported, taints no more
	// addresses, and what it leaves unfollowed is accounted.
	o.MinTaint.SetUint64(1_000_000_000_000_000_000)
	dust, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ds := dust.Scores[0]
	if ds.MinTaint != "1000000000000000000" || ds.BelowMin == "" || ds.FalsePositives > fs.FalsePositives || ds.Tainted > fs.Tainted {
		t.Errorf("dust: min %q, below %q, %d false positives and %d tainted (without: %d, %d)", ds.MinTaint, ds.BelowMin, ds.FalsePositives, ds.Tainted, fs.FalsePositives, fs.Tainted)
	}
}

// TestDepositHeuristicPrecision scores the attributions the deposit-address
// heuristic infers from the intel pack against the true owners: an
// attribution to a named exchange is right when the address truly belongs
// to it; an unidentified exchange (entity cluster:…) is right when the
// address belongs to the exchange most of its cluster belongs to.
func TestDepositHeuristicPrecision(t *testing.T) {
	ctx := context.Background()
	w := defaultWorld(t, 1)
	owner := map[string]string{}
	for _, o := range w.Truth.Owners {
		owner[string(o.Chain)+"/"+o.Address] = o.Owner
	}
	rd := w.Index.Reader()
	defer rd.Close()
	g := trace.Index(rd)
	total, right := 0, 0
	for _, c := range []model.Chain{synth.Chain1, synth.Chain2} {
		cg, _ := g.Chain(c)
		found, err := cluster.DepositAddresses(ctx, cg, c, w.Intel, cluster.Options{})
		if err != nil {
			t.Fatal(err)
		}
		votes := map[string]map[string]int{} // cluster entity → true owner → count
		for _, f := range found {
			e := f.Attribution.Entity
			if votes[e] == nil {
				votes[e] = map[string]int{}
			}
			votes[e][owner[string(c)+"/"+f.Attribution.Address]]++
		}
		for _, f := range found {
			a := f.Attribution
			want := a.Entity
			if strings.HasPrefix(want, "cluster:") {
				n := 0
				for o, k := range votes[want] {
					if k > n || k == n && o < want {
						want, n = o, k
					}
				}
			}
			total++
			if owner[string(c)+"/"+a.Address] == want {
				right++
			}
		}
	}
	active := 0
	for _, o := range w.Truth.Owners {
		if cg, ok := g.Chain(o.Chain); ok && o.Role == "deposit" {
			if id, ok := cg.Lookup(o.Address); ok && len(cg.Out(id, nil)) > 0 {
				active++
			}
		}
	}
	t.Logf("%d attributions inferred, %d right; %d deposit addresses swept at least once", total, right, active)
	if total == 0 || right*100 < total*95 {
		t.Errorf("%d attributions inferred, %d right: want at least 95 %% right", total, right)
	}
}

// TestMixerBurstDemix: in the opt-in mixer-burst scenario (several notes
// withdrawn to each of a few collectors within days of a deposit burst) the
// repeated-recipient heuristic must link withdrawals that truly pay out the
// scenario's notes, and so recover more than stopping at the mixer, without
// tainting untainted addresses.
func TestMixerBurstDemix(t *testing.T) {
	ctx := context.Background()
	p := synth.Params{Seed: 1, Scale: 200_000, Scenarios: synth.WithOptIn(200_000, []string{"mixer-burst"})}
	w, err := Generate(ctx, p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Policies: []trace.Policy{trace.Haircut}, Scenarios: []string{"mixer-burst"}}
	stop, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Mixer = trace.MixerDemix
	demix, err := w.Evaluate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := stop.Scores[0], demix.Scores[0]
	t.Logf("recovered %d bp (stop), %d bp (demix); %d links, %d true, %d notes; FP %d bp", a.Assets[0].RecoveryBP, b.Assets[0].RecoveryBP, b.MixLinks, b.MixLinksTrue, b.MixNotes, b.FalsePosBP)
	if b.MixNotes == 0 || b.MixPrecisionBP < 9000 || b.MixRecallBP < 2500 {
		t.Errorf("%d links, %d of them paying out the scenario's %d notes: want precision ≥ 90 %% and recall ≥ 25 %%", b.MixLinks, b.MixLinksTrue, b.MixNotes)
	}
	if b.Assets[0].RecoveryBP < a.Assets[0].RecoveryBP+2000 || b.FalsePosBP > 500 {
		t.Errorf("recovered %d bp demixing, %d bp stopping; FP %d bp: want 20 points more and FP ≤ 5 %%", b.Assets[0].RecoveryBP, a.Assets[0].RecoveryBP, b.FalsePosBP)
	}
	// Pool-wide: every repeated-recipient link the demixer makes, crossed
	// by the trace or not, scored by whether deposit and withdrawal carry a
	// note of the same scenario (truth/mixes.csv).
	depScen, wdScen := map[string]string{}, map[string]string{}
	for _, m := range w.Truth.Mixes {
		depScen[m.DepositTx], wdScen[m.WithdrawTx] = m.Scenario, m.Scenario
	}
	rd := w.Index.Reader()
	defer rd.Close()
	g, _ := trace.Index(rd).Chain(synth.Chain1)
	links, right := 0, 0
	for _, ow := range w.Truth.Owners {
		id, ok := g.Lookup(ow.Address)
		if ow.Chain != synth.Chain1 || ow.Role != "mixer-pool" || !ok {
			continue
		}
		pl := trace.AnalyzePool(g, synth.Chain1, id, trace.DemixOptions{})
		for _, l := range pl.Links {
			if l.Heuristic != trace.HeurRepeatedRecipient {
				continue
			}
			hs, err := g.TxHashes(ctx, []uint32{l.Deposit, l.Withdrawal})
			if err != nil {
				t.Fatal(err)
			}
			links++
			if d := depScen[hs[0]]; d != "" && d == wdScen[hs[1]] {
				right++
			}
		}
	}
	t.Logf("pool-wide: %d repeated-recipient links, %d of them right", links, right)
	if links == 0 || right*10 < links*9 {
		t.Errorf("pool-wide: %d repeated-recipient links, %d right: want ≥ 90 %%", links, right)
	}
	// the default world has no opt-in scenario
	if synth.WithOptIn(200_000, []string{"bridge-drain"}) != nil {
		t.Error("naming a default scenario changed the world's scenarios")
	}
}
