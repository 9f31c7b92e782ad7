package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// Sequence numbers inside a transaction for ethereum-etl imports (the low
// 32 bits of model.Position): the transaction's own value is 0, internal
// transfers are 1 + the call's pre-order index among the transaction's
// traces, token transfers are tokenSeq + the log index.
const (
	tokenSeq = 1 << 31
	// rewardTxIndex is the transaction index of block and uncle rewards,
	// just before withdrawals.
	rewardTxIndex = model.WithdrawalTxIndex - 1
)

// ZeroAddress is the sender of rewards (newly minted ether), as of
// withdrawals in internal/chain/eth.
const ZeroAddress = "0x0000000000000000000000000000000000000000"

type etlPrep struct {
	o       *Options
	s       *sides
	tokens  bool // token transfers need transaction indexes
	main    string
	sideFns []string
}

func prepareETL(main string) func(o *Options) (preparer, error) {
	return func(o *Options) (preparer, error) {
		p := &etlPrep{o: o, s: &sides{}, main: main}
		if main == "receipts" {
			// Receipts annotate transactions: stream the transactions, join these.
			if len(o.Transactions) == 0 {
				return nil, errors.New("etl-receipts needs the matching transactions: --transactions FILE (receipts alone move no value)")
			}
			o.Receipts, o.Files, o.Transactions = o.Files, o.Transactions, nil
			main = "transactions"
			p.main = main
		}
		for _, f := range o.Blocks {
			if err := p.s.loadBlocks(f); err != nil {
				return nil, err
			}
		}
		for _, f := range o.Transactions {
			if err := p.s.loadTransactions(f); err != nil {
				return nil, err
			}
		}
		for _, f := range o.Receipts {
			if err := p.s.loadReceipts(f); err != nil {
				return nil, err
			}
		}
		switch main {
		case "token_transfers":
			if len(o.Transactions) == 0 && len(o.Receipts) == 0 {
				return nil, errors.New("etl-token-transfers needs transaction indexes: --transactions FILE (or --receipts FILE)")
			}
		}
		return p, nil
	}
}

func (p *etlPrep) sideFiles() []string { return p.s.files }

func (p *etlPrep) open(path string, offset, line int64) (Source, error) {
	isJSON, err := isJSONFile(path)
	if err != nil {
		return nil, err
	}
	var rp rowParser
	noSplit := false
	switch p.main {
	case "transactions":
		rp = newETLTxParser(path, isJSON, p.o, p.s)
	case "token_transfers":
		rp = newETLTokenParser(path, isJSON, p.o, p.s)
	case "traces":
		rp = newETLTraceParser(path, isJSON, p.o, p.s)
		noSplit = true
	default:
		return nil, fmt.Errorf("unknown ethereum-etl table %q", p.main)
	}
	src, err := openSource(path, rp, isJSON, p.o.BatchTransfers, offset, line)
	if err != nil {
		return nil, err
	}
	src.noSplit = noSplit
	return src, nil
}

// fieldReader decodes the columns of a table row with errors naming them.
type fieldReader struct {
	t    *table
	line int64
	err  error
}

func (r *fieldReader) fail(col int, format string, a ...any) {
	if r.err == nil {
		r.err = rowErr(r.t.file, r.line, r.t.cols[col], r.t.vals[col], format, a...)
	}
}

func (r *fieldReader) uint(col int) uint64 {
	n, err := parseUint(r.t.vals[col])
	if err != nil {
		r.fail(col, "%v", err)
	}
	return n
}

func (r *fieldReader) txIndex(col int) uint32 {
	n, err := parseUint(r.t.vals[col])
	if err != nil || n >= rewardTxIndex {
		r.fail(col, "want a transaction index below 2^32-2")
	}
	return uint32(n)
}

func (r *fieldReader) hash(col int) string {
	h, err := model.NormalizeHash(string(r.t.vals[col]))
	if err != nil {
		r.fail(col, "not a 32-byte hex hash (0x and 64 hex digits)")
	}
	return h
}

func (r *fieldReader) addr(chain model.Chain, col int) string {
	a, err := model.NormalizeAddress(chain, string(r.t.vals[col]))
	if err != nil {
		r.fail(col, "%s", addrProblem(chain))
	}
	return a
}

func (r *fieldReader) amount(col int) uint256.Int {
	var z uint256.Int
	if err := parseAmount(r.t.vals[col], &z); err != nil {
		r.fail(col, "%v", err)
	}
	return z
}

// etlTxParser reads ethereum-etl transactions, joined with receipts.
type etlTxParser struct {
	t          *table
	o          *Options
	s          *sides
	inlineRcpt bool // the file has receipt_* columns (enriched export)
}

const (
	txHash = iota
	txBlock
	txIndex
	txFrom
	txTo
	txValue
	txGasPrice
	txTime
	txBlockHash
	txRStatus
	txRGasUsed
	txRPrice
	txRContract
)

func newETLTxParser(path string, isJSON bool, o *Options, s *sides) *etlTxParser {
	return &etlTxParser{o: o, s: s, inlineRcpt: isJSON, t: newTable(path, isJSON,
		[]string{"hash", "block_number", "transaction_index", "from_address", "to_address", "value", "gas_price", "block_timestamp", "block_hash"},
		[]string{"receipt_status", "receipt_gas_used", "receipt_effective_gas_price", "receipt_contract_address"})}
}

func (p *etlTxParser) header(f [][]byte) error {
	if err := p.t.header(f); err != nil {
		return err
	}
	p.inlineRcpt = p.t.has(txRStatus) && p.t.has(txRGasUsed)
	if !p.inlineRcpt && p.s.receipts == nil && !p.o.NoReceipts {
		return errors.New("transactions without receipts: pass --receipts FILE (status and fees) or --no-receipts to treat every transaction as successful")
	}
	return nil
}

func (p *etlTxParser) row(f [][]byte, line int64, out *rowOut) (bool, error) {
	if err := p.t.row(f, line); err != nil {
		return false, err
	}
	r := &fieldReader{t: p.t, line: line}
	chain := p.o.Chain
	tx := model.Tx{Hash: r.hash(txHash), Index: r.txIndex(txIndex), From: r.addr(chain, txFrom), Value: r.amount(txValue), Status: true}
	block := r.uint(txBlock)
	if len(p.t.vals[txTo]) > 0 {
		tx.To = r.addr(chain, txTo)
	}
	ts, err := parseTime(p.t.vals[txTime])
	if err != nil {
		r.fail(txTime, "%v", err)
	}
	bh := r.hash(txBlockHash)
	if r.err != nil {
		return false, r.err
	}
	// Receipt: inline columns, the joined file, or none (--no-receipts).
	var rc receiptSide
	haveReceipt := false
	if p.inlineRcpt && p.t.present[txRStatus] && p.t.present[txRGasUsed] {
		if rc.status, err = parseStatus(p.t.vals[txRStatus]); err != nil {
			r.fail(txRStatus, "%v", err)
		}
		rc.gasUsed = r.uint(txRGasUsed)
		if p.t.present[txRPrice] && len(p.t.vals[txRPrice]) > 0 {
			rc.price, rc.hasPrice = r.amount(txRPrice), true
		}
		if p.t.present[txRContract] && len(p.t.vals[txRContract]) > 0 {
			rc.contract = r.addr(chain, txRContract)
		}
		if r.err != nil {
			return false, r.err
		}
		haveReceipt = true
	} else if p.s.receipts != nil {
		if rc, haveReceipt = p.s.receipts[tx.Hash]; !haveReceipt {
			return false, rowErr(p.t.file, line, "hash", p.t.vals[txHash], "transaction not in the receipts file(s)")
		}
		if rc.hasIndex && (rc.block != block || rc.index != tx.Index) {
			return false, rowErr(p.t.file, line, "hash", p.t.vals[txHash], "receipt places it at block %d index %d, not %d/%d", rc.block, rc.index, block, tx.Index)
		}
	} else if !p.o.NoReceipts {
		return false, rowErr(p.t.file, line, "receipt_status", nil, "no receipt for this transaction (pass --receipts or --no-receipts)")
	}
	if haveReceipt {
		tx.Status = rc.status != 0 // unknown (pre-Byzantium): counted as success
		price := rc.price
		if !rc.hasPrice {
			price = r.amount(txGasPrice)
			if r.err != nil {
				return false, r.err
			}
		}
		if _, over := tx.Fee.MulOverflow(uint256.NewInt(rc.gasUsed), &price); over {
			return false, rowErr(p.t.file, line, "gas_price", p.t.vals[txGasPrice], "fee overflows 256 bits")
		}
		if tx.Status {
			tx.Created = rc.contract
		}
	}
	out.key = blockKey{chain, block}
	out.time, out.hasTime, out.hash = ts, true, bh
	out.tx, out.hasTx = tx, true
	to := tx.To
	if to == "" {
		to = tx.Created
	}
	if tx.Status && !tx.Value.IsZero() && to != "" {
		out.ts = append(out.ts, model.Transfer{Chain: chain, Block: block, Time: ts, Position: model.MakePosition(tx.Index, 0),
			TxHash: tx.Hash, From: tx.From, To: to, Asset: model.NativeAsset, Amount: tx.Value, Kind: model.KindNative})
	}
	return false, nil
}

// etlTokenParser reads ethereum-etl token_transfers.
type etlTokenParser struct {
	t *table
	o *Options
	s *sides
}

const (
	ttToken = iota
	ttFrom
	ttTo
	ttValue
	ttHash
	ttLogIndex
	ttBlock
	ttTime
	ttBlockHash
)

func newETLTokenParser(path string, isJSON bool, o *Options, s *sides) *etlTokenParser {
	return &etlTokenParser{o: o, s: s, t: newTable(path, isJSON,
		[]string{"token_address", "from_address", "to_address", "value", "transaction_hash", "log_index", "block_number"},
		[]string{"block_timestamp", "block_hash"})}
}

func (p *etlTokenParser) header(f [][]byte) error { return p.t.header(f) }

func (p *etlTokenParser) row(f [][]byte, line int64, out *rowOut) (bool, error) {
	if err := p.t.row(f, line); err != nil {
		return false, err
	}
	r := &fieldReader{t: p.t, line: line}
	chain := p.o.Chain
	t := model.Transfer{Chain: chain, Asset: r.addr(chain, ttToken), From: r.addr(chain, ttFrom), To: r.addr(chain, ttTo),
		Amount: r.amount(ttValue), TxHash: r.hash(ttHash), Block: r.uint(ttBlock), Kind: model.KindToken}
	li := r.uint(ttLogIndex)
	if r.err == nil && li >= tokenSeq {
		r.fail(ttLogIndex, "log index too large")
	}
	if r.err != nil {
		return false, r.err
	}
	idx, ok := p.s.txIndexOf(t.TxHash, t.Block)
	if !ok {
		return false, rowErr(p.t.file, line, "transaction_hash", p.t.vals[ttHash], "not in the --transactions or --receipts file(s) of block %d", t.Block)
	}
	b, err := p.s.rowBlock(r, t.Block, ttBlock, ttTime, ttBlockHash)
	if err != nil {
		return false, err
	}
	t.Time = b.time
	t.Position = model.MakePosition(idx, tokenSeq+uint32(li))
	out.key = blockKey{chain, t.Block}
	out.time, out.hasTime, out.hash, out.parentHash = b.time, true, b.hash, b.parentHash
	if !t.Amount.IsZero() {
		out.ts = append(out.ts, t)
	}
	return false, nil
}

// rowBlock returns a block's time and hash: from the row's own
// block_timestamp and block_hash columns (ethereum-etl stream exports), else
// from the joined files; rows that give them are remembered for the rest.
func (s *sides) rowBlock(r *fieldReader, n uint64, cBlock, cTime, cHash int) (blockSide, error) {
	t := r.t
	if t.present[cTime] && len(t.vals[cTime]) > 0 {
		ts, err := parseTime(t.vals[cTime])
		if err != nil {
			r.fail(cTime, "%v", err)
			return blockSide{}, r.err
		}
		b := blockSide{time: ts}
		if t.present[cHash] && len(t.vals[cHash]) > 0 {
			if b.hash = r.hash(cHash); r.err != nil {
				return b, r.err
			}
		}
		if old, ok := s.blocks[n]; ok {
			if old.time != b.time || b.hash != "" && old.hash != "" && old.hash != b.hash {
				r.fail(cTime, "block %d has time %d and hash %s elsewhere", n, old.time, old.hash)
				return b, r.err
			}
			if b.hash == "" {
				b.hash = old.hash
			}
			b.parentHash = old.parentHash
		}
		if s.blocks == nil {
			s.blocks = make(map[uint64]blockSide)
		}
		s.blocks[n] = b
		return b, nil
	}
	b, ok := s.blocks[n]
	if !ok {
		r.fail(cBlock, "no time for block %d: the row has no block_timestamp and no --transactions or --blocks file gives it", n)
		return b, r.err
	}
	return b, nil
}

// txIndexOf finds a transaction's index from the joined transactions or
// receipts, checking its block.
func (s *sides) txIndexOf(hash string, block uint64) (uint32, bool) {
	if t, ok := s.txs[hash]; ok {
		return t.index, t.block == block
	}
	if r, ok := s.receipts[hash]; ok && r.hasIndex {
		return r.index, r.block == block
	}
	return 0, false
}

// etlTraceParser reads ethereum-etl traces (parity trace_block or geth
// callTracer derived). Positions need every trace of a transaction, so rows
// are kept until the batch is cut and numbered in finish.
type etlTraceParser struct {
	t       *table
	o       *Options
	s       *sides
	pending []traceRow
	last    traceRow // parsed, not yet accepted into the batch
	// seen maps each block met so far to its first line: a block's traces
	// must be contiguous, since positions number a transaction's traces.
	seen      map[uint64]int64
	lastBlock uint64
	hasLast   bool
}

type traceRow struct {
	line     int64
	block    uint64
	txHash   string
	txIndex  uint32
	hasTx    bool
	from, to string
	value    uint256.Int
	typ      string // call, create, suicide, reward, genesis, daofork
	callType string
	addr     []uint32 // trace_address
	addrText string
	failed   bool // own error
	status   int8 // 1, 0, -1 unknown (derive from errors)
}

const (
	trBlock = iota
	trHash
	trIndex
	trFrom
	trTo
	trValue
	trType
	trCallType
	trTraceAddr
	trError
	trStatus
	trTime
	trBlockHash
)

func newETLTraceParser(path string, isJSON bool, o *Options, s *sides) *etlTraceParser {
	return &etlTraceParser{o: o, s: s, seen: make(map[uint64]int64), t: newTable(path, isJSON,
		[]string{"block_number", "transaction_hash", "transaction_index", "from_address", "to_address", "value", "trace_type", "call_type", "trace_address", "error"},
		[]string{"status", "block_timestamp", "block_hash"})}
}

func (p *etlTraceParser) header(f [][]byte) error { return p.t.header(f) }

func (p *etlTraceParser) pendingRows() int { return len(p.pending) }

func (p *etlTraceParser) row(f [][]byte, line int64, out *rowOut) (bool, error) {
	if err := p.t.row(f, line); err != nil {
		return false, err
	}
	r := &fieldReader{t: p.t, line: line}
	chain := p.o.Chain
	tr := traceRow{line: line, block: r.uint(trBlock), typ: string(p.t.vals[trType]), callType: string(p.t.vals[trCallType]),
		failed: len(p.t.vals[trError]) > 0, status: -1}
	if r.err != nil {
		return false, r.err
	}
	if p.t.present[trStatus] {
		s, err := parseStatus(p.t.vals[trStatus])
		if err != nil {
			r.fail(trStatus, "%v", err)
		}
		tr.status = s
	}
	switch tr.typ {
	case "call", "create", "suicide", "reward":
	case "genesis", "daofork":
		return true, nil // state changes outside transactions: not imported
	default:
		r.fail(trType, "unknown trace type (want call, create, suicide, reward, genesis or daofork)")
		return false, r.err
	}
	if len(p.t.vals[trValue]) > 0 {
		tr.value = r.amount(trValue)
	}
	if len(p.t.vals[trFrom]) > 0 {
		tr.from = r.addr(chain, trFrom)
	}
	if len(p.t.vals[trTo]) > 0 {
		tr.to = r.addr(chain, trTo)
	}
	if tr.typ != "reward" {
		if len(p.t.vals[trIndex]) == 0 {
			r.fail(trIndex, "empty; a %s trace belongs to a transaction", tr.typ)
		} else {
			tr.txIndex = r.txIndex(trIndex)
		}
		if len(p.t.vals[trHash]) > 0 {
			tr.txHash = r.hash(trHash)
		}
		tr.hasTx = true
		if ta := p.t.vals[trTraceAddr]; len(ta) > 0 {
			tr.addrText = string(ta)
			for _, part := range strings.Split(tr.addrText, ",") {
				n, err := parseUint([]byte(strings.TrimSpace(part)))
				if err != nil || n >= 1<<32 {
					r.fail(trTraceAddr, "want comma-separated call indexes")
					break
				}
				tr.addr = append(tr.addr, uint32(n))
			}
		}
	}
	if r.err != nil {
		return false, r.err
	}
	if tr.hasTx && tr.txHash == "" {
		h, ok := p.s.txAt[[2]uint64{tr.block, uint64(tr.txIndex)}]
		if !ok {
			return false, rowErr(p.t.file, line, "transaction_hash", nil, "empty, and block %d index %d is not in the --transactions file(s)", tr.block, tr.txIndex)
		}
		tr.txHash = h
	}
	if _, err := p.s.rowBlock(r, tr.block, trBlock, trTime, trBlockHash); err != nil {
		return false, err
	}
	if tr.block != p.lastBlock || !p.hasLast {
		if first, ok := p.seen[tr.block]; ok {
			return false, rowErr(p.t.file, line, "block_number", p.t.vals[trBlock], "traces of block %d are not contiguous (it also has line %d); sort the file by block", tr.block, first)
		}
		p.seen[tr.block] = line
		p.lastBlock, p.hasLast = tr.block, true
	}
	out.key = blockKey{chain, tr.block}
	p.last = tr
	return false, nil
}

func (p *etlTraceParser) accept() { p.pending = append(p.pending, p.last) }

// finish numbers each transaction's traces in pre-order (trace_address
// order), derives missing statuses from errors of the call and its callers,
// and emits the value transfers.
func (p *etlTraceParser) finish(b *batcher) error {
	rows := p.pending
	p.pending = p.pending[:0]
	slices.SortStableFunc(rows, func(x, y traceRow) int {
		if x.block != y.block {
			return cmpU64(x.block, y.block)
		}
		if x.hasTx != y.hasTx {
			if x.hasTx {
				return -1
			}
			return 1
		}
		if x.txIndex != y.txIndex {
			return cmpU64(uint64(x.txIndex), uint64(y.txIndex))
		}
		return slices.Compare(x.addr, y.addr)
	})
	chain := p.o.Chain
	var out rowOut
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].block == rows[i].block && rows[j].hasTx == rows[i].hasTx && rows[j].txIndex == rows[i].txIndex {
			j++
		}
		group := rows[i:j]
		bs, _ := p.s.blockTime(group[0].block)
		failedAt := make(map[string]bool)
		for k := range group {
			tr := &group[k]
			if k > 0 && tr.hasTx && slices.Equal(tr.addr, group[k-1].addr) {
				return &RowError{File: p.t.file, Line: tr.line, Field: "trace_address", Value: tr.addrText,
					Err: fmt.Errorf("transaction %s has this trace address twice (line %d)", tr.txHash, group[k-1].line)}
			}
			if tr.hasTx && tr.txHash != group[0].txHash {
				return &RowError{File: p.t.file, Line: tr.line, Field: "transaction_hash", Value: tr.txHash,
					Err: fmt.Errorf("index %d of block %d is also transaction %s (line %d)", tr.txIndex, tr.block, group[0].txHash, group[0].line)}
			}
			ok := tr.status == 1
			if tr.status == -1 {
				ok = !tr.failed
				for d := 0; d < len(tr.addr) && ok; d++ {
					ok = !failedAt[traceKey(tr.addr[:d])]
				}
			}
			if !ok {
				failedAt[traceKey(tr.addr)] = true
				continue
			}
			if tr.value.IsZero() {
				continue
			}
			t := model.Transfer{Chain: chain, Block: tr.block, Time: bs.time, TxHash: tr.txHash, From: tr.from, To: tr.to,
				Asset: model.NativeAsset, Amount: tr.value}
			switch {
			case tr.typ == "reward":
				if bs.hash == "" {
					return &RowError{File: p.t.file, Line: tr.line, Field: "block_number", Value: fmt.Sprint(tr.block),
						Err: errors.New("a reward needs the block hash (its transaction hash): pass --blocks")}
				}
				t.TxHash, t.From, t.Kind = bs.hash, ZeroAddress, model.KindReward
				t.Position = model.MakePosition(rewardTxIndex, uint32(k))
			case len(tr.addr) == 0:
				continue // the transaction's own value: the transactions import has it
			case tr.typ == "call" && tr.callType != "call":
				continue // callcode pays the caller itself; delegatecall and staticcall move nothing
			default:
				if tr.from == "" || tr.to == "" {
					return &RowError{File: p.t.file, Line: tr.line, Field: "to_address",
						Err: fmt.Errorf("a %s trace moving value needs from_address and to_address", tr.typ)}
				}
				t.Kind = model.KindInternal
				t.Position = model.MakePosition(tr.txIndex, 1+uint32(k))
			}
			out.reset()
			out.key = blockKey{chain, tr.block}
			out.ts = append(out.ts, t)
			if err := b.add(&out, tr.line); err != nil {
				return err
			}
		}
		out.reset()
		out.key = blockKey{chain, group[0].block}
		out.time, out.hasTime, out.hash, out.parentHash = bs.time, true, bs.hash, bs.parentHash
		if err := b.add(&out, group[0].line); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func traceKey(a []uint32) string {
	var sb strings.Builder
	for i, x := range a {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprint(&sb, x)
	}
	return sb.String()
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
