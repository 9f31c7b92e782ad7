package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/model"
	"github.com/redthread/redthread/internal/screen"
	"github.com/redthread/redthread/internal/trace"
)

// Error is an error raised by a handler with its HTTP status and a message
// safe to show. Handlers mounted beside the API (the web UI) raise it too, so
// that StatusOf stays the one place where errors become statuses.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

type httpError = Error

// Errorf returns an *Error with a formatted message.
func Errorf(status int, format string, a ...any) error {
	return &Error{status, fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) error {
	return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf(format, a...)}
}

// errNotConfigured: the server was started without the engine a route needs.
var errNotConfigured = errors.New("not configured")

// StatusOf maps an error to an HTTP status and a message for the client.
// It is the only place where errors become statuses (the web UI calls it too). Errors the engines
// raise for bad requests carry messages written for users and pass through;
// anything else (storage, I/O, bugs) becomes a bare 500 and is logged.
func StatusOf(err error) (int, string) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.Status, he.Msg
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, screen.ErrBatchSize), errors.Is(err, exposure.ErrBatchSize):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, exposure.ErrUnknownChain), errors.Is(err, trace.ErrUnknownChain),
		errors.Is(err, trace.ErrUnknownAddress), errors.Is(err, trace.ErrUnknownAsset), errors.Is(err, trace.ErrUnknownTx):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, exposure.ErrBadRequest), errors.Is(err, trace.ErrBadRequest), errors.Is(err, model.ErrInvalidAddress),
		errors.Is(err, screen.ErrEmpty), errors.Is(err, screen.ErrTooLong), errors.Is(err, screen.ErrInvalidUTF8),
		errors.Is(err, screen.ErrControl):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, errNotConfigured):
		return http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "request timed out"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "request cancelled"
	}
	return http.StatusInternalServerError, "internal error"
}

// writeError writes err as {"error": message} with its status; 500s are
// logged with their detail, which the client never sees.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := StatusOf(err)
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: msg})
}

type errorBody struct {
	Error string `json:"error"`
}
