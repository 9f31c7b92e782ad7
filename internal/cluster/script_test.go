package cluster

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/graph"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/testscript"
	"github.com/redthread/redthread/internal/trace"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of testdata/*.txt")

const epoch = 1704067200 // block n has time epoch + 60n (2024-01-01T00:00:00Z + n minutes)

// parseLedger reads lines "BLOCK FROM TO AMOUNT [ASSET] [+]" (a trailing +
// puts the transfer in the previous line's transaction) and "label ADDR
// CATEGORY [ENTITY]".
func parseLedger(lines []string) ([]model.Block, *trace.Labels, error) {
	labels := trace.NewLabels()
	var blocks []model.Block
	tx := -1
	seq := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if f[0] == "label" {
			if len(f) < 3 {
				return nil, nil, fmt.Errorf("%q: want label ADDR CATEGORY [ENTITY]", l)
			}
			a := model.Attribution{Chain: "test", Address: f[1], Category: model.Category(f[2]), Label: f[1], Confidence: 100}
			if len(f) > 3 {
				a.Entity = f[3]
			}
			labels.Add(a)
			continue
		}
		if len(f) < 4 {
			return nil, nil, fmt.Errorf("%q: want BLOCK FROM TO AMOUNT [ASSET] [+]", l)
		}
		bn, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%q: block: %v", l, err)
		}
		amt, err := model.ParseAmount(f[3])
		if err != nil {
			return nil, nil, fmt.Errorf("%q: amount: %v", l, err)
		}
		asset, same := model.NativeAsset, false
		for _, x := range f[4:] {
			if x == "+" {
				same = true
			} else {
				asset = x
			}
		}
		if n := len(blocks); n == 0 || blocks[n-1].Number != bn {
			if n > 0 && blocks[n-1].Number > bn {
				return nil, nil, fmt.Errorf("%q: blocks out of order", l)
			}
			blocks = append(blocks, model.Block{Chain: "test", Number: bn, Time: epoch + 60*int64(bn)})
			tx, seq = -1, 0
		}
		b := &blocks[len(blocks)-1]
		if !same || tx < 0 {
			tx, seq = tx+1, 0
		} else {
			seq++
		}
		b.Transfers = append(b.Transfers, model.Transfer{Chain: "test", Block: bn, Time: b.Time,
			Position: model.MakePosition(uint32(tx), uint32(seq)), TxHash: fmt.Sprintf("t%d.%d", bn, tx),
			From: f[1], To: f[2], Asset: asset, Amount: amt, Kind: model.KindNative})
	}
	return blocks, labels, nil
}

func TestScripts(t *testing.T) {
	testscript.Each(t, "testdata/*.txt", func(t *testing.T, file string) {
		var ix *graph.Index
		var labels *trace.Labels
		testscript.Run(t, file, *rewrite, func(b *testscript.Block) string {
			f := strings.Fields(b.Cmd)
			switch f[0] {
			case "ledger":
				blocks, l, err := parseLedger(b.Input)
				if err != nil {
					t.Fatalf("%s:%d: %v", file, b.Line, err)
				}
				ix, labels = graph.New(graph.Options{KeepTxHashes: true}), l
				if err := ix.Append(blocks); err != nil {
					t.Fatalf("%s:%d: %v", file, b.Line, err)
				}
				n := 0
				for _, bl := range blocks {
					n += len(bl.Transfers)
				}
				return fmt.Sprintf("ok %d transfers\n", n)
			case "deposits":
				var o Options
				fs := flag.NewFlagSet("deposits", flag.ContinueOnError)
				fs.DurationVar(&o.MaxDelay, "max-delay", 0, "")
				fs.IntVar(&o.MinCollector, "min-collector", 0, "")
				evidence := fs.Bool("evidence", false, "")
				if err := fs.Parse(f[1:]); err != nil {
					t.Fatalf("%s:%d: %v", file, b.Line, err)
				}
				r := ix.Reader()
				defer r.Close()
				g, _ := trace.Index(r).Chain("test")
				found, err := DepositAddresses(context.Background(), g, "test", labels, o)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var sb strings.Builder
				for _, x := range found {
					a := x.Attribution
					fmt.Fprintf(&sb, "%s %s entity=%s %q source=%s confidence=%d from=%s sweeps=%d senders=%d\n",
						a.Address, a.Category, a.Entity, a.Label, a.Source.Name, a.Confidence,
						a.ValidFrom.Format(time.RFC3339), x.Sweeps, x.Senders)
					if *evidence {
						txs, err := g.TxHashes(context.Background(), x.SweepSeqs)
						if err != nil {
							t.Fatalf("%s:%d: %v", file, b.Line, err)
						}
						fmt.Fprintf(&sb, "  target=%s first_sweep=%s last_sweep=%s txs=%s\n", x.Target,
							x.FirstSweep.Format(time.RFC3339), x.LastSweep.Format(time.RFC3339), strings.Join(txs, ","))
					}
				}
				if len(found) == 0 {
					sb.WriteString("none\n")
				}
				return sb.String()
			}
			t.Fatalf("%s:%d: unknown command %q", file, b.Line, f[0])
			return ""
		})
	})
}

// TestDocQuotes checks that docs/trace.md quotes the scripts of this package
// verbatim.
func TestDocQuotes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/trace.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		quote := "```text\n# file: internal/cluster/" + f + "\n" + string(want) + "```\n"
		if !strings.Contains(string(doc), quote) {
			t.Errorf("docs/trace.md does not quote %s verbatim (a block starting \"# file: internal/cluster/%s\")", f, f)
		}
	}
}
