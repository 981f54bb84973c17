package agentapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// The error codes of the agent API, each with its one status.
const (
	codeUnauthorized   = "Unauthorized"
	codeNotFound       = "NotFound"
	codeLeaseLost      = "LeaseLost"
	codeConflict       = "Conflict"
	codeInvalidRequest = "InvalidRequest"
	codeTooLarge       = "PayloadTooLarge"
	codeInternalError  = "InternalError"
)

var statusOf = map[string]int{
	codeUnauthorized:   http.StatusUnauthorized,
	codeNotFound:       http.StatusNotFound,
	codeLeaseLost:      http.StatusConflict,
	codeConflict:       http.StatusConflict,
	codeInvalidRequest: http.StatusBadRequest,
	codeTooLarge:       http.StatusRequestEntityTooLarge,
	codeInternalError:  http.StatusInternalServerError,
}

// apiError is an error whose code and message are for the agent.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(format string, args ...any) error {
	return &apiError{codeInvalidRequest, fmt.Sprintf(format, args...)}
}

// classify turns any error a handler returns into what the agent sees.
func classify(err error) *apiError {
	var (
		ae  *apiError
		big *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, runs.ErrLeaseLost):
		return &apiError{codeLeaseLost, "the lease on this run was lost (it lapsed, or the run ended): stop working on it"}
	case errors.Is(err, runs.ErrOutOfOrder):
		return &apiError{codeConflict, strings.TrimPrefix(err.Error(), runs.ErrOutOfOrder.Error()+": ")}
	case errors.Is(err, runs.ErrInvalid):
		return &apiError{codeInvalidRequest, err.Error()}
	case errors.Is(err, meta.ErrNotFound):
		return &apiError{codeNotFound, strings.TrimPrefix(err.Error(), meta.ErrNotFound.Error()+": ") + " not found"}
	case errors.As(err, &big):
		return &apiError{codeTooLarge, fmt.Sprintf("the body is larger than %d bytes", big.Limit)}
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{codeInvalidRequest, "malformed JSON: " + err.Error()}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &apiError{codeInvalidRequest, strings.TrimPrefix(err.Error(), "json: ")}
	}
	return &apiError{codeInternalError, "the server failed to answer; the error is in its log"}
}

// writeError writes err as {"error":{"code","message"}}: the one place an
// error becomes an answer.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := classify(err)
	status := statusOf[e.code]
	switch {
	case status >= 500 && r.Context().Err() != nil:
		// The agent hung up (it stopped, or its pool shrank): no fault here.
		log.DebugContext(r.Context(), "agent request ended by the agent", "method", r.Method, "path", r.URL.Path, "err", err)
	case status >= 500:
		log.ErrorContext(r.Context(), "agent request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		log.DebugContext(r.Context(), "agent request refused", "method", r.Method, "path", r.URL.Path, "code", e.code, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="berth-agent-pool"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": e.code, "message": e.msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // a failure here is an agent gone
	return nil
}

// decode reads a JSON body into v: one object, no unknown fields; an
// empty body leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return invalid("the body must be one JSON object")
	}
	return nil
}
