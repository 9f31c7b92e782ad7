package synth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixture     *collect
)

// worldDir writes one small world for the reader tests.
func worldDir(t testing.TB) (string, *collect) {
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "synth-read")
		if err != nil {
			t.Fatal(err)
		}
		c := &collect{}
		if _, _, err := WriteDir(context.Background(), Params{Seed: 11, Scale: 8_000}, dir, c); err != nil {
			t.Fatal(err)
		}
		fixtureDir, fixture = dir, c
	})
	return fixtureDir, fixture
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func TestReadTruthRoundTrip(t *testing.T) {
	dir, c := worldDir(t)
	tr, err := ReadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		name      string
		got, want any
	}{
		{"flows", tr.Flows, c.flows}, {"endpoints", tr.Endpoints, c.endpoints}, {"mixes", tr.Mixes, c.mixes},
		{"swaps", tr.Swaps, c.swaps}, {"bridges", tr.Bridges, c.bridges},
	} {
		if d := cmp.Diff(x.want, x.got); d != "" {
			t.Errorf("%s differ (-sink +file):\n%s", x.name, d)
		}
	}
	if len(tr.Owners) < 100 || len(tr.Summary.Scenarios) != 2 || tr.Summary.Seed != 11 {
		t.Errorf("%d owners, summary %+v", len(tr.Owners), tr.Summary)
	}
}

func TestReadErrors(t *testing.T) {
	dir, _ := worldDir(t)
	flows, err := os.ReadFile(filepath.Join(dir, FileFlows))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(flows), "\n")
	row := strings.Split(strings.TrimSuffix(lines[1], "\n"), ",")
	edit := func(i int, v string) string {
		r := append([]string(nil), row...)
		r[i] = v
		return lines[0] + lines[1] + strings.Join(r, ",") + "\n"
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "flows.csv:1: empty file"},
		{"header", "a,b\n", "flows.csv:1: header"},
		{"fields", lines[0] + "x,y\n", "flows.csv:2"},
		{"chain", edit(2, "eth"), `flows.csv:3: chain: chain "eth"`},
		{"hash", edit(3, "0x12"), "flows.csv:3: tx_hash"},
		{"block", edit(4, "-1"), "flows.csv:3: block_number"},
		{"address", edit(7, "0xzz"), "flows.csv:3: from_address"},
		{"amount", edit(10, "1e5"), "flows.csv:3: amount"},
		{"step", edit(1, "launder"), `flows.csv:3: step: unknown step "launder"`},
		{"stolen", edit(11, "1"+row[10]), "flows.csv:3: stolen"},
	} {
		_, err := ReadFlows(strings.NewReader(tc.in), "flows.csv")
		var re *RowError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &re) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, m := range []string{"", "=:SYNTH2.SYX", "=:SYX:0x05628bd77ac8da56fadde74d6516af5a1fba6122", "OUT:ABC", "=:SYNTH2.SYX:bc1q"} {
		if _, _, _, err := ParseMemo(m); err == nil {
			t.Errorf("memo %q parsed", m)
		}
	}
	c, a, d, err := ParseMemo("=:SYNTH2.SYX:0x05628BD77AC8DA56FADDE74D6516AF5A1FBA6122:0/1/0")
	if err != nil || c != "SYNTH2" || a != "SYX" || d != "0x05628bd77ac8da56fadde74d6516af5a1fba6122" {
		t.Errorf("memo: %q %q %q %v", c, a, d, err)
	}
}

func fuzzSeed(f *testing.F, name string) {
	dir, _ := worldDir(f)
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	f.Add(strings.Join(lines[:min(len(lines), 6)], ""))
	f.Add(lines[0])
	f.Add(lines[0] + strings.Repeat(",", strings.Count(lines[0], ",")) + "\n")
}

// The readers never panic, and what they accept they accept whole.
func FuzzReadFlows(f *testing.F) {
	fuzzSeed(f, FileFlows)
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ReadFlows(strings.NewReader(s), "f")
		if err == nil {
			for _, x := range fl {
				if x.Stolen.Gt(&x.Amount) {
					t.Fatalf("accepted stolen > amount")
				}
			}
		}
	})
}

func FuzzReadBridges(f *testing.F) {
	fuzzSeed(f, FileBridges)
	f.Fuzz(func(t *testing.T, s string) {
		bs, err := ReadBridges(strings.NewReader(s), "b")
		if err == nil {
			for _, b := range bs {
				if _, _, d, err := ParseMemo(b.Memo); err != nil || d != b.OutTo {
					t.Fatalf("accepted memo %q to %s", b.Memo, b.OutTo)
				}
			}
		}
	})
}

func FuzzReadSwaps(f *testing.F) {
	fuzzSeed(f, FileSwaps)
	f.Fuzz(func(t *testing.T, s string) { ReadSwaps(strings.NewReader(s), "s") })
}

func FuzzReadEndpoints(f *testing.F) {
	fuzzSeed(f, FileEndpoints)
	f.Fuzz(func(t *testing.T, s string) { ReadEndpoints(strings.NewReader(s), "e") })
}

func FuzzReadOwners(f *testing.F) {
	fuzzSeed(f, FileAddresses)
	f.Fuzz(func(t *testing.T, s string) { ReadOwners(strings.NewReader(s), "o") })
}

func FuzzReadMixes(f *testing.F) {
	fuzzSeed(f, FileMixes)
	f.Fuzz(func(t *testing.T, s string) { ReadMixes(strings.NewReader(s), "m") })
}

func TestRowErrorIsTyped(t *testing.T) {
	_, err := ReadSwaps(bytes.NewReader([]byte(SwapsHeader+"\nsynth,0x1,1,1,0x1,0x1,native,1,native,1\n")), "swaps.csv")
	var re *RowError
	if !errors.As(err, &re) || re.Line != 2 || re.Field != "tx_hash" {
		t.Errorf("err %v", err)
	}
}
