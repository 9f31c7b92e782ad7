package intel

import (
	"errors"
	"fmt"
)

// ErrUnknownKind is returned for a dataset kind no loader handles.
var ErrUnknownKind = errors.New("unknown intel kind")

// ParseError locates bad input: the file, the line (1-based; 0 if unknown)
// and the field or element that could not be read.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Field != "" {
		s += ": field " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

func perr(file string, line int, field string, format string, a ...any) error {
	return &ParseError{File: file, Line: line, Field: field, Err: fmt.Errorf(format, a...)}
}

func itoa(i int) string { return fmt.Sprint(i) }
