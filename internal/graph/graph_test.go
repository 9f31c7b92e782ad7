package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/store"
)

// randomBlocks makes a random ledger on chain: nb blocks, some empty-handed
// addresses reused heavily, a few amounts above 2^64.
func randomBlocks(r *rand.Rand, chain model.Chain, nb, perBlock, naddr int) []model.Block {
	addr := func(i int) string {
		if model.IsEVM(chain) {
			return fmt.Sprintf("0x%040x", i)
		}
		return fmt.Sprintf("a%d", i)
	}
	var out []model.Block
	for b := 0; b < nb; b++ {
		blk := model.Block{Chain: chain, Number: uint64(10 + 3*b), Time: int64(1_700_000_000 + 36*b)}
		n := r.IntN(perBlock + 1)
		for i := 0; i < n; i++ {
			var amt uint256.Int
			amt.SetUint64(r.Uint64N(1_000_000))
			if r.IntN(50) == 0 {
				amt.Lsh(&amt, 100)
			}
			if r.IntN(100) == 0 {
				amt.SetAllOne()
			}
			asset := model.NativeAsset
			if r.IntN(4) == 0 {
				asset = addr(1_000_000 + r.IntN(3))
			}
			blk.Transfers = append(blk.Transfers, model.Transfer{Chain: chain, Block: blk.Number, Time: blk.Time,
				Position: model.MakePosition(uint32(i/2), uint32(i%2)), TxHash: fmt.Sprintf("0x%064x", b*1000+i/2),
				From: addr(int(r.ExpFloat64() * float64(naddr) / 4)), To: addr(r.IntN(naddr)), Asset: asset, Amount: amt, Kind: model.KindNative})
		}
		out = append(out, blk)
	}
	return out
}

// dump renders everything a reader can see of a chain in id-free form.
func dump(t *testing.T, c *Chain) []string {
	t.Helper()
	var out []string
	loc := func(seq uint32) string {
		num, tm, _, _ := c.BlockAt(c.BlockIndex(seq))
		return fmt.Sprintf("%d.%d@%d", num, c.Position(seq), tm)
	}
	hs := make([]uint32, c.Len())
	for i := range hs {
		hs[i] = uint32(i)
	}
	hashes, err := c.TxHashes(context.Background(), hs)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < c.Len(); s++ {
		tr := c.Transfer(uint32(s))
		amt := c.Amount(uint32(s))
		out = append(out, fmt.Sprintf("T %s %s %s->%s %s %s big=%v", loc(uint32(s)), hashes[s], c.Address(tr.Src), c.Address(tr.Dst), c.Asset(tr.Asset), amt.Dec(), tr.Big))
		seq, ok := c.Locate(c.blocks[c.BlockIndex(uint32(s))].Number, c.Position(uint32(s)))
		if !ok || seq != uint32(s) {
			t.Errorf("Locate of seq %d gives %d, %v", s, seq, ok)
		}
	}
	for a := 0; a < c.NumAddresses(); a++ {
		line := "A " + c.Address(uint32(a)) + " out"
		for _, s := range c.Out(uint32(a), nil) {
			line += " " + loc(s)
		}
		line += " in"
		for _, s := range c.In(uint32(a), nil) {
			line += " " + loc(s)
		}
		id, ok := c.Lookup(c.Address(uint32(a)))
		if !ok || id != uint32(a) {
			t.Errorf("Lookup(Address(%d)) = %d, %v", a, id, ok)
		}
		out = append(out, line+fmt.Sprintf(" degree %d", c.Degree(uint32(a))))
	}
	return out
}

// TestBuildPathsAgree builds one ledger four ways — one Append, block by
// block through the tail with frequent folds, block by block without folds,
// and from the ledger store — and demands identical views.
func TestBuildPathsAgree(t *testing.T) {
	for _, chain := range []model.Chain{"eth", "btc"} {
		t.Run(string(chain), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(chain))))
			blocks := randomBlocks(r, chain, 300, 12, 150)
			ctx := context.Background()

			whole := New(Options{KeepTxHashes: true})
			if err := whole.Append(blocks); err != nil {
				t.Fatal(err)
			}
			bulk := New(Options{KeepTxHashes: true, Bulk: true})
			folds := New(Options{KeepTxHashes: true, TailLimit: 7})
			tail := New(Options{KeepTxHashes: true, TailLimit: 1 << 30})
			for i := range blocks {
				if err := folds.Append(blocks[i : i+1]); err != nil {
					t.Fatal(err)
				}
				if err := tail.Append(blocks[i : i+1]); err != nil {
					t.Fatal(err)
				}
				if err := bulk.Append(blocks[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			bulk.Compact()
			st, err := store.Open("ledger", store.Options{FS: vfs.NewMem(), NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Write(ctx, blocks[:150], nil); err != nil {
				t.Fatal(err)
			}
			viaStore := New(Options{Hashes: st})
			if err := viaStore.Load(ctx, st, chain); err != nil {
				t.Fatal(err)
			}
			if err := st.Write(ctx, blocks[150:], nil); err != nil {
				t.Fatal(err)
			}
			if err := viaStore.Load(ctx, st, chain); err != nil { // incremental: only the new blocks
				t.Fatal(err)
			}
			// Replays change nothing.
			if err := tail.Append(blocks[100:]); err != nil {
				t.Fatal(err)
			}
			// A rollback and re-append gives the same index.
			tail.Truncate(chain, blocks[200].Number)
			if err := tail.Append(blocks[200:]); err != nil {
				t.Fatal(err)
			}
			want := dump(t, mustChain(t, whole, chain))
			for name, ix := range map[string]*Index{"folds": folds, "tail": tail, "store": viaStore, "bulk": bulk} {
				if d := cmp.Diff(want, dump(t, mustChain(t, ix, chain))); d != "" {
					t.Errorf("%s differs from one Append (-want +got):\n%s", name, d)
				}
			}
		})
	}
}

func mustChain(t *testing.T, ix *Index, chain model.Chain) *Chain {
	r := ix.Reader()
	defer r.Close()
	c, ok := r.Chain(chain)
	if !ok {
		t.Fatalf("chain %s missing", chain)
	}
	return c
}

func TestBadAddressIsAnError(t *testing.T) {
	ix := New(Options{})
	err := ix.Append([]model.Block{{Chain: "eth", Number: 1, Transfers: []model.Transfer{{Chain: "eth", Block: 1, From: "0xnothex", To: "0x" + fmt.Sprintf("%040x", 1)}}}})
	if err == nil {
		t.Fatal("no error for a non-canonical EVM address")
	}
	t.Log(err)
}

func TestDictGrows(t *testing.T) {
	d := newDict(0)
	for i := 0; i < 100_000; i++ {
		id, fresh := d.add([]byte(fmt.Sprintf("k%d", i)))
		if !fresh || id != uint32(i) {
			t.Fatalf("add %d: id %d fresh %v", i, id, fresh)
		}
	}
	for i := 0; i < 100_000; i += 7 {
		id, ok := d.find([]byte(fmt.Sprintf("k%d", i)))
		if !ok || id != uint32(i) {
			t.Fatalf("find %d: %d %v", i, id, ok)
		}
		if string(d.key(id)) != fmt.Sprintf("k%d", i) {
			t.Fatalf("key %d", id)
		}
	}
	if _, ok := d.find([]byte("nope")); ok {
		t.Fatal("found a key never added")
	}
}

// TestDictTruncate removes the newest keys, as a failed append does: they
// are gone, the older ones still found (including those whose probe
// sequences passed the removed slots), and the ids are reused.
func TestDictTruncate(t *testing.T) {
	d := newDict(0)
	for i := 0; i < 5000; i++ {
		d.add([]byte(fmt.Sprintf("k%d", i)))
	}
	snap := *d // a published copy of the first 5000 keys
	for i := 5000; i < 9000; i++ {
		d.add([]byte(fmt.Sprintf("k%d", i))) // grows the table once or more
	}
	d.truncate(4000)
	for i := 0; i < 9000; i++ {
		id, ok := d.find([]byte(fmt.Sprintf("k%d", i)))
		if want := i < 4000; ok != want || (ok && id != uint32(i)) {
			t.Fatalf("after truncate, find k%d = %d, %v", i, id, ok)
		}
	}
	for i := 0; i < 5000; i++ { // the copy's table was frozen by the growth
		if id, ok := snap.find([]byte(fmt.Sprintf("k%d", i))); !ok || id != uint32(i) {
			t.Fatalf("published copy lost k%d: %d, %v", i, id, ok)
		}
	}
	if id, fresh := d.add([]byte("new")); !fresh || id != 4000 {
		t.Fatalf("id after truncate: %d %v", id, fresh)
	}
}
