package progress

import (
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Terminal redraws one status line with a carriage return.
type Terminal struct {
	w     io.Writer
	s     state
	width int // length of the last line drawn, to blank leftovers
}

// NewTerminal returns a Reporter that redraws a single line on w, which
// should be a terminal (usually os.Stderr).
func NewTerminal(w io.Writer, o Options) *Terminal {
	t := &Terminal{w: w}
	t.s.init(o, 200*time.Millisecond)
	return t
}

// Start implements Reporter.
func (t *Terminal) Start(task string, total uint64, unit string) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.s.begin(task, total, unit)
	t.draw()
}

// Update implements Reporter.
func (t *Terminal) Update(done uint64, extra ...Counter) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.s.update(done, extra) {
		t.draw()
	}
}

// Finish implements Reporter: draws the final line and ends it with a newline.
func (t *Terminal) Finish(err error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if !t.s.started {
		return
	}
	t.draw()
	if err != nil {
		fmt.Fprintf(t.w, " — failed: %v", err)
	}
	fmt.Fprintln(t.w)
	t.s.started = false
}

func (t *Terminal) draw() {
	line := t.s.snapshot().String()
	pad := t.width - len(line)
	t.width = len(line)
	if pad < 0 {
		pad = 0
	}
	fmt.Fprintf(t.w, "\r%s%*s", line, pad, "")
}

// Log writes a slog line at most every Options.Every (default 10 s).
type Log struct {
	log *slog.Logger
	s   state
}

// NewLog returns a Reporter that logs progress through log (nil: slog.Default()).
func NewLog(log *slog.Logger, o Options) *Log {
	if log == nil {
		log = slog.Default()
	}
	l := &Log{log: log}
	l.s.init(o, 10*time.Second)
	return l
}

// Start implements Reporter.
func (l *Log) Start(task string, total uint64, unit string) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.begin(task, total, unit)
	l.log.Info("start", "task", task, "total", total, "unit", l.s.unit)
}

// Update implements Reporter.
func (l *Log) Update(done uint64, extra ...Counter) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.update(done, extra) {
		l.emit("progress", nil)
	}
}

// Finish implements Reporter.
func (l *Log) Finish(err error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.started {
		return
	}
	l.emit("done", err)
	l.s.started = false
}

func (l *Log) emit(msg string, err error) {
	sn := l.s.snapshot()
	args := []any{"task", sn.Task, "done", sn.Done, "unit", sn.Unit}
	if sn.Total > 0 {
		args = append(args, "total", sn.Total)
	}
	args = append(args, "rate", fmt.Sprintf("%.1f/s", sn.Rate))
	for _, c := range sn.Extra {
		args = append(args, c.Name, c.N)
	}
	if sn.ETA >= 0 && msg == "progress" {
		args = append(args, "eta", sn.ETA.Round(time.Second).String())
	}
	args = append(args, "elapsed", sn.Elapsed.Round(time.Millisecond).String())
	if err != nil {
		l.log.Error("failed", append(args, "err", err)...)
		return
	}
	l.log.Info(msg, args...)
}
