package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/model"
)

func addr(i int) string { return fmt.Sprintf("0x%040x", i) }

func hash(i int) string { return fmt.Sprintf("0x%064x", i) }

func tr(block uint64, pos uint32, from, to int, amount uint64, asset string) model.Transfer {
	t := model.Transfer{Chain: "eth", Block: block, Time: int64(1_600_000_000 + block*12), Position: model.MakePosition(pos, 0),
		TxHash: hash(int(block)*1000 + int(pos)), From: addr(from), To: addr(to), Asset: asset, Kind: model.KindNative}
	if asset != model.NativeAsset {
		t.Kind = model.KindToken
	}
	t.Amount.SetUint64(amount)
	return t
}

func blk(n uint64, ts ...model.Transfer) model.Block {
	return model.Block{Chain: "eth", Number: n, Time: int64(1_600_000_000 + n*12), Transfers: ts}
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func digest(t *testing.T, s *Store) [32]byte {
	t.Helper()
	d, err := s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var token = addr(999)

func world() []model.Block {
	return []model.Block{
		blk(10, tr(10, 0, 1, 2, 100, model.NativeAsset), tr(10, 1, 2, 3, 40, model.NativeAsset)),
		blk(11, tr(11, 0, 2, 1, 5, model.NativeAsset), tr(11, 3, 2, 2, 7, model.NativeAsset), tr(11, 4, 1, 2, 9, token)),
		blk(12, tr(12, 0, 3, 2, 1, model.NativeAsset)),
	}
}

func TestWriteSummaryAndIdempotence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Write(ctx, world(), &Checkpoint{Name: "x", Value: []byte("12")}); err != nil {
		t.Fatal(err)
	}
	d1 := digest(t, s)
	// Replaying everything, or any part, changes nothing.
	if err := s.Write(ctx, world(), &Checkpoint{Name: "x", Value: []byte("12")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, world()[1:2], &Checkpoint{Name: "x", Value: []byte("12")}); err != nil {
		t.Fatal(err)
	}
	if d2 := digest(t, s); d1 != d2 {
		t.Fatalf("replay changed the store")
	}
	sm, err := s.Summarize(ctx, "eth", addr(2), 10, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if sm.FirstSeen.Number != 10 || sm.LastSeen.Number != 12 || sm.FirstSeen.Time != 1_600_000_120 {
		t.Fatalf("first/last seen: %+v %+v", sm.FirstSeen, sm.LastSeen)
	}
	got := map[string][4]string{}
	for _, a := range sm.Assets {
		got[a.Asset] = [4]string{fmt.Sprint(a.CountIn), fmt.Sprint(a.CountOut), a.Received.String(), a.Sent.String()}
	}
	// Address 2 receives 100, 7 (from itself) and 1; sends 40, 5 and 7 (to itself); receives 9 of the token.
	want := map[string][4]string{
		model.NativeAsset: {"3", "3", "108", "52"},
		token:             {"1", "0", "9", "0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("totals (-want +got):\n%s", diff)
	}
	if n, _ := s.ChainStats("eth"); n != 6 {
		t.Fatalf("chain stats = %d, want 6", n)
	}
	// Reopen: everything persists, including the checkpoint and id allocation.
	s.Close()
	s = open(t, dir)
	if d3 := digest(t, s); d3 != d1 {
		t.Fatalf("reopen changed the digest")
	}
	v, ok, err := s.Checkpoint("x")
	if err != nil || !ok || string(v) != "12" {
		t.Fatalf("checkpoint = %q %v %v", v, ok, err)
	}
	if err := s.Write(ctx, []model.Block{blk(13, tr(13, 0, 50, 51, 1, model.NativeAsset))}, nil); err != nil {
		t.Fatal(err)
	}
	id50, _, _ := s.ID("eth", addr(50))
	id3, _, _ := s.ID("eth", addr(3))
	if id50 <= id3 {
		t.Fatalf("id reused after reopen: %d <= %d", id50, id3)
	}
}

func TestConflictAndAtomicity(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if err := s.Write(ctx, world(), nil); err != nil {
		t.Fatal(err)
	}
	d := digest(t, s)
	changed := world()
	changed[0].Transfers[0].Amount.SetUint64(101)
	err := s.Write(ctx, []model.Block{blk(20, tr(20, 0, 7, 8, 1, model.NativeAsset)), changed[0]}, nil)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if digest(t, s) != d {
		t.Fatal("failed write changed the store")
	}
	bad := blk(21, tr(21, 1, 1, 2, 1, model.NativeAsset), tr(21, 0, 1, 2, 1, model.NativeAsset))
	if err := s.Write(ctx, []model.Block{blk(20, tr(20, 0, 7, 8, 1, model.NativeAsset)), bad}, nil); err == nil {
		t.Fatal("unordered block accepted")
	}
	if digest(t, s) != d {
		t.Fatal("rejected write changed the store")
	}
	// After a failed write the next good one still works and sees new blocks as new.
	if err := s.Write(ctx, []model.Block{blk(20, tr(20, 0, 7, 8, 1, model.NativeAsset))}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.ChainStats("eth"); n != 7 {
		t.Fatalf("chain stats = %d, want 7", n)
	}
}

func TestRollbackRestoresDigest(t *testing.T) {
	ctx := context.Background()
	a := open(t, t.TempDir())
	b := open(t, t.TempDir())
	w := world()
	if err := a.Write(ctx, w[:2], nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	// Reorg: block 12 is replaced by another, then by the original again.
	if err := b.Rollback(ctx, "eth", 12, 12); err != nil {
		t.Fatal(err)
	}
	other := blk(12, tr(12, 0, 3, 4, 2, model.NativeAsset))
	if err := b.Write(ctx, []model.Block{other}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(ctx, "eth", 12, 100); err != nil {
		t.Fatal(err)
	}
	if err := a.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	// Address ids stay assigned, so compare what a reader sees.
	for _, who := range []int{1, 2, 3} {
		sa, _ := a.Summarize(ctx, "eth", addr(who), 10, 100)
		sb, _ := b.Summarize(ctx, "eth", addr(who), 10, 100)
		if diff := cmp.Diff(sa, sb, cmp.Comparer(func(x, y big.Int) bool { return x.Cmp(&y) == 0 })); diff != "" {
			t.Fatalf("address %d after rollback (-want +got):\n%s", who, diff)
		}
	}
	if h, _, _ := b.Head("eth"); h != 11 {
		t.Fatalf("head = %d, want 11", h)
	}
	var n int
	b.ScanTransfers(ctx, "eth", 0, ^uint64(0), func(*model.Transfer) error { n++; return nil })
	if n != 5 {
		t.Fatalf("%d transfers after rollback, want 5", n)
	}
	sb, _ := b.Summarize(ctx, "eth", addr(4), 10, 100)
	if len(sb.Assets) != 0 || sb.FirstSeen != nil {
		t.Fatalf("rolled-back address still has activity: %+v", sb)
	}
}

func TestNeighborsPaging(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	var blocks []model.Block
	// Address 1 is a hub: it receives from and sends to many, with a self-transfer.
	for i := 0; i < 300; i++ {
		n := uint64(100 + i)
		ts := []model.Transfer{tr(n, 0, 1000+i, 1, uint64(i+1), model.NativeAsset), tr(n, 1, 1, 2000+i, 1, model.NativeAsset)}
		if i == 290 {
			ts = append(ts, tr(n, 2, 1, 1, 5, model.NativeAsset))
		}
		blocks = append(blocks, blk(n, ts...))
	}
	if err := s.Write(ctx, blocks, nil); err != nil {
		t.Fatal(err)
	}
	for _, newest := range []bool{false, true} {
		for _, dir := range []Direction{Both, In, Out} {
			var all []Edge
			cursor := ""
			for {
				pg, err := s.Neighbors(ctx, "eth", addr(1), dir, cursor, 7, newest)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, pg.Edges...)
				if pg.Next == "" {
					break
				}
				cursor = pg.Next
			}
			want := map[Direction]int{Both: 602, In: 301, Out: 301}[dir]
			if len(all) != want {
				t.Fatalf("dir %d newest %v: %d edges, want %d", dir, newest, len(all), want)
			}
			for i := 1; i < len(all); i++ {
				p, q := all[i-1], all[i]
				k1 := [3]uint64{p.Block, uint64(p.Position), uint64(p.Dir)}
				k2 := [3]uint64{q.Block, uint64(q.Position), uint64(q.Dir)}
				less := k1[0] < k2[0] || k1[0] == k2[0] && (k1[1] < k2[1] || k1[1] == k2[1] && k1[2] < k2[2])
				if less == newest {
					t.Fatalf("dir %d newest %v: edges %d,%d out of order: %v %v", dir, newest, i-1, i, k1, k2)
				}
			}
		}
	}
	sm, err := s.Summarize(ctx, "eth", addr(1), 3, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !sm.Sampled || len(sm.Counterparties) != 3 || sm.Counterparties[0].Address != addr(1) {
		t.Fatalf("hub summary: sampled=%v counterparties=%+v", sm.Sampled, sm.Counterparties)
	}
	if sm.Assets[0].CountIn != 301 || sm.Assets[0].Received.String() != fmt.Sprint(300*301/2+5) {
		t.Fatalf("hub totals: %+v", sm.Assets[0])
	}
}

func TestSecondOpenIsRefusedClearly(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := Open(dir, Options{ReadOnly: true})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestUseAfterCloseIsAnError(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Summarize(context.Background(), "eth", addr(1), 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Summarize after Close: %v", err)
	}
	if err := s.Write(context.Background(), world(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if s.Close() != nil {
		t.Fatal("second Close failed")
	}
}

func TestTxHash(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if err := s.Write(ctx, world(), nil); err != nil {
		t.Fatal(err)
	}
	w := world()[1].Transfers[1]
	h, ok, err := s.TxHash(ctx, "eth", w.Block, w.Position)
	if err != nil || !ok || h != w.TxHash {
		t.Fatalf("TxHash = %q %v %v, want %q", h, ok, err, w.TxHash)
	}
	if _, ok, _ := s.TxHash(ctx, "eth", 11, model.MakePosition(2, 0)); ok {
		t.Fatal("TxHash found a transfer that does not exist")
	}
}
