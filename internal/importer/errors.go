package importer

import (
	"fmt"
	"strconv"
)

// RowError reports a bad row: the file, the line the record starts on, the
// field (column name) and the offending value, truncated.
type RowError struct {
	File  string
	Line  int64
	Field string // empty when the whole row is at fault
	Value string // truncated to 64 bytes
	Err   error
}

func (e *RowError) Error() string {
	s := e.File + ":" + strconv.FormatInt(e.Line, 10) + ": "
	if e.Field != "" {
		s += "field " + e.Field + " " + strconv.Quote(e.Value) + ": "
	}
	return s + e.Err.Error()
}

func (e *RowError) Unwrap() error { return e.Err }

func rowErr(file string, line int64, field string, value []byte, format string, a ...any) *RowError {
	return &RowError{File: file, Line: line, Field: field, Value: truncate(string(value)), Err: fmt.Errorf(format, a...)}
}

func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
