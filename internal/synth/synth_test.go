package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/redthread/redthread/internal/intel"
	"github.com/redthread/redthread/internal/model"
)

// collect is a Sink that keeps everything in memory.
type collect struct {
	blocks    []model.Block
	swaps     []Swap
	bridges   []Bridge
	flows     []Flow
	endpoints []Endpoint
	mixes     []Mix
}

func (c *collect) Block(b *Block) error {
	mb := b.ModelBlock()
	if err := mb.Validate(); err != nil {
		return err
	}
	c.blocks = append(c.blocks, mb)
	return nil
}
func (c *collect) Swap(s *Swap) error         { c.swaps = append(c.swaps, *s); return nil }
func (c *collect) Bridge(b *Bridge) error     { c.bridges = append(c.bridges, *b); return nil }
func (c *collect) Flow(f *Flow) error         { c.flows = append(c.flows, *f); return nil }
func (c *collect) Endpoint(e *Endpoint) error { c.endpoints = append(c.endpoints, *e); return nil }
func (c *collect) Mix(m *Mix) error           { c.mixes = append(c.mixes, *m); return nil }

type world struct {
	w  *World
	st *Stats
	c  *collect
}

// sharedWorld is a world generated once and shared by the read-only tests.
type sharedWorld struct {
	once sync.Once
	world
}

var small, burst sharedWorld

func (s *sharedWorld) get(t *testing.T, p Params) world {
	t.Helper()
	s.once.Do(func() {
		c := &collect{}
		w, st, err := Generate(context.Background(), p, c)
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		s.world = world{w, st, c}
	})
	if s.w == nil {
		t.Fatal("no world")
	}
	return s.world
}

// burstWorld is the small world with the opt-in mixer-burst scenario added
// to the default ones, generated once.
func burstWorld(t *testing.T) world {
	t.Helper()
	return burst.get(t, Params{Seed: 7, Scale: 40_000, Scenarios: append(DefaultScenarios(40_000), OptInScenarios(40_000)...)})
}

// bothWorlds runs check on the default small world and on the one with the
// opt-in scenario.
func bothWorlds(t *testing.T, check func(t *testing.T, s world)) {
	t.Run("default", func(t *testing.T) { check(t, smallWorld(t)) })
	t.Run("mixer-burst", func(t *testing.T) { check(t, burstWorld(t)) })
}

// smallWorld is generated once and shared by the read-only tests.
func smallWorld(t *testing.T) world {
	t.Helper()
	return small.get(t, Params{Seed: 7, Scale: 40_000})
}

type key struct {
	chain model.Chain
	addr  string
	asset string
}

func TestScaleAndShape(t *testing.T) {
	s := smallWorld(t)
	total := s.st.Total()
	if total < 38_000 || total > 42_000 {
		t.Errorf("transfers = %d, want 40,000 ± 5%%", total)
	}
	var n int64
	perHour := [24]int64{}
	degree := map[key]int{}
	zeroValue, fees := 0, 0
	for _, b := range s.c.blocks {
		for _, tr := range b.Transfers {
			n++
			perHour[(tr.Time/3600)%24]++
			degree[key{tr.Chain, tr.From, ""}]++
			degree[key{tr.Chain, tr.To, ""}]++
			if tr.Amount.IsZero() {
				zeroValue++
			}
			if tr.Kind == model.KindFee {
				fees++
			}
		}
	}
	if n != total {
		t.Errorf("blocks hold %d transfers, stats say %d", n, total)
	}
	// heavy tail: most addresses have few transfers, the biggest hub a lot
	ds := make([]int, 0, len(degree))
	for _, d := range degree {
		ds = append(ds, d)
	}
	sort.Ints(ds)
	if med, top := ds[len(ds)/2], ds[len(ds)-1]; med > 4 || top < int(total/50) {
		t.Errorf("degree median %d, max %d of %d transfers: want median ≤ 4 and a hub with ≥ 2 %%", med, top, total)
	}
	// daily cycle: the afternoon (UTC) is busier than the night
	night := perHour[2] + perHour[3] + perHour[4] + perHour[5]
	day := perHour[13] + perHour[14] + perHour[15] + perHour[16]
	if day*10 < night*15 {
		t.Errorf("hours 13–16 have %d transfers, 2–5 have %d: want a daily cycle", day, night)
	}
	if zeroValue == 0 || fees == 0 {
		t.Errorf("zero-value calls %d, fee transfers %d: want both", zeroValue, fees)
	}
	for _, want := range []int64{s.st.Swaps, s.st.Bridges, s.st.Mixes, s.st.Endpoints} {
		if want == 0 {
			t.Errorf("stats %+v: want swaps, bridges, mixes and endpoints", *s.st)
		}
	}
}

// TestConservation replays the ledger: no balance ever goes negative, and
// what was minted is what is held.
func TestConservation(t *testing.T) { bothWorlds(t, checkConservation) }

func checkConservation(t *testing.T, s world) {
	bal := map[key]*big.Int{}
	minted := map[key]*big.Int{}
	get := func(m map[key]*big.Int, k key) *big.Int {
		v, ok := m[k]
		if !ok {
			v = new(big.Int)
			m[k] = v
		}
		return v
	}
	zero := "0x0000000000000000000000000000000000000000"
	last := map[model.Chain]uint64{}
	for _, b := range s.c.blocks {
		if b.Number <= last[b.Chain] {
			t.Fatalf("%s block %d after %d", b.Chain, b.Number, last[b.Chain])
		}
		last[b.Chain] = b.Number
		for _, tr := range b.Transfers {
			amt := tr.Amount.ToBig()
			if tr.From == zero {
				get(minted, key{tr.Chain, "", tr.Asset}).Add(get(minted, key{tr.Chain, "", tr.Asset}), amt)
			} else {
				f := get(bal, key{tr.Chain, tr.From, tr.Asset})
				f.Sub(f, amt)
				if f.Sign() < 0 {
					t.Fatalf("%s block %d tx %s: %s balance of %s goes negative (%s)", tr.Chain, tr.Block, tr.TxHash, tr.Asset, tr.From, f)
				}
			}
			to := get(bal, key{tr.Chain, tr.To, tr.Asset})
			to.Add(to, amt)
		}
	}
	held := map[key]*big.Int{}
	for k, v := range bal {
		h := get(held, key{k.chain, "", k.asset})
		h.Add(h, v)
	}
	if len(minted) != 7 {
		t.Errorf("minted %d assets, want 7", len(minted))
	}
	for k, m := range minted {
		if h := get(held, k); h.Cmp(m) != 0 {
			t.Errorf("%s %s: minted %s, held %s", k.chain, k.asset, m, h)
		}
	}
}

func dec(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return v
}

// TestGroundTruthAgreesWithLedger checks every ground-truth transfer against
// the ledger, the conversion events against their flows, and that the stolen
// value adds up per scenario, asset and chain.
func TestGroundTruthAgreesWithLedger(t *testing.T) { bothWorlds(t, checkGroundTruth) }

func checkGroundTruth(t *testing.T, s world) {
	type pos struct {
		chain model.Chain
		block uint64
		p     model.Position
	}
	ledger := map[pos]model.Transfer{}
	balance := map[key]*big.Int{}
	for _, b := range s.c.blocks {
		for _, tr := range b.Transfers {
			ledger[pos{tr.Chain, tr.Block, tr.Position}] = tr
			for _, side := range []struct {
				a    string
				sign int
			}{{tr.From, -1}, {tr.To, 1}} {
				k := key{tr.Chain, side.a, tr.Asset}
				if balance[k] == nil {
					balance[k] = new(big.Int)
				}
				if side.sign < 0 {
					balance[k].Sub(balance[k], tr.Amount.ToBig())
				} else {
					balance[k].Add(balance[k], tr.Amount.ToBig())
				}
			}
		}
	}
	launder := map[key]bool{}
	for _, la := range s.w.Launder {
		launder[key{s.w.ChainID(la.ChainIdx), s.w.Address(la.ChainIdx, la.ID), ""}] = true
	}
	type sk struct {
		scen  string
		chain model.Chain
		asset string
	}
	sums := map[sk]map[string]*big.Int{}
	add := func(k sk, field string, v *big.Int) {
		if sums[k] == nil {
			sums[k] = map[string]*big.Int{}
		}
		if sums[k][field] == nil {
			sums[k][field] = new(big.Int)
		}
		sums[k][field].Add(sums[k][field], v)
	}
	stolenAt := map[key]*big.Int{}
	txSteps := map[string][]string{}
	for i, f := range s.c.flows {
		tr, ok := ledger[pos{f.Chain, f.Block, f.Position}]
		if !ok {
			t.Fatalf("flow %d (%s %s): no ledger transfer at %s block %d position %d", i, f.Scenario, f.Step, f.Chain, f.Block, f.Position)
		}
		got := Flow{Scenario: f.Scenario, Step: f.Step, Chain: tr.Chain, TxHash: tr.TxHash, Block: tr.Block, Time: tr.Time,
			Position: tr.Position, From: tr.From, To: tr.To, Asset: tr.Asset, Amount: tr.Amount, Stolen: f.Stolen}
		if d := cmp.Diff(got, f); d != "" {
			t.Fatalf("flow %d differs from the ledger (-ledger +flow):\n%s", i, d)
		}
		if f.Stolen.IsZero() || f.Stolen.Cmp(&f.Amount) > 0 {
			t.Fatalf("flow %d: stolen %s of amount %s", i, f.Stolen.Dec(), f.Amount.Dec())
		}
		st := f.Stolen.ToBig()
		if launder[key{f.Chain, f.From, ""}] {
			k := key{f.Chain, f.From, f.Asset}
			stolenAt[k].Sub(stolenAt[k], st)
			if stolenAt[k].Sign() < 0 {
				t.Fatalf("flow %d: stolen balance of %s goes negative", i, f.From)
			}
		}
		if launder[key{f.Chain, f.To, ""}] {
			k := key{f.Chain, f.To, f.Asset}
			if stolenAt[k] == nil {
				stolenAt[k] = new(big.Int)
			}
			stolenAt[k].Add(stolenAt[k], st)
		}
		k := sk{f.Scenario, f.Chain, f.Asset}
		switch f.Step {
		case "theft", "cashout", "fee", "swap-in", "swap-out", "bridge-in", "bridge-out", "mix-in", "mix-out":
			add(k, f.Step, st)
		case "split", "fanout", "peel", "mingle", "consolidate":
			if !launder[key{f.Chain, f.To, ""}] {
				t.Errorf("flow %d: %s to %s, not a laundering address", i, f.Step, f.To)
			}
		default:
			t.Errorf("flow %d: unknown step %q", i, f.Step)
		}
		txSteps[f.TxHash] = append(txSteps[f.TxHash], f.Step)
	}
	// held stolen value: from the flows, equal to the generator's account,
	// and never more than the address's ledger balance
	for _, la := range s.w.Launder {
		for a, h := range la.Held {
			k := key{s.w.ChainID(la.ChainIdx), s.w.Address(la.ChainIdx, la.ID), s.w.Assets(la.ChainIdx)[a].ID}
			want := s.w.amountOf(la.ChainIdx, uint8(a), h)
			got := stolenAt[k]
			if got == nil {
				got = new(big.Int)
			}
			if got.Cmp(want.ToBig()) != 0 {
				t.Errorf("%s %s: flows leave %s stolen, generator says %s", k.addr, k.asset, got, want.Dec())
			}
			if b := balance[k]; got.Sign() > 0 && (b == nil || b.Cmp(got) < 0) {
				t.Errorf("%s %s: holds %s stolen but its balance is %v", k.addr, k.asset, got, b)
			}
			if got.Sign() > 0 {
				add(sk{s.w.Params.Scenarios[la.Scenario].Name, k.chain, k.asset}, "held", got)
			}
		}
	}
	// endpoints are exactly the cash-out flows
	cash := map[string]*big.Int{}
	for _, e := range s.c.endpoints {
		k := e.Scenario + e.TxHash
		if cash[k] == nil {
			cash[k] = new(big.Int)
		}
		cash[k].Add(cash[k], e.Stolen.ToBig())
		if e.Category != model.CatExchange && e.Category != model.CatOTC {
			t.Errorf("endpoint %s: category %s", e.TxHash, e.Category)
		}
	}
	for _, f := range s.c.flows {
		if f.Step == "cashout" {
			k := f.Scenario + f.TxHash
			if cash[k] == nil || cash[k].Cmp(f.Stolen.ToBig()) != 0 {
				t.Errorf("cash-out flow %s: endpoint says %v, flow %s", f.TxHash, cash[k], f.Stolen.Dec())
			}
		}
	}
	// every laundering swap and bridge crossing is a recorded event
	swapTx := map[string]Swap{}
	for _, sw := range s.c.swaps {
		swapTx[sw.TxHash] = sw
	}
	bridgeIn, bridgeOut := map[string]Bridge{}, map[string]Bridge{}
	for _, b := range s.c.bridges {
		bridgeIn[b.InTx], bridgeOut[b.OutTx] = b, b
		if !strings.HasPrefix(b.Memo, "=:SYNTH") || !strings.HasSuffix(b.Memo, ":"+b.OutTo) || b.OutMemo != "OUT:"+strings.ToUpper(b.InTx[2:]) {
			t.Errorf("bridge %s: memo %q, out memo %q, to %s", b.InTx, b.Memo, b.OutMemo, b.OutTo)
		}
	}
	for _, f := range s.c.flows {
		switch f.Step {
		case "swap-in", "swap-out":
			sw, ok := swapTx[f.TxHash]
			if !ok || (f.Step == "swap-in" && (sw.AssetIn != f.Asset || sw.AmountIn != f.Amount)) ||
				(f.Step == "swap-out" && (sw.AssetOut != f.Asset || sw.AmountOut != f.Amount)) {
				t.Errorf("%s flow %s: no matching swap event", f.Step, f.TxHash)
			}
		case "bridge-in":
			if b, ok := bridgeIn[f.TxHash]; !ok || b.InAmount != f.Amount {
				t.Errorf("bridge-in flow %s: no matching bridge event", f.TxHash)
			}
		case "bridge-out":
			if b, ok := bridgeOut[f.TxHash]; !ok || b.OutAmount != f.Amount {
				t.Errorf("bridge-out flow %s: no matching bridge event", f.TxHash)
			}
		}
	}
	// the stolen account balances, and equals the generator's own
	zero := new(big.Int)
	g := func(m map[string]*big.Int, f string) *big.Int {
		if v := m[f]; v != nil {
			return v
		}
		return zero
	}
	seen := 0
	for _, r := range s.w.Results {
		for ci, as := range r.Sums {
			for a, x := range as {
				k := sk{r.Scenario.Name, s.w.ChainID(ci), s.w.Assets(ci)[a].ID}
				m := sums[k]
				want := map[string]uint64{"theft": x.Stolen, "swap-out": x.SwappedIn, "bridge-out": x.BridgedIn, "mix-out": x.MixedOut,
					"cashout": x.CashedOut, "fee": x.Fees, "swap-in": x.SwappedOut, "bridge-in": x.BridgedOut, "mix-in": x.MixedIn, "held": x.Held}
				for f, v := range want {
					w := s.w.amountOf(ci, uint8(a), v)
					if g(m, f).Cmp(w.ToBig()) != 0 {
						t.Errorf("%v %s: flows give %s, generator %s", k, f, g(m, f), w.Dec())
					}
				}
				in := new(big.Int).Add(g(m, "theft"), g(m, "swap-out"))
				in.Add(in, g(m, "bridge-out")).Add(in, g(m, "mix-out"))
				out := new(big.Int).Add(g(m, "cashout"), g(m, "fee"))
				out.Add(out, g(m, "swap-in")).Add(out, g(m, "bridge-in")).Add(out, g(m, "mix-in")).Add(out, g(m, "held"))
				if in.Cmp(out) != 0 {
					t.Errorf("%v: stolen in %s ≠ out %s", k, in, out)
				}
				if x != (AssetSum{}) {
					seen++
				}
			}
		}
		if r.Sums[0][0].Stolen == 0 || r.Sums[0][0].CashedOut == 0 || (r.Scenario.BridgePercent > 0 && r.Sums[1][0].BridgedIn == 0) || r.Sums[0][0].MixedIn == 0 {
			t.Errorf("scenario %s: %+v: want theft, cash-out, bridging and mixing", r.Scenario.Name, r.Sums[0][0])
		}
	}
	if seen < 4 {
		t.Errorf("only %d scenario assets saw stolen value", seen)
	}
	if s.w.Results[1].Sums[0][2].SwappedOut == 0 {
		t.Errorf("bridge-drain: stolen sUSDC was not swapped")
	}
}

// readDir reads every file under dir.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	p := Params{Seed: 42, Scale: 12_000}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, _, err := WriteDir(context.Background(), p, d); err != nil {
			t.Fatal(err)
		}
	}
	p.Seed = 43
	if _, _, err := WriteDir(context.Background(), p, c); err != nil {
		t.Fatal(err)
	}
	fa, fb, fc := readDir(t, a), readDir(t, b), readDir(t, c)
	if len(fa) != 13 {
		t.Errorf("%d files, want 13: %v", len(fa), keys(fa))
	}
	for name, x := range fa {
		if !bytes.Equal(x, fb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if bytes.Equal(fa[TransfersFile(Chain1)], fc[TransfersFile(Chain1)]) {
		t.Error("seeds 42 and 43 gave the same ledger")
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// TestCSVMatchesModel parses the written ledger back and compares it with the
// blocks the Sink saw.
func TestCSVMatchesModel(t *testing.T) {
	dir := t.TempDir()
	c := &collect{}
	p := Params{Seed: 3, Scale: 5_000}
	if _, _, err := WriteDir(context.Background(), p, dir, c); err != nil {
		t.Fatal(err)
	}
	var want []model.Transfer
	for _, ch := range []model.Chain{Chain1, Chain2} {
		for _, b := range c.blocks {
			if b.Chain == ch {
				for _, tr := range b.Transfers {
					tr.Kind = 0 // the CSV has no kind
					want = append(want, tr)
				}
			}
		}
	}
	var got []model.Transfer
	for _, ch := range []model.Chain{Chain1, Chain2} {
		f, err := os.Open(filepath.Join(dir, TransfersFile(ch)))
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		hdr, err := r.Read()
		if err != nil || strings.Join(hdr, ",") != TransfersHeader {
			t.Fatalf("header %v, %v", hdr, err)
		}
		for line := 2; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			tr, err := parseRow(rec)
			if err != nil {
				t.Fatalf("%s line %d: %v", ch, line, err)
			}
			got = append(got, tr)
		}
		f.Close()
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CSV differs from the model (-model +csv):\n%s", d)
	}
}

func parseRow(r []string) (model.Transfer, error) {
	var t model.Transfer
	var err error
	t.Chain = model.Chain(r[0])
	if t.TxHash, err = model.NormalizeHash(r[1]); err != nil {
		return t, err
	}
	if t.Block, err = strconv.ParseUint(r[2], 10, 64); err != nil {
		return t, err
	}
	if t.Time, err = strconv.ParseInt(r[3], 10, 64); err != nil {
		return t, err
	}
	p, err := strconv.ParseUint(r[4], 10, 64)
	if err != nil {
		return t, err
	}
	t.Position = model.Position(p)
	if t.From, err = model.NormalizeAddress(t.Chain, r[5]); err != nil {
		return t, err
	}
	if t.To, err = model.NormalizeAddress(t.Chain, r[6]); err != nil {
		return t, err
	}
	if t.Asset, err = model.NormalizeAsset(t.Chain, r[7]); err != nil {
		return t, err
	}
	if r[8] != "0" && strings.HasPrefix(r[8], "0") {
		return t, fmt.Errorf("amount %q has a leading zero", r[8])
	}
	t.Amount, err = model.ParseAmount(r[8])
	return t, err
}

func TestLabels(t *testing.T) {
	s := smallWorld(t)
	ls := s.w.Labels()
	owner := map[string]string{}
	for ci := 0; ci < 2; ci++ {
		for _, sv := range s.w.Services(ci) {
			owner[s.w.Address(ci, sv.ID)] = sv.Entity
		}
	}
	for _, la := range s.w.Launder {
		owner[s.w.Address(la.ChainIdx, la.ID)] = "actor:" + s.w.Params.Scenarios[la.Scenario].Name
	}
	wrong, hack := 0, 0
	for _, l := range ls {
		if !l.Correct {
			wrong++
			continue
		}
		if owner[l.Address] != l.Truth {
			t.Errorf("label %q on %s says correct, owner is %q", l.Label, l.Address, owner[l.Address])
		}
		if l.Category == model.CatHack {
			hack++
		}
	}
	if hack == 0 || len(ls) < 20 {
		t.Errorf("%d labels, %d on theft addresses", len(ls), hack)
	}
	var buf bytes.Buffer
	if err := s.w.writeTagPack(&buf, ls); err != nil {
		t.Fatal(err)
	}
	var tp tagPack
	if err := yaml.Unmarshal(buf.Bytes(), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.Title == "" || tp.Creator == "" || len(tp.Tags) != len(ls) {
		t.Fatalf("tagpack: title %q creator %q, %d tags for %d labels", tp.Title, tp.Creator, len(tp.Tags), len(ls))
	}
	// the intel loader reads the pack back as the same claims
	ds, err := intel.LoadTagPack(intel.Input{Name: "synth.tagpack.yaml", Data: buf.Bytes()}, intel.Options{})
	if err != nil {
		t.Fatalf("intel.LoadTagPack: %v", err)
	}
	if len(ds.Attributions) != len(ls) {
		t.Fatalf("intel loaded %d attributions from %d labels", len(ds.Attributions), len(ls))
	}
	for i, a := range ds.Attributions {
		l := ls[i]
		if a.Chain != l.Chain || a.Address != l.Address || a.Label != l.Label || a.Category != l.Category || a.Entity != l.Entity {
			t.Errorf("attribution %d: %s %s %q %s %s, label %+v", i, a.Chain, a.Address, a.Label, a.Category, a.Entity, l)
		}
	}
}

func TestBadParams(t *testing.T) {
	ok := DefaultScenarios(10_000)[0]
	for _, tc := range []struct {
		name string
		p    Params
		want string
	}{
		{"tiny", Params{Scale: 10}, "scale 10"},
		{"days", Params{Scale: 10_000, Days: 1}, "days 1"},
		{"labels", Params{Scale: 10_000, LabelPercent: 120}, "label percentages"},
		{"victim", Params{Scale: 10_000, Scenarios: []Scenario{func() Scenario { s := ok; s.Victim = "bank"; return s }()}}, `victim "bank"`},
		{"late", Params{Scale: 10_000, Scenarios: []Scenario{func() Scenario { s := ok; s.StartHours = 24 * 40; return s }()}}, "outside"},
		{"shares", Params{Scale: 10_000, Scenarios: []Scenario{func() Scenario { s := ok; s.MixPercent = 90; return s }()}}, "path percentages"},
		{"fan", Params{Scale: 10_000, Scenarios: []Scenario{func() Scenario { s := ok; s.FanOut = 3; return s }()}}, "fan-out 3"},
		{"dup", Params{Scale: 10_000, Scenarios: []Scenario{ok, ok}}, "duplicate name"},
		{"burst", Params{Scale: 10_000, Scenarios: []Scenario{func() Scenario { s := OptInScenarios(10_000)[0]; s.Burst = &MixBurst{FastDays: 6}; return s }()}}, "burst collectors 0"},
	} {
		_, _, err := Generate(context.Background(), tc.p, Discard{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Generate(ctx, Params{Scale: 10_000}, Discard{}); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestDepositPattern: a deposit address sends only to hot wallets of its own
// exchange, and receives from its one customer (plus cash-outs of mules).
func TestDepositPattern(t *testing.T) {
	s := smallWorld(t)
	w := s.w
	type dep struct {
		exchange string
		customer string
	}
	deps := map[string]dep{}
	hot := map[string]string{}
	for ci, sp := range w.specs {
		for u := sp.userBase; u < sp.userBase+sp.users; u++ {
			if sp.isCustomer(u) {
				d := sp.depositOf(u)
				deps[w.Address(ci, d)] = dep{"exchange:" + sp.exchanges[sp.depositExchange(d)].name, w.Address(ci, u)}
			}
		}
		for _, sv := range sp.services {
			if sv.Role == "hot" {
				hot[w.Address(ci, sv.ID)] = sv.Entity
			}
		}
	}
	launder := map[string]bool{}
	for _, la := range w.Launder {
		launder[w.Address(la.ChainIdx, la.ID)] = true
	}
	swept, fromCustomer := 0, 0
	for _, b := range s.c.blocks {
		for _, tr := range b.Transfers {
			if d, ok := deps[tr.From]; ok && tr.Kind != model.KindFee {
				if hot[tr.To] != d.exchange {
					t.Fatalf("deposit address %s (%s) sent to %s (%q)", tr.From, d.exchange, tr.To, hot[tr.To])
				}
				swept++
			}
			if d, ok := deps[tr.To]; ok {
				if tr.From != d.customer && !launder[tr.From] {
					t.Fatalf("deposit address %s received from %s, not its customer %s", tr.To, tr.From, d.customer)
				}
				fromCustomer++
			}
		}
	}
	if swept == 0 || fromCustomer == 0 {
		t.Errorf("%d sweeps, %d deposits", swept, fromCustomer)
	}
}

// ledgerCheck is a Sink that replays the ledger as it streams: no balance
// may go negative, and at the end every asset's holdings equal its mints.
type ledgerCheck struct {
	Discard
	bal    map[key]*big.Int
	minted map[key]*big.Int
	err    error
}

func (l *ledgerCheck) Block(b *Block) error {
	for i := range b.Transfers {
		tr := b.ModelTransfer(i)
		amt := tr.Amount.ToBig()
		get := func(m map[key]*big.Int, k key) *big.Int {
			if m[k] == nil {
				m[k] = new(big.Int)
			}
			return m[k]
		}
		if tr.From == "0x0000000000000000000000000000000000000000" {
			m := get(l.minted, key{tr.Chain, "", tr.Asset})
			m.Add(m, amt)
		} else {
			f := get(l.bal, key{tr.Chain, tr.From, tr.Asset})
			if f.Sub(f, amt).Sign() < 0 {
				return fmt.Errorf("%s block %d: %s goes negative in %s", tr.Chain, tr.Block, tr.From, tr.Asset)
			}
		}
		t := get(l.bal, key{tr.Chain, tr.To, tr.Asset})
		t.Add(t, amt)
	}
	return nil
}

func (l *ledgerCheck) check(t *testing.T) {
	held := map[key]*big.Int{}
	for k, v := range l.bal {
		h := held[key{k.chain, "", k.asset}]
		if h == nil {
			h = new(big.Int)
			held[key{k.chain, "", k.asset}] = h
		}
		h.Add(h, v)
	}
	for k, m := range l.minted {
		if held[k] == nil || held[k].Cmp(m) != 0 {
			t.Errorf("%s %s: minted %s, held %v", k.chain, k.asset, m, held[k])
		}
	}
}

// TestVariants runs other seeds and parameters through the streaming
// conservation check.
func TestVariants(t *testing.T) {
	wide := DefaultScenarios(20_000)
	for i := range wide {
		wide[i].FanOut, wide[i].PeelHops, wide[i].MixDeposits = 400, 6, 10
	}
	late := DefaultScenarios(10_000)
	late[0].StartHours, late[1].StartHours = 24*4+20, 24*4+23 // laundering cut off by the world's end
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"seed2", Params{Seed: 2, Scale: 15_000}},
		{"no-scenarios", Params{Seed: 3, Scale: 10_000, Scenarios: []Scenario{}}},
		{"wide-fan-out", Params{Seed: 4, Scale: 20_000, Scenarios: wide}},
		{"short-late", Params{Seed: 5, Scale: 10_000, Days: 5, Scenarios: late}},
		{"few-users", Params{Seed: 6, Scale: 12_000, Users: 100, Users2: 100, LabelPercent: -1}},
		{"mixer-burst-alone", Params{Seed: 8, Scale: 15_000, Scenarios: OptInScenarios(15_000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &ledgerCheck{bal: map[key]*big.Int{}, minted: map[key]*big.Int{}}
			w, st, err := Generate(context.Background(), tc.p, l)
			if err != nil {
				t.Fatal(err)
			}
			l.check(t)
			// laundering beyond the scale's budget comes on top of it
			if got := st.Total(); got < tc.p.Scale*9/10 || got > tc.p.Scale*11/10+st.Flows {
				t.Errorf("%d transfers (%d laundering) for scale %d", got, st.Flows, tc.p.Scale)
			}
			for _, r := range w.Results {
				for ci, as := range r.Sums {
					for _, x := range as {
						in := x.Stolen + x.SwappedIn + x.BridgedIn + x.MixedOut
						out := x.CashedOut + x.Fees + x.SwappedOut + x.BridgedOut + x.MixedIn + x.Held
						if in != out {
							t.Errorf("%s chain %d: in %d, out %d", r.Scenario.Name, ci, in, out)
						}
					}
				}
			}
			if tc.p.LabelPercent < 0 && len(w.Labels()) != 0 {
				t.Errorf("labels off but %d labels", len(w.Labels()))
			}
		})
	}
}

// TestMixerBurst checks the opt-in scenario's shape and its mixer ground
// truth: every mixes.csv row of it matches a deposit and a withdrawal of the
// ledger, most notes come out within FastDays, and collectors receive
// several notes each.
func TestMixerBurst(t *testing.T) {
	s := burstWorld(t)
	b := OptInScenarios(40_000)[0].Burst
	type tx struct {
		chain model.Chain
		hash  string
	}
	byTx := map[tx][]model.Transfer{}
	for _, bl := range s.c.blocks {
		for _, tr := range bl.Transfers {
			byTx[tx{tr.Chain, tr.TxHash}] = append(byTx[tx{tr.Chain, tr.TxHash}], tr)
		}
	}
	has := func(m Mix, h, from, to string) bool {
		for _, tr := range byTx[tx{m.Chain, h}] {
			if tr.From == from && tr.To == to && tr.Asset == model.NativeAsset && tr.Amount.Eq(&m.Amount) {
				return true
			}
		}
		return false
	}
	role := map[string]string{}
	for _, la := range s.w.Launder {
		if s.w.Params.Scenarios[la.Scenario].Name == "mixer-burst" {
			role[s.w.Address(la.ChainIdx, la.ID)] = la.Role
		}
	}
	notes, fast := 0, 0
	perRecipient := map[string]int{}
	var first, last int64
	for _, m := range s.c.mixes {
		if m.Scenario != "mixer-burst" {
			continue
		}
		notes++
		if !has(m, m.DepositTx, m.Depositor, m.Pool) || !has(m, m.WithdrawTx, m.Pool, m.Recipient) {
			t.Errorf("mix %s → %s: no matching ledger transfers", m.DepositTx, m.WithdrawTx)
		}
		if role[m.Recipient] != "mix-withdraw" || role[m.Depositor] != "fanout" {
			t.Errorf("mix %s: depositor role %q, recipient role %q", m.DepositTx, role[m.Depositor], role[m.Recipient])
		}
		if m.WithdrawAt-m.DepositAt <= int64(b.FastDays)*86400 {
			fast++
		}
		perRecipient[m.Recipient]++
		if first == 0 || m.DepositAt < first {
			first = m.DepositAt
		}
		last = max(last, m.DepositAt)
	}
	repeated, collected := 0, 0
	for _, n := range perRecipient {
		if n >= 4 {
			repeated++
			collected += n
		}
	}
	t.Logf("%d notes over %.1f h of deposits, %d within %d days, %d recipients with ≥ 4 taking %d", notes, float64(last-first)/3600, fast, b.FastDays, repeated, collected)
	if notes < 100 || last-first > 36*3600 {
		t.Errorf("%d notes deposited over %d s: want a burst of at least 100 within 36 h", notes, last-first)
	}
	if fast*100 < notes*(b.FastPercent-10) {
		t.Errorf("%d of %d notes within %d days: want about %d %%", fast, notes, b.FastDays, b.FastPercent)
	}
	if repeated < b.Collectors/2 || repeated > b.Collectors || collected*100 < notes*(b.CollectorPercent-15) {
		t.Errorf("%d recipients with ≥ 4 notes taking %d of %d: want up to %d collectors taking about %d %%", repeated, collected, notes, b.Collectors, b.CollectorPercent)
	}
}

func TestScenariosNamed(t *testing.T) {
	got, err := ScenariosNamed(100_000, []string{"mixer-burst", " bridge-drain"})
	if err != nil || len(got) != 2 || got[0].Name != "mixer-burst" || got[0].Burst == nil || got[1].Name != "bridge-drain" || got[1].Burst != nil {
		t.Errorf("ScenariosNamed: %v, %v", got, err)
	}
	if _, err := ScenariosNamed(100_000, []string{"heist"}); err == nil || !strings.Contains(err.Error(), `unknown scenario "heist"`) || !strings.Contains(err.Error(), "mixer-burst") {
		t.Errorf("unknown name: %v", err)
	}
	if WithOptIn(100_000, []string{"exchange-hot-wallet"}) != nil {
		t.Error("WithOptIn changed a default world")
	}
	if s := WithOptIn(100_000, []string{"mixer-burst"}); len(s) != 3 || s[2].Name != "mixer-burst" {
		t.Errorf("WithOptIn: %d scenarios", len(s))
	}
	for _, s := range DefaultScenarios(100_000) {
		if s.Burst != nil {
			t.Errorf("default scenario %s has a burst", s.Name)
		}
	}
}
