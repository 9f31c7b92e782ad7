package eth

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Conformance with ethereum-etl (testdata/etl, real mainnet data).
//
// How ethereum-etl's fields map onto redthread's (where they differ, the
// test encodes redthread's rule and says why):
//
//	ethereum-etl                          redthread
//	block number/hash/parent_hash/timestamp Block.Number/Hash/ParentHash/Time   same
//	transaction hash/transaction_index    Tx.Hash/Index                        same
//	from_address / to_address             Tx.From / Tx.To                      same; to null ⇒ ""
//	value                                 Tx.Value                             same (wei)
//	receipt_status 1 / 0                  Tx.Status true / false
//	receipt_status null (pre-Byzantium)   Tx.Status true                       unless a trace says the top call failed
//	receipt_gas_used×receipt_effective_gas_price  Tx.Fee                       product, exact
//	receipt_contract_address              Tx.Created                           "" when the tx failed
//	(no column)                           KindFee transfers                    tip to miner, base fee to 0x0…0
//	value of a successful tx              KindNative transfer                  absent when value is 0 or the tx failed
//	token_transfers row                   KindToken transfer                   only 3-topic + 32-byte-data logs; ERC-721 shapes
//	                                                                           (4 topics) and zero values are not transfers
//	token_transfers log_index             Position seq order                   fees, native, internal, then tokens by log index
//	traces row, trace_address non-empty,  KindInternal transfer                only call/callType=call, create, suicide with
//	  status 1, value > 0                                                      value > 0; callcode, delegatecall, staticcall
//	                                                                           move nothing; status 0 (the trace or an
//	                                                                           ancestor failed) moves nothing
//	traces row, trace_address empty       (the tx's own value, KindNative)     not repeated as internal
//	traces row, trace_type reward         KindReward transfer                  to_address ← action.author, exact value; from
//	                                                                           0x0…0 (issuance), TxHash = block hash, position
//	                                                                           MakePosition(RewardTxIndex, n), n = the row's
//	                                                                           trace_id suffix (block reward 0, then uncles);
//	                                                                           the geth path computes the same rows from the
//	                                                                           ethash rules (TestConformanceComputedRewards)
//	withdrawals amount (Gwei)             KindWithdrawal Amount                × 10^9 wei, from 0x0…0, seq = index in block

const etlDir = "testdata/etl"

type etlBlock struct {
	Number      uint64          `json:"number"`
	Hash        string          `json:"hash"`
	ParentHash  string          `json:"parent_hash"`
	Timestamp   int64           `json:"timestamp"`
	Miner       string          `json:"miner"`
	BaseFee     *json.Number    `json:"base_fee_per_gas"`
	TxCount     int             `json:"transaction_count"`
	Withdrawals []etlWithdrawal `json:"withdrawals"`
}

type etlWithdrawal struct {
	Index          uint64      `json:"index"`
	ValidatorIndex uint64      `json:"validator_index"`
	Address        string      `json:"address"`
	Amount         json.Number `json:"amount"`
}

type etlTx struct {
	Hash              string       `json:"hash"`
	Nonce             uint64       `json:"nonce"`
	Index             uint32       `json:"transaction_index"`
	From              string       `json:"from_address"`
	To                *string      `json:"to_address"`
	Value             json.Number  `json:"value"`
	Gas               uint64       `json:"gas"`
	GasPrice          json.Number  `json:"gas_price"`
	Input             string       `json:"input"`
	BlockNumber       uint64       `json:"block_number"`
	BlockHash         string       `json:"block_hash"`
	Type              *int         `json:"transaction_type"`
	GasUsed           json.Number  `json:"receipt_gas_used"`
	CumulativeGasUsed json.Number  `json:"receipt_cumulative_gas_used"`
	Status            *int         `json:"receipt_status"`
	EffectiveGasPrice *json.Number `json:"receipt_effective_gas_price"`
	ContractAddress   *string      `json:"receipt_contract_address"`
}

type etlLog struct {
	LogIndex uint64   `json:"log_index"`
	TxHash   string   `json:"transaction_hash"`
	TxIndex  uint32   `json:"transaction_index"`
	Address  string   `json:"address"`
	Data     string   `json:"data"`
	Topics   []string `json:"topics"`
	Block    uint64   `json:"block_number"`
}

type etlTokenTransfer struct {
	Token    string      `json:"token_address"`
	From     string      `json:"from_address"`
	To       string      `json:"to_address"`
	Value    json.Number `json:"value"`
	TxHash   string      `json:"transaction_hash"`
	LogIndex uint64      `json:"log_index"`
	Block    uint64      `json:"block_number"`
}

// readJSONLines decodes a file of one JSON object per line.
func readJSONLines[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func u256(t testing.TB, n json.Number) uint256.Int {
	t.Helper()
	v, err := model.ParseAmount(string(n))
	if err != nil {
		t.Fatalf("amount %q: %v", n, err)
	}
	return v
}

// expectBlock builds the model.Block that docs/ingest-eth.md says the
// adapter must produce, from ethereum-etl's expected rows alone.
func expectBlock(t *testing.T, b etlBlock, txs []etlTx, tts []etlTokenTransfer, logs []etlLog) model.Block {
	t.Helper()
	want := model.Block{Chain: model.ChainETH, Number: b.Number, Hash: b.Hash, ParentHash: b.ParentHash, Time: b.Timestamp, Txs: []model.Tx{}}
	topics := map[string]int{} // tx hash + log index → topic count
	for _, l := range logs {
		topics[l.TxHash+"/"+strconv.FormatUint(l.LogIndex, 10)] = len(l.Topics)
	}
	add := func(idx, seq uint32, hash, from, to, asset string, amt uint256.Int, kind model.Kind) uint32 {
		if amt.IsZero() {
			return seq
		}
		want.Transfers = append(want.Transfers, model.Transfer{Chain: model.ChainETH, Block: b.Number, Time: b.Timestamp,
			Position: model.MakePosition(idx, seq), TxHash: hash, From: from, To: to, Asset: asset, Amount: amt, Kind: kind})
		return seq + 1
	}
	for _, x := range txs {
		if x.BlockNumber != b.Number {
			continue
		}
		tx := model.Tx{Hash: x.Hash, Index: x.Index, From: x.From, Value: u256(t, x.Value), Status: x.Status == nil || *x.Status == 1}
		if x.To != nil {
			tx.To = *x.To
		}
		if x.ContractAddress != nil && tx.Status {
			tx.Created = *x.ContractAddress
		}
		price := u256(t, x.GasPrice)
		if x.EffectiveGasPrice != nil {
			price = u256(t, *x.EffectiveGasPrice)
		}
		gasUsed := u256(t, x.GasUsed)
		tx.Fee.Mul(&gasUsed, &price)
		want.Txs = append(want.Txs, tx)
		var seq uint32
		if b.BaseFee == nil {
			seq = add(x.Index, seq, x.Hash, x.From, b.Miner, model.NativeAsset, tx.Fee, model.KindFee)
		} else {
			base := u256(t, *b.BaseFee)
			var tip, burn uint256.Int
			tip.Sub(&price, &base)
			tip.Mul(&tip, &gasUsed)
			burn.Mul(&base, &gasUsed)
			seq = add(x.Index, seq, x.Hash, x.From, b.Miner, model.NativeAsset, tip, model.KindFee)
			seq = add(x.Index, seq, x.Hash, x.From, BurnAddress, model.NativeAsset, burn, model.KindFee)
		}
		if !tx.Status {
			continue
		}
		to := tx.To
		if to == "" {
			to = tx.Created
		}
		seq = add(x.Index, seq, x.Hash, x.From, to, model.NativeAsset, tx.Value, model.KindNative)
		var mine []etlTokenTransfer
		for _, tt := range tts {
			if tt.TxHash == x.Hash {
				mine = append(mine, tt)
			}
		}
		sort.Slice(mine, func(i, j int) bool { return mine[i].LogIndex < mine[j].LogIndex })
		for _, tt := range mine {
			n, ok := topics[tt.TxHash+"/"+strconv.FormatUint(tt.LogIndex, 10)]
			if !ok {
				t.Fatalf("token transfer %s/%d has no log row", tt.TxHash, tt.LogIndex)
			}
			if n != 3 {
				continue // ERC-721 shape: not an ERC-20 transfer in redthread
			}
			seq = add(x.Index, seq, x.Hash, tt.From, tt.To, tt.Token, u256(t, tt.Value), model.KindToken)
		}
	}
	for i, w := range b.Withdrawals {
		amt := u256(t, w.Amount)
		amt.Mul(&amt, uint256.NewInt(1e9))
		add(model.WithdrawalTxIndex, uint32(i), b.Hash, MintAddress, w.Address, model.NativeAsset, amt, model.KindWithdrawal)
	}
	if len(want.Txs) != b.TxCount {
		t.Fatalf("block %d: ethereum-etl lists %d transactions, transaction_count says %d", b.Number, len(want.Txs), b.TxCount)
	}
	return want
}

func runAdapter(t *testing.T, url string, o Options, from, to uint64) []model.Block {
	t.Helper()
	a := New(url, o)
	got, err := a.Blocks(context.Background(), from, to)
	if err != nil {
		t.Fatalf("Blocks(%d, %d): %v", from, to, err)
	}
	return got
}

// TestConformanceRecordedBlocks runs the adapter against real recorded
// responses of blocks 1755634–1755635 (2016, pre-Byzantium receipts, an
// ERC-20 transfer). The node lacks eth_getBlockReceipts, so receipts come
// one transaction at a time.
func TestConformanceRecordedBlocks(t *testing.T) {
	dir := filepath.Join(etlDir, "test_stream/blocks_1755634_1755635")
	node := newFixtureNode(t, 1755635)
	node.loadDir(dir)
	blocks := readJSONLines[etlBlock](t, filepath.Join(dir, "expected_blocks.json"))
	txs := readJSONLines[etlTx](t, filepath.Join(dir, "expected_transactions.json"))
	tts := readJSONLines[etlTokenTransfer](t, filepath.Join(dir, "expected_token_transfers.json"))
	logs := readJSONLines[etlLog](t, filepath.Join(dir, "expected_logs.json"))

	got := runAdapter(t, node.URL(), Options{Tracer: TracerNone}, 1755634, 1755635)
	if len(got) != len(blocks) {
		t.Fatalf("got %d blocks, want %d", len(got), len(blocks))
	}
	for i, b := range blocks {
		want := expectBlock(t, b, txs, tts, logs)
		g := got[i]
		g.Conversions = nil // ethereum-etl has no conversions; TestRealSwaps checks them
		if d := cmp.Diff(want, g); d != "" {
			t.Errorf("block %d (-ethereum-etl +redthread):\n%s", b.Number, d)
		}
	}
	// The recorded set holds one ERC-20 transfer; make sure it survived.
	if n := countKind(got, model.KindToken); n != 1 {
		t.Errorf("token transfers = %d, want 1", n)
	}
}

func countKind(bs []model.Block, k model.Kind) int {
	n := 0
	for _, b := range bs {
		for _, tr := range b.Transfers {
			if tr.Kind == k {
				n++
			}
		}
	}
	return n
}

// TestConformanceWithdrawalBlocks checks post-London, post-Shanghai blocks
// 17173049–17173050 (298 transactions, 291 token transfer rows, 32
// withdrawals). ethereum-etl ships only its normalized output for them, so
// the node responses (eth_getBlockByNumber with full transactions and
// withdrawals, eth_getBlockReceipts with logs) are rebuilt from those rows
// in JSON-RPC form: hex quantities, camelCase fields. What is tested is the
// adapter's decoding, fee split, token and withdrawal rules against
// ethereum-etl's values.
func TestConformanceWithdrawalBlocks(t *testing.T) {
	dir := filepath.Join(etlDir, "test_stream/blocks_17173049_17173050")
	blocks := readJSONLines[etlBlock](t, filepath.Join(dir, "expected_blocks.json"))
	txs := readJSONLines[etlTx](t, filepath.Join(dir, "expected_transactions.json"))
	tts := readJSONLines[etlTokenTransfer](t, filepath.Join(dir, "expected_token_transfers.json"))
	logs := readJSONLines[etlLog](t, filepath.Join(dir, "expected_logs.json"))
	got, node := runRebuilt(t, blocks, txs, logs)
	var erc721, zero int
	for i, b := range blocks {
		want := expectBlock(t, b, txs, tts, logs)
		g := got[i]
		g.Conversions = nil // ethereum-etl has no conversions; TestRealSwaps checks them
		if d := cmp.Diff(want, g); d != "" {
			t.Errorf("block %d (-ethereum-etl +redthread):\n%s", b.Number, d)
		}
	}
	for _, tt := range tts {
		if tt.Value == "0" {
			zero++
		}
	}
	for _, l := range logs {
		if len(l.Topics) == 4 && l.Topics[0] == transferTopic {
			erc721++
		}
	}
	// 291 rows = 282 ERC-20 (3 zero-valued) + 9 ERC-721: 279 token transfers.
	if n := countKind(got, model.KindToken); n != len(tts)-erc721-zero || n != 279 {
		t.Errorf("token transfers = %d, want %d rows − %d ERC-721 − %d zero = 279", n, len(tts), erc721, zero)
	}
	if n := countKind(got, model.KindWithdrawal); n != 32 {
		t.Errorf("withdrawals = %d, want 32", n)
	}
	if node.maxBatch < 2 {
		t.Errorf("largest batch had %d calls; blocks and receipts should share a batch", node.maxBatch)
	}
}

func hexBig(t testing.TB, n json.Number) string {
	v := u256(t, n)
	return v.Hex()
}

// rebuildResponses writes ethereum-etl rows back as JSON-RPC results.
// runRebuilt serves blocks 17173049–17173050 rebuilt from ethereum-etl's
// expectations (rebuildResponses) and runs the adapter over them.
func runRebuilt(t *testing.T, blocks []etlBlock, txs []etlTx, logs []etlLog) ([]model.Block, *fixtureNode) {
	t.Helper()
	node := newFixtureNode(t, 17173050)
	for _, b := range blocks {
		blk, receipts := rebuildResponses(t, b, txs, logs)
		node.add("eth_getBlockByNumber", []any{hexNum(b.Number), true}, blk)
		node.add("eth_getBlockReceipts", []any{hexNum(b.Number)}, receipts)
	}
	return runAdapter(t, node.URL(), Options{Tracer: TracerNone, Batch: 1, Concurrency: 2}, 17173049, 17173050), node
}

func rebuildResponses(t testing.TB, b etlBlock, txs []etlTx, logs []etlLog) (map[string]any, []map[string]any) {
	t.Helper()
	var rtxs, receipts []map[string]any
	logs = append([]etlLog(nil), logs...)
	sort.Slice(logs, func(i, j int) bool { return logs[i].LogIndex < logs[j].LogIndex })
	for _, x := range txs {
		if x.BlockNumber != b.Number {
			continue
		}
		tx := map[string]any{"hash": x.Hash, "blockHash": x.BlockHash, "blockNumber": hexNum(x.BlockNumber),
			"transactionIndex": hexNum(uint64(x.Index)), "from": x.From, "to": x.To, "value": hexBig(t, x.Value),
			"gas": hexNum(x.Gas), "gasPrice": hexBig(t, x.GasPrice), "input": x.Input, "nonce": hexNum(x.Nonce)}
		rcpt := map[string]any{"transactionHash": x.Hash, "transactionIndex": hexNum(uint64(x.Index)), "blockHash": x.BlockHash,
			"blockNumber": hexNum(x.BlockNumber), "from": x.From, "to": x.To, "gasUsed": hexBig(t, x.GasUsed),
			"cumulativeGasUsed": hexBig(t, x.CumulativeGasUsed), "contractAddress": x.ContractAddress}
		if x.EffectiveGasPrice != nil {
			rcpt["effectiveGasPrice"] = hexBig(t, *x.EffectiveGasPrice)
		}
		if x.Status != nil {
			rcpt["status"] = hexNum(uint64(*x.Status))
		}
		rlogs := []map[string]any{}
		for _, l := range logs {
			if l.TxHash == x.Hash {
				rlogs = append(rlogs, map[string]any{"address": l.Address, "topics": l.Topics, "data": l.Data,
					"logIndex": hexNum(l.LogIndex), "transactionHash": l.TxHash, "transactionIndex": hexNum(uint64(l.TxIndex)),
					"blockHash": x.BlockHash, "blockNumber": hexNum(l.Block), "removed": false})
			}
		}
		rcpt["logs"] = rlogs
		rtxs = append(rtxs, tx)
		receipts = append(receipts, rcpt)
	}
	var ws []map[string]any
	for _, w := range b.Withdrawals {
		ws = append(ws, map[string]any{"index": hexNum(w.Index), "validatorIndex": hexNum(w.ValidatorIndex),
			"address": w.Address, "amount": hexBig(t, w.Amount)})
	}
	blk := map[string]any{"number": hexNum(b.Number), "hash": b.Hash, "parentHash": b.ParentHash,
		"timestamp": hexNum(uint64(b.Timestamp)), "miner": b.Miner, "transactions": rtxs, "withdrawals": ws}
	if b.BaseFee != nil {
		blk["baseFeePerGas"] = hexBig(t, *b.BaseFee)
	}
	return blk, receipts
}

// etlTrace is one row of ethereum-etl's traces CSV or JSON.
type etlTrace struct {
	TxIndex      string
	From, To     string
	Value        string
	TraceType    string
	CallType     string
	TraceAddress string
	Error        string
	Status       string
	RewardType   string
	TraceID      string
}

func readTraceCSV(t *testing.T, path string) []etlTrace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) == 0 {
		return nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var out []etlTrace
	for _, r := range rows[1:] {
		out = append(out, etlTrace{TxIndex: r[col["transaction_index"]], From: r[col["from_address"]], To: r[col["to_address"]],
			Value: r[col["value"]], TraceType: r[col["trace_type"]], CallType: r[col["call_type"]],
			TraceAddress: r[col["trace_address"]], Error: r[col["error"]], Status: r[col["status"]],
			RewardType: r[col["reward_type"]], TraceID: r[col["trace_id"]]})
	}
	return out
}

func readTraceJSON(t *testing.T, path string) []etlTrace {
	t.Helper()
	type row struct {
		TxIndex      *uint32     `json:"transaction_index"`
		From         *string     `json:"from_address"`
		ToAddr       *string     `json:"to_address"`
		Value        json.Number `json:"value"`
		TraceType    string      `json:"trace_type"`
		CallType     *string     `json:"call_type"`
		TraceAddress []int       `json:"trace_address"`
		Error        *string     `json:"error"`
		Status       int         `json:"status"`
		RewardType   *string     `json:"reward_type"`
		TraceID      string      `json:"trace_id"`
	}
	var out []etlTrace
	for _, r := range readJSONLines[row](t, path) {
		e := etlTrace{Value: string(r.Value), TraceType: r.TraceType, Status: strconv.Itoa(r.Status), TraceID: r.TraceID}
		if r.RewardType != nil {
			e.RewardType = *r.RewardType
		}
		if r.TxIndex != nil {
			e.TxIndex = strconv.Itoa(int(*r.TxIndex))
		}
		if r.From != nil {
			e.From = *r.From
		}
		if r.ToAddr != nil {
			e.To = *r.ToAddr
		}
		if r.CallType != nil {
			e.CallType = *r.CallType
		}
		if r.Error != nil {
			e.Error = *r.Error
		}
		var parts []string
		for _, a := range r.TraceAddress {
			parts = append(parts, strconv.Itoa(a))
		}
		e.TraceAddress = strings.Join(parts, ",")
		out = append(out, e)
	}
	return out
}

type gotMove struct {
	TxIndex  int
	From, To string
	Value    string
}

// expectMoves applies redthread's internal-transfer rule to ethereum-etl
// trace rows. When status is empty (ethereum-etl's geth extraction leaves
// it so), a row is failed when it or an ancestor has an error.
func expectMoves(rows []etlTrace) (moves []gotMove, failedTx map[int]bool) {
	failedTx = map[int]bool{}
	failedAddr := map[string]bool{}
	for _, r := range rows {
		if r.TraceType == "reward" {
			continue
		}
		idx, _ := strconv.Atoi(r.TxIndex)
		key := r.TxIndex + "/" + r.TraceAddress
		failed := r.Error != ""
		if r.TraceAddress != "" {
			parent := ""
			if i := strings.LastIndexByte(r.TraceAddress, ','); i >= 0 {
				parent = r.TraceAddress[:i]
			}
			failed = failed || failedAddr[r.TxIndex+"/"+parent]
		} else {
			failedTx[idx] = failed
		}
		failedAddr[key] = failed
		if r.Status != "" && (r.Status == "0") != failed {
			panic("ethereum-etl status disagrees with error inheritance at " + key)
		}
		if r.TraceAddress == "" || failed || r.Value == "0" || r.Value == "" {
			continue
		}
		if r.TraceType == "call" && r.CallType != "call" {
			continue // callcode, delegatecall, staticcall move nothing
		}
		moves = append(moves, gotMove{idx, r.From, r.To, r.Value})
	}
	return moves, failedTx
}

// gotReward is a reward as ethereum-etl describes it: its trace_id suffix
// (the reward's index in the block), reward_type, to_address and value.
type gotReward struct {
	Index int
	Type  string
	To    string
	Value string
}

// expectRewards reads ethereum-etl's reward rows (trace_type reward,
// trace_id reward_<block>_<index>), checking what they must not have.
func expectRewards(t *testing.T, block uint64, rows []etlTrace) []gotReward {
	t.Helper()
	var out []gotReward
	for _, r := range rows {
		if r.TraceType != "reward" {
			continue
		}
		prefix := fmt.Sprintf("reward_%d_", block)
		if !strings.HasPrefix(r.TraceID, prefix) {
			t.Fatalf("reward row trace_id %q, want %s<n>", r.TraceID, prefix)
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.TraceID, prefix))
		if err != nil {
			t.Fatalf("reward row trace_id %q: %v", r.TraceID, err)
		}
		if r.TxIndex != "" || r.From != "" || r.TraceAddress != "" || r.Status != "1" {
			t.Fatalf("reward row %s has a transaction, sender, trace address or failed status: %+v", r.TraceID, r)
		}
		out = append(out, gotReward{n, r.RewardType, r.To, r.Value})
	}
	return out
}

func flattenRewards(rs []reward) []gotReward {
	var out []gotReward
	for i, r := range rs {
		out = append(out, gotReward{i, r.typ, r.to, r.value.Dec()})
	}
	return out
}

func flatten(trs []txTrace) (moves []gotMove, failedTx map[int]bool) {
	failedTx = map[int]bool{}
	for i, tr := range trs {
		if tr.present {
			failedTx[i] = tr.failed
		}
		for _, m := range tr.moves {
			moves = append(moves, gotMove{i, m.from, m.to, m.value.Dec()})
		}
	}
	return moves, failedTx
}

// TestConformanceTraces fetches recorded trace_block and
// debug_traceBlockByNumber(callTracer) responses through the JSON-RPC
// client, turns them into internal transfers and compares them with
// ethereum-etl's trace rows; the two tracers must agree with each other
// for the same block.
func TestConformanceTraces(t *testing.T) {
	cases := []struct {
		name   string
		block  uint64
		parity string // dir with trace_block response + expected traces
		geth   string // dir with debug_traceBlockByNumber response + expected traces
		json   bool   // expected traces in JSON lines (test_stream) rather than CSV
		// gethErr: the recorded geth trace cannot give redthread's answer.
		// The suicide block was traced by geth's old JavaScript callTracer,
		// whose SELFDESTRUCT frame has no from, to or value (ethereum-etl's
		// row is empty too) while the parity trace shows 0.05 ETH moving;
		// redthread refuses rather than silently drop the value.
		gethErr string
	}{
		{"create", 0xf44f2, "test_export_traces_job/block_with_create", "test_extract_geth_traces_job/block_with_create", false, ""},
		{"error", 0xf45bf, "test_export_traces_job/block_with_error", "test_extract_geth_traces_job/block_with_error", false, ""},
		{"subtraces", 0xf4240, "test_export_traces_job/block_with_subtraces", "test_extract_geth_traces_job/block_with_subtraces", false, ""},
		{"suicide", 0xf7105, "test_export_traces_job/block_with_suicide", "test_extract_geth_traces_job/block_with_suicide", false,
			`block 1011973: tx 0x91acb43c5f141c393a189e091c190c9ffb20e4e8a502e4cc3087be9587bdbc89 (index 0): trace [0]: field "value": missing in a SELFDESTRUCT frame`},
		{"stream-2112234", 2112234, "test_stream/blocks_2112234_2112234", "", true, ""},
		{"stream-508110", 508110, "test_stream/blocks_508110_508110", "", true, ""},
	}
	total, rewards, uncles := 0, 0, 0
	defer func() {
		if total == 0 {
			t.Error("no internal transfer in any traced block: the comparison tested nothing")
		}
		if rewards < 6 || uncles == 0 {
			t.Errorf("%d rewards compared, %d of them uncle rewards: want one per block and at least one uncle", rewards, uncles)
		}
	}()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node := newFixtureNode(t, c.block)
			node.loadDir(filepath.Join(etlDir, c.parity))
			if c.geth != "" {
				node.loadDir(filepath.Join(etlDir, c.geth))
			}
			cl := NewClient(node.URL(), ClientOptions{})
			calls := []*Call{{Method: "trace_block", Params: []any{hexNum(c.block)}},
				{Method: "debug_traceBlockByNumber", Params: []any{hexNum(c.block), gethTracerConfig}}}
			if err := cl.Batch(context.Background(), calls); err != nil {
				t.Fatal(err)
			}
			var pts []parityTrace
			if err := result(c.block, calls[0], &pts); err != nil {
				t.Fatal(err)
			}
			// Transaction hashes by position, from the parity traces.
			var hashes []string
			for _, pt := range pts {
				if pt.TransactionPosition != nil && int(*pt.TransactionPosition) == len(hashes) {
					hashes = append(hashes, *pt.TransactionHash)
				}
			}
			ptr, prw, err := parityMoves(c.block, pts, hashes)
			if err != nil {
				t.Fatal(err)
			}
			var rows []etlTrace
			if c.json {
				rows = readTraceJSON(t, filepath.Join(etlDir, c.parity, "expected_traces.json"))
			} else {
				rows = readTraceCSV(t, filepath.Join(etlDir, c.parity, "expected_traces.csv"))
			}
			wantMoves, wantFailed := expectMoves(rows)
			gotMoves, gotFailed := flatten(ptr)
			total += len(gotMoves)
			if d := cmp.Diff(wantMoves, gotMoves); d != "" {
				t.Errorf("parity internal transfers (-ethereum-etl +redthread):\n%s", d)
			}
			if d := cmp.Diff(wantFailed, gotFailed); d != "" {
				t.Errorf("parity failed transactions (-ethereum-etl +redthread):\n%s", d)
			}
			wantRewards := expectRewards(t, c.block, rows)
			if d := cmp.Diff(wantRewards, flattenRewards(prw)); d != "" {
				t.Errorf("parity rewards (-ethereum-etl +redthread):\n%s", d)
			}
			for _, r := range wantRewards {
				rewards++
				if r.Type == "uncle" {
					uncles++
				}
			}
			if c.geth == "" {
				return
			}
			var gts []gethTxTrace
			if err := result(c.block, calls[1], &gts); err != nil {
				t.Fatal(err)
			}
			gtr, err := gethMoves(c.block, gts, hashes)
			if c.gethErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.gethErr) {
					t.Fatalf("geth trace error = %v, want %q", err, c.gethErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gWant, gWantFailed := expectMoves(readTraceCSV(t, filepath.Join(etlDir, c.geth, "expected_traces.csv")))
			gGot, gGotFailed := flatten(gtr)
			if d := cmp.Diff(gWant, gGot); d != "" {
				t.Errorf("geth internal transfers (-ethereum-etl +redthread):\n%s", d)
			}
			if d := cmp.Diff(gWantFailed, gGotFailed); d != "" {
				t.Errorf("geth failed transactions (-ethereum-etl +redthread):\n%s", d)
			}
			if d := cmp.Diff(gotMoves, gGot); d != "" {
				t.Errorf("tracers disagree (-parity +geth):\n%s", d)
			}
		})
	}
}

// TestPreByzantiumStatusFromTraces: receipts before Byzantium have no
// status; with a tracer, a failed top-level trace marks the transaction
// failed (fee only). The recorded block 1755635 is served with a parity
// trace_block answer whose first transaction's top call errs.
func TestPreByzantiumStatusFromTraces(t *testing.T) {
	dir := filepath.Join(etlDir, "test_stream/blocks_1755634_1755635")
	node := newFixtureNode(t, 1755635)
	node.loadDir(dir)
	hashes := []string{"0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d", "0x9a5437ec71b74ecf5930b406908ac6999966d38a86d1534b7190ece7599095eb"}
	top := func(i int, from, to, value, errText string) map[string]any {
		tr := map[string]any{"type": "call", "action": map[string]any{"callType": "call", "from": from, "to": to, "value": value, "gas": "0x0", "input": "0x"},
			"subtraces": 0, "traceAddress": []any{}, "transactionHash": hashes[i], "transactionPosition": i, "blockNumber": 1755635}
		if errText != "" {
			tr["error"] = errText
		}
		return tr
	}
	node.add("trace_block", []any{hexNum(1755635)}, []any{
		top(0, "0xed059bc543141c8c93031d545079b3da0233b27f", "0x8b3b3b624c3c0397d3da8fd861512393d51dcbac", "0x0", "Out of gas"),
		top(1, "0x3763e6e1228bfeab94191c856412d1bb0a8e6996", "0xec1ebac9da3430213281c80fa6d46378341a96ae", "0x5a176e3bc3ad800", ""),
	})
	node.add("trace_block", []any{hexNum(1755634)}, []any{})
	bs := runAdapter(t, node.URL(), Options{Tracer: TracerParity}, 1755635, 1755635)
	b := bs[0]
	if b.Txs[0].Status || !b.Txs[1].Status {
		t.Fatalf("statuses %v %v, want false true", b.Txs[0].Status, b.Txs[1].Status)
	}
	var kinds []string
	for _, tr := range b.Transfers {
		kinds = append(kinds, fmt.Sprintf("%d:%s", tr.Position.TxIndex(), tr.Kind))
	}
	// Tx 0 failed: its fee only, and its token log is not a transfer.
	want := []string{"0:fee", "1:fee", "1:native"}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Fatalf("transfers (-want +got):\n%s", d)
	}
}

// readCSV reads a CSV file with a header into maps keyed by column.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func num(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TestConformanceBlock483920 runs the adapter on block 483920 (2015) from
// real recorded responses only: eth_getBlockByNumber and the four
// eth_getTransactionReceipt answers, against ethereum-etl's blocks,
// transactions, receipts, logs and token transfers CSV files.
func TestConformanceBlock483920(t *testing.T) {
	node := newFixtureNode(t, 483920)
	node.loadDir(filepath.Join(etlDir, "test_export_blocks_job/block_with_logs"))
	node.loadDir(filepath.Join(etlDir, "test_export_receipts_job/receipts_with_logs"))
	got := runAdapter(t, node.URL(), Options{Tracer: TracerNone}, 483920, 483920)

	br := readCSV(t, filepath.Join(etlDir, "test_export_blocks_job/block_with_logs/expected_blocks.csv"))[0]
	b := etlBlock{Number: num(t, br["number"]), Hash: br["hash"], ParentHash: br["parent_hash"], Timestamp: int64(num(t, br["timestamp"])),
		Miner: br["miner"], TxCount: int(num(t, br["transaction_count"]))}
	receipts := map[string]map[string]string{}
	for _, r := range readCSV(t, filepath.Join(etlDir, "test_export_receipts_job/receipts_with_logs/expected_receipts.csv")) {
		receipts[r["transaction_hash"]] = r
	}
	var txs []etlTx
	for _, r := range readCSV(t, filepath.Join(etlDir, "test_export_blocks_job/block_with_logs/expected_transactions.csv")) {
		rc, ok := receipts[r["hash"]]
		if !ok {
			t.Fatalf("no receipt row for %s", r["hash"])
		}
		x := etlTx{Hash: r["hash"], Index: uint32(num(t, r["transaction_index"])), From: r["from_address"], To: optString(r["to_address"]),
			Value: json.Number(r["value"]), GasPrice: json.Number(r["gas_price"]), BlockNumber: num(t, r["block_number"]),
			GasUsed: json.Number(rc["gas_used"]), ContractAddress: optString(rc["contract_address"])}
		if s := rc["status"]; s != "" {
			v := int(num(t, s))
			x.Status = &v
		}
		if p := rc["effective_gas_price"]; p != "" {
			n := json.Number(p)
			x.EffectiveGasPrice = &n
		}
		txs = append(txs, x)
	}
	var logs []etlLog
	for _, r := range readCSV(t, filepath.Join(etlDir, "test_export_receipts_job/receipts_with_logs/expected_logs.csv")) {
		logs = append(logs, etlLog{LogIndex: num(t, r["log_index"]), TxHash: r["transaction_hash"], Topics: strings.Split(r["topics"], ",")})
	}
	var tts []etlTokenTransfer
	for _, r := range readCSV(t, filepath.Join(etlDir, "test_export_token_transfers_job/block_with_transfers/expected_token_transfers.csv")) {
		tts = append(tts, etlTokenTransfer{Token: r["token_address"], From: r["from_address"], To: r["to_address"], Value: json.Number(r["value"]),
			TxHash: r["transaction_hash"], LogIndex: num(t, r["log_index"]), Block: num(t, r["block_number"])})
	}
	want := expectBlock(t, b, txs, tts, logs)
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Errorf("block 483920 (-ethereum-etl +redthread):\n%s", d)
	}
	if n := countKind(got, model.KindToken); n != 2 {
		t.Errorf("token transfers = %d, want 2", n)
	}
}
