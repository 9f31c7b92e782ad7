package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redthread/redthread/internal/model"
)

// LaunderAddr is one laundering address of the ground truth.
type LaunderAddr struct {
	ChainIdx int
	ID       uint32
	Scenario int
	Role     string   // theft, lot, fanout, peel, mix-withdraw, mule, bridge-dest, consolidation
	Received []uint64 // stolen granules received, per asset of its chain
	Held     []uint64 // stolen granules held when the world ended
}

// ScenarioResult is the stolen-value account of one scenario.
type ScenarioResult struct {
	Scenario   Scenario
	Victim     string        // victim address on synth
	Thief      string        // the address that received the theft ("" if the theft came after the world's end)
	TheftTx    string        // the native theft transaction
	TheftBlock uint64        // its block on synth
	TheftTime  int64         // and time
	Sums       [2][]AssetSum // per chain index and asset
}

// finish captures the end state the ground-truth writers need.
func (w *World) finish(g *gen) {
	for ci, c := range g.ch {
		for i := range c.l.scen {
			la := LaunderAddr{ChainIdx: ci, ID: c.lBase + uint32(i), Scenario: int(c.l.scen[i]), Role: c.l.role[i],
				Received: append([]uint64(nil), c.l.recv[i*c.nA:(i+1)*c.nA]...),
				Held:     append([]uint64(nil), c.l.stolen[i*c.nA:(i+1)*c.nA]...)}
			w.Launder = append(w.Launder, la)
			sum := g.scens[la.Scenario].sum[ci]
			for a, h := range la.Held {
				sum[a].Held += h
			}
		}
	}
	for _, st := range g.scens {
		victim := st.victim()
		r := ScenarioResult{Scenario: *st.s, Victim: w.Address(0, victim), Sums: st.sum,
			TheftTx: st.theftTx, TheftBlock: st.theftBlock, TheftTime: st.theftTime}
		if st.theftTx != "" {
			r.Thief = w.Address(0, st.a0)
		}
		w.Results = append(w.Results, r)
	}
}

// writeAddresses writes the true owner of every service, deposit and
// laundering address.
func (w *World) writeAddresses(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 1<<16)
	fmt.Fprintln(bw, AddressesHeader)
	for ci, s := range w.specs {
		for _, sv := range s.services {
			fmt.Fprintf(bw, "%s,%s,%s,%s,%s,\n", s.chain, w.Address(ci, sv.ID), sv.Entity, sv.Category, sv.Role)
		}
		var line []byte
		for d := s.depBase; d < s.lBase; d++ {
			line = append(line[:0], s.chain...)
			line = append(line, ',')
			line = w.appendAddress(line, ci, d)
			line = append(line, ",exchange:"...)
			line = append(line, s.exchanges[s.depositExchange(d)].name...)
			line = append(line, ",exchange,deposit,\n"...)
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	for _, la := range w.Launder {
		sc := w.Params.Scenarios[la.Scenario].Name
		fmt.Fprintf(bw, "%s,%s,actor:%s,%s,%s,%s\n", w.specs[la.ChainIdx].chain, w.Address(la.ChainIdx, la.ID), sc, model.CatHack, la.Role, sc)
	}
	return bw.Flush()
}

// writeLaundering writes, per laundering address and asset, the stolen value
// it received and still held at the end.
func (w *World) writeLaundering(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 1<<16)
	fmt.Fprintln(bw, "scenario,chain,address,role,asset,stolen_received,stolen_held")
	for _, la := range w.Launder {
		for a := range la.Received {
			if la.Received[a] == 0 && la.Held[a] == 0 {
				continue
			}
			r, h := w.amountOf(la.ChainIdx, uint8(a), la.Received[a]), w.amountOf(la.ChainIdx, uint8(a), la.Held[a])
			fmt.Fprintf(bw, "%s,%s,%s,%s,%s,%s,%s\n", w.Params.Scenarios[la.Scenario].Name, w.specs[la.ChainIdx].chain,
				w.Address(la.ChainIdx, la.ID), la.Role, w.specs[la.ChainIdx].assets[a].ID, r.Dec(), h.Dec())
		}
	}
	return bw.Flush()
}

// AssetAccount is one line of a scenario's stolen-value account in
// truth/summary.json (decimal strings, smallest units).
type AssetAccount struct {
	Chain      model.Chain `json:"chain"`
	Asset      string      `json:"asset"`
	Symbol     string      `json:"symbol"`
	Stolen     string      `json:"stolen"`
	SwappedIn  string      `json:"swapped_in"`
	BridgedIn  string      `json:"bridged_in"`
	MixedOut   string      `json:"mixed_out"`
	CashedOut  string      `json:"cashed_out"`
	Fees       string      `json:"fees"`
	SwappedOut string      `json:"swapped_out"`
	BridgedOut string      `json:"bridged_out"`
	MixedIn    string      `json:"mixed_in"`
	Held       string      `json:"held"`
}

// ScenarioSummary is one scenario of truth/summary.json.
type ScenarioSummary struct {
	Name      string         `json:"name"`
	Victim    string         `json:"victim_kind"`
	VictimAdr string         `json:"victim_address"`
	Thief     string         `json:"theft_address"`
	TheftTx   string         `json:"theft_tx"`
	TheftBlk  uint64         `json:"theft_block"`
	TheftTime int64          `json:"theft_timestamp"`
	Start     time.Time      `json:"theft_after"`
	Params    Scenario       `json:"params"`
	Assets    []AssetAccount `json:"assets"`
}

// AssetMeta describes an asset in truth/summary.json.
type AssetMeta struct {
	Chain    model.Chain `json:"chain"`
	ID       string      `json:"asset"`
	Symbol   string      `json:"symbol"`
	Decimals int         `json:"decimals"`
}

// Summary is truth/summary.json.
type Summary struct {
	Seed      uint64            `json:"seed"`
	Scale     int64             `json:"scale"`
	Start     time.Time         `json:"start"`
	Days      int               `json:"days"`
	Transfers map[string]int64  `json:"transfers"`
	Assets    []AssetMeta       `json:"assets"`
	Scenarios []ScenarioSummary `json:"scenarios"`
}

func (w *World) writeSummary(out io.Writer, st *Stats) error {
	s := Summary{Seed: w.Params.Seed, Scale: w.Params.Scale, Start: w.Params.Start, Days: w.Params.Days,
		Transfers: map[string]int64{string(Chain1): st.Transfers[0], string(Chain2): st.Transfers[1]}}
	for ci, sp := range w.specs {
		for _, a := range sp.assets {
			s.Assets = append(s.Assets, AssetMeta{Chain: sp.chain, ID: a.ID, Symbol: a.Symbol, Decimals: a.Decimals})
		}
		_ = ci
	}
	for _, r := range w.Results {
		js := ScenarioSummary{Name: r.Scenario.Name, Victim: r.Scenario.Victim, VictimAdr: r.Victim, Params: r.Scenario,
			Thief: r.Thief, TheftTx: r.TheftTx, TheftBlk: r.TheftBlock, TheftTime: r.TheftTime,
			Start: w.Params.Start.Add(time.Duration(r.Scenario.StartHours) * time.Hour)}
		for ci, sums := range r.Sums {
			for a, x := range sums {
				if x == (AssetSum{}) {
					continue
				}
				d := func(v uint64) string { z := w.amountOf(ci, uint8(a), v); return z.Dec() }
				js.Assets = append(js.Assets, AssetAccount{Chain: w.specs[ci].chain, Asset: w.specs[ci].assets[a].ID,
					Symbol: w.specs[ci].assets[a].Symbol, Stolen: d(x.Stolen), SwappedIn: d(x.SwappedIn), BridgedIn: d(x.BridgedIn),
					MixedOut: d(x.MixedOut), CashedOut: d(x.CashedOut), Fees: d(x.Fees), SwappedOut: d(x.SwappedOut),
					BridgedOut: d(x.BridgedOut), MixedIn: d(x.MixedIn), Held: d(x.Held)})
			}
		}
		s.Scenarios = append(s.Scenarios, js)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// Label is one attribution as the synthetic world's intel pack gives it,
// with whether it is true.
type Label struct {
	Chain    model.Chain
	Address  string
	Label    string
	Category model.Category
	Entity   string // the entity the label names (e.g. "exchange:Kumbit", "actor:bridge-drain")
	Correct  bool
	Truth    string // true owner, or "user" for an ordinary user
}

// Labels draws the labels reality would give: LabelPercent of the service
// and theft-side addresses, WrongLabelPercent of those wrong (category
// swapped, or the label put on an unrelated user address).
func (w *World) Labels() []Label {
	p := w.Params
	r := rand.New(rand.NewPCG(p.Seed, 0x6c6162656c73))
	var out []Label
	cats := []model.Category{model.CatExchange, model.CatGambling, model.CatDEX, model.CatOTC, model.CatDeFi}
	add := func(ci int, id uint32, label string, cat model.Category, owner string) {
		if r.IntN(100) >= p.LabelPercent {
			return
		}
		l := Label{Chain: w.specs[ci].chain, Address: w.Address(ci, id), Label: label, Category: cat, Entity: owner, Correct: true, Truth: owner}
		if r.IntN(100) < p.WrongLabelPercent {
			l.Correct = false
			if r.IntN(2) == 0 {
				for l.Category == cat {
					l.Category = cats[r.IntN(len(cats))]
				}
			} else {
				s := w.specs[ci]
				l.Address = w.Address(ci, s.userBase+uint32(r.IntN(int(s.users))))
				l.Truth = "user"
			}
		}
		out = append(out, l)
	}
	for ci, s := range w.specs {
		for _, sv := range s.services {
			switch sv.Category {
			case model.CatExchange, model.CatDEX, model.CatBridge, model.CatMixer, model.CatOTC, model.CatGambling:
				add(ci, sv.ID, sv.Name, sv.Category, sv.Entity)
			}
		}
	}
	for _, la := range w.Launder {
		switch la.Role {
		case "theft", "lot", "fanout", "mule", "consolidation":
			sc := p.Scenarios[la.Scenario].Name
			add(la.ChainIdx, la.ID, "Exploiter ("+sc+") "+la.Role, model.CatHack, "actor:"+sc)
		}
	}
	return out
}

func writeLabelTruth(out io.Writer, ls []Label) error {
	bw := bufio.NewWriter(out)
	fmt.Fprintln(bw, "chain,address,label,category,correct,true_owner")
	for _, l := range ls {
		fmt.Fprintf(bw, "%s,%s,%s,%s,%s,%s\n", l.Chain, l.Address, csvQuote(l.Label), l.Category, strconv.FormatBool(l.Correct), l.Truth)
	}
	return bw.Flush()
}

func csvQuote(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' || s[i] == '"' || s[i] == '\n' {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}
