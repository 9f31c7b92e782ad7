package trace

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/redthread/redthread/internal/testscript"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/*.txt")

// Script time: block n has time scriptEpoch + 60n.
const scriptEpoch = 1704067200 // 2024-01-01T00:00:00Z

// world is a script's ledger, labels and conversions.
type world struct {
	blocks map[model.Chain][]model.Block
	labels *Labels
	convs  []Conversion
	n      int
}

// parseLedger reads the body of a ledger command. Lines:
//
//	[CHAIN:]BLOCK FROM TO AMOUNT [ASSET] [tx=NAME]
//	label [CHAIN:]ADDR CATEGORY [LABEL...]
//	swap LEG LEG [AMOUNT_IN AMOUNT_OUT]      LEG is [CHAIN:]BLOCK.INDEX
//	bridge LEG LEG [AMOUNT_IN AMOUNT_OUT]
//
// The INDEX-th transfer of a block has position MakePosition(INDEX, 0) and,
// unless tx= names one, the transaction hash "tBLOCK.INDEX".
func parseLedger(lines []string) (*world, error) {
	w := &world{blocks: map[model.Chain][]model.Block{}, labels: NewLabels()}
	chainOf := func(s string) (model.Chain, string) {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			return model.Chain(s[:i]), s[i+1:]
		}
		return "test", s
	}
	leg := func(s string) (Leg, error) {
		c, rest := chainOf(s)
		b, idx, ok := strings.Cut(rest, ".")
		bn, err1 := strconv.ParseUint(b, 10, 64)
		in, err2 := strconv.ParseUint(idx, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return Leg{}, fmt.Errorf("bad leg %q", s)
		}
		return Leg{Chain: c, Block: bn, Position: model.MakePosition(uint32(in), 0)}, nil
	}
	for ln, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(err error) error { return fmt.Errorf("ledger line %d: %q: %v", ln+1, line, err) }
		switch f[0] {
		case "label":
			if len(f) < 3 {
				return nil, bad(fmt.Errorf("want label ADDR CATEGORY [LABEL]"))
			}
			c, a := chainOf(f[1])
			cat, err := ParseCategory(f[2])
			if err != nil {
				return nil, bad(err)
			}
			w.labels.Add(model.Attribution{Chain: c, Address: a, Category: cat, Label: strings.Join(f[3:], " "), Confidence: 90, Source: model.Source{Name: "script"}})
		case "swap", "bridge":
			if len(f) != 3 && len(f) != 5 {
				return nil, bad(fmt.Errorf("want %s LEG LEG [IN OUT]", f[0]))
			}
			cv := Conversion{Kind: ConversionKind(f[0])}
			var err error
			if cv.In, err = leg(f[1]); err != nil {
				return nil, bad(err)
			}
			if cv.Out, err = leg(f[2]); err != nil {
				return nil, bad(err)
			}
			if len(f) == 5 {
				if cv.AmountIn, err = model.ParseAmount(f[3]); err != nil {
					return nil, bad(err)
				}
				if cv.AmountOut, err = model.ParseAmount(f[4]); err != nil {
					return nil, bad(err)
				}
			}
			w.convs = append(w.convs, cv)
		default:
			if len(f) < 4 {
				return nil, bad(fmt.Errorf("want BLOCK FROM TO AMOUNT [ASSET] [tx=NAME]"))
			}
			c, bs := chainOf(f[0])
			bn, err := strconv.ParseUint(bs, 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			amt, err := model.ParseAmount(f[3])
			if err != nil {
				return nil, bad(err)
			}
			bl := w.blocks[c]
			if len(bl) == 0 || bl[len(bl)-1].Number != bn {
				if len(bl) > 0 && bl[len(bl)-1].Number > bn {
					return nil, bad(fmt.Errorf("block %d after block %d", bn, bl[len(bl)-1].Number))
				}
				bl = append(bl, model.Block{Chain: c, Number: bn, Time: scriptEpoch + 60*int64(bn)})
			}
			b := &bl[len(bl)-1]
			idx := len(b.Transfers)
			t := model.Transfer{Chain: c, Block: bn, Time: b.Time, Position: model.MakePosition(uint32(idx), 0),
				TxHash: fmt.Sprintf("t%d.%d", bn, idx), From: f[1], To: f[2], Asset: model.NativeAsset, Amount: amt, Kind: model.KindNative}
			for _, x := range f[4:] {
				if strings.HasPrefix(x, "tx=") {
					t.TxHash = x[3:]
				} else {
					t.Asset, t.Kind = x, model.KindToken
				}
			}
			b.Transfers = append(b.Transfers, t)
			w.blocks[c] = bl
			w.n++
		}
	}
	return w, nil
}

func (w *world) chains() []model.Chain {
	var cs []model.Chain
	for c := range w.blocks {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	return cs
}

// graphs builds the world's graph index three ways: all at once with hashes
// in memory, block by block through the tail, and through the ledger store.
func (w *world) graphs(t testing.TB) map[string]*graph.Index {
	t.Helper()
	whole := graph.New(graph.Options{KeepTxHashes: true})
	tail := graph.New(graph.Options{KeepTxHashes: true, TailLimit: 1 << 20})
	st, err := store.Open("ledger", store.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	viaStore := graph.New(graph.Options{Hashes: st})
	ctx := context.Background()
	for _, c := range w.chains() {
		bl := w.blocks[c]
		if err := whole.Append(bl); err != nil {
			t.Fatal(err)
		}
		for i := range bl {
			if err := tail.Append(bl[i : i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Write(ctx, bl, nil); err != nil {
			t.Fatal(err)
		}
		if err := viaStore.Load(ctx, st, c); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]*graph.Index{"append": whole, "tail": tail, "store": viaStore}
}

// parseTrace turns trace flags into a request and an output format.
func parseTrace(args []string) (Request, string, string, error) {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	chain := fs.String("chain", "test", "")
	from := fs.String("from", "", "")
	tx := fs.String("tx", "", "")
	asset := fs.String("asset", "", "")
	pol := fs.String("policy", "haircut", "")
	dir := fs.String("direction", "forward", "")
	since := fs.Int("since-block", -1, "")
	hops := fs.Int("max-hops", 0, "")
	nodes := fs.Int("max-nodes", 0, "")
	edges := fs.Int("max-edges", 0, "")
	touched := fs.Int("max-touched", 0, "")
	degree := fs.Uint64("max-degree", 0, "")
	stop := fs.String("stop", "", "")
	noSwaps := fs.Bool("no-swaps", false, "")
	noBridges := fs.Bool("no-bridges", false, "")
	mixer := fs.String("mixer", "stop", "")
	mixDelay := fs.Int("mix-max-delay-blocks", 0, "")
	minTaint := fs.Uint64("min-taint", 0, "")
	format := fs.String("format", "text", "")
	explain := fs.String("explain", "", "")
	if err := fs.Parse(args); err != nil {
		return Request{}, "", "", fmt.Errorf("%v: %s", err, out.String())
	}
	req := Request{Chain: model.Chain(*chain), Tx: *tx, Asset: *asset}
	if *from != "" {
		req.From = strings.Split(*from, ",")
	}
	var err error
	if req.Policy, err = ParsePolicy(*pol); err != nil {
		return req, "", "", err
	}
	if req.Direction, err = ParseDirection(*dir); err != nil {
		return req, "", "", err
	}
	if *since >= 0 {
		req.Since = time.Unix(scriptEpoch+60*int64(*since), 0)
	}
	req.MaxHops, req.MaxNodes, req.MaxEdges, req.MaxTouched, req.MaxDegree = *hops, *nodes, *edges, *touched, *degree
	if *stop != "" {
		req.Categories = []model.Category{}
		if *stop != "none" {
			for _, s := range strings.Split(*stop, ",") {
				c, err := ParseCategory(s)
				if err != nil {
					return req, "", "", err
				}
				req.Categories = append(req.Categories, c)
			}
		}
	}
	req.NoSwaps, req.NoBridges = *noSwaps, *noBridges
	if req.Mixer, err = ParseMixerMode(*mixer); err != nil {
		return req, "", "", err
	}
	req.MixMaxDelay = time.Duration(*mixDelay) * time.Minute
	req.MinTaint.SetUint64(*minTaint)
	return req, *format, *explain, nil
}

func runTrace(t testing.TB, w *world, g *graph.Index, args []string) string {
	req, format, explain, err := parseTrace(args)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	r := g.Reader()
	defer r.Close()
	eng := &Engine{Graph: Index(r), Attributor: w.labels}
	if len(w.convs) > 0 {
		cs, err := NewConversionSet(w.convs)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		eng.Conversions = cs
	}
	res, err := eng.Run(context.Background(), req)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	checkInvariants(t, req, res)
	var buf bytes.Buffer
	switch {
	case explain != "":
		chain, addr := req.Chain, explain
		if c, a, ok := strings.Cut(explain, ":"); ok {
			chain, addr = model.Chain(c), a
		}
		path, err := res.Explain(chain, addr)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		for _, s := range path {
			fmt.Fprintf(&buf, "%s -> %s%s %s@%d", s.From, s.To, assetSuffix(s.Asset), s.Tx, s.Block)
			if s.Conversion != "" {
				fmt.Fprintf(&buf, " via %s", s.Conversion)
			}
			if s.Heuristic != "" {
				fmt.Fprintf(&buf, " (%s, confidence %d)", s.Heuristic, s.Confidence)
			}
			buf.WriteByte('\n')
		}
	case format == "json":
		res.WriteJSON(&buf)
	case format == "csv":
		res.WriteCSV(&buf)
	case format == "dot":
		res.WriteDOT(&buf)
	default:
		res.WriteText(&buf)
	}
	return buf.String()
}

// checkInvariants checks conservation: under haircut and FIFO, every unit
// of taint is accounted for, and no address sends more taint than it got.
func checkInvariants(t testing.TB, req Request, r *Result) {
	t.Helper()
	if req.Policy == Poison {
		return
	}
	dec := func(s string) *uint256.Int {
		v, err := uint256.FromDecimal(s)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return v
	}
	for _, tot := range r.Totals {
		in := new(uint256.Int).Add(dec(tot.Seeded), dec(tot.ConvertedIn))
		out := new(uint256.Int)
		for _, s := range []string{tot.Endpoints, tot.Held, tot.Pending, tot.Returned, tot.ConvertedOut, tot.Dropped, tot.BelowMin} {
			if s != "" {
				out.Add(out, dec(s))
			}
		}
		if !in.Eq(out) {
			t.Errorf("conservation broken for %s/%s: in %s, accounted %s (%+v)", tot.Chain, tot.Asset, in.Dec(), out.Dec(), tot)
		}
	}
	for _, n := range r.Nodes {
		if n.Role == "seed" {
			continue
		}
		recv := map[string]*uint256.Int{}
		for _, a := range n.Received {
			recv[a.Asset] = dec(a.Amount)
		}
		for _, a := range n.Sent {
			got := recv[a.Asset]
			if got == nil || dec(a.Amount).Gt(got) {
				t.Errorf("node %s sent %s tainted %s but received %v", n.Address, a.Amount, a.Asset, got)
			}
		}
	}
}

// TestScripts runs testdata/*.txt. Each file is a sequence of commands:
// a command line, input lines, "----", and the expected output up to the
// next blank line. Run with -rewrite to regenerate expectations.
func TestScripts(t *testing.T) {
	testscript.Each(t, "testdata/*.txt", runScript)
}

func runScript(t *testing.T, file string) {
	var w *world
	var graphs map[string]*graph.Index
	testscript.Run(t, file, *rewrite, func(b *testscript.Block) string {
		var err error
		f := strings.Fields(b.Cmd)
		var got string
		switch f[0] {
		case "ledger":
			w, err = parseLedger(b.Input)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, b.Line, err)
			}
			graphs = w.graphs(t)
			got = fmt.Sprintf("ok %d transfers\n", w.n)
		case "trace":
			if w == nil {
				t.Fatalf("%s:%d: trace before ledger", file, b.Line)
			}
			names := []string{"append", "tail", "store"}
			results := map[string]string{}
			for _, n := range names {
				results[n] = runTrace(t, w, graphs[n], f[1:])
			}
			got = results["append"]
			// The scan sweep must agree with the heap sweep (apart from
			// how many transfers it read, and where a touched limit cuts).
			saved := scanThreshold
			scanThreshold = 0
			scanned := runTrace(t, w, graphs["append"], f[1:])
			scanThreshold = saved
			if !strings.Contains(b.Cmd, "max-touched") {
				if d := cmp.Diff(dropStats(got), dropStats(scanned)); d != "" {
					t.Errorf("%s:%d: scan sweep differs from heap sweep (-heap +scan):\n%s", file, b.Line, d)
				}
			}
			for _, n := range names[1:] {
				if d := cmp.Diff(got, results[n]); d != "" {
					t.Errorf("%s:%d: graph built by %s differs from one built by append (-append +%s):\n%s", file, b.Line, n, n, d)
				}
			}
		default:
			t.Fatalf("%s:%d: unknown command %q", file, b.Line, f[0])
		}
		return got
	})
}

// dropStats removes the work counters, which differ between sweeps.
func dropStats(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "stats:") || strings.Contains(l, "\"transfers_read\"") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestDocExamples checks that docs/trace.md quotes its worked examples
// verbatim from testdata: a fenced block starting "# file: PATH" must equal
// that file.
func TestDocExamples(t *testing.T) {
	const docFile = "../../docs/trace.md"
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	const open = "```text\n# file: internal/trace/"
	parts := strings.Split(string(doc), open)
	var out strings.Builder
	out.WriteString(parts[0])
	for _, p := range parts[1:] {
		name, body, ok := strings.Cut(p, "\n")
		if !ok {
			t.Fatal("unterminated example")
		}
		body, rest, ok := strings.Cut(body, "```\n")
		if !ok {
			t.Fatalf("example %s: no closing fence", name)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("example %s: %v", name, err)
		}
		if d := cmp.Diff(string(want), body); d != "" && !*rewrite {
			t.Errorf("docs/trace.md quotes %s differently (-file +doc; go test -rewrite updates it):\n%s", name, d)
		}
		out.WriteString(open + name + "\n" + string(want) + "```\n" + rest)
	}
	if len(parts) < 6 {
		t.Errorf("docs/trace.md quotes %d scripts, want at least 5", len(parts)-1)
	}
	if *rewrite {
		if err := os.WriteFile(docFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
