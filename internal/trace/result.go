package trace

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// SchemaVersion names the JSON schema of Result (docs/trace.md).
const SchemaVersion = "redthread.trace/v1"

// Result is the outcome of a trace; its JSON form is documented in docs/trace.md.
// Amounts are decimal strings in the asset's smallest unit; times are RFC 3339 UTC.
type Result struct {
	Schema      string      `json:"schema"`
	Request     RequestEcho `json:"request"`
	Truncated   bool        `json:"truncated"`
	Reason      string      `json:"truncated_reason,omitempty"`
	Stats       Stats       `json:"stats"`
	Totals      []Total     `json:"totals"`
	Nodes       []Node      `json:"nodes"`
	Edges       []Edge      `json:"edges"`
	Conversions []ConvOut   `json:"conversions"`
	Endpoints   []Endpoint  `json:"endpoints"`
}

// RequestEcho is the request as the engine understood it, defaults filled in.
type RequestEcho struct {
	Chain          string   `json:"chain"`
	From           []string `json:"from"`
	Tx             string   `json:"tx,omitempty"`
	Asset          string   `json:"asset,omitempty"`
	Policy         string   `json:"policy"`
	Direction      string   `json:"direction"`
	Since          string   `json:"since,omitempty"`
	MaxHops        int      `json:"max_hops"`
	MaxNodes       int      `json:"max_nodes"`
	MaxEdges       int      `json:"max_edges"`
	MaxTouched     int      `json:"max_touched"`
	MaxDegree      uint64   `json:"max_degree"`
	StopCategories []string `json:"stop_categories"`
	FollowSwaps    bool     `json:"follow_swaps"`
	FollowBridges  bool     `json:"follow_bridges"`
	Mixer          string   `json:"mixer,omitempty"`     // demix or pool; omitted for stop (the default)
	MinTaint       string   `json:"min_taint,omitempty"` // explicit dust threshold (smallest units); omitted when off
}

// Stats count the work done.
type Stats struct {
	TransfersRead int64 `json:"transfers_read"`
	Nodes         int   `json:"nodes"`
	Edges         int   `json:"tainted_transfers"`
	Endpoints     int   `json:"endpoints"`
}

// Total is the taint account of one asset: what the seeds put in and where
// it is now. Under haircut and FIFO, seeded + converted_in = endpoints +
// held + pending + returned + converted_out + dropped + below_min, exactly.
type Total struct {
	Chain        string `json:"chain"`
	Asset        string `json:"asset"`
	Seeded       string `json:"seeded"`
	ConvertedIn  string `json:"converted_in"`
	ConvertedOut string `json:"converted_out"`
	Endpoints    string `json:"endpoints"`
	Held         string `json:"held"`
	Pending      string `json:"pending"`
	Returned     string `json:"returned"`
	Dropped      string `json:"dropped"`
	// BelowMin is the taint of transfers under the request's MinTaint,
	// which the trace did not follow (omitted when no threshold is set).
	BelowMin string `json:"below_min,omitempty"`
}

// Attr is an attribution as shown in results.
type Attr struct {
	Label      string `json:"label,omitempty"`
	Category   string `json:"category"`
	Entity     string `json:"entity,omitempty"`
	Source     string `json:"source,omitempty"`
	Confidence int    `json:"confidence"`
}

// AssetAmount is an amount of one asset.
type AssetAmount struct {
	Asset  string `json:"asset"`
	Amount string `json:"amount"`
}

// Node is one address the taint reached.
type Node struct {
	Chain        string        `json:"chain"`
	Address      string        `json:"address"`
	Role         string        `json:"role"` // seed, intermediate, endpoint
	Hop          int           `json:"hop"`
	Stop         string        `json:"stop,omitempty"` // endpoints: a category, "hub" or "max-hops"
	Attributions []Attr        `json:"attributions,omitempty"`
	Received     []AssetAmount `json:"received,omitempty"`
	Sent         []AssetAmount `json:"sent,omitempty"`
	Held         []AssetAmount `json:"held,omitempty"`
	Via          *Via          `json:"via,omitempty"`
	Vias         []Via         `json:"vias,omitempty"`
}

// Via is the transfer that first brought taint to a node: the link of its
// explanation path. Upstream is the node the taint came from (across a
// conversion, the address that paid into it).
type Via struct {
	Chain      string `json:"chain"`
	Asset      string `json:"asset"`
	Upstream   string `json:"upstream"`
	UpChain    string `json:"upstream_chain"`
	UpAsset    string `json:"upstream_asset"`
	Tx         string `json:"tx"`
	Block      uint64 `json:"block"`
	Position   uint64 `json:"position"`
	Time       string `json:"time"`
	Conversion int    `json:"conversion"` // index into conversions, or -1
}

// Edge is the tainted flow from one address to another in one asset.
type Edge struct {
	Chain     string         `json:"chain"`
	From      string         `json:"from"`
	To        string         `json:"to"`
	Asset     string         `json:"asset"`
	Tainted   string         `json:"tainted"`
	Value     string         `json:"value"`
	First     string         `json:"first"`
	Last      string         `json:"last"`
	Transfers []EdgeTransfer `json:"transfers"`
}

// EdgeTransfer is one tainted transfer.
type EdgeTransfer struct {
	Tx       string `json:"tx"`
	Block    uint64 `json:"block"`
	Position uint64 `json:"position"`
	Time     string `json:"time"`
	Value    string `json:"value"`
	Tainted  string `json:"tainted"`
}

// ConvLeg is one leg of a conversion.
type ConvLeg struct {
	Chain    string `json:"chain"`
	Tx       string `json:"tx"`
	Block    uint64 `json:"block"`
	Position uint64 `json:"position"`
	From     string `json:"from"`
	To       string `json:"to"`
	Asset    string `json:"asset"`
	Value    string `json:"value"`
	Tainted  string `json:"tainted"`
}

// ConvOut is a conversion the taint crossed.
type ConvOut struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref,omitempty"`
	// Heuristic and Confidence: for kind "mix", the demixing heuristic
	// that linked the deposit (in) to the withdrawal (out), and the
	// confidence (0–100) of its links.
	Heuristic  string  `json:"heuristic,omitempty"`
	Confidence int     `json:"confidence,omitempty"`
	In         ConvLeg `json:"in"`
	Out        ConvLeg `json:"out"`
}

// Endpoint is taint that reached an address that was not expanded.
type Endpoint struct {
	Chain     string `json:"chain"`
	Address   string `json:"address"`
	Service   string `json:"service,omitempty"`
	Category  string `json:"category,omitempty"`
	Reason    string `json:"reason"`
	Asset     string `json:"asset"`
	Amount    string `json:"amount"`
	Transfers int    `json:"transfers"`
	First     string `json:"first"`
	Last      string `json:"last"`
	FirstTx   string `json:"first_tx"`
	LastTx    string `json:"last_tx"`
}

func fmtTime(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// facts resolves seqs to hashes, times and blocks, per chain, in one pass.
type facts struct {
	e    *engine
	want map[flowKey]bool
	hash map[flowKey]string
}

func (f *facts) need(k flowKey) { f.want[k] = true }

func (f *facts) resolve() error {
	per := map[int32][]uint32{}
	for k := range f.want {
		per[k.c] = append(per[k.c], k.seq)
	}
	for c, seqs := range per {
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		hs, err := f.e.chains[c].g.TxHashes(f.e.ctx, seqs)
		if err != nil {
			return err
		}
		for i, s := range seqs {
			f.hash[flowKey{c, s}] = hs[i]
		}
	}
	return nil
}

// flowHashes resolves the hashes of the (sorted) tainted transfers, one
// request per chain.
func (e *engine) flowHashes(flows []flowRec) ([]string, error) {
	out := make([]string, len(flows))
	for lo := 0; lo < len(flows); {
		hi := lo
		for hi < len(flows) && flows[hi].k.c == flows[lo].k.c {
			hi++
		}
		seqs := make([]uint32, hi-lo)
		for i := range seqs {
			seqs[i] = flows[lo+i].k.seq
		}
		hs, err := e.chains[flows[lo].k.c].g.TxHashes(e.ctx, seqs)
		if err != nil {
			return nil, err
		}
		copy(out[lo:hi], hs)
		lo = hi
	}
	return out, nil
}

func (f *facts) block(k flowKey) (uint64, int64) {
	num, t, _, _ := f.e.chains[k.c].g.BlockAt(f.e.blockIndex(k.c, k.seq))
	return num, t
}

func (e *engine) result() (*Result, error) {
	req := e.req
	// Tainted transfers, sorted by (chain, seq) with repeats merged.
	slices.SortFunc(e.flows, func(a, b flowRec) int {
		if a.k.c != b.k.c {
			return cmp.Compare(a.k.c, b.k.c)
		}
		return cmp.Compare(a.k.seq, b.k.seq)
	})
	flows := e.flows[:0]
	for _, fr := range e.flows {
		if n := len(flows); n > 0 && flows[n-1].k == fr.k {
			flows[n-1].amt.Add(&flows[n-1].amt, &fr.amt)
			continue
		}
		flows = append(flows, fr)
	}
	e.flows = flows
	r := &Result{Schema: SchemaVersion, Truncated: e.truncated != "", Reason: e.truncated}
	r.Request = RequestEcho{Chain: string(req.Chain), From: req.From, Tx: req.Tx, Asset: req.Asset,
		Policy: req.Policy.String(), Direction: req.Direction.String(), MaxHops: req.MaxHops, MaxNodes: req.MaxNodes,
		MaxEdges: req.MaxEdges, MaxTouched: req.MaxTouched, MaxDegree: req.MaxDegree,
		StopCategories: []string{}, FollowSwaps: !req.NoSwaps, FollowBridges: !req.NoBridges}
	if req.Mixer != MixerStop {
		r.Request.Mixer = req.Mixer.String()
	}
	if !req.MinTaint.IsZero() {
		r.Request.MinTaint = req.MinTaint.Dec()
	}
	if !req.Since.IsZero() {
		r.Request.Since = req.Since.UTC().Format(time.RFC3339)
	}
	for _, c := range req.Categories {
		r.Request.StopCategories = append(r.Request.StopCategories, string(c))
	}
	f := &facts{e: e, want: map[flowKey]bool{}, hash: map[flowKey]string{}}
	flowHash, err := e.flowHashes(flows)
	if err != nil {
		return nil, err
	}
	for _, n := range e.nodes {
		if n.via.ok {
			f.need(flowKey{n.via.c, n.via.seq})
		}
	}
	for _, a := range e.arrivals {
		f.need(a.first)
		f.need(a.last)
	}
	for _, cv := range e.convs {
		f.need(cv.in)
		f.need(cv.out)
	}
	if err := f.resolve(); err != nil {
		return nil, err
	}
	addr := func(c int32, id uint32) string { return e.chains[c].g.Address(id) }
	times := map[int64]string{}
	fmtTime := func(t int64) string {
		if s, ok := times[t]; ok {
			return s
		}
		s := fmtTime(t)
		times[t] = s
		return s
	}
	asset := func(c int32, id uint32) string { return e.chains[c].g.Asset(id) }

	// Totals.
	type tk struct {
		c     int32
		asset uint32
	}
	type acct struct{ seeded, cin, cout, end, held, pend, ret, drop, below uint256.Int }
	totals := map[tk]*acct{}
	acc := func(c int32, a uint32) *acct {
		t := totals[tk{c, a}]
		if t == nil {
			t = &acct{}
			totals[tk{c, a}] = t
		}
		return t
	}
	for k, v := range e.injected {
		acc(k.c, k.asset).seeded.Add(&acc(k.c, k.asset).seeded, v)
	}
	for k, v := range e.returned {
		acc(k.c, k.asset).ret.Add(&acc(k.c, k.asset).ret, v)
	}
	for k, v := range e.dropped {
		acc(k.c, k.asset).drop.Add(&acc(k.c, k.asset).drop, v)
	}
	for k, v := range e.belowMin {
		acc(k.c, k.asset).below.Add(&acc(k.c, k.asset).below, v)
	}
	for k, a := range e.arrivals {
		acc(k.c, k.asset).end.Add(&acc(k.c, k.asset).end, &a.amt)
	}
	for _, cv := range e.convs {
		ci := e.chains[cv.in.c].g.Transfer(cv.in.seq).Asset
		co := e.chains[cv.out.c].g.Transfer(cv.out.seq).Asset
		acc(cv.in.c, ci).cout.Add(&acc(cv.in.c, ci).cout, &cv.tin)
		acc(cv.out.c, co).cin.Add(&acc(cv.out.c, co).cin, &cv.tout)
		if e.back {
			// Backward, taint enters a conversion at its out-leg and leaves at its in-leg.
			acc(cv.in.c, ci).cout.Sub(&acc(cv.in.c, ci).cout, &cv.tin)
			acc(cv.out.c, co).cin.Sub(&acc(cv.out.c, co).cin, &cv.tout)
			acc(cv.out.c, co).cout.Add(&acc(cv.out.c, co).cout, &cv.tout)
			acc(cv.in.c, ci).cin.Add(&acc(cv.in.c, ci).cin, &cv.tin)
		}
	}

	// Nodes.
	// Per node and asset tainted amounts; nodes hold one or two assets, so slices.
	type assetAmt struct {
		asset uint32
		v     uint256.Int
	}
	type nodeAmts struct{ recv, sent, held []assetAmt }
	amts := make(map[nkey]*nodeAmts, len(e.nodes))
	get := func(k nkey) *nodeAmts {
		a := amts[k]
		if a == nil {
			a = &nodeAmts{}
			amts[k] = a
		}
		return a
	}
	addTo := func(m *[]assetAmt, a uint32, v *uint256.Int) {
		if v.IsZero() {
			return
		}
		for i := range *m {
			if (*m)[i].asset == a {
				(*m)[i].v.Add(&(*m)[i].v, v)
				return
			}
		}
		*m = append(*m, assetAmt{asset: a, v: *v})
	}
	for _, h := range e.hlist {
		na := get(nkey{h.c, h.addr})
		if h.source {
			addTo(&na.sent, h.asset, e.injectedBy(h))
			addTo(&na.recv, h.asset, &h.returned)
			continue
		}
		addTo(&na.recv, h.asset, &h.recv)
		addTo(&na.sent, h.asset, &h.sent)
		var held uint256.Int
		switch {
		case h.win != nil:
			held = h.win.held()
		case e.pol(h) == Haircut:
			held = h.taint
		case e.pol(h) == FIFO:
			held = h.q.tainted()
		}
		addTo(&na.held, h.asset, &held)
		t := acc(h.c, h.asset)
		t.held.Add(&t.held, &held)
		for _, p := range h.pend {
			t.pend.Add(&t.pend, &p.t.amt)
			addTo(&na.recv, h.asset, &p.t.amt)
			addTo(&na.held, h.asset, &p.t.amt)
		}
	}
	for k, v := range e.returned {
		if h := e.nodes[nkey{k.c, k.a}].holder(k.asset); h == nil || !h.source {
			addTo(&get(nkey{k.c, k.a}).recv, k.asset, v)
		}
	}
	for k, a := range e.arrivals {
		addTo(&get(nkey{k.c, k.a}).recv, k.asset, &a.amt)
	}
	for k, v := range e.seedSent {
		addTo(&get(nkey{k.c, k.a}).sent, k.asset, v)
	}
	amtList := func(c int32, m []assetAmt) []AssetAmount {
		var out []AssetAmount
		for _, x := range m {
			out = append(out, AssetAmount{Asset: asset(c, x.asset), Amount: x.v.Dec()})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Asset < out[j].Asset })
		return out
	}
	convOf := map[flowKey]int{} // target leg (in trace direction) → conversion index
	for _, n := range e.nodes {
		rn := Node{Chain: string(e.chains[n.c].name), Address: addr(n.c, n.addr), Hop: n.hop, Stop: n.stop, Role: "intermediate"}
		switch {
		case n.seed:
			rn.Role = "seed"
		case n.stop != "":
			rn.Role = "endpoint"
		}
		for _, a := range n.attrs {
			rn.Attributions = append(rn.Attributions, Attr{Label: a.Label, Category: string(a.Category), Entity: a.Entity, Source: a.Source.Name, Confidence: int(a.Confidence)})
		}
		if na := amts[nkey{n.c, n.addr}]; na != nil {
			rn.Received, rn.Sent, rn.Held = amtList(n.c, na.recv), amtList(n.c, na.sent), amtList(n.c, na.held)
		}
		r.Nodes = append(r.Nodes, rn)
	}
	nord := make([]int32, len(r.Nodes))
	for i := range nord {
		nord[i] = int32(i)
	}
	slices.SortFunc(nord, func(a, b int32) int {
		x, y := &r.Nodes[a], &r.Nodes[b]
		if x.Chain != y.Chain {
			return cmp.Compare(x.Chain, y.Chain)
		}
		return cmp.Compare(x.Address, y.Address)
	})
	sortedNodes := make([]Node, len(r.Nodes))
	for i, j := range nord {
		sortedNodes[i] = r.Nodes[j]
	}
	r.Nodes = sortedNodes

	// Conversions, ordered by their in-leg.
	sort.SliceStable(e.convs, func(i, j int) bool {
		a, b := e.convs[i], e.convs[j]
		if a.in.c != b.in.c {
			return e.chains[a.in.c].name < e.chains[b.in.c].name
		}
		return a.in.seq < b.in.seq
	})
	leg := func(k flowKey, tainted *uint256.Int) ConvLeg {
		g := e.chains[k.c].g
		tr := g.Transfer(k.seq)
		v := g.Amount(k.seq)
		num, t := f.block(k)
		_ = t
		return ConvLeg{Chain: string(e.chains[k.c].name), Tx: f.hash[k], Block: num, Position: uint64(g.Position(k.seq)),
			From: g.Address(tr.Src), To: g.Address(tr.Dst), Asset: g.Asset(tr.Asset), Value: v.Dec(), Tainted: tainted.Dec()}
	}
	for i, cv := range e.convs {
		co := ConvOut{Kind: string(cv.conv.Kind), Ref: cv.conv.Ref, In: leg(cv.in, &cv.tin), Out: leg(cv.out, &cv.tout)}
		if cv.conv.Kind == Mix {
			co.Heuristic, co.Confidence = cv.conv.Ref, int(HeuristicConfidence(cv.conv.Ref))
		}
		r.Conversions = append(r.Conversions, co)
		if e.back {
			convOf[cv.in] = i
		} else {
			convOf[cv.out] = i
		}
	}
	// Vias (need conversions indexed).
	byAddr := map[string]int{}
	for i := range r.Nodes {
		byAddr[r.Nodes[i].Chain+"/"+r.Nodes[i].Address] = i
	}
	mkVia := func(nv via) *Via {
		k := flowKey{nv.c, nv.seq}
		g := e.chains[k.c].g
		tr := g.Transfer(k.seq)
		num, t := f.block(k)
		v := &Via{Chain: string(e.chains[k.c].name), Asset: g.Asset(nv.asset), Tx: f.hash[k], Block: num, Position: uint64(g.Position(k.seq)), Time: fmtTime(t), Conversion: -1}
		up, upc, upAsset := tr.Src, k.c, tr.Asset
		if e.back {
			up = tr.Dst
		}
		if ci, ok := convOf[k]; ok {
			v.Conversion = ci
			src := e.convs[ci].in
			if e.back {
				src = e.convs[ci].out
			}
			tr2 := e.chains[src.c].g.Transfer(src.seq)
			up, upc, upAsset = tr2.Src, src.c, tr2.Asset
			if e.back {
				up = tr2.Dst
			}
		}
		v.Upstream, v.UpChain, v.UpAsset = addr(upc, up), string(e.chains[upc].name), e.chains[upc].g.Asset(upAsset)
		return v
	}
	for _, n := range e.nodes {
		if !n.via.ok {
			continue
		}
		rn := &r.Nodes[byAddr[string(e.chains[n.c].name)+"/"+addr(n.c, n.addr)]]
		rn.Via = mkVia(n.via)
		for _, nv := range n.vias {
			rn.Vias = append(rn.Vias, *mkVia(nv))
		}
	}

	// Edges: tainted transfers grouped by (chain, from, to, asset), in order of first transfer.
	type ek struct {
		c             int32
		from, to, ast uint32
	}
	order := make([]int32, len(flows))
	keys := make([]ek, len(flows))
	for i, fr := range flows {
		tr := e.chains[fr.k.c].g.Transfer(fr.k.seq)
		keys[i] = ek{fr.k.c, tr.Src, tr.Dst, tr.Asset}
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { // ties: flow order, which is (chain, seq)
		x, y := keys[a], keys[b]
		if x.c != y.c {
			return cmp.Compare(x.c, y.c)
		}
		if x.from != y.from {
			return cmp.Compare(x.from, y.from)
		}
		if x.to != y.to {
			return cmp.Compare(x.to, y.to)
		}
		if x.ast != y.ast {
			return cmp.Compare(x.ast, y.ast)
		}
		return cmp.Compare(a, b)
	})
	var edgeFirst []uint32
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && keys[order[hi]] == keys[order[lo]] {
			hi++
		}
		g := keys[order[lo]]
		ch := e.chains[g.c]
		ed := Edge{Chain: string(ch.name), From: addr(g.c, g.from), To: addr(g.c, g.to), Asset: asset(g.c, g.ast),
			Transfers: make([]EdgeTransfer, 0, hi-lo)}
		var tt, tv uint256.Int
		for _, i := range order[lo:hi] {
			fr := &flows[i]
			s := fr.k.seq
			v := ch.g.Amount(s)
			num, t := f.block(fr.k)
			ed.Transfers = append(ed.Transfers, EdgeTransfer{Tx: flowHash[i], Block: num, Position: uint64(ch.g.Position(s)), Time: fmtTime(t), Value: v.Dec(), Tainted: fr.amt.Dec()})
			tt.Add(&tt, &fr.amt)
			tv.Add(&tv, &v)
		}
		ed.Tainted, ed.Value = tt.Dec(), tv.Dec()
		ed.First, ed.Last = ed.Transfers[0].Time, ed.Transfers[len(ed.Transfers)-1].Time
		r.Edges = append(r.Edges, ed)
		edgeFirst = append(edgeFirst, flows[order[lo]].k.seq)
		lo = hi
	}
	// Order edges by chain, then by their first transfer (seq order is chain order).
	eo := make([]edgeOrd, len(r.Edges))
	for i := range r.Edges {
		eo[i] = edgeOrd{r.Edges[i].Chain, edgeFirst[i], int32(i)}
	}
	slices.SortFunc(eo, func(a, b edgeOrd) int {
		if a.chain != b.chain {
			return cmp.Compare(a.chain, b.chain)
		}
		return cmp.Compare(a.first, b.first)
	})
	sorted := make([]Edge, len(r.Edges))
	for i, o := range eo {
		sorted[i] = r.Edges[o.i]
	}
	r.Edges = sorted

	// Endpoints, largest first.
	type epx struct {
		Endpoint
		amt uint256.Int
	}
	var eps []epx
	for k, a := range e.arrivals {
		n := e.nodes[nkey{k.c, k.a}]
		ep := Endpoint{Chain: string(e.chains[k.c].name), Address: addr(k.c, k.a), Reason: n.stop, Asset: asset(k.c, k.asset),
			Amount: a.amt.Dec(), Transfers: a.count, FirstTx: f.hash[a.first], LastTx: f.hash[a.last]}
		if n.svc != nil {
			ep.Service, ep.Category = n.svc.Label, string(n.svc.Category)
		}
		_, t1 := f.block(a.first)
		_, t2 := f.block(a.last)
		ep.First, ep.Last = fmtTime(t1), fmtTime(t2)
		eps = append(eps, epx{ep, a.amt})
	}
	sort.Slice(eps, func(i, j int) bool {
		a, b := &eps[i], &eps[j]
		if a.Chain != b.Chain {
			return a.Chain < b.Chain
		}
		if a.Asset != b.Asset {
			return a.Asset < b.Asset
		}
		if !a.amt.Eq(&b.amt) {
			return a.amt.Gt(&b.amt)
		}
		return a.Address < b.Address
	})
	for _, ep := range eps {
		r.Endpoints = append(r.Endpoints, ep.Endpoint)
	}

	for k, t := range totals {
		r.Totals = append(r.Totals, Total{Chain: string(e.chains[k.c].name), Asset: asset(k.c, k.asset), Seeded: t.seeded.Dec(),
			ConvertedIn: t.cin.Dec(), ConvertedOut: t.cout.Dec(), Endpoints: t.end.Dec(), Held: t.held.Dec(),
			Pending: t.pend.Dec(), Returned: t.ret.Dec(), Dropped: t.drop.Dec()})
		if e.minOn {
			r.Totals[len(r.Totals)-1].BelowMin = t.below.Dec()
		}
	}
	sort.Slice(r.Totals, func(i, j int) bool {
		if r.Totals[i].Chain != r.Totals[j].Chain {
			return r.Totals[i].Chain < r.Totals[j].Chain
		}
		return r.Totals[i].Asset < r.Totals[j].Asset
	})
	if r.Nodes == nil {
		r.Nodes = []Node{}
	}
	if r.Edges == nil {
		r.Edges = []Edge{}
	}
	if r.Conversions == nil {
		r.Conversions = []ConvOut{}
	}
	if r.Endpoints == nil {
		r.Endpoints = []Endpoint{}
	}
	r.Stats = Stats{TransfersRead: e.touched, Nodes: len(r.Nodes), Edges: len(flows), Endpoints: len(r.Endpoints)}
	return r, nil
}

// injectedBy returns what a seed source put in: the taint it sent.
func (e *engine) injectedBy(h *holder) *uint256.Int { return &h.sent }

type edgeOrd struct {
	chain string
	first uint32
	i     int32
}

// Step is one transfer of an explanation path.
type Step struct {
	Chain      string `json:"chain"`
	From       string `json:"from"`
	To         string `json:"to"`
	Asset      string `json:"asset"`
	Tx         string `json:"tx"`
	Block      uint64 `json:"block"`
	Position   uint64 `json:"position"`
	Time       string `json:"time"`
	Conversion string `json:"conversion,omitempty"` // kind, when the step crossed a swap, bridge or mix
	// Heuristic and Confidence: a step across a mixer pool (kind "mix"),
	// the demixing heuristic that linked it and its confidence.
	Heuristic  string `json:"heuristic,omitempty"`
	Confidence int    `json:"confidence,omitempty"`
}

// Explain returns the path by which taint first reached an address, from a
// seed, one step per hop.
func (r *Result) Explain(chain model.Chain, addr string) ([]Step, error) {
	idx := map[string]int{}
	for i := range r.Nodes {
		idx[r.Nodes[i].Chain+"/"+r.Nodes[i].Address] = i
	}
	k := string(chain) + "/" + addr
	i, ok := idx[k]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not in the trace result", ErrUnknownAddress, addr)
	}
	var path []Step
	v := r.Nodes[i].Via
	for steps := 0; v != nil && steps <= 2*len(r.Nodes); steps++ {
		n := &r.Nodes[i]
		s := Step{Chain: v.Chain, From: v.Upstream, To: n.Address, Asset: v.Asset, Tx: v.Tx, Block: v.Block, Position: v.Position, Time: v.Time}
		if v.Conversion >= 0 {
			cv := &r.Conversions[v.Conversion]
			s.Conversion, s.Heuristic, s.Confidence = cv.Kind, cv.Heuristic, cv.Confidence
		}
		if r.Request.Direction == "backward" {
			s.From, s.To = s.To, s.From
		}
		path = append(path, s)
		j, ok := idx[v.UpChain+"/"+v.Upstream]
		if !ok {
			break
		}
		i = j
		up, want := &r.Nodes[i], v.UpAsset
		v = up.Via
		for k := range up.Vias {
			if up.Vias[k].Asset == want {
				v = &up.Vias[k]
				break
			}
		}
	}
	for a, b := 0, len(path)-1; a < b; a, b = a+1, b-1 {
		path[a], path[b] = path[b], path[a]
	}
	return path, nil
}
