package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
)

// btcLedger returns blocks of a chain with text addresses, so that the
// resident names hold both address forms and two chain codes.
func btcLedger(from, n int, shift int64) []model.Block {
	var out []model.Block
	for i := range n {
		num := uint64(from + i*2)
		b := model.Block{Chain: model.ChainBTC, Number: num, Time: 1_230_000_000 + int64(num)*600 + shift}
		for j := range 3 {
			t := model.Transfer{Chain: b.Chain, Block: num, Time: b.Time, Position: model.MakePosition(uint32(j), 0),
				TxHash: fmt.Sprintf("%064x", num*10+uint64(j)), From: fmt.Sprintf("bc1qsender%d", (i+j)%7),
				To: fmt.Sprintf("bc1qreceiver%d", (i*j)%11), Asset: model.NativeAsset, Kind: model.KindNative}
			t.Amount.SetUint64(uint64(1000 + i*j))
			b.Transfers = append(b.Transfers, t)
		}
		out = append(out, b)
	}
	return out
}

// shifted returns a copy of blocks whose times are moved by d seconds, as a
// reorg may bring.
func shifted(blocks []model.Block, d int64) []model.Block {
	out := make([]model.Block, len(blocks))
	for i, b := range blocks {
		b.Time += d
		b.Transfers = append([]model.Transfer(nil), b.Transfers...)
		for j := range b.Transfers {
			b.Transfers[j].Time += d
		}
		out[i] = b
	}
	return out
}

// readView is everything a reader gets that names or times come into.
type readView struct {
	Pages     map[string][]Edge
	FirstSeen map[string]BlockInfo
	LastSeen  map[string]BlockInfo
	Top       map[string][]string
}

func view(t *testing.T, s *Store) readView {
	t.Helper()
	ctx := context.Background()
	v := readView{Pages: map[string][]Edge{}, FirstSeen: map[string]BlockInfo{}, LastSeen: map[string]BlockInfo{}, Top: map[string][]string{}}
	for _, q := range []struct {
		chain model.Chain
		addr  string
	}{{"eth", addr(1)}, {"eth", addr(2)}, {"eth", addr(42)}, {"eth", addr(77)}, {"eth", addr(5000)},
		{model.ChainBTC, "bc1qsender3"}, {model.ChainBTC, "bc1qreceiver0"}} {
		key := string(q.chain) + "/" + q.addr
		cursor := ""
		for {
			pg, err := s.Neighbors(ctx, q.chain, q.addr, Both, cursor, 97, true)
			if err != nil {
				t.Fatal(err)
			}
			v.Pages[key] = append(v.Pages[key], pg.Edges...)
			if cursor = pg.Next; cursor == "" {
				break
			}
		}
		sm, err := s.Summarize(ctx, q.chain, q.addr, 10, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if sm.FirstSeen != nil {
			v.FirstSeen[key], v.LastSeen[key] = *sm.FirstSeen, *sm.LastSeen
		}
		for _, c := range sm.Counterparties {
			v.Top[key] = append(v.Top[key], c.Address)
		}
	}
	return v
}

// TestResidentTablesAgreeWithStore reads the same ledger from a store with
// resident names and block times and from one without, through loads,
// writes after the load, a rollback and a rewrite with other block times.
func TestResidentTablesAgreeWithStore(t *testing.T) {
	ctx := context.Background()
	eth := randomLedger(rand.New(rand.NewPCG(5, 6)), 900)
	btc := btcLedger(100, 40, 0)
	plain := open(t, t.TempDir())
	dir := t.TempDir()
	res := open(t, dir)
	write := func(blocks []model.Block) {
		t.Helper()
		for _, s := range []*Store{plain, res} {
			if err := s.Write(ctx, blocks, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(eth[:600])
	write(btc[:30])
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if res, err = Open(dir, Options{NoSync: true, ResidentBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if !res.WaitResident() {
		t.Fatalf("resident tables not loaded: %v", res.resident.err)
	}
	if r := res.resident.cur.Load(); len(r.ends) == 0 || len(r.times["eth"].t) == 0 || len(r.times[model.ChainBTC].t) == 0 {
		t.Fatal("resident tables are empty")
	}
	check := func(when string) {
		t.Helper()
		if diff := cmp.Diff(view(t, plain), view(t, res)); diff != "" {
			t.Fatalf("%s: resident reads differ (-store +resident):\n%s", when, diff)
		}
	}
	check("after loading")
	// New ids and blocks after the load fall back to the store.
	write(eth[600:])
	write(btc[30:])
	check("after writes")
	// A rollback, then the same blocks again with other times.
	lo := eth[700].Number
	for _, s := range []*Store{plain, res} {
		if err := s.Rollback(ctx, "eth", lo, ^uint64(0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Rollback(ctx, model.ChainBTC, btc[10].Number, ^uint64(0)); err != nil {
			t.Fatal(err)
		}
	}
	check("after rollback")
	write(shifted(eth[700:], 5))
	write(shifted(btc[10:], 7))
	check("after rewrite with other times")
	pg, err := res.Neighbors(ctx, model.ChainBTC, "bc1qsender3", Both, "", 1, true)
	if err != nil || len(pg.Edges) != 1 {
		t.Fatalf("newest btc edge: %v %v", pg, err)
	}
	if last := btc[len(btc)-1]; pg.Edges[0].Block == last.Number && pg.Edges[0].Time != last.Time+7 {
		t.Fatalf("rewritten block %d time %d, want %d", last.Number, pg.Edges[0].Time, last.Time+7)
	}
}

// TestResidentOverBudget leaves reads on the store when the tables do not
// fit.
func TestResidentOverBudget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Write(ctx, randomLedger(rand.New(rand.NewPCG(7, 8)), 50), nil); err != nil {
		t.Fatal(err)
	}
	want := view(t, s)
	s.Close()
	s, err := Open(dir, Options{NoSync: true, ResidentBytes: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.WaitResident() {
		t.Fatal("tables of more than 200 bytes loaded within a 200-byte budget")
	}
	if s.resident.err != errOverBudget {
		t.Fatalf("load stopped by %v, want %v", s.resident.err, errOverBudget)
	}
	if diff := cmp.Diff(want, view(t, s)); diff != "" {
		t.Fatalf("reads differ (-before +after):\n%s", diff)
	}
}

// TestCloseWhileResidentLoads closes a store at once after opening it.
func TestCloseWhileResidentLoads(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Write(context.Background(), randomLedger(rand.New(rand.NewPCG(9, 10)), 400), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(dir, Options{NoSync: true, ResidentBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Neighbors(context.Background(), "eth", addr(1), Both, "", 10, false); err != ErrClosed {
		t.Fatalf("read after close: %v, want %v", err, ErrClosed)
	}
}

// TestChains lists the chains with transfers, whatever their names, and
// drops one whose transfers were all rolled back.
func TestChains(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if err := s.Write(ctx, append(randomLedger(rand.New(rand.NewPCG(1, 2)), 5), btcLedger(10, 3, 0)...), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Chains()
	if err != nil || !slices.Equal(got, []model.Chain{model.ChainBTC, "eth"}) {
		t.Fatalf("Chains() = %v, %v; want [btc eth]", got, err)
	}
	if err := s.Rollback(ctx, model.ChainBTC, 0, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Chains(); err != nil || !slices.Equal(got, []model.Chain{"eth"}) {
		t.Fatalf("after rolling btc back: Chains() = %v, %v; want [eth]", got, err)
	}
}
