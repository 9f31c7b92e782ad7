// Command redthread follows the money and the people behind state-sponsored
// crypto theft and sanctions evasion. See the README for a quick start.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/redthread/redthread/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
