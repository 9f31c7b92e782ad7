// Package cli holds redthread's command tree. Each command group lives in its
// own file and registers itself with register; commands parse flags, open what
// they need and call the engines. Errors become exit codes in Main only.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// env is what every command gets: streams, a logger and global flags.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	dataDir        string
	verbose        bool
}

var registry []func(*env) *cobra.Command

// register adds a command constructor to the root command. It is called from
// init functions of the files of this package.
func register(f func(*env) *cobra.Command) { registry = append(registry, f) }

// usageError marks an error caused by how the command was called.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// DefaultDataDir is where redthread keeps its stores unless --data or
// REDTHREAD_DATA says otherwise.
func DefaultDataDir() string {
	if d := os.Getenv("REDTHREAD_DATA"); d != "" {
		return d
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".redthread")
	}
	return ".redthread"
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "redthread",
		Short: "Follow stolen and sanctioned crypto funds, and the people behind them",
		Long: `redthread ingests blockchains into an embedded ledger store, loads sanctions
lists and incident packs as attributions with provenance, traces stolen funds
to cash-out points, scores exposure and screens names and wallets.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelInfo
			if e.verbose {
				level = slog.LevelDebug
			}
			e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&e.dataDir, "data", DefaultDataDir(), "data directory (ledger store, intel, cases); env REDTHREAD_DATA")
	root.PersistentFlags().BoolVarP(&e.verbose, "verbose", "v", false, "debug logging")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	for _, f := range registry {
		root.AddCommand(f(e))
	}
	return root
}

// Main runs the command line and maps errors to exit codes.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "redthread: %v\n", err)
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitError
}

// logger returns the command's logger, which exists once PersistentPreRun ran.
func (e *env) logger() *slog.Logger {
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	return e.log
}
