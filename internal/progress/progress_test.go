package progress

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func TestSnapshotRateAndETA(t *testing.T) {
	c := newClock()
	var s state
	s.init(Options{Now: c.now}, time.Second)
	s.begin("ingest eth", 1000, "blocks")
	c.add(10 * time.Second)
	s.update(250, []Counter{{"transfers", 5000}})
	got := s.snapshot()
	want := Snapshot{Task: "ingest eth", Unit: "blocks", Done: 250, Total: 1000,
		Extra: []Counter{{"transfers", 5000}}, Elapsed: 10 * time.Second, Rate: 25, ETA: 30 * time.Second}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("snapshot (-want +got):\n%s", d)
	}
	line := got.String()
	wantLine := "ingest eth: 250/1000 blocks (25.0%) 25.0 blocks/s, 5000 transfers (500.0/s), ETA 30s"
	if line != wantLine {
		t.Fatalf("line = %q, want %q", line, wantLine)
	}
}

func TestSnapshotUnknownTotal(t *testing.T) {
	c := newClock()
	var s state
	s.init(Options{Now: c.now}, time.Second)
	s.begin("import", 0, "")
	c.add(2 * time.Second)
	s.update(10, nil)
	sn := s.snapshot()
	if sn.ETA != -1 {
		t.Fatalf("ETA = %v, want unknown", sn.ETA)
	}
	if got, want := sn.String(), "import: 10 items 5.0 items/s"; got != want {
		t.Fatalf("line = %q, want %q", got, want)
	}
}

func TestTerminalThrottlesAndRedraws(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := NewTerminal(&buf, Options{Now: c.now, Every: time.Second})
	r.Start("job", 4, "blocks")
	r.Update(1) // too soon: not drawn
	c.add(time.Second)
	r.Update(2)
	c.add(time.Second)
	r.Finish(nil)
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 3 {
		t.Fatalf("drawn %d times, want 3 (start, one update, finish): %q", n, out)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("final line not ended: %q", out)
	}
	if !strings.Contains(out, "job: 2/4 blocks (50.0%) 2.0 blocks/s, ETA 1s") {
		t.Fatalf("missing update line: %q", out)
	}
	// Finish after Finish does nothing.
	n := buf.Len()
	r.Finish(nil)
	if buf.Len() != n {
		t.Fatal("second Finish wrote output")
	}
}

func TestTerminalPadsShorterLine(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := NewTerminal(&buf, Options{Now: c.now, Every: time.Nanosecond})
	r.Start("a-long-task-name", 0, "blocks")
	c.add(time.Second)
	first := buf.Len()
	r.Start("b", 0, "x")
	second := buf.String()[first:]
	if len(second) < first {
		t.Fatalf("shorter line not padded over the old one: %q vs %d", second, first)
	}
}

func TestLogRenderer(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	r := NewLog(lg, Options{Now: c.now, Every: 10 * time.Second})
	r.Start("ingest eth", 100, "blocks")
	c.add(5 * time.Second)
	r.Update(10) // throttled
	c.add(5 * time.Second)
	r.Update(20, Counter{"transfers", 7})
	r.Finish(errors.New("boom"))
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=INFO msg=start task="ingest eth" total=100 unit=blocks`,
		`level=INFO msg=progress task="ingest eth" done=20 unit=blocks total=100 rate=2.0/s transfers=7 eta=40s elapsed=10s`,
		`level=ERROR msg=failed task="ingest eth" done=20 unit=blocks total=100 rate=2.0/s transfers=7 elapsed=10s err=boom`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("log lines (-want +got):\n%s", d)
	}
}

func TestAutoPicksLogForNonTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("regular file reported as terminal")
	}
	if _, ok := Auto(f, nil).(*Log); !ok {
		t.Fatal("Auto on a file did not pick the log renderer")
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Fatal("buffer reported as terminal")
	}
	Nop().Start("x", 1, "y")
	Nop().Update(1)
	Nop().Finish(nil)
}
