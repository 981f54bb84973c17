package mgmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/importer"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/tasks"
)

// The error codes of the management API, each with its one status.
const (
	codeUnauthorized        = "Unauthorized"
	codeAuthorizationFailed = "AuthorizationFailed"
	codeNotFound            = "NotFound"
	codeConflict            = "Conflict"
	codeInvalidRequest      = "InvalidRequest"
	codeInternalError       = "InternalError"
)

var statusOf = map[string]int{
	codeUnauthorized:        http.StatusUnauthorized,
	codeAuthorizationFailed: http.StatusForbidden,
	codeNotFound:            http.StatusNotFound,
	codeConflict:            http.StatusConflict,
	codeInvalidRequest:      http.StatusBadRequest,
	codeInternalError:       http.StatusInternalServerError,
}

// apiError is an error whose code and message are for the client.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newError(code, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error { return newError(codeNotFound, format, args...) }
func invalid(format string, args ...any) error  { return newError(codeInvalidRequest, format, args...) }
func conflict(format string, args ...any) error { return newError(codeConflict, format, args...) }
func unauthorized(format string, args ...any) error {
	return newError(codeUnauthorized, format, args...)
}
func forbidden(format string, args ...any) error {
	return newError(codeAuthorizationFailed, format, args...)
}

// sentinels are the domain errors a client can act on, by code. Their
// text is a prefix of the messages that wrap them ("identity: not found:
// user \"x\""); the client sees the rest.
var sentinels = []struct {
	err  error
	code string
	word string // said after the rest: `user "x" not found`
}{
	{identity.ErrNotFound, codeNotFound, " not found"},
	{meta.ErrNotFound, codeNotFound, " not found"},
	{identity.ErrExists, codeConflict, " already exists"},
	{meta.ErrConflict, codeConflict, ""},
	{identity.ErrInvalid, codeInvalidRequest, ""},
	{rbac.ErrInvalid, codeInvalidRequest, ""},
	{runs.ErrInvalid, codeInvalidRequest, ""},
	{tasks.ErrInvalid, codeInvalidRequest, ""},
	{tasks.ErrNotFound, codeNotFound, ""},
	{tasks.ErrExists, codeConflict, ""},
	{importer.ErrInvalid, codeInvalidRequest, ""},
	{importer.ErrExists, codeConflict, ""},
	{importer.ErrSourceNotFound, codeNotFound, ""},
	{importer.ErrSourceDenied, codeAuthorizationFailed, ""},
}

// classify turns any error a handler returns into what the client sees.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if e := jsonError(err); e != nil {
		return e
	}
	var locked *registry.LockError
	if errors.As(err, &locked) {
		return &apiError{code: codeConflict, msg: locked.Error()}
	}
	for _, s := range sentinels {
		if !errors.Is(err, s.err) {
			continue
		}
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, s.err.Error()+": "); ok {
			msg = rest + s.word
		} else if msg == s.err.Error() {
			msg = strings.TrimSpace(s.word)
		}
		return &apiError{code: s.code, msg: msg}
	}
	return &apiError{code: codeInternalError, msg: "the server failed to answer; the error is in its log"}
}

// jsonError describes a body that could not be read, naming the field.
func jsonError(err error) *apiError {
	var (
		syn   *json.SyntaxError
		typ   *json.UnmarshalTypeError
		big   *http.MaxBytesError
		field string
	)
	switch {
	case errors.As(err, &syn):
		return &apiError{codeInvalidRequest, fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		field = typ.Field
		if field == "" {
			field = "the body"
		}
		return &apiError{codeInvalidRequest, fmt.Sprintf("%s: want %s, not %s", field, jsonKind(typ.Type), typ.Value)}
	case errors.As(err, &big):
		return &apiError{codeInvalidRequest, fmt.Sprintf("the body is larger than %d bytes", big.Limit)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{codeInvalidRequest, "malformed JSON: the body ends too early"}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &apiError{codeInvalidRequest, "unknown field " + f}
	}
	return nil
}

// writeError writes err as {"error":{"code","message"}}: the one place an
// error becomes an answer. What the client cannot fix is logged.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := classify(err)
	status := statusOf[e.code]
	if status >= 500 {
		log.ErrorContext(r.Context(), "management request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		log.DebugContext(r.Context(), "management request refused", "method", r.Method, "path", r.URL.Path, "code", e.code, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="/identity/oauth2/token"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": e.code, "message": e.msg}})
}

// jsonKind names the JSON form of a Go type.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another type"
}
