package ingest

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/progress"
	"github.com/redthread/redthread/internal/store"
)

// The crash test re-runs this test binary as a child process that ingests
// into a store; the parent kills it with SIGKILL mid-way.
const childEnv = "REDTHREAD_INGEST_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		os.Exit(crashChild(v))
	}
	os.Exit(m.Run())
}

// crashChild ingests blocks 0..to from url into dir, logging progress
// after every window to stdout. arg is "url dir to".
func crashChild(arg string) int {
	var url, dir string
	var to uint64
	if _, err := fmt.Sscan(arg, &url, &dir, &to); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	rep := progress.NewLog(slog.New(slog.NewTextHandler(os.Stdout, nil)), progress.Options{Every: time.Nanosecond})
	src := eth.New(url, eth.Options{Tracer: eth.TracerGeth, Batch: 1, Concurrency: 1})
	if _, err := Run(context.Background(), src, st, Options{From: 0, To: to, Window: 2, Progress: rep}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKilledIngestResumes kills a real ingest process (SIGKILL) after a few
// windows, restarts ingestion and checks the store holds exactly what one
// uninterrupted run writes.
func TestKilledIngestResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	c := newSimChain(t)
	const blocks = 40
	c.mine(ctx, blocks, 3, 9)
	dir := t.TempDir()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", childEnv, c.node.URL, dir, blocks))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "msg=progress") && strings.Contains(sc.Text(), "done=8 ") {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			break
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatal("child finished or failed before it could be killed")
	}

	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cp := checkpoint(t, st)
	if cp.Last < 7 || cp.Last >= blocks {
		t.Fatalf("checkpoint after the kill = %d; want a mid-way value", cp.Last)
	}
	src := eth.New(c.node.URL, eth.Options{Tracer: eth.TracerGeth})
	s, err := Run(ctx, src, st, Options{From: 0, To: blocks})
	if err != nil {
		t.Fatal(err)
	}
	if s.From != cp.Last+1 {
		t.Fatalf("resumed at %d, want %d", s.From, cp.Last+1)
	}
	fresh := openStore(t)
	if _, err := Run(ctx, src, fresh, Options{From: 0, To: blocks}); err != nil {
		t.Fatal(err)
	}
	d1, _ := st.Digest()
	d2, _ := fresh.Digest()
	if d1 != d2 {
		t.Fatal("store after kill and resume differs from an uninterrupted ingest")
	}
}
