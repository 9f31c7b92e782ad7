package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/importer"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/progress"
	"github.com/redthread/redthread/internal/store"
)

func init() { register(newImportCmd) }

// storeSink adapts the ledger store to importer.Sink.
type storeSink struct{ s *store.Store }

func (k storeSink) Checkpoint(name string) ([]byte, bool, error) { return k.s.Checkpoint(name) }

func (k storeSink) Write(ctx context.Context, blocks []model.Block, name string, value []byte) error {
	return k.s.Write(ctx, blocks, &store.Checkpoint{Name: name, Value: value})
}

func newImportCmd(e *env) *cobra.Command {
	var (
		o        importer.Options
		chain    string
		tokens   []string
		noSync   bool
		compact  bool
		quiet    bool
		batchLen int
		decimals int
	)
	var formatLines []string
	for _, f := range importer.Formats() {
		formatLines = append(formatLines, fmt.Sprintf("  %-20s %s", f, importer.FormatSummary(f)))
	}
	cmd := &cobra.Command{
		Use:   "import FORMAT FILE...",
		Short: "Import export files (generic transfers CSV, ethereum-etl, Etherscan) into the ledger store",
		Long: `Import export files into the ledger store under --data.

Formats:
` + strings.Join(formatLines, "\n") + `

The ethereum-etl formats read CSV or JSON lines (chosen by the extension
.csv / .json / .jsonl, else by the first byte). Columns, the mapping onto
transfers and what is skipped are specified in docs/formats.md.

Each file commits in batches of whole blocks, each batch with a checkpoint
(byte offset and line) in the same atomic write. An interrupted import, or one
stopped by a bad row, resumes after its last committed batch when run again;
writes are idempotent, so re-importing a file changes nothing. A bad row stops
the import with an error naming the file, line and field; the batch that holds
it is not written.`,
		Example: `  redthread import transfers transfers.csv
  redthread import etl-transactions transactions.csv --receipts receipts.csv
  redthread import etl-token-transfers token_transfers.csv --transactions transactions.csv
  redthread import etl-traces traces.csv --blocks blocks.csv
  redthread import etherscan-normal export-0xabc.csv
  redthread import etherscan-token export-tokens-0xabc.csv --token USDT=0xdac17f958d2ee523a2206206994597c13d831ec7:6`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Format = args[0]
			o.Files = args[1:]
			if importer.FormatSummary(o.Format) == "" {
				return usagef("unknown import format %q (formats: %s)", o.Format, strings.Join(importer.Formats(), ", "))
			}
			if chain != "" {
				if err := validChainFlag(chain); err != nil {
					return err
				}
				o.Chain = model.Chain(chain)
			}
			for _, t := range tokens {
				spec, err := importer.ParseTokenSpec(t)
				if err != nil {
					return usagef("--token %q: %v", t, err)
				}
				o.Tokens = append(o.Tokens, spec)
			}
			if cmd.Flags().Changed("decimals") {
				if decimals < 0 || decimals > 77 {
					return usagef("--decimals %d: want 0 to 77", decimals)
				}
				o.Decimals = &decimals
			}
			o.BatchTransfers = batchLen
			o.Log = e.logger()
			if quiet {
				o.Progress = progress.Nop()
			} else {
				o.Progress = progress.Auto(e.stderr, e.logger())
			}
			dir := filepath.Join(e.dataDir, "ledger")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create data directory: %w", err)
			}
			st, err := store.Open(dir, store.Options{Logger: e.logger(), NoSync: noSync})
			if err != nil {
				return err
			}
			defer st.Close()
			began := time.Now()
			res, err := importer.Run(cmd.Context(), storeSink{st}, o)
			if err != nil {
				return err
			}
			// Index what the bulk writes deferred and write the memtable:
			// part of the import's work, and its errors are the import's.
			e.logger().Info("indexing imported transfers")
			if err := st.Flush(); err != nil {
				return fmt.Errorf("index and flush ledger store: %w", err)
			}
			el := time.Since(began)
			rate := float64(res.Transfers) / max(el.Seconds(), 1e-9)
			fmt.Fprintf(e.stdout, "imported %d transfers from %d rows of %d file(s) in %s (%.0f transfers/s); %d file(s) already complete\n",
				res.Transfers, res.Rows, res.Files, el.Round(time.Millisecond), rate, res.Skipped)
			if compact {
				if err := st.Compact(cmd.Context()); err != nil {
					return fmt.Errorf("compact ledger store: %w", err)
				}
				if n, err := st.DiskUsage(); err == nil {
					fmt.Fprintf(e.stdout, "store compacted: %d bytes\n", n)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&chain, "chain", "", "chain of the rows (default eth); for the generic CSV, every row must be on it")
	f.StringSliceVar(&o.Receipts, "receipts", nil, "ethereum-etl receipts file(s) joined to etl-transactions (status, gas used, fee)")
	f.StringSliceVar(&o.Transactions, "transactions", nil, "ethereum-etl transactions file(s) joined to token transfers, traces or receipts (block time, transaction index)")
	f.StringSliceVar(&o.Blocks, "blocks", nil, "ethereum-etl blocks file(s) giving block times and hashes")
	f.BoolVar(&o.NoReceipts, "no-receipts", false, "import etl-transactions without receipts: every transaction counts as successful and fees are unknown")
	f.StringArrayVar(&tokens, "token", nil, "Etherscan token: [SYMBOL=]CONTRACT:DECIMALS or SYMBOL=:DECIMALS (repeatable)")
	f.IntVar(&decimals, "decimals", 0, "Etherscan token exports: decimals of tokens not given by --token (default: such tokens are an error)")
	f.BoolVar(&o.Restart, "restart", false, "ignore checkpoints and read every file from its start")
	f.BoolVar(&noSync, "no-sync", false, "do not fsync each batch (faster bulk loads; a machine crash may lose the last batches, never tear one)")
	f.BoolVar(&compact, "compact", false, "compact the store after the import and print its size")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.IntVar(&batchLen, "batch", importer.DefaultBatchTransfers, "transfers per batch (batches end at block boundaries)")
	return cmd
}

func validChainFlag(c string) error {
	if c == "" || len(c) > 16 || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return usagef("--chain %q: want 1 to 16 lower-case letters or digits", c)
	}
	return nil
}
