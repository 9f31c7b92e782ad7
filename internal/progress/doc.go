// Package progress reports how far a long job has come, so that engines can
// tell "done so far" without knowing who is watching. A job reports through
// the Reporter interface; the command line picks a renderer: a single
// redrawn line with rate and ETA on a terminal, plain log/slog lines
// otherwise, or nothing at all (Nop).
package progress
