package trace

import (
	"bytes"
	"os"
	"testing"

	"github.com/redthread/redthread/internal/model"
)

func seedFile(f *testing.F, name string) {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzReadConversions(f *testing.F) {
	seedFile(f, "testdata/conversions.csv")
	f.Add([]byte("kind,in_chain,in_block,in_position,out_chain,out_block,out_position\nswap,eth,1,2,btc,3,4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ReadConversions(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Kind != Swap && c.Kind != Bridge {
				t.Fatalf("accepted kind %q", c.Kind)
			}
			if c.Kind == Swap && c.In.Chain != c.Out.Chain {
				t.Fatal("accepted a cross-chain swap")
			}
			if c.AmountIn.IsZero() != c.AmountOut.IsZero() {
				t.Fatal("accepted half a rate")
			}
		}
		NewConversionSet(cs) // must not panic
	})
}

func FuzzReadLabels(f *testing.F) {
	seedFile(f, "testdata/labels.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		l := NewLabels()
		n, err := ReadLabels(bytes.NewReader(b), "fuzz.csv", l)
		if err != nil {
			if l.Len() != 0 {
				t.Fatal("a failed read changed the label set")
			}
			return
		}
		if n > 0 && l.Len() == 0 {
			t.Fatal("labels read but none stored")
		}
	})
}

// fuzzGraph is a small graph with the legs of testdata/swaps.csv absent,
// so event files exercise the lookup paths.
func FuzzReadSwapEvents(f *testing.F) {
	seedFile(f, "testdata/swaps.csv")
	seedFile(f, "testdata/bridges.csv")
	w, err := parseLedger([]string{"1 a b 10", "2 b pool 5 tok", "2 pool b 7"})
	if err != nil {
		f.Fatal(err)
	}
	ix := w.graphs(f)["append"]
	f.Add([]byte("chain,tx_hash,block_number,block_timestamp,pool,trader,asset_in,amount_in,asset_out,amount_out\ntest,x,2,0,pool,b,tok,5,native,7\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := ix.Reader()
		defer r.Close()
		g := Index(r)
		if cs, err := ReadSwapEvents(bytes.NewReader(b), "swaps.csv", g); err == nil {
			for _, c := range cs {
				if c.Kind != Swap || c.In.Chain != model.Chain("test") {
					t.Fatalf("bad conversion %+v", c)
				}
			}
		}
		ReadBridgeEvents(bytes.NewReader(b), "bridges.csv", g)
	})
}

func TestReadSwapEventsLocatesLegs(t *testing.T) {
	w, err := parseLedger([]string{"1 a b 10", "2 b pool 5 tok", "2 pool b 7"})
	if err != nil {
		t.Fatal(err)
	}
	ix := w.graphs(t)["append"]
	r := ix.Reader()
	defer r.Close()
	cs, err := ReadSwapEvents(bytes.NewReader([]byte("chain,tx_hash,block_number,block_timestamp,pool,trader,asset_in,amount_in,asset_out,amount_out\ntest,x,2,0,pool,b,tok,5,native,7\n")), "s.csv", Index(r))
	if err != nil {
		t.Fatal(err)
	}
	want := Leg{Chain: "test", Block: 2, Position: model.MakePosition(0, 0)}
	if len(cs) != 1 || cs[0].In != want || cs[0].Out.Position != model.MakePosition(1, 0) {
		t.Fatalf("got %+v", cs)
	}
	_, err = ReadSwapEvents(bytes.NewReader([]byte("chain,tx_hash,block_number,block_timestamp,pool,trader,asset_in,amount_in,asset_out,amount_out\ntest,x,2,0,pool,b,tok,6,native,7\n")), "s.csv", Index(r))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("s.csv: line 2")) {
		t.Fatalf("a leg that is not in the ledger: got %v", err)
	}
}

func TestReadConversionsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty file"},
		{"kind,in_chain\n", `lacks column "in_block"`},
		{"kind,in_chain,in_block,in_position,out_chain,out_block,out_position\nmint,eth,1,2,eth,3,4\n", "line 2: field kind"},
		{"kind,in_chain,in_block,in_position,out_chain,out_block,out_position\nswap,eth,x,2,eth,3,4\n", "line 2: field in_block"},
		{"kind,in_chain,in_block,in_position,out_chain,out_block,out_position\nswap,eth,1,2,btc,3,4\n", "one chain"},
		{"kind,in_chain,in_block,in_position,out_chain,out_block,out_position,amount_in\nswap,eth,1,2,eth,3,4,5\n", "both amount_in and amount_out"},
	} {
		_, err := ReadConversions(bytes.NewReader([]byte(tc.in)), "c.csv")
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%q: got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	cs, err := func() ([]Conversion, error) {
		b, _ := os.ReadFile("testdata/conversions.csv")
		return ReadConversions(bytes.NewReader(b), "conversions.csv")
	}()
	if err != nil || len(cs) != 2 || cs[0].Kind != Swap || cs[1].Out.Chain != "btc" || cs[0].AmountOut.Dec() != "312500000000000000" {
		t.Fatalf("fixture: %+v, %v", cs, err)
	}
}
