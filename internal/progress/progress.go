package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Counter is a named running total reported beside the main count, such as
// "transfers" while ingesting blocks.
type Counter struct {
	Name string
	N    uint64
}

// Reporter receives a job's progress. Implementations are safe for
// concurrent use; callers may call Update as often as they like (renderers
// throttle their own output).
type Reporter interface {
	// Start begins a job that will process total units (0: unknown) named unit
	// ("blocks", "rows").
	Start(task string, total uint64, unit string)
	// Update reports the cumulative number of units done and, optionally,
	// cumulative side counters.
	Update(done uint64, extra ...Counter)
	// Finish ends the job; err is nil on success.
	Finish(err error)
}

// Nop returns a Reporter that ignores everything.
func Nop() Reporter { return nop{} }

type nop struct{}

func (nop) Start(string, uint64, string) {}
func (nop) Update(uint64, ...Counter)    {}
func (nop) Finish(error)                 {}

// Options tunes the renderers. The zero value is usable.
type Options struct {
	// Every is the minimum time between two rendered updates; default 200 ms
	// on a terminal and 10 s for log lines.
	Every time.Duration
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
}

// IsTerminal reports whether w is a character device (a terminal) rather
// than a file or a pipe.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}

// Auto returns a terminal renderer writing to w when w is a terminal, and a
// slog renderer logging to log otherwise.
func Auto(w io.Writer, log *slog.Logger) Reporter {
	if IsTerminal(w) {
		return NewTerminal(w, Options{})
	}
	return NewLog(log, Options{})
}

// state is the bookkeeping shared by the renderers.
type state struct {
	mu      sync.Mutex
	now     func() time.Time
	every   time.Duration
	task    string
	unit    string
	total   uint64
	done    uint64
	extra   []Counter
	start   time.Time
	last    time.Time
	started bool
}

func (s *state) init(o Options, every time.Duration) {
	s.now, s.every = o.Now, o.Every
	if s.now == nil {
		s.now = time.Now
	}
	if s.every <= 0 {
		s.every = every
	}
}

func (s *state) begin(task string, total uint64, unit string) {
	s.task, s.total, s.unit = task, total, unit
	if s.unit == "" {
		s.unit = "items"
	}
	s.done, s.extra = 0, nil
	s.start = s.now()
	s.last = s.start
	s.started = true
}

// update records new totals and reports whether it is time to render.
func (s *state) update(done uint64, extra []Counter) bool {
	s.done = done
	s.extra = append(s.extra[:0], extra...)
	t := s.now()
	if t.Sub(s.last) < s.every {
		return false
	}
	s.last = t
	return true
}

// Snapshot is what a renderer shows: counts, rate and ETA.
type Snapshot struct {
	Task    string
	Unit    string
	Done    uint64
	Total   uint64 // 0: unknown
	Extra   []Counter
	Elapsed time.Duration
	Rate    float64       // units per second since Start (display only)
	ETA     time.Duration // -1: unknown
}

func (s *state) snapshot() Snapshot {
	el := s.now().Sub(s.start)
	sn := Snapshot{Task: s.task, Unit: s.unit, Done: s.done, Total: s.total,
		Extra: append([]Counter(nil), s.extra...), Elapsed: el, ETA: -1}
	if el > 0 {
		sn.Rate = float64(s.done) / el.Seconds()
	}
	if s.total > 0 && s.done > 0 && sn.Rate > 0 {
		if s.done >= s.total {
			sn.ETA = 0
		} else {
			sn.ETA = time.Duration(float64(s.total-s.done) / sn.Rate * float64(time.Second))
		}
	}
	return sn
}

// String renders a snapshot as one line, e.g.
// "ingest eth: 1200/5000 blocks (24.0%) 310.2 blocks/s, 9001 transfers (2326.1/s), ETA 12s".
func (sn Snapshot) String() string {
	var b strings.Builder
	if sn.Task != "" {
		b.WriteString(sn.Task)
		b.WriteString(": ")
	}
	if sn.Total > 0 {
		fmt.Fprintf(&b, "%d/%d %s (%.1f%%)", sn.Done, sn.Total, sn.Unit, 100*float64(sn.Done)/float64(sn.Total))
	} else {
		fmt.Fprintf(&b, "%d %s", sn.Done, sn.Unit)
	}
	fmt.Fprintf(&b, " %.1f %s/s", sn.Rate, sn.Unit)
	for _, c := range sn.Extra {
		fmt.Fprintf(&b, ", %d %s", c.N, c.Name)
		if s := sn.Elapsed.Seconds(); s > 0 {
			fmt.Fprintf(&b, " (%.1f/s)", float64(c.N)/s)
		}
	}
	if sn.ETA >= 0 {
		fmt.Fprintf(&b, ", ETA %s", sn.ETA.Round(time.Second))
	}
	return b.String()
}
