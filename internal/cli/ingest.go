package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/redthread/redthread/internal/chain/eth"
	"github.com/redthread/redthread/internal/ingest"
	"github.com/redthread/redthread/internal/progress"
)

func init() { register(newIngestCmd) }

func newIngestCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Ingest blocks from a node into the ledger store",
		Long: `Ingest fetches blocks from a chain node, normalizes them into transfers and
writes them to the ledger store under --data, resuming from a checkpoint.`,
	}
	cmd.AddCommand(newIngestEthCmd(e))
	return cmd
}

func newIngestEthCmd(e *env) *cobra.Command {
	var (
		rpcURL        string
		from, to      uint64
		toHead        bool
		confirmations uint64
		tracer        string
		rewards       string
		batch         int
		concurrency   int
		window        int
		retries       int
		timeout       time.Duration
		maxResponse   int64
		quiet         bool
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "eth --rpc URL --from N (--to M | --head)",
		Short: "Ingest Ethereum (or another EVM chain) over JSON-RPC",
		Long: `Ingest Ethereum blocks N..M over a node's JSON-RPC API: transactions (value,
status, fee), fee transfers (tip to the block's fee recipient, base fee burnt),
ERC-20 Transfer events, internal value transfers from traces, and withdrawals.
See docs/ingest-eth.md for the exact mapping.

Conversions are recorded too: Uniswap V2 and V3 Swap events linked to the
transfers that paid the pool and that the pool paid out (WETH wrapping and
unwrapping followed to the native transfers when traces are on), and
THORChain router Deposit and TransferOut events with their memos, which
'redthread trace' pairs across chains (docs/conversions.md).

Internal transfers need a tracing node: --tracer parity uses trace_block
(Erigon, Nethermind, Reth), --tracer geth uses debug_traceBlockByNumber with
the callTracer (geth); auto probes for trace_block first, then the callTracer;
none skips internal transfers. Requests are batched (--batch blocks per HTTP
request, --concurrency requests in flight) and retried with exponential
backoff on HTTP 429/5xx, timeouts and connection resets.

Each window of blocks is written atomically with the checkpoint "ingest/eth";
an interrupted run resumes where it stopped. A block whose parent hash differs
from the stored one triggers a rollback to the fork point.`,
		Example: `  redthread ingest eth --rpc http://127.0.0.1:8545 --from 17000000 --to 17000100
  redthread ingest eth --rpc http://127.0.0.1:8545 --from 0 --head --confirmations 12 --tracer geth
  redthread ingest eth --rpc https://node.example/ --from 100 --to 200 --tracer none --batch 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rpcURL == "" {
				return usagef("--rpc is required")
			}
			u, err := url.Parse(rpcURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--rpc %q: want an http:// or https:// URL", rpcURL)
			}
			if !cmd.Flags().Changed("from") {
				return usagef("--from is required")
			}
			if cmd.Flags().Changed("to") == toHead {
				return usagef("give exactly one of --to M and --head")
			}
			if !toHead && to < from {
				return usagef("--to %d is before --from %d", to, from)
			}
			tr, err := eth.ParseTracer(tracer)
			if err != nil {
				return usagef("--tracer: %v", err)
			}
			if batch < 1 || concurrency < 1 || window < 0 || maxResponse < 1 {
				return usagef("--batch, --concurrency and --max-response must be positive")
			}
			if window == 0 {
				window = max(100, batch*concurrency)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			if retries == 0 {
				retries = -1 // ClientOptions: negative means no retries, zero the default
			}
			rw, err := parseRewards(rewards)
			if err != nil {
				return err
			}
			src := eth.New(rpcURL, eth.Options{Tracer: tr, Batch: batch, Concurrency: concurrency, Rewards: rw,
				Client: eth.ClientOptions{Retries: retries, Timeout: timeout, MaxBody: maxResponse << 20}})
			if err := src.Probe(ctx); err != nil {
				return err
			}
			e.logger().Info("node probed", "rpc", redact(u), "tracer", string(src.Tracer()))
			st, err := e.openLedger(false)
			if err != nil {
				return err
			}
			defer st.Close()
			rep := progress.Auto(e.stderr, e.logger())
			if quiet {
				rep = progress.Nop()
			}
			stats, err := ingest.Run(ctx, src, st, ingest.Options{From: from, To: to, ToHead: toHead,
				Confirmations: confirmations, Window: window, Progress: rep, Log: e.logger()})
			if err != nil {
				return fmt.Errorf("ingest eth: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"chain": "eth", "from": stats.From, "to": stats.To, "blocks": stats.Blocks,
					"txs": stats.Txs, "transfers": stats.Transfers, "conversions": stats.Conversions, "reorgs": stats.Reorgs, "rolled_back": stats.RolledBack,
					"tracer": string(src.Tracer()), "seconds": stats.Elapsed.Seconds()})
			}
			if stats.Blocks == 0 && stats.From > stats.To {
				fmt.Fprintf(e.stdout, "nothing to do: blocks up to %d already ingested (checkpoint ingest/eth)\n", stats.To)
				return nil
			}
			secs := stats.Elapsed.Seconds()
			fmt.Fprintf(e.stdout, "ingested eth blocks %d–%d: %d blocks, %d transactions, %d transfers, %d conversions in %.1fs (%.1f blocks/s, %.0f transfers/s; tracer %s",
				stats.From, stats.To, stats.Blocks, stats.Txs, stats.Transfers, stats.Conversions, secs, float64(stats.Blocks)/secs, float64(stats.Transfers)/secs, src.Tracer())
			if stats.Reorgs > 0 {
				fmt.Fprintf(e.stdout, "; %d reorgs, %d blocks rolled back", stats.Reorgs, stats.RolledBack)
			}
			fmt.Fprintln(e.stdout, ")")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rpcURL, "rpc", "", "node JSON-RPC URL (http or https)")
	f.Uint64Var(&from, "from", 0, "first block")
	f.Uint64Var(&to, "to", 0, "last block (inclusive)")
	f.BoolVar(&toHead, "head", false, "ingest up to the node's head (minus --confirmations) instead of --to")
	f.Uint64Var(&confirmations, "confirmations", 0, "with --head, stay this many blocks behind the head")
	f.StringVar(&tracer, "tracer", "auto", "internal transfers from: auto, parity (trace_block), geth (debug_traceBlockByNumber callTracer) or none")
	f.StringVar(&rewards, "rewards", "", rewardsUsage)
	f.IntVar(&batch, "batch", 10, "blocks per JSON-RPC batch request")
	f.IntVar(&concurrency, "concurrency", 4, "batch requests in flight")
	f.IntVar(&window, "window", 0, "blocks per atomic store write (default max(100, batch×concurrency))")
	f.IntVar(&retries, "retries", 5, "retries of a failed request (HTTP 429/5xx, timeouts, resets), with exponential backoff")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "timeout of one HTTP request")
	f.Int64Var(&maxResponse, "max-response", 512, "largest response accepted, in MiB")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// redact hides credentials and paths (API keys often live there) in logs.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + "/…"
}

const rewardsUsage = "block reward schedule for the geth tracer, which reports no rewards: mainnet, none, or BLOCK:WEI steps with merge:BLOCK (default: known from the node's chain id)"

// parseRewards reads --rewards; empty means the schedule known for the
// node's chain id.
func parseRewards(s string) (*eth.RewardSchedule, error) {
	if s == "" {
		return nil, nil
	}
	r, err := eth.ParseRewardSchedule(s)
	if err != nil {
		return nil, usagef("--rewards: %v", err)
	}
	return &r, nil
}
