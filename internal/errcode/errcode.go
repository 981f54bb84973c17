// Package errcode registers every protocol error code berth answers with,
// once, with its HTTP status, and writes the OCI error envelope. Handlers
// return errors; only Write turns them into responses.
package errcode

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Code is a registered protocol error: its wire code, HTTP status and a
// default message.
type Code struct {
	Name    string
	Status  int
	Message string
}

// The OCI distribution codes, and the statuses berth answers them with.
var (
	BlobUnknown         = Code{"BLOB_UNKNOWN", http.StatusNotFound, "blob unknown to registry"}
	BlobUploadInvalid   = Code{"BLOB_UPLOAD_INVALID", http.StatusBadRequest, "blob upload invalid"}
	RangeInvalid        = Code{"BLOB_UPLOAD_INVALID", http.StatusRequestedRangeNotSatisfiable, "requested range not satisfiable"}
	BlobUploadUnknown   = Code{"BLOB_UPLOAD_UNKNOWN", http.StatusNotFound, "blob upload unknown to registry"}
	DigestInvalid       = Code{"DIGEST_INVALID", http.StatusBadRequest, "provided digest did not match uploaded content"}
	ManifestBlobUnknown = Code{"MANIFEST_BLOB_UNKNOWN", http.StatusBadRequest, "manifest references a manifest or blob unknown to registry"}
	ManifestInvalid     = Code{"MANIFEST_INVALID", http.StatusBadRequest, "manifest invalid"}
	ManifestUnknown     = Code{"MANIFEST_UNKNOWN", http.StatusNotFound, "manifest unknown to registry"}
	ManifestTooLarge    = Code{"SIZE_INVALID", http.StatusRequestEntityTooLarge, "manifest exceeds the 4 MiB limit"}
	NameInvalid         = Code{"NAME_INVALID", http.StatusBadRequest, "invalid repository name"}
	NameUnknown         = Code{"NAME_UNKNOWN", http.StatusNotFound, "repository name not known to registry"}
	SizeInvalid         = Code{"SIZE_INVALID", http.StatusBadRequest, "provided length did not match content length"}
	TagInvalid          = Code{"TAG_INVALID", http.StatusBadRequest, "invalid tag"}
	Unauthorized        = Code{"UNAUTHORIZED", http.StatusUnauthorized, "authentication required"}
	Denied              = Code{"DENIED", http.StatusForbidden, "requested access to the resource is denied"}
	Unsupported         = Code{"UNSUPPORTED", http.StatusMethodNotAllowed, "the operation is unsupported"}
	TooManyRequests     = Code{"TOOMANYREQUESTS", http.StatusTooManyRequests, "too many requests"}
	PaginationInvalid   = Code{"PAGINATION_NUMBER_INVALID", http.StatusBadRequest, "invalid number of results requested"}
	Unavailable         = Code{"UNAVAILABLE", http.StatusServiceUnavailable, "service unavailable"}
	Unknown             = Code{"UNKNOWN", http.StatusInternalServerError, "unknown error"}
	// ClientClosed is nginx's 499, as distribution/distribution answers: no
	// one reads it, but metrics and logs must not count a client that hung
	// up mid-request as a server failure.
	ClientClosed = Code{"UNKNOWN", 499, "the client closed the request before it was complete"}
)

// Codes the managed registry's /acr/v1 metadata API answers with beyond the
// OCI set.
var (
	TagUnknown     = Code{"TAG_UNKNOWN", http.StatusNotFound, "the specified tag does not exist"}
	RequestInvalid = Code{"REQUEST_INVALID", http.StatusBadRequest, "the request is malformed"}
)

// Error is a Code with a message and optional detail for one response.
type Error struct {
	Code    Code
	Message string
	Detail  any
	// RetryAfter, when set, is sent as the Retry-After header (whole
	// seconds, rounded up).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code.Name + ": " + e.Message }

// New returns an error of code c with c's default message.
func (c Code) New() *Error { return &Error{Code: c, Message: c.Message} }

// WithMessage returns an error of code c with its own message.
func (c Code) WithMessage(msg string) *Error { return &Error{Code: c, Message: msg} }

// WithDetail returns an error of code c with the default message and a detail.
func (c Code) WithDetail(detail any) *Error {
	return &Error{Code: c, Message: c.Message, Detail: detail}
}

type envelope struct {
	Errors []wireError `json:"errors"`
}

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// As returns err as an *Error, or nil when it is not one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Write writes err as an OCI error envelope. An error that is not an *Error
// is answered as UNKNOWN with status 500 and a message that reveals nothing;
// the caller logs it.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	e := As(err)
	if e == nil {
		e = Unknown.New()
	}
	body, _ := json.Marshal(envelope{Errors: []wireError{{Code: e.Code.Name, Message: e.Message, Detail: e.Detail}}})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.Code.Status)
	if r == nil || r.Method != http.MethodHead {
		w.Write(body)
	}
}
