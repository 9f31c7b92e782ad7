package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// maxRecord bounds one record (a line, or several for quoted fields with
// newlines); longer records are an error rather than unbounded memory.
const maxRecord = 16 << 20

// recordReader reads CSV records (or whole lines, for JSON lines) and keeps
// the byte offset and line number of each. The common case, a line without
// quotes, is split in place without allocating; a record with a double quote
// is parsed with encoding/csv's semantics (RFC 4180, quoted fields may hold
// commas, doubled quotes and newlines).
type recordReader struct {
	r    io.Reader
	file string
	buf  []byte
	pos  int // next unread byte in buf
	n    int // valid bytes in buf
	eof  bool
	base int64 // file offset of buf[0]
	line int64 // line number of the next unread byte (1-based)

	recOffset, recLine int64 // start of the last record returned
	fields             [][]byte
	quoted             []string // backing for the slow path
}

func newRecordReader(r io.Reader, file string) *recordReader {
	return &recordReader{r: r, file: file, buf: make([]byte, 1<<20), line: 1}
}

// reset positions the reader at a file offset and line number; the caller
// has already seeked the underlying reader there.
func (rr *recordReader) reset(r io.Reader, offset, line int64) {
	rr.r, rr.pos, rr.n, rr.eof, rr.base, rr.line = r, 0, 0, false, offset, line
}

// offset is the file offset just after the last record returned.
func (rr *recordReader) offset() int64 { return rr.base + int64(rr.pos) }

// fill reads more data, keeping buf[pos:n]. It reports false at end of input.
func (rr *recordReader) fill() (bool, error) {
	if rr.eof {
		return false, nil
	}
	if rr.pos > 0 {
		copy(rr.buf, rr.buf[rr.pos:rr.n])
		rr.base += int64(rr.pos)
		rr.n -= rr.pos
		rr.pos = 0
	}
	if rr.n == len(rr.buf) {
		if len(rr.buf) >= maxRecord {
			return false, &RowError{File: rr.file, Line: rr.line, Err: fmt.Errorf("record longer than %d bytes", maxRecord)}
		}
		nb := make([]byte, 2*len(rr.buf))
		copy(nb, rr.buf[:rr.n])
		rr.buf = nb
	}
	m, err := rr.r.Read(rr.buf[rr.n:])
	rr.n += m
	if errors.Is(err, io.EOF) {
		rr.eof = true
		return m > 0, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", rr.file, err)
	}
	return true, nil
}

// rawLine returns the next non-empty line without its line ending, with the
// record start recorded, or io.EOF.
func (rr *recordReader) rawLine() ([]byte, error) {
	for {
		i := bytes.IndexByte(rr.buf[rr.pos:rr.n], '\n')
		if i < 0 {
			more, err := rr.fill()
			if err != nil {
				return nil, err
			}
			if more {
				continue
			}
			if rr.pos == rr.n {
				return nil, io.EOF
			}
			i = rr.n - rr.pos // last line without a newline
		}
		start := rr.pos
		end := start + i
		rr.recOffset, rr.recLine = rr.base+int64(start), rr.line
		rr.pos = end
		if rr.pos < rr.n {
			rr.pos++ // the newline
		}
		rr.line++
		ln := rr.buf[start:end]
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		if rr.recOffset == 0 {
			ln = bytes.TrimPrefix(ln, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
		}
		if len(ln) == 0 {
			continue
		}
		return ln, nil
	}
}

// next returns the fields of the next CSV record, or io.EOF. The slices are
// valid until the next call.
func (rr *recordReader) next() ([][]byte, error) {
	ln, err := rr.rawLine()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(ln, '"') < 0 {
		rr.fields = rr.fields[:0]
		for {
			i := bytes.IndexByte(ln, ',')
			if i < 0 {
				rr.fields = append(rr.fields, ln)
				return rr.fields, nil
			}
			rr.fields = append(rr.fields, ln[:i])
			ln = ln[i+1:]
		}
	}
	return rr.quotedRecord(ln)
}

// quotedRecord completes a record that contains quotes (it may span lines
// when a quoted field holds a newline) and parses it with encoding/csv.
func (rr *recordReader) quotedRecord(first []byte) ([][]byte, error) {
	recLine, recOffset := rr.recLine, rr.recOffset
	rec := append([]byte(nil), first...)
	var q quoteState
	for {
		if err := q.scan(rec[q.pos:]); err != nil {
			return nil, &RowError{File: rr.file, Line: recLine, Err: fmt.Errorf("malformed CSV: %w", err)}
		}
		q.pos = len(rec)
		if !q.inQuote {
			break
		}
		ln, err := rr.rawLineKeepEmpty()
		if errors.Is(err, io.EOF) {
			return nil, &RowError{File: rr.file, Line: recLine, Err: errors.New("unterminated quoted field")}
		}
		if err != nil {
			return nil, err
		}
		rec = append(rec, '\n')
		rec = append(rec, ln...)
	}
	rr.recLine, rr.recOffset = recLine, recOffset
	cr := csv.NewReader(bytes.NewReader(rec))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &RowError{File: rr.file, Line: recLine, Err: fmt.Errorf("malformed CSV: %w", err)}
	}
	if len(rows) != 1 {
		return nil, &RowError{File: rr.file, Line: recLine, Err: errors.New("malformed CSV record")}
	}
	rr.quoted = rows[0]
	rr.fields = rr.fields[:0]
	for _, f := range rr.quoted {
		rr.fields = append(rr.fields, []byte(f))
	}
	return rr.fields, nil
}

// rawLineKeepEmpty is rawLine for continuation lines of a quoted field,
// where an empty line is part of the value.
func (rr *recordReader) rawLineKeepEmpty() ([]byte, error) {
	for {
		i := bytes.IndexByte(rr.buf[rr.pos:rr.n], '\n')
		if i < 0 {
			more, err := rr.fill()
			if err != nil {
				return nil, err
			}
			if more {
				continue
			}
			if rr.pos == rr.n {
				return nil, io.EOF
			}
			i = rr.n - rr.pos
		}
		start := rr.pos
		end := start + i
		rr.pos = end
		if rr.pos < rr.n {
			rr.pos++
		}
		rr.line++
		ln := rr.buf[start:end]
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		return ln, nil
	}
}

// quoteState follows RFC 4180 quoting across the lines of one record, to
// find where a record with quoted newlines ends.
type quoteState struct {
	inQuote    bool
	afterQuote bool // just closed a quoted field (or saw the first of a doubled quote)
	midField   bool // inside an unquoted field
	pos        int  // bytes of the record already scanned
}

func (q *quoteState) scan(b []byte) error {
	for _, c := range b {
		switch {
		case q.inQuote:
			if c == '"' {
				q.inQuote, q.afterQuote = false, true
			}
		case q.afterQuote:
			q.afterQuote = false
			switch c {
			case '"': // doubled quote inside a quoted field
				q.inQuote = true
			case ',':
				q.midField = false
			default:
				return errors.New(`extraneous or missing " in quoted-field`)
			}
		case c == '"':
			if q.midField {
				return errors.New(`bare " in non-quoted-field`)
			}
			q.inQuote = true
		case c == ',':
			q.midField = false
		default:
			q.midField = true
		}
	}
	if !q.inQuote {
		q.afterQuote = false
	}
	return nil
}
