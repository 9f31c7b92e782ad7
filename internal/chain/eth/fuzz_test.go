package eth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redthread/redthread/internal/model"
)

// Fuzz targets for the JSON-RPC decoders, seeded from the real recorded
// responses in testdata/etl. Each checks that decoding never panics and
// that whatever it accepts satisfies the model's invariants.

func fixtureResult(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Result
}

func globResults(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(etlDir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures match %s", pattern)
	}
	var out [][]byte
	for _, f := range files {
		out = append(out, fixtureResult(t, f))
	}
	return out
}

const streamDir = "test_stream/blocks_1755634_1755635/"

// checkBlock asserts the invariants of an accepted block.
func checkBlock(t *testing.T, b *model.Block) {
	t.Helper()
	if err := b.Validate(); err != nil {
		t.Fatalf("accepted block fails Validate: %v", err)
	}
	for _, tr := range b.Transfers {
		if tr.Amount.IsZero() {
			t.Fatalf("zero-amount transfer accepted: %+v", tr)
		}
		for _, a := range []string{tr.From, tr.To} {
			if c, err := model.NormalizeAddress(model.ChainETH, a); err != nil || c != a {
				t.Fatalf("non-canonical address %q accepted", a)
			}
		}
		if tr.Asset != model.NativeAsset && len(tr.Asset) != 42 {
			t.Fatalf("bad asset %q", tr.Asset)
		}
	}
}

func decodeAndNormalize(t *testing.T, blockJSON []byte, receipts []rpcReceipt) {
	var b *rpcBlock
	if err := json.Unmarshal(blockJSON, &b); err != nil || b == nil {
		return
	}
	p := &parser{ctx: "fuzz"}
	n := p.u64("number", b.Number)
	if p.err != nil {
		return
	}
	rb := &rawBlock{number: n, block: b, receipts: receipts}
	out, err := normalize(model.ChainETH, rb)
	if err != nil {
		if !strings.Contains(err.Error(), "block ") {
			t.Fatalf("error does not name the block: %v", err)
		}
		return
	}
	checkBlock(t, &out)
}

func realReceipts(t testing.TB) []rpcReceipt {
	var rs []rpcReceipt
	for _, h := range []string{"0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d", "0x9a5437ec71b74ecf5930b406908ac6999966d38a86d1534b7190ece7599095eb"} {
		var r rpcReceipt
		if err := json.Unmarshal(fixtureResult(t, filepath.Join(etlDir, streamDir, "web3_response.eth_getTransactionReceipt_"+h+".json")), &r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func FuzzBlock(f *testing.F) {
	for _, s := range globResults(f, streamDir+"web3_response.eth_getBlockByNumber_0x1ac9f*_true.json") {
		f.Add(s)
	}
	f.Add(fixtureResult(f, filepath.Join(etlDir, "test_export_blocks_job/block_without_transactions/web3_response.eth_getBlockByNumber_0x0_true.json")))
	f.Add([]byte(`{"number":"0x10","hash":"0x` + strings.Repeat("11", 32) + `","parentHash":"0x` + strings.Repeat("22", 32) +
		`","timestamp":"0x5","miner":"0x` + strings.Repeat("33", 20) + `","baseFeePerGas":"0x7","transactions":[],` +
		`"withdrawals":[{"index":"0x0","validatorIndex":"0x1","address":"0x` + strings.Repeat("44", 20) + `","amount":"0xffffffffffffffff"}]}`))
	receipts := realReceipts(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAndNormalize(t, data, receipts)
		decodeAndNormalize(t, data, nil)
	})
}

func FuzzReceipt(f *testing.F) {
	for _, s := range globResults(f, streamDir+"web3_response.eth_getTransactionReceipt_*.json") {
		f.Add(s)
	}
	for _, s := range globResults(f, "test_export_receipts_job/receipts_with_logs/web3_response.eth_getTransactionReceipt_*.json") {
		f.Add(s)
	}
	block := fixtureResult(f, filepath.Join(etlDir, streamDir, "web3_response.eth_getBlockByNumber_0x1ac9f3_true.json"))
	second := realReceipts(f)[1]
	f.Fuzz(func(t *testing.T, data []byte) {
		var r rpcReceipt
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		decodeAndNormalize(t, block, []rpcReceipt{r, second})
	})
}

func FuzzParityTrace(f *testing.F) {
	for _, s := range globResults(f, "test_export_traces_job/*/web3_response.trace_block_*.json") {
		f.Add(s)
	}
	for _, s := range globResults(f, "test_stream/*/web3_response.trace_block_*.json") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts []parityTrace
		if err := json.Unmarshal(data, &ts); err != nil {
			return
		}
		var hashes []string
		for _, tr := range ts {
			if tr.TransactionPosition != nil && int(*tr.TransactionPosition) == len(hashes) && len(hashes) < 64 {
				h := "0x" + strings.Repeat("00", 32)
				if tr.TransactionHash != nil {
					if c, err := model.NormalizeHash(*tr.TransactionHash); err == nil {
						h = c
					}
				}
				hashes = append(hashes, h)
			}
		}
		checkMoves(t, func(b uint64, ts []parityTrace, hs []string) ([]txTrace, error) {
			trs, rs, err := parityMoves(b, ts, hs)
			for i, r := range rs {
				if len(r.to) != 42 || rewardRank(r.typ) > 2 || (i > 0 && rewardRank(rs[i-1].typ) > rewardRank(r.typ)) {
					t.Fatalf("bad reward accepted or out of order: %+v", rs)
				}
			}
			return trs, err
		}, ts, hashes)
	})
}

func FuzzRewardSchedule(f *testing.F) {
	f.Add("mainnet")
	f.Add("none")
	f.Add(MainnetRewards.String())
	f.Add("0:5000000000000000000,merge:100")
	f.Add("0:1,0:2")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRewardSchedule(s)
		if err != nil {
			return
		}
		back, err := ParseRewardSchedule(rs.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, rs.String(), err)
		}
		if back.String() != rs.String() {
			t.Fatalf("round trip %q → %q → %q", s, rs.String(), back.String())
		}
		// Rewards never grow with uncle depth and the miner always earns
		// at least the base reward.
		for _, n := range []uint64{1, 7, 4_370_000, 1 << 40} {
			out, err := rs.computeRewards(n, "0x"+strings.Repeat("11", 20), false, []uncleHeader{{n - 1, "0x" + strings.Repeat("22", 20)}})
			if err != nil {
				if !strings.Contains(err.Error(), "overflows 256 bits") {
					t.Fatal(err)
				}
				continue
			}
			base, pays := rs.blockReward(n)
			if !pays {
				if len(out) != 0 {
					t.Fatalf("block %d: rewards %+v where the schedule pays none", n, out)
				}
				continue
			}
			if len(out) != 2 || out[0].value.Lt(&base) || out[1].value.Gt(&base) {
				t.Fatalf("block %d: rewards %+v, base %s", n, out, base.Dec())
			}
		}
	})
}

func FuzzGethTrace(f *testing.F) {
	for _, s := range globResults(f, "test_extract_geth_traces_job/*/web3_response.debug_traceBlockByNumber_*.json") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts []gethTxTrace
		if err := json.Unmarshal(data, &ts); err != nil {
			return
		}
		hashes := make([]string, len(ts))
		for i := range hashes {
			hashes[i] = "0x" + strings.Repeat("00", 32)
		}
		checkMoves(t, gethMoves, ts, hashes)
	})
}

func checkMoves[T any](t *testing.T, f func(uint64, []T, []string) ([]txTrace, error), ts []T, hashes []string) {
	trs, err := f(7, ts, hashes)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "block 7") {
			t.Fatalf("error does not name the block: %v", err)
		}
		return
	}
	if len(trs) != len(hashes) {
		t.Fatalf("%d traces for %d transactions", len(trs), len(hashes))
	}
	for _, tr := range trs {
		for _, m := range tr.moves {
			if m.value.IsZero() || len(m.from) != 42 || len(m.to) != 42 {
				t.Fatalf("bad move accepted: %+v", m)
			}
		}
	}
}

func FuzzBatchResponse(f *testing.F) {
	f.Add([]byte(`[{"jsonrpc":"2.0","id":2,"result":"0x2"},{"jsonrpc":"2.0","id":1,"result":"0x1"}]`))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}},{"jsonrpc":"2.0","id":2,"result":null}]`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"rate limit"}}`))
	c := NewClient("http://127.0.0.1:1", ClientOptions{})
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := []*Call{{Method: "a"}, {Method: "b"}}
		if err := c.decodeBatch(data, calls); err != nil {
			return
		}
		for _, call := range calls {
			if call.Result == nil && call.Err == nil {
				t.Fatalf("call %s has neither result nor error", call.Method)
			}
		}
	})
}
