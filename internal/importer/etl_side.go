package importer

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/holiman/uint256"

	"github.com/redthread/redthread/internal/model"
)

// scanTable reads every row of an ethereum-etl file (CSV or JSON lines).
func scanTable(path string, required, optional []string, fn func(t *table, line int64) error) error {
	isJSON, err := isJSONFile(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	rr := newRecordReader(f, path)
	t := newTable(path, isJSON, required, optional)
	if !isJSON {
		h, err := rr.next()
		if errors.Is(err, io.EOF) {
			return &RowError{File: path, Line: 1, Err: errors.New("empty file: no header")}
		}
		if err != nil {
			return err
		}
		if err := t.header(h); err != nil {
			return &RowError{File: path, Line: 1, Err: fmt.Errorf("header: %w", err)}
		}
	}
	for {
		var fields [][]byte
		if isJSON {
			ln, err := rr.rawLine()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			fields = [][]byte{ln}
		} else {
			fields, err = rr.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		if err := t.row(fields, rr.recLine); err != nil {
			return err
		}
		if err := fn(t, rr.recLine); err != nil {
			return err
		}
	}
}

// blockSide is what side files say about a block.
type blockSide struct {
	time       int64
	hash       string
	parentHash string
}

// txSide is what side files say about a transaction.
type txSide struct {
	block uint64
	index uint32
}

// receiptSide is the part of a receipt an import needs.
type receiptSide struct {
	status    int8 // 1 success, 0 failed, -1 unknown (pre-Byzantium)
	gasUsed   uint64
	price     uint256.Int // effective gas price
	hasPrice  bool
	contract  string
	block     uint64
	index     uint32
	hasIndex  bool
	statusRaw string
}

// sides holds the joined files of an ethereum-etl import.
type sides struct {
	files    []string
	blocks   map[uint64]blockSide
	txs      map[string]txSide
	txAt     map[[2]uint64]string // (block, index) → hash, for traces without hashes
	receipts map[string]receiptSide
}

func (s *sides) blockTime(n uint64) (blockSide, bool) {
	b, ok := s.blocks[n]
	return b, ok
}

// loadBlocks reads ethereum-etl blocks: number, hash, parent_hash, timestamp.
func (s *sides) loadBlocks(path string) error {
	const (
		cNumber = iota
		cHash
		cParent
		cTime
	)
	s.files = append(s.files, path)
	return scanTable(path, []string{"number", "hash", "parent_hash", "timestamp"}, nil, func(t *table, line int64) error {
		n, err := parseUint(t.vals[cNumber])
		if err != nil {
			return rowErr(path, line, "number", t.vals[cNumber], "%v", err)
		}
		h, err := model.NormalizeHash(string(t.vals[cHash]))
		if err != nil {
			return rowErr(path, line, "hash", t.vals[cHash], "not a 32-byte hex hash")
		}
		var ph string
		if len(t.vals[cParent]) > 0 {
			if ph, err = model.NormalizeHash(string(t.vals[cParent])); err != nil {
				return rowErr(path, line, "parent_hash", t.vals[cParent], "not a 32-byte hex hash")
			}
		}
		ts, err := parseTime(t.vals[cTime])
		if err != nil {
			return rowErr(path, line, "timestamp", t.vals[cTime], "%v", err)
		}
		return s.setBlock(path, line, n, blockSide{time: ts, hash: h, parentHash: ph})
	})
}

func (s *sides) setBlock(path string, line int64, n uint64, b blockSide) error {
	if s.blocks == nil {
		s.blocks = make(map[uint64]blockSide)
	}
	if old, ok := s.blocks[n]; ok {
		if old.time != b.time || old.hash != b.hash {
			return &RowError{File: path, Line: line, Field: "block_number", Value: fmt.Sprint(n),
				Err: fmt.Errorf("block %d given twice with different time or hash (%d %s vs %d %s)", n, old.time, old.hash, b.time, b.hash)}
		}
		if b.parentHash != "" {
			old.parentHash = b.parentHash
			s.blocks[n] = old
		}
		return nil
	}
	s.blocks[n] = b
	return nil
}

// loadTransactions reads ethereum-etl transactions for block times and
// transaction indexes.
func (s *sides) loadTransactions(path string) error {
	const (
		cHash = iota
		cBlock
		cIndex
		cTime
		cBlockHash
	)
	s.files = append(s.files, path)
	if s.txs == nil {
		s.txs = make(map[string]txSide)
		s.txAt = make(map[[2]uint64]string)
	}
	return scanTable(path, []string{"hash", "block_number", "transaction_index", "block_timestamp", "block_hash"}, nil, func(t *table, line int64) error {
		h, err := model.NormalizeHash(string(t.vals[cHash]))
		if err != nil {
			return rowErr(path, line, "hash", t.vals[cHash], "not a 32-byte hex hash")
		}
		n, err := parseUint(t.vals[cBlock])
		if err != nil {
			return rowErr(path, line, "block_number", t.vals[cBlock], "%v", err)
		}
		idx, err := parseUint(t.vals[cIndex])
		if err != nil || idx >= model.WithdrawalTxIndex-1 {
			return rowErr(path, line, "transaction_index", t.vals[cIndex], "want a transaction index below 2^32-2")
		}
		ts, err := parseTime(t.vals[cTime])
		if err != nil {
			return rowErr(path, line, "block_timestamp", t.vals[cTime], "%v", err)
		}
		bh, err := model.NormalizeHash(string(t.vals[cBlockHash]))
		if err != nil {
			return rowErr(path, line, "block_hash", t.vals[cBlockHash], "not a 32-byte hex hash")
		}
		s.txs[h] = txSide{block: n, index: uint32(idx)}
		s.txAt[[2]uint64{n, idx}] = h
		return s.setBlock(path, line, n, blockSide{time: ts, hash: bh})
	})
}

// loadReceipts reads ethereum-etl receipts.
func (s *sides) loadReceipts(path string) error {
	const (
		cHash = iota
		cGasUsed
		cStatus
		cPrice
		cContract
		cBlock
		cIndex
	)
	s.files = append(s.files, path)
	if s.receipts == nil {
		s.receipts = make(map[string]receiptSide)
	}
	return scanTable(path, []string{"transaction_hash", "gas_used", "status"}, []string{"effective_gas_price", "contract_address", "block_number", "transaction_index"}, func(t *table, line int64) error {
		h, err := model.NormalizeHash(string(t.vals[cHash]))
		if err != nil {
			return rowErr(path, line, "transaction_hash", t.vals[cHash], "not a 32-byte hex hash")
		}
		var r receiptSide
		if r.gasUsed, err = parseUint(t.vals[cGasUsed]); err != nil {
			return rowErr(path, line, "gas_used", t.vals[cGasUsed], "%v", err)
		}
		if r.status, err = parseStatus(t.vals[cStatus]); err != nil {
			return rowErr(path, line, "status", t.vals[cStatus], "%v", err)
		}
		if len(t.vals[cPrice]) > 0 {
			if err := parseAmount(t.vals[cPrice], &r.price); err != nil {
				return rowErr(path, line, "effective_gas_price", t.vals[cPrice], "%v", err)
			}
			r.hasPrice = true
		}
		if len(t.vals[cContract]) > 0 {
			if r.contract, err = model.NormalizeAddress(model.ChainETH, string(t.vals[cContract])); err != nil {
				return rowErr(path, line, "contract_address", t.vals[cContract], "invalid address: want 0x and 40 hex digits")
			}
		}
		if len(t.vals[cBlock]) > 0 && len(t.vals[cIndex]) > 0 {
			if r.block, err = parseUint(t.vals[cBlock]); err != nil {
				return rowErr(path, line, "block_number", t.vals[cBlock], "%v", err)
			}
			idx, err := parseUint(t.vals[cIndex])
			if err != nil || idx >= model.WithdrawalTxIndex-1 {
				return rowErr(path, line, "transaction_index", t.vals[cIndex], "want a transaction index below 2^32-2")
			}
			r.index, r.hasIndex = uint32(idx), true
		}
		s.receipts[h] = r
		return nil
	})
}

// parseStatus reads a receipt or trace status: 1, 0 or empty (unknown).
func parseStatus(b []byte) (int8, error) {
	switch string(b) {
	case "1":
		return 1, nil
	case "0":
		return 0, nil
	case "":
		return -1, nil
	}
	return 0, errors.New("want 1, 0 or empty")
}
