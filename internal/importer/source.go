package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/redthread/redthread/internal/model"
)

// Source yields the batches of one input file.
type Source interface {
	// Next returns the next batch, or io.EOF after the last.
	Next(ctx context.Context) (*Batch, error)
	// Close releases the file.
	Close() error
}

// DefaultBatchTransfers is the number of transfers a batch aims for; a batch
// ends at the first block boundary after it (or at four times it inside a
// huge block). Large batches are cheaper for the store (each is sorted into
// one ingested sstable; fewer, larger tables mean less compaction): 2^18
// costs about 30 % less CPU per transfer than 2^15, for ~0.5 GB of memory.
const DefaultBatchTransfers = 256 << 10

// rowParser is one format's row decoder.
type rowParser interface {
	// header checks the header record and remembers the column layout.
	header(fields [][]byte) error
	// row decodes one record into out (already reset); skip reports a row
	// that contributes nothing.
	row(fields [][]byte, line int64, out *rowOut) (skip bool, err error)
}

// finisher is implemented by parsers that complete a batch before it is
// built (traces assign positions per transaction).
type finisher interface {
	finish(b *batcher) error
}

// fileSource drives a rowParser over a file and cuts batches at block
// boundaries.
type fileSource struct {
	f      *os.File
	rr     *recordReader
	p      rowParser
	b      *batcher
	target int
	json   bool // JSON lines: one object per line, handled by the parser
	// noSplit keeps a block in one batch however large (traces number the
	// calls of a transaction per batch).
	noSplit bool

	out     rowOut
	carry   bool // out holds a parsed row that starts the next batch
	carryAt [2]int64
	lastKey blockKey
	hasLast bool
	rows    int64
	done    bool
}

// open opens path, reads its header and, if offset > 0, positions it there.
func openSource(path string, p rowParser, json bool, target int, offset, line int64) (*fileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if target <= 0 {
		target = DefaultBatchTransfers
	}
	s := &fileSource{f: f, rr: newRecordReader(f, path), p: p, b: newBatcher(path, target), target: target, json: json}
	if !json {
		h, err := s.rr.next()
		if errors.Is(err, io.EOF) {
			f.Close()
			return nil, &RowError{File: path, Line: 1, Err: errors.New("empty file: no header")}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		if err := p.header(h); err != nil {
			f.Close()
			var re *RowError
			if errors.As(err, &re) {
				return nil, err
			}
			return nil, &RowError{File: path, Line: s.rr.recLine, Err: fmt.Errorf("header: %w", err)}
		}
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek %s: %w", path, err)
		}
		s.rr.reset(f, offset, line)
	}
	return s, nil
}

func (s *fileSource) Close() error { return s.f.Close() }

func (s *fileSource) Next(ctx context.Context) (*Batch, error) {
	if s.done {
		return nil, io.EOF
	}
	if s.carry {
		s.carry = false
		if err := s.add(); err != nil {
			return nil, err
		}
	}
	for {
		var fields [][]byte
		var err error
		if s.json {
			var ln []byte
			ln, err = s.rr.rawLine()
			fields = [][]byte{ln}
		} else {
			fields, err = s.rr.next()
		}
		if errors.Is(err, io.EOF) {
			s.done = true
			return s.cut(s.rr.offset(), s.rr.line)
		}
		if err != nil {
			return nil, err
		}
		s.rows++
		if s.rows&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s.out.reset()
		skip, err := s.p.row(fields, s.rr.recLine, &s.out)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		n := s.b.len()
		if pr, ok := s.p.(interface{ pendingRows() int }); ok {
			n += pr.pendingRows()
		}
		if n >= s.target && s.hasLast && s.out.key != s.lastKey || !s.noSplit && n >= 4*s.target {
			// This row starts the next batch.
			s.carry = true
			s.lastKey, s.hasLast = s.out.key, true
			s.rows--
			bt, err := s.cut(s.rr.recOffset, s.rr.recLine)
			s.rows++
			return bt, err
		}
		s.lastKey, s.hasLast = s.out.key, true
		if err := s.add(); err != nil {
			return nil, err
		}
	}
}

// add adds the parsed row in s.out to the current batch.
func (s *fileSource) add() error {
	if a, ok := s.p.(acceptor); ok {
		a.accept()
	}
	return s.b.add(&s.out, s.rr.recLine)
}

// acceptor is implemented by parsers that hold a parsed row back until the
// source decides which batch it belongs to.
type acceptor interface{ accept() }

func (s *fileSource) cut(offset, line int64) (*Batch, error) {
	if fin, ok := s.p.(finisher); ok {
		if err := fin.finish(s.b); err != nil {
			return nil, err
		}
	}
	if s.b.empty() && s.done {
		return &Batch{Offset: offset, Line: line, Rows: s.rows}, nil
	}
	bt, err := s.b.build()
	if err != nil {
		return nil, err
	}
	bt.Offset, bt.Line, bt.Rows = offset, line, s.rows
	return bt, nil
}

// chainOrDefault returns c, or eth when empty.
func chainOrDefault(c model.Chain) model.Chain {
	if c == "" {
		return model.ChainETH
	}
	return c
}
