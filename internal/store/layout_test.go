package store

import (
	"context"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// refEdge is an edge as the reference model sees it.
type refEdge struct {
	Block        uint64
	Pos          model.Position
	Dir          Direction
	Counterparty string
	Asset        string
	Kind         model.Kind
	Amount       string
}

// randomLedger returns blocks with hubs (to overflow buckets), several
// transfers per transaction hash, text hashes, round and huge amounts.
func randomLedger(r *rand.Rand, blocks int) []model.Block {
	var out []model.Block
	for n := 0; n < blocks; n++ {
		num := uint64(1000 + n*3)
		b := model.Block{Chain: "eth", Number: num, Time: int64(1_600_000_000 + num*12)}
		var tx uint32
		for len(b.Transfers) < 1+r.IntN(40) {
			tx += uint32(1 + r.IntN(3))
			h := hash(int(num)<<16 | int(tx))
			if r.IntN(50) == 0 {
				h = "withdrawal-" + h[2:10]
			}
			for seq := uint32(0); seq < uint32(1+r.IntN(3)); seq++ {
				pick := func() string {
					if r.IntN(3) == 0 {
						return addr(1 + r.IntN(3)) // hubs
					}
					return addr(10 + r.IntN(400))
				}
				t := model.Transfer{Chain: "eth", Block: num, Time: b.Time, Position: model.MakePosition(tx, seq*2), TxHash: h,
					From: pick(), To: pick(), Asset: model.NativeAsset, Kind: model.Kind(1 + r.IntN(6))}
				if r.IntN(4) == 0 {
					t.Asset = addr(900 + r.IntN(3))
				}
				switch r.IntN(4) {
				case 0:
					t.Amount.SetUint64(r.Uint64N(1000))
				case 1:
					t.Amount.Mul(uint256.NewInt(r.Uint64N(1e6)), &pow10[18])
				case 2:
					t.Amount.SetAllOne()
					t.Amount.Rsh(&t.Amount, uint(r.IntN(200)))
				default:
					t.Amount.SetUint64(r.Uint64())
				}
				b.Transfers = append(b.Transfers, t)
			}
		}
		out = append(out, b)
	}
	return out
}

func allTransfers(t *testing.T, s *Store) []model.Transfer {
	t.Helper()
	var got []model.Transfer
	if err := s.ScanTransfers(context.Background(), "eth", 0, ^uint64(0), func(tr *model.Transfer) error {
		got = append(got, *tr)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func refEdges(blocks []model.Block, a string, dir Direction, newest bool) []refEdge {
	var es []refEdge
	for _, b := range blocks {
		for _, t := range b.Transfers {
			for _, d := range []Direction{In, Out} {
				if dir != Both && dir != d {
					continue
				}
				cp, me := t.From, t.To
				if d == Out {
					cp, me = t.To, t.From
				}
				if me == a {
					es = append(es, refEdge{t.Block, t.Position, d, cp, t.Asset, t.Kind, t.Amount.Dec()})
				}
			}
		}
	}
	slices.SortStableFunc(es, func(x, y refEdge) int {
		switch {
		case x.Block != y.Block:
			return cmpU(x.Block, y.Block)
		case x.Pos != y.Pos:
			return cmpU(uint64(x.Pos), uint64(y.Pos))
		}
		return int(x.Dir) - int(y.Dir)
	})
	if newest {
		slices.Reverse(es)
	}
	return es
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func storeEdges(t *testing.T, s *Store, a string, dir Direction, newest bool, page int) []refEdge {
	t.Helper()
	var es []refEdge
	cursor := ""
	for {
		pg, err := s.Neighbors(context.Background(), "eth", a, dir, cursor, page, newest)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range pg.Edges {
			es = append(es, refEdge{e.Block, e.Position, e.Dir, e.Counterparty, e.Asset, e.Kind, e.Amount.Dec()})
		}
		if pg.Next == "" {
			return es
		}
		cursor = pg.Next
	}
}

// checkTotals compares an address's summary totals with the reference.
func checkTotals(t *testing.T, s *Store, blocks []model.Block, a string) {
	t.Helper()
	type tot struct {
		In, Out    uint64
		Recv, Sent string
	}
	acc := map[string]*[2]uint64{}
	sums := map[string]*[2]big.Int{}
	for _, tr := range flatten(blocks) {
		for d, me := range []string{tr.To, tr.From} {
			if me != a {
				continue
			}
			if acc[tr.Asset] == nil {
				acc[tr.Asset], sums[tr.Asset] = new([2]uint64), new([2]big.Int)
			}
			acc[tr.Asset][d]++
			sums[tr.Asset][d].Add(&sums[tr.Asset][d], tr.Amount.ToBig())
		}
	}
	want := map[string]tot{}
	for as, c := range acc {
		want[as] = tot{c[0], c[1], sums[as][0].String(), sums[as][1].String()}
	}
	sm, err := s.Summarize(context.Background(), "eth", a, 5, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tot{}
	for _, at := range sm.Assets {
		got[at.Asset] = tot{at.CountIn, at.CountOut, at.Received.String(), at.Sent.String()}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s totals (-want +got):\n%s", a, diff)
	}
}

func flatten(blocks []model.Block) []model.Transfer {
	var ts []model.Transfer
	for _, b := range blocks {
		ts = append(ts, b.Transfers...)
	}
	return ts
}

// splitBlocks spreads each block's transfers over two blocks values (two
// writes), interleaving positions, as separate export files do.
func splitBlocks(blocks []model.Block) (odd, even []model.Block) {
	for _, b := range blocks {
		o, e := b, b
		o.Transfers, e.Transfers = nil, nil
		for i, t := range b.Transfers {
			if i%2 == 1 {
				o.Transfers = append(o.Transfers, t)
			} else {
				e.Transfers = append(e.Transfers, t)
			}
		}
		odd, even = append(odd, o), append(even, e)
	}
	return odd, even
}

// TestLayoutAgainstReference writes one random ledger in several ways (one
// bulk write, many small writes, two interleaved halves written newest
// first, replays) and checks every way reads back exactly the reference and
// has one digest.
func TestLayoutAgainstReference(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	ledger := randomLedger(r, 2000)
	n := len(flatten(ledger))
	if n < bulkThreshold {
		t.Fatalf("ledger of %d transfers does not exercise the bulk path", n)
	}
	ways := map[string]func(s *Store) error{
		"one bulk write": func(s *Store) error { return s.Write(ctx, ledger, nil) },
		"one bulk write, indexed in parallel parts": func(s *Store) error {
			defer func(n int) { parallelIndexEntries = n }(parallelIndexEntries)
			parallelIndexEntries = 1000
			if err := s.Write(ctx, ledger, nil); err != nil {
				return err
			}
			return s.Flush()
		},
		"small writes, replayed": func(s *Store) error {
			for i := 0; i < len(ledger); i += 7 {
				if err := s.Write(ctx, ledger[i:min(i+7, len(ledger))], nil); err != nil {
					return err
				}
			}
			return s.Write(ctx, ledger[100:300], nil)
		},
		"halves, second half of the chain first": func(s *Store) error {
			odd, even := splitBlocks(ledger)
			h := len(ledger) / 2
			for _, part := range [][]model.Block{even[h:], even[:h], odd[h:], odd[:h]} {
				for i := 0; i < len(part); i += 50 {
					if err := s.Write(ctx, part[i:min(i+50, len(part))], nil); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	want := flatten(ledger)
	var digests = map[string][32]byte{}
	for name, write := range ways {
		t.Run(name, func(t *testing.T) {
			s := open(t, t.TempDir())
			if err := write(s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, allTransfers(t, s)); diff != "" {
				t.Fatalf("transfers differ (-want +got):\n%s", diff)
			}
			for _, a := range []string{addr(1), addr(2), addr(10), addr(57), addr(900)} {
				checkTotals(t, s, ledger, a)
				for _, dir := range []Direction{Both, In, Out} {
					for _, newest := range []bool{false, true} {
						w := refEdges(ledger, a, dir, newest)
						if diff := cmp.Diff(w, storeEdges(t, s, a, dir, newest, 97)); diff != "" {
							t.Fatalf("%s dir %d newest %v (-want +got):\n%s", a, dir, newest, diff)
						}
					}
				}
			}
			for _, tt := range want[:50] {
				h, ok, err := s.TxHash(ctx, "eth", tt.Block, tt.Position)
				if err != nil || !ok || h != tt.TxHash {
					t.Fatalf("TxHash %d/%d = %q %v %v, want %q", tt.Block, tt.Position, h, ok, err, tt.TxHash)
				}
			}
			digests[name] = digest(t, s)
		})
	}
	// Ids are assigned in order of first sight, and the digest covers them,
	// so only writes that meet addresses in the same order compare equal.
	for _, w := range []string{"small writes, replayed", "one bulk write, indexed in parallel parts"} {
		if digests[w] != digests["one bulk write"] {
			t.Errorf("digest of %q differs from one bulk write", w)
		}
	}
}

// TestRollbackAgainstReference rolls back a middle range and the tail and
// compares with a store that never saw those blocks.
func TestRollbackAgainstReference(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	ledger := randomLedger(r, 2000)
	s := open(t, t.TempDir())
	for i := 0; i < len(ledger); i += 150 {
		if err := s.Write(ctx, ledger[i:min(i+150, len(ledger))], nil); err != nil {
			t.Fatal(err)
		}
	}
	lo, hi := ledger[500].Number, ledger[900].Number
	if err := s.Rollback(ctx, "eth", lo, hi); err != nil {
		t.Fatal(err)
	}
	if err := s.Rollback(ctx, "eth", ledger[1700].Number, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	kept := append(append([]model.Block(nil), ledger[:500]...), ledger[901:1700]...)
	// A reference store that saw only the kept blocks, with the same ids.
	ref := open(t, t.TempDir())
	if err := ref.Write(ctx, ledger, nil); err != nil {
		t.Fatal(err)
	}
	if err := ref.Rollback(ctx, "eth", lo, hi); err != nil {
		t.Fatal(err)
	}
	if err := ref.Rollback(ctx, "eth", ledger[1700].Number, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(flatten(kept), allTransfers(t, s)); diff != "" {
		t.Fatalf("after rollback (-want +got):\n%s", diff)
	}
	for _, a := range []string{addr(1), addr(3), addr(42)} {
		checkTotals(t, s, kept, a)
		for _, newest := range []bool{false, true} {
			if diff := cmp.Diff(refEdges(kept, a, Both, newest), storeEdges(t, s, a, Both, newest, 61)); diff != "" {
				t.Fatalf("%s newest %v after rollback (-want +got):\n%s", a, newest, diff)
			}
		}
	}
	if digest(t, s) != digest(t, ref) {
		t.Fatal("digest after rollback differs from the same rollback of a bulk-written store")
	}
	// Writing the rolled-back blocks again restores the full ledger.
	if err := s.Write(ctx, ledger[500:901], nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, ledger[1700:], nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(flatten(ledger), allTransfers(t, s)); diff != "" {
		t.Fatalf("after rewrite (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(refEdges(ledger, addr(1), Both, true), storeEdges(t, s, addr(1), Both, true, 500)); diff != "" {
		t.Fatalf("hub after rewrite (-want +got):\n%s", diff)
	}
	for _, a := range []string{addr(1), addr(2), addr(3), addr(42)} {
		checkTotals(t, s, ledger, a)
	}
}

func TestAmountEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(a *uint256.Int) {
		t.Helper()
		b := appendAmountDec(nil, a)
		var got uint256.Int
		rest, err := readAmountDec(b, &got)
		if err != nil || len(rest) != 0 || !got.Eq(a) {
			t.Fatalf("%s: encoded %x, decoded %s, rest %d, err %v", a.Dec(), b, got.Dec(), len(rest), err)
		}
		if again := appendAmountDec(nil, &got); string(again) != string(b) {
			t.Fatalf("%s: not canonical", a.Dec())
		}
		if rest, err := skipAmountDec(append(b, 7)); err != nil || len(rest) != 1 {
			t.Fatalf("%s: skip: %v", a.Dec(), err)
		}
	}
	var max uint256.Int
	max.SetAllOne()
	check(new(uint256.Int))
	check(&max)
	check(&pow10[77])
	for i := 0; i < 20000; i++ {
		var a uint256.Int
		a.SetUint64(r.Uint64())
		a.Lsh(&a, uint(r.IntN(200)))
		if r.IntN(2) == 0 {
			a.Mul(uint256.NewInt(r.Uint64N(1e9)), &pow10[r.IntN(60)])
		}
		check(&a)
	}
	// 1.5 ETH in wei takes 3 bytes.
	if b := appendAmountDec(nil, new(uint256.Int).Mul(uint256.NewInt(15), &pow10[17])); len(b) != 2 {
		t.Fatalf("1.5 ETH encodes in %d bytes: %x", len(b), b)
	}
}

func FuzzSegmentDecode(f *testing.F) {
	var b segBuilder
	for _, tr := range flatten(randomLedger(rand.New(rand.NewPCG(7, 8)), 3)) {
		amt := appendAmountDec(nil, &tr.Amount)
		b.add(&tr, 1, 2, 0, amt)
	}
	f.Add(uint64(b.first), b.value(nil))
	f.Add(uint64(0), []byte{1, 0x11})
	f.Fuzz(func(t *testing.T, first uint64, v []byte) {
		var d segDecoder
		if d.init(model.Position(first), v) != nil {
			return
		}
		for i := 0; i < 1<<16; i++ {
			more, err := d.next()
			if err != nil || !more {
				return
			}
			_ = d.hash()
		}
	})
}

func FuzzAdjacencyMerge(f *testing.F) {
	e1 := appendEntry(nil, 100, 105, model.MakePosition(3, 1), 7, 0, model.KindNative, appendAmountDec(nil, uint256.NewInt(5)))
	e2 := appendEntry(nil, 100, 101, model.MakePosition(0, 0), 9, 4, model.KindToken, appendAmountDec(nil, uint256.NewInt(1e18)))
	f.Add(e1, e2)
	f.Add(e2, e1)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		m := &adjMerger{start: 100}
		m.MergeNewer(a)
		m.MergeNewer(b)
		out, _, err := m.Finish(true)
		if err != nil {
			return
		}
		es, err := decodeEntries(nil, out, 100, In)
		if err != nil {
			t.Fatalf("merged value does not decode: %v", err)
		}
		for i := 1; i < len(es); i++ {
			if edgeCmp(&es[i-1], &es[i]) > 0 {
				t.Fatalf("merged entries out of order at %d", i)
			}
		}
	})
}

// TestDeferredIndexSurvivesCrash commits bulk writes whose adjacency is
// still buffered, drops the process's state as a crash would, and checks
// that opening the store indexes them: the result equals a store that was
// closed cleanly.
func TestDeferredIndexSurvivesCrash(t *testing.T) {
	ctx := context.Background()
	ledger := randomLedger(rand.New(rand.NewPCG(9, 10)), 5000)
	half := len(ledger) / 2
	write := func(s *Store) {
		t.Helper()
		for _, part := range [][]model.Block{ledger[:100], ledger[100:half], ledger[half:]} {
			if err := s.Write(ctx, part, &Checkpoint{Name: "t", Value: []byte{byte(len(part))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clean := open(t, t.TempDir())
	write(clean)
	want := digest(t, clean)

	dir := t.TempDir()
	s, err := Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	write(s)
	if s.pend == nil {
		t.Fatal("bulk writes left nothing to index: the deferred path is not exercised")
	}
	// Crash: the buffered entries vanish; only what was committed remains.
	s.closed.Store(true)
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a store with unindexed transfers succeeded")
	}
	s2 := open(t, dir)
	if got := digest(t, s2); got != want {
		t.Fatal("store recovered after a crash differs from one closed cleanly")
	}
	if diff := cmp.Diff(refEdges(ledger, addr(2), Both, true), storeEdges(t, s2, addr(2), Both, true, 300)); diff != "" {
		t.Fatalf("hub after recovery (-want +got):\n%s", diff)
	}
	checkTotals(t, s2, ledger, addr(2))
}

// TestSmallCachesWithDeferredWrites writes bulk batches with address
// caches far smaller than the ledger's addresses, so caches are cleared
// while forward dictionary keys wait with the deferred index: ids must not
// be assigned twice, and the store must equal one written with large
// caches.
func TestSmallCachesWithDeferredWrites(t *testing.T) {
	ctx := context.Background()
	ledger := randomLedger(rand.New(rand.NewPCG(11, 12)), 6000)
	big := open(t, t.TempDir())
	small, err := Open(t.TempDir(), Options{NoSync: true, AddrCacheEntries: 150})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	for _, s := range []*Store{big, small} {
		for _, part := range [][]model.Block{ledger[:2000], ledger[2000:4000], ledger[4000:]} {
			if err := s.Write(ctx, part, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if digest(t, small) != digest(t, big) {
		t.Fatal("store written with small caches differs")
	}
	if diff := cmp.Diff(flatten(ledger), allTransfers(t, small)); diff != "" {
		t.Fatalf("transfers (-want +got):\n%s", diff)
	}
	for _, a := range []string{addr(1), addr(77)} {
		checkTotals(t, small, ledger, a)
	}
}
