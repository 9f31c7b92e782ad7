package exposure

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/redthread/redthread/internal/testscript"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/*.txt")

// Script time: block n has time scriptEpoch + 3600n (one hour per block),
// so block 24 is the first of 2024-01-02.
const scriptEpoch = 1704067200 // 2024-01-01T00:00:00Z

// labels is a small attributor for tests, with validity dates.
type labels map[string][]model.Attribution

func (l labels) Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution {
	var out []model.Attribution
	for _, a := range l[string(chain)+"/"+addr] {
		if a.ValidAt(asOf) {
			out = append(out, a)
		}
	}
	return out
}

type world struct {
	blocks []model.Block
	labels labels
	n      int
}

// parseLedger reads the body of a ledger command. Lines:
//
//	BLOCK FROM TO AMOUNT [ASSET] [tx=NAME]
//	label ADDR CATEGORY [from=YYYY-MM-DD] [to=YYYY-MM-DD] [LABEL...]
//
// Transfers are on chain "test"; the INDEX-th transfer of a block has
// position MakePosition(INDEX, 0) and, unless tx= names one, the
// transaction hash "tBLOCK.INDEX".
func parseLedger(lines []string) (*world, error) {
	w := &world{labels: labels{}}
	for ln, line := range lines {
		f := strings.Fields(line)
		bad := func(err error) error { return fmt.Errorf("ledger line %d: %q: %v", ln+1, line, err) }
		if f[0] == "label" {
			if len(f) < 3 {
				return nil, bad(fmt.Errorf("want label ADDR CATEGORY [from=D] [to=D] [LABEL]"))
			}
			a := model.Attribution{Chain: "test", Address: f[1], Category: model.Category(f[2]), Confidence: 90,
				Source: model.Source{Name: "script"}}
			var rest []string
			for _, x := range f[3:] {
				switch {
				case strings.HasPrefix(x, "from="), strings.HasPrefix(x, "to="):
					k, v, _ := strings.Cut(x, "=")
					d, err := time.Parse(time.DateOnly, v)
					if err != nil {
						return nil, bad(err)
					}
					if k == "from" {
						a.ValidFrom = d
					} else {
						a.ValidTo = d
					}
				default:
					rest = append(rest, x)
				}
			}
			a.Label = strings.Join(rest, " ")
			w.labels["test/"+a.Address] = append(w.labels["test/"+a.Address], a)
			continue
		}
		if len(f) < 4 {
			return nil, bad(fmt.Errorf("want BLOCK FROM TO AMOUNT [ASSET] [tx=NAME]"))
		}
		bn, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		amt, err := model.ParseAmount(f[3])
		if err != nil {
			return nil, bad(err)
		}
		if n := len(w.blocks); n == 0 || w.blocks[n-1].Number != bn {
			if n > 0 && w.blocks[n-1].Number > bn {
				return nil, bad(fmt.Errorf("block %d after block %d", bn, w.blocks[n-1].Number))
			}
			w.blocks = append(w.blocks, model.Block{Chain: "test", Number: bn, Time: scriptEpoch + 3600*int64(bn)})
		}
		b := &w.blocks[len(w.blocks)-1]
		idx := len(b.Transfers)
		t := model.Transfer{Chain: "test", Block: bn, Time: b.Time, Position: model.MakePosition(uint32(idx), 0),
			TxHash: fmt.Sprintf("t%d.%d", bn, idx), From: f[1], To: f[2], Asset: model.NativeAsset, Amount: amt, Kind: model.KindNative}
		for _, x := range f[4:] {
			if strings.HasPrefix(x, "tx=") {
				t.TxHash = x[3:]
			} else {
				t.Asset, t.Kind = x, model.KindToken
			}
		}
		b.Transfers = append(b.Transfers, t)
		w.n++
	}
	return w, nil
}

// graphs builds the world's graph index with hashes in memory, block by
// block through the tail, and through the ledger store (hashes read back).
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
	if err := whole.Append(w.blocks); err != nil {
		t.Fatal(err)
	}
	for i := range w.blocks {
		if err := tail.Append(w.blocks[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Write(ctx, w.blocks, nil); err != nil {
		t.Fatal(err)
	}
	if err := viaStore.Load(ctx, st, "test"); err != nil {
		t.Fatal(err)
	}
	return map[string]*graph.Index{"append": whole, "tail": tail, "store": viaStore}
}

func runExposure(t testing.TB, w *world, g *graph.Index, args []string) string {
	fs := flag.NewFlagSet("exposure", flag.ContinueOnError)
	var fout bytes.Buffer
	fs.SetOutput(&fout)
	hops := fs.Int("hops", 0, "")
	asOf := fs.String("as-of", "2030-01-01", "")
	asJSON := fs.Bool("json", false, "")
	maxDeg := fs.Uint64("max-degree", 0, "")
	maxWork := fs.Int("max-work", 0, "")
	maxTarget := fs.Int("max-target", 0, "")
	top := fs.Int("top", 0, "")
	chain := fs.String("chain", "test", "")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "error: want the address first\n"
	}
	addr := args[0]
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return fmt.Sprintf("error: bad flags %q: %v\n", args[1:], err)
	}
	d, err := ParseAsOf(*asOf)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	e := New(g, w.labels, Options{MaxDegree: *maxDeg, MaxWork: *maxWork, MaxTargetTransfers: *maxTarget, TopPaths: *top, CacheEntries: -1})
	res, err := e.Compute(context.Background(), Request{Chain: model.Chain(*chain), Address: addr, AsOf: d, Hops: *hops})
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	checkInvariants(t, res)
	var buf bytes.Buffer
	if *asJSON {
		res.WriteJSON(&buf)
	} else {
		res.WriteText(&buf)
	}
	return buf.String()
}

// checkInvariants: direct ≤ indirect ≤ total per category, and a category's
// paths never add up to more than its indirect exposure.
func checkInvariants(t testing.TB, r *Result) {
	t.Helper()
	dec := func(s string) *big.Int {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok || v.Sign() < 0 {
			t.Fatalf("amount %q is not a non-negative integer", s)
		}
		return v
	}
	for _, a := range r.Assets {
		for _, s := range []Side{a.Source, a.Destination} {
			total := dec(s.Total)
			ind := map[string]*big.Int{}
			for _, c := range s.Categories {
				d, i := dec(c.Direct), dec(c.Indirect)
				if d.Cmp(i) > 0 || i.Cmp(total) > 0 {
					t.Errorf("%s %s: direct %s, indirect %s, total %s out of order", a.Asset, c.Category, d, i, total)
				}
				ind[c.Category] = i
			}
			sum := map[string]*big.Int{}
			for _, p := range s.Paths {
				if sum[p.Category] == nil {
					sum[p.Category] = new(big.Int)
				}
				sum[p.Category].Add(sum[p.Category], dec(p.Amount))
				if len(p.Steps) == 0 || len(p.Steps) > r.Hops {
					t.Errorf("path of %d steps within %d hops", len(p.Steps), r.Hops)
				}
			}
			for c, v := range sum {
				if ind[c] == nil || v.Cmp(ind[c]) > 0 {
					t.Errorf("%s %s: paths add up to %s > indirect %v", a.Asset, c, v, ind[c])
				}
			}
		}
	}
}

// TestScripts runs testdata/*.txt: a command line, input lines, "----" and
// the expected output up to the next blank line. -rewrite regenerates them.
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
			if w, err = parseLedger(b.Input); err != nil {
				t.Fatalf("%s:%d: %v", file, b.Line, err)
			}
			graphs = w.graphs(t)
			got = fmt.Sprintf("ok %d transfers\n", w.n)
		case "exposure":
			if w == nil {
				t.Fatalf("%s:%d: exposure before ledger", file, b.Line)
			}
			names := []string{"append", "tail", "store"}
			got = runExposure(t, w, graphs["append"], f[1:])
			for _, n := range names[1:] {
				if d := cmp.Diff(got, runExposure(t, w, graphs[n], f[1:])); d != "" {
					t.Errorf("%s:%d: graph built by %s differs from one built by append (-append +%s):\n%s", file, b.Line, n, n, d)
				}
			}
		default:
			t.Fatalf("%s:%d: unknown command %q", file, b.Line, f[0])
		}
		return got
	})
}

// Each lists every label, so the engine uses its attributed-id bitmap.
func (l labels) Each(fn func(model.Attribution) bool) {
	for _, as := range l {
		for _, a := range as {
			if !fn(a) {
				return
			}
		}
	}
}

// lookupOnly hides Each, so the engine looks every counterparty up.
type lookupOnly struct{ l labels }

func (l lookupOnly) Lookup(chain model.Chain, addr string, asOf time.Time) []model.Attribution {
	return l.l.Lookup(chain, addr, asOf)
}
