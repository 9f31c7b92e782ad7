package graph

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// prefixDumps returns the dump of an index built in one Append from
// blocks[:k], for every k, keyed by its transfer count (blocks without
// transfers add nothing, so counts identify prefixes).
func prefixDumps(t *testing.T, chain model.Chain, blocks []model.Block) map[int][]string {
	out := map[int][]string{}
	for k := 0; k <= len(blocks); k++ {
		ix := New(Options{KeepTxHashes: true})
		if err := ix.Append(blocks[:k]); err != nil {
			t.Fatal(err)
		}
		r := ix.Reader()
		c, ok := r.Chain(chain)
		if ok {
			out[c.Len()] = dump(t, c)
		} else {
			out[0] = nil
		}
		r.Close()
	}
	return out
}

// TestReadersSeeConsistentSnapshots appends blocks one at a time (with
// background merges every few blocks) while readers take views and check
// each against the index built in one go from the same prefix; a view taken
// before later appends and merges must not change.
func TestReadersSeeConsistentSnapshots(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(7, 7))
	blocks := randomBlocks(r, chain, 60, 10, 40)
	want := prefixDumps(t, chain, blocks)

	ix := New(Options{KeepTxHashes: true, TailLimit: 25})
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rd := ix.Reader()
				c, ok := rd.Chain(chain)
				if !ok {
					rd.Close()
					continue
				}
				first := dump(t, c)
				w, ok := want[c.Len()]
				if !ok {
					t.Errorf("view of %d transfers matches no prefix of the blocks", c.Len())
				} else if d := cmp.Diff(w, first); d != "" {
					t.Errorf("view of %d transfers differs from the same prefix built at once (-want +got):\n%s", c.Len(), d)
				}
				if d := cmp.Diff(first, dump(t, c)); d != "" {
					t.Errorf("view changed while held (-first +later):\n%s", d)
				}
				rd.Close()
				mu.Lock()
				checked++
				mu.Unlock()
			}
		}()
	}
	for i := range blocks {
		if err := ix.Append(blocks[i : i+1]); err != nil {
			t.Fatal(err)
		}
		// Let the readers check a view or two of this prefix.
		mu.Lock()
		target := checked + 2
		mu.Unlock()
		for {
			mu.Lock()
			c := checked
			mu.Unlock()
			if c >= target {
				break
			}
			runtime.Gosched()
		}
	}
	ix.Wait()
	close(done)
	wg.Wait()
	rd := ix.Reader()
	defer rd.Close()
	c, _ := rd.Chain(chain)
	if d := cmp.Diff(want[c.Len()], dump(t, c)); d != "" {
		t.Errorf("final view differs (-want +got):\n%s", d)
	}
	st := c.Stats()
	if st.Merges == 0 {
		t.Errorf("no background merge ran (stats %+v)", st)
	}
	t.Logf("%d views checked; %d merges; delta %d of %d transfers", checked, st.Merges, st.Delta, st.Transfers)
}

// TestTruncateAndFork rolls back the newest blocks (inside the delta, and
// below the base), appends a different branch, and checks the result
// against an index built from the surviving prefix plus the branch, while a
// view taken before the rollback still shows the abandoned branch.
func TestTruncateAndFork(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(3, 9))
	main := randomBlocks(r, chain, 80, 8, 50)
	fork := randomBlocks(r, chain, 80, 8, 70) // same block numbers, other transfers
	for _, tc := range []struct {
		name      string
		cut       int // first abandoned block
		tailLimit int
	}{
		{"inside delta", 75, 1 << 20},
		{"below base", 20, 10},
		{"whole chain", 0, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := New(Options{KeepTxHashes: true, TailLimit: tc.tailLimit})
			for i := range main {
				if err := ix.Append(main[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			ix.Wait()
			old := ix.Reader()
			oc, _ := old.Chain(chain)
			before := dump(t, oc)

			ix.Truncate(chain, main[tc.cut].Number)
			branch := append(append([]model.Block{}, main[:tc.cut]...), fork[tc.cut:]...)
			for i := tc.cut; i < len(branch); i++ {
				if err := ix.Append(branch[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			ix.Wait()
			ref := New(Options{KeepTxHashes: true})
			if err := ref.Append(branch); err != nil {
				t.Fatal(err)
			}
			// Address ids differ (the abandoned branch's addresses keep
			// theirs), so compare the id-free dump minus unreachable
			// addresses.
			got := liveLines(dump(t, mustChain(t, ix, chain)))
			want := liveLines(dump(t, mustChain(t, ref, chain)))
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("after rollback and fork (-want +got):\n%s", d)
			}
			if d := cmp.Diff(before, dump(t, oc)); d != "" {
				t.Errorf("a view taken before the rollback changed (-before +after):\n%s", d)
			}
			old.Close()
		})
	}
}

// liveLines drops address lines without transfers and sorts address lines
// by address, so indexes whose ids were assigned in another order compare.
func liveLines(d []string) []string {
	var ts []string
	as := map[string]bool{}
	for _, l := range d {
		if l[0] == 'T' {
			ts = append(ts, l)
			continue
		}
		if !hasNoEdges(l) {
			as[l] = true
		}
	}
	out := ts
	keys := make([]string, 0, len(as))
	for k := range as {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return append(out, keys...)
}

func hasNoEdges(l string) bool {
	n := len(l)
	return n >= 9 && l[n-9:] == " degree 0"
}

// TestFailedAppendAddsNothing: a block with a bad address in the middle of a
// batch leaves the chain as it was.
func TestFailedAppendAddsNothing(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(5, 5))
	blocks := randomBlocks(r, chain, 20, 6, 20)
	ix := New(Options{KeepTxHashes: true, TailLimit: 8})
	if err := ix.Append(blocks[:10]); err != nil {
		t.Fatal(err)
	}
	before := dump(t, mustChain(t, ix, chain))
	bad := append([]model.Block{}, blocks[10:]...)
	bad[5].Transfers = append([]model.Transfer{}, bad[5].Transfers...)
	bad[5].Transfers = append(bad[5].Transfers, model.Transfer{Chain: chain, Block: bad[5].Number, Position: model.MakePosition(999, 0),
		From: "0xnothex", To: fmt.Sprintf("0x%040x", 1), Asset: model.NativeAsset, Amount: *uint256.NewInt(1)})
	if err := ix.Append(bad); err == nil {
		t.Fatal("no error for a bad address")
	}
	ix.Wait()
	if d := cmp.Diff(before, dump(t, mustChain(t, ix, chain))); d != "" {
		t.Errorf("failed append changed the index (-before +after):\n%s", d)
	}
	// The same blocks without the bad transfer still go in afterwards.
	if err := ix.Append(blocks[10:]); err != nil {
		t.Fatal(err)
	}
	ref := New(Options{KeepTxHashes: true})
	if err := ref.Append(blocks); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(liveLines(dump(t, mustChain(t, ref, chain))), liveLines(dump(t, mustChain(t, ix, chain)))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestHeldViewsIgnoreLaterAppends keeps a view after every append and
// checks them all at the end: later delta entries, merges and new
// addresses must be invisible to each.
func TestHeldViewsIgnoreLaterAppends(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(11, 2))
	blocks := randomBlocks(r, chain, 40, 10, 30)
	want := prefixDumps(t, chain, blocks)
	for _, limit := range []int{1 << 20, 12} {
		t.Run(fmt.Sprint("tail limit ", limit), func(t *testing.T) {
			ix := New(Options{KeepTxHashes: true, TailLimit: limit})
			var views []*Reader
			for i := range blocks {
				if err := ix.Append(blocks[i : i+1]); err != nil {
					t.Fatal(err)
				}
				views = append(views, ix.Reader())
			}
			ix.Wait()
			for _, v := range views {
				c, ok := v.Chain(chain)
				if !ok {
					continue
				}
				if d := cmp.Diff(want[c.Len()], dump(t, c)); d != "" {
					t.Errorf("held view of %d transfers (-want +got):\n%s", c.Len(), d)
				}
				v.Close()
			}
		})
	}
}

// TestResultPassedBackAsBuffer: callers pass Out's previous result back as
// the buffer; when that result aliased the base, the delta path must not
// write into it.
func TestResultPassedBackAsBuffer(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(13, 1))
	blocks := randomBlocks(r, chain, 60, 10, 30)
	ix := New(Options{KeepTxHashes: true, TailLimit: 1 << 20})
	if err := ix.Append(blocks[:40]); err != nil {
		t.Fatal(err)
	}
	ix.Compact()
	if err := ix.Append(blocks[40:]); err != nil {
		t.Fatal(err)
	}
	c := mustChain(t, ix, chain)
	before := dump(t, c)
	var buf []uint32
	for round := 0; round < 3; round++ {
		for a := 0; a < c.NumAddresses(); a++ {
			buf = c.Out(uint32(a), buf[:0])
			buf = c.In(uint32(a), buf[:0])
		}
	}
	if d := cmp.Diff(before, dump(t, c)); d != "" {
		t.Errorf("reusing results as buffers changed the index (-before +after):\n%s", d)
	}
}

// TestReorgsWhileReading alternates between two branches (truncate, append
// the other branch) while readers hold views across the switches: each view
// must stay as it was, and under -race any in-place overwrite of columns an
// open view reads is reported.
func TestReorgsWhileReading(t *testing.T) {
	const chain = model.Chain("eth")
	r := rand.New(rand.NewPCG(21, 4))
	a := randomBlocks(r, chain, 40, 8, 30)
	b := randomBlocks(r, chain, 40, 8, 30)
	ix := New(Options{KeepTxHashes: true, TailLimit: 50})
	if err := ix.Append(a); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rd := ix.Reader()
				c, _ := rd.Chain(chain)
				first := dump(t, c)
				if g == 0 {
					time.Sleep(time.Duration(r2(g)) * time.Millisecond) // sometimes outlive the guard's wait
				}
				if d := cmp.Diff(first, dump(t, c)); d != "" {
					t.Errorf("held view changed across a reorg (-first +later):\n%s", d)
				}
				rd.Close()
			}
		}(g)
	}
	for i := 0; i < 30; i++ {
		cut := 20 + i%15
		next := b
		if i%2 == 1 {
			next = a
		}
		ix.Truncate(chain, a[cut].Number)
		if err := ix.Append(next[cut:]); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	ix.Wait()
	ref := New(Options{KeepTxHashes: true})
	// The expected ledger, built the way the loop switched branches.
	cur := a
	for i := 0; i < 30; i++ {
		cut := 20 + i%15
		next := b
		if i%2 == 1 {
			next = a
		}
		cur = append(append([]model.Block{}, cur[:cut]...), next[cut:]...)
	}
	if err := ref.Append(cur); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(liveLines(dump(t, mustChain(t, ref, chain))), liveLines(dump(t, mustChain(t, ix, chain)))); d != "" {
		t.Errorf("after 30 reorgs (-want +got):\n%s", d)
	}
}

// r2 is a cheap deterministic jitter for the readers.
var r2State atomic.Uint64

func r2(int) int { return int(r2State.Add(7) % 80) }
