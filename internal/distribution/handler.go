package distribution

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
)

// Authenticator checks the credentials of a data-plane request.
type Authenticator interface {
	// Authenticate returns nil when the request's credentials are good for
	// reg. Otherwise it returns an error, and Challenge tells the client how
	// to authenticate.
	Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) error
	Challenge(reg registry.Registry, r *http.Request) string
}

// Resolver names the registry a request is for, from its listener and Host.
type Resolver func(r *http.Request) (registry.Registry, bool)

// Observer is told of every finished request (metrics).
type Observer func(route string, method string, status int, elapsed time.Duration)

// Handler serves /v2/.
type Handler struct {
	svc     *registry.Service
	auth    Authenticator
	resolve Resolver
	log     *slog.Logger
	observe Observer
}

// New returns the /v2 handler. observe may be nil.
func New(svc *registry.Service, auth Authenticator, resolve Resolver, log *slog.Logger, observe Observer) *Handler {
	if observe == nil {
		observe = func(string, string, int, time.Duration) {}
	}
	return &Handler{svc: svc, auth: auth, resolve: resolve, log: log, observe: observe}
}

// statusWriter remembers the status for metrics and logs; it passes
// ReadFrom through so that blob bodies still go out with sendfile.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the connection's sendfile path for blob bodies.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	// Behind a middleware that wraps the writer without ReadFrom.
	return io.Copy(w.ResponseWriter, r)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP runs the data-plane pipeline: registry, authentication, handler.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt := parsePath(r.URL.Path)
	err := h.serve(w, r, rt)
	if err != nil {
		h.writeError(w, r, rt, err)
	}
	h.observe(rt.kind.String(), r.Method, w.status, time.Since(start))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route) error {
	reg, ok := h.resolve(r)
	if !ok {
		return errcode.NameUnknown.WithMessage("no registry is served at this address")
	}
	if err := h.auth.Authenticate(r.Context(), reg, r); err != nil {
		w.Header().Set("WWW-Authenticate", h.auth.Challenge(reg, r))
		if e := errcode.As(err); e != nil {
			return e
		}
		return errcode.Unauthorized.New()
	}
	if rt.kind == kindNone {
		return errcode.NameUnknown.WithMessage("no such endpoint: " + r.Method + " " + r.URL.Path)
	}
	if rt.kind != kindBase && rt.kind != kindCatalog && !rt.validName() {
		return errcode.NameInvalid.WithDetail(map[string]string{"name": rt.name})
	}
	rq := &request{w: w, r: r, reg: reg, route: rt}
	m := r.Method
	switch rt.kind {
	case kindBase:
		return only(m, http.MethodGet, http.MethodHead, func() error { return rq.base() })
	case kindCatalog:
		return only(m, http.MethodGet, "", func() error { return h.catalog(rq) })
	case kindTags:
		return only(m, http.MethodGet, "", func() error { return h.tags(rq) })
	case kindReferrers:
		return only(m, http.MethodGet, "", func() error { return h.referrers(rq) })
	case kindManifest:
		switch m {
		case http.MethodGet, http.MethodHead:
			return h.getManifest(rq)
		case http.MethodPut:
			return h.putManifest(rq)
		case http.MethodDelete:
			return h.deleteManifest(rq)
		}
	case kindBlob:
		switch m {
		case http.MethodGet, http.MethodHead:
			return h.getBlob(rq)
		case http.MethodDelete:
			return h.deleteBlob(rq)
		}
	case kindUploadStart:
		return only(m, http.MethodPost, "", func() error { return h.startUpload(rq) })
	case kindUpload:
		switch m {
		case http.MethodGet:
			return h.uploadStatus(rq)
		case http.MethodPatch:
			return h.patchUpload(rq)
		case http.MethodPut:
			return h.finishUpload(rq)
		case http.MethodDelete:
			return h.cancelUpload(rq)
		}
	}
	return errcode.Unsupported.WithMessage("method " + m + " is not supported on " + r.URL.Path)
}

func only(method, want, also string, f func() error) error {
	if method == want || also != "" && method == also {
		return f()
	}
	return errcode.Unsupported.WithMessage("method " + method + " is not supported here")
}

// request is one data-plane request, after routing and authentication.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	reg   registry.Registry
	route route
}

func (rq *request) ctx() context.Context { return rq.r.Context() }

func (rq *request) base() error {
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.Header().Set("Content-Length", "2")
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		rq.w.Write([]byte("{}"))
	}
	return nil
}

// writeError maps an error to a protocol code, once, for every handler.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	e := toCode(err)
	if e.Code.Status >= 500 && r.Context().Err() != nil {
		e = errcode.ClientClosed.New() // what failed did so because the client left
	}
	if e.Code.Status >= 500 {
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		h.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code.Name, "err", err)
	}
	errcode.Write(w, r, e)
}

func toCode(err error) *errcode.Error {
	if e := errcode.As(err); e != nil {
		return e
	}
	var lock *registry.LockError
	var blobs *registry.BlobsUnknownError
	var rng *registry.RangeError
	var bad *oci.ManifestError
	switch {
	case errors.As(err, &lock):
		return errcode.Denied.WithMessage(lock.Error())
	case errors.As(err, &blobs):
		return errcode.ManifestBlobUnknown.WithDetail(map[string]any{"digests": blobs.Digests})
	case errors.As(err, &rng):
		return errcode.RangeInvalid.WithMessage(rng.Error())
	case errors.As(err, &bad):
		return errcode.ManifestInvalid.WithMessage(bad.Error())
	case errors.Is(err, oci.ErrSchema1):
		return errcode.ManifestInvalid.WithMessage(err.Error())
	case errors.Is(err, oci.ErrDigestInvalid):
		return errcode.DigestInvalid.WithMessage("invalid digest")
	case errors.Is(err, registry.ErrNameUnknown):
		return errcode.NameUnknown.New()
	case errors.Is(err, registry.ErrManifestUnknown):
		return errcode.ManifestUnknown.New()
	case errors.Is(err, registry.ErrBlobUnknown):
		return errcode.BlobUnknown.New()
	case errors.Is(err, registry.ErrUploadUnknown):
		return errcode.BlobUploadUnknown.New()
	case errors.Is(err, registry.ErrDigestMismatch):
		return errcode.DigestInvalid.New()
	case errors.Is(err, registry.ErrSizeMismatch):
		return errcode.SizeInvalid.New()
	case errors.Is(err, registry.ErrUploadRace):
		return errcode.RangeInvalid.WithMessage(err.Error())
	}
	return errcode.Unknown.New()
}

func setLength(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
}
