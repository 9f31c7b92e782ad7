package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/google/go-cmp/cmp"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/chain/eth/ethsim"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/progress"
	"github.com/redthread/redthread/internal/store"
)

// simChain is a running geth node with a funded sender.
type simChain struct {
	t     testing.TB
	node  *ethsim.Node
	from  ethsim.Account
	nonce uint64
}

func newSimChain(t testing.TB) *simChain {
	t.Helper()
	from := ethsim.NewAccount(1)
	node, err := ethsim.Start(types.GenesisAlloc{from.Addr: {Balance: new(big.Int).Lsh(big.NewInt(1), 100)}}, ethsim.NewAccount(99).Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	return &simChain{t: t, node: node, from: from}
}

// mine seals n blocks, each with k plain transfers to distinct addresses
// derived from salt.
func (c *simChain) mine(ctx context.Context, n, k int, salt byte) {
	c.t.Helper()
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			to := common.BytesToAddress([]byte{salt, byte(i), byte(j), 1})
			if _, err := c.node.Send(ctx, c.from, c.nonce, &to, big.NewInt(int64(1000+j)), 21000, nil); err != nil {
				c.t.Fatal(err)
			}
			c.nonce++
		}
		c.node.Commit()
	}
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func checkpoint(t *testing.T, st *store.Store) cpState {
	t.Helper()
	v, ok, err := st.Checkpoint("ingest/eth")
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	var c cpState
	if err := json.Unmarshal(v, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResumeAndIdempotence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 12, 3, 1)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth, Batch: 2, Concurrency: 2})

	// Two runs (0–5, then 0–12 resuming at 6) equal one run 0–12.
	st := openStore(t)
	s1, err := Run(ctx, src, st, Options{From: 0, To: 5, Window: 4})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Blocks != 6 || s1.Transfers == 0 {
		t.Fatalf("first run: %+v", s1)
	}
	if cp := checkpoint(t, st); cp.Last != 5 {
		t.Fatalf("checkpoint after first run = %d, want 5", cp.Last)
	}
	s2, err := Run(ctx, src, st, Options{From: 0, ToHead: true, Window: 4})
	if err != nil {
		t.Fatal(err)
	}
	if s2.From != 6 || s2.To != 12 || s2.Blocks != 7 {
		t.Fatalf("second run should resume at 6 and stop at head 12: %+v", s2)
	}
	// Nothing left: a third run does nothing.
	if s3, err := Run(ctx, src, st, Options{From: 0, To: 12}); err != nil || s3.Blocks != 0 {
		t.Fatalf("third run: %+v, %v", s3, err)
	}
	one := openStore(t)
	if _, err := Run(ctx, src, one, Options{From: 0, To: 12, Window: 5}); err != nil {
		t.Fatal(err)
	}
	d1, _ := st.Digest()
	d2, _ := one.Digest()
	if d1 != d2 {
		t.Fatal("resumed store differs from a single-run store")
	}
	// 12 blocks × 3 transfers each, plus 2 fee transfers per tx (tip, burn).
	var n int
	if err := one.ScanTransfers(ctx, model.ChainETH, 0, 12, func(tr *model.Transfer) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 12*3*3 || s1.Transfers+s2.Transfers != uint64(n) {
		t.Fatalf("stored %d transfers (runs reported %d+%d), want %d", n, s1.Transfers, s2.Transfers, 12*3*3)
	}
}

func TestFailureLeavesWholeWindows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 5, 1, 2)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth, Batch: 4})
	st := openStore(t)
	// Blocks 6 and 7 do not exist yet: the window 4–7 fails as a whole.
	_, err := Run(ctx, src, st, Options{From: 0, To: 7, Window: 4})
	if err == nil || !strings.Contains(err.Error(), "block 6: not found") {
		t.Fatalf("err = %v, want block 6 not found", err)
	}
	if cp := checkpoint(t, st); cp.Last != 3 {
		t.Fatalf("checkpoint = %d, want 3 (the last whole window)", cp.Last)
	}
	if _, ok, _ := st.BlockHash(model.ChainETH, 4); ok {
		t.Fatal("block 4 of the failed window was written")
	}
	// Once the node has the blocks, the run completes from 4.
	c.mine(ctx, 2, 1, 3)
	s, err := Run(ctx, src, st, Options{From: 0, To: 7, Window: 4})
	if err != nil || s.From != 4 || s.Blocks != 4 {
		t.Fatalf("retry: %+v, %v", s, err)
	}
}

func TestReorg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 6, 2, 4)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth})
	st := openStore(t)
	if _, err := Run(ctx, src, st, Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	oldHash4, _, _ := st.BlockHash(model.ChainETH, 4)
	// Reorganize: the node abandons blocks 4–6 and builds 4'–8' on block 3
	// with other transactions.
	h3, err := c.node.Client.HeaderByNumber(ctx, big.NewInt(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.node.Fork(h3.Hash()); err != nil {
		t.Fatal(err)
	}
	c.nonce = 3 * 2
	c.mine(ctx, 5, 1, 5)
	var logBuf bytes.Buffer
	s, err := Run(ctx, src, st, Options{From: 0, ToHead: true, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if s.Reorgs != 1 || s.RolledBack != 3 {
		t.Fatalf("stats %+v: want one reorg rolling back 3 blocks; log:\n%s", s, logBuf.String())
	}
	newHash4, _, _ := st.BlockHash(model.ChainETH, 4)
	if newHash4 == oldHash4 {
		t.Fatal("block 4 still the abandoned one")
	}
	// The store now equals a fresh ingest of the new chain.
	fresh := openStore(t)
	if _, err := Run(ctx, src, fresh, Options{From: 0, ToHead: true}); err != nil {
		t.Fatal(err)
	}
	// (Digests differ: address ids of the abandoned branch stay assigned.)
	if d := cmp.Diff(dump(t, fresh, 8), dump(t, st, 8)); d != "" {
		t.Fatalf("store after reorg differs from a fresh ingest of the new chain (-fresh +reorged):\n%s", d)
	}
	if !strings.Contains(logBuf.String(), "chain reorganization") {
		t.Fatalf("no reorg log line:\n%s", logBuf.String())
	}
}

// dump lists the stored block hashes and transfers of blocks 0..to.
func dump(t *testing.T, st *store.Store, to uint64) []string {
	t.Helper()
	var out []string
	for n := uint64(0); n <= to+3; n++ {
		h, ok, err := st.BlockHash(model.ChainETH, n)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, fmt.Sprintf("block %d %s", n, h))
		}
	}
	err := st.ScanTransfers(context.Background(), model.ChainETH, 0, to+3, func(tr *model.Transfer) error {
		out = append(out, fmt.Sprintf("%d/%d %s %s→%s %s %s %s", tr.Block, tr.Position, tr.TxHash, tr.From, tr.To, tr.Asset, tr.Amount.Dec(), tr.Kind))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInterruptedRollbackIsFinished(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 4, 1, 6)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerNone})
	st := openStore(t)
	if _, err := Run(ctx, src, st, Options{From: 0, To: 4}); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash after the rollback intent was recorded.
	from, to := uint64(3), uint64(4)
	if err := st.Write(ctx, nil, cpState{Last: 2, RollbackFrom: &from, RollbackTo: &to}.encode("ingest/eth")); err != nil {
		t.Fatal(err)
	}
	s, err := Run(ctx, src, st, Options{From: 0, To: 2})
	if err != nil || s.Blocks != 0 {
		t.Fatalf("%+v, %v", s, err)
	}
	if _, ok, _ := st.BlockHash(model.ChainETH, 3); ok {
		t.Fatal("block 3 survived the finished rollback")
	}
	if cp := checkpoint(t, st); cp.Last != 2 || cp.RollbackFrom != nil {
		t.Fatalf("checkpoint %+v", cp)
	}
}

func TestProgressReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 3, 1, 7)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth})
	var buf bytes.Buffer
	rep := progress.NewLog(slog.New(slog.NewTextHandler(&buf, nil)), progress.Options{Every: time.Nanosecond})
	if _, err := Run(ctx, src, openStore(t), Options{From: 1, To: 3, Window: 1, Progress: rep}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`msg=start task="ingest eth" total=3 unit=blocks`, "msg=progress", "done=3", "transfers=9", "msg=done"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress log lacks %q:\n%s", want, out)
		}
	}
}

func TestToHeadConfirmations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newSimChain(t)
	c.mine(ctx, 5, 1, 8)
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth})
	st := openStore(t)
	s, err := Run(ctx, src, st, Options{From: 1, ToHead: true, Confirmations: 2})
	if err != nil || s.From != 1 || s.To != 3 || s.Blocks != 3 {
		t.Fatalf("%+v, %v; want blocks 1–3 (head 5 minus 2 confirmations)", s, err)
	}
	if _, ok, _ := st.BlockHash(model.ChainETH, 4); ok {
		t.Fatal("unconfirmed block 4 written")
	}
	// More confirmations than blocks: nothing to do, no error.
	if s, err := Run(ctx, src, st, Options{From: 4, ToHead: true, Confirmations: 10}); err != nil || s.Blocks != 0 {
		t.Fatalf("%+v, %v", s, err)
	}
}
