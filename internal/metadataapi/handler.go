// Package metadataapi serves /acr/v1/, the metadata API of the managed
// cloud registry berth is compatible with: listings of repositories, tags
// and manifests with their times and locks, changes to those locks, and
// deletes. Its paths, JSON and status codes follow that registry's, so
// that tools written for it (purge tools, CLIs, SDKs) work unchanged.
//
// Handlers return errors; writeError alone turns them into the OCI error
// envelope, which that registry answers this API with too. The rules (what
// a lock forbids, what a listing hides) live in package registry, the only
// way this package reaches the stores (it uses package meta's record types,
// never its queries); how credentials are checked is the data plane's
// Authenticator's business.
package metadataapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/berth-project/berth/internal/distribution"
	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
)

// Handler serves /acr/v1/.
type Handler struct {
	svc     *registry.Service
	auth    distribution.Authenticator
	resolve distribution.Resolver
	log     *slog.Logger
	observe distribution.Observer
}

// New returns the /acr/v1 handler, behind the same registry resolution and
// authentication as /v2. observe may be nil.
func New(svc *registry.Service, auth distribution.Authenticator, resolve distribution.Resolver, log *slog.Logger, observe distribution.Observer) *Handler {
	if observe == nil {
		observe = func(string, string, int, time.Duration) {}
	}
	return &Handler{svc: svc, auth: auth, resolve: resolve, log: log, observe: observe}
}

// statusWriter remembers the status for metrics.
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

// ServeHTTP runs the data-plane pipeline: registry, authentication, handler.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt := parsePath(r.URL.Path)
	if err := h.serve(w, r, rt); err != nil {
		h.writeError(w, r, err)
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
	if !rt.validName() {
		return errcode.NameInvalid.WithDetail(map[string]string{"name": rt.name})
	}
	rq := &request{w: w, r: r, reg: reg, route: rt}
	m := r.Method
	switch rt.kind {
	case kindCatalog:
		return only(m, http.MethodGet, func() error { return h.catalog(rq) })
	case kindTags:
		return only(m, http.MethodGet, func() error { return h.listTags(rq) })
	case kindManifests:
		return only(m, http.MethodGet, func() error { return h.listManifests(rq) })
	case kindRepository:
		switch m {
		case http.MethodGet:
			return h.getRepository(rq)
		case http.MethodPatch:
			return h.patchRepository(rq)
		case http.MethodDelete:
			return h.deleteRepository(rq)
		}
	case kindTag:
		switch m {
		case http.MethodGet:
			return h.getTag(rq)
		case http.MethodPatch:
			return h.patchTag(rq)
		case http.MethodDelete:
			return h.deleteTag(rq)
		}
	case kindManifest:
		switch m {
		case http.MethodGet:
			return h.getManifest(rq)
		case http.MethodPatch:
			return h.patchManifest(rq)
		case http.MethodDelete:
			return h.deleteManifest(rq)
		}
	}
	return errcode.Unsupported.WithMessage("method " + m + " is not supported on " + r.URL.Path)
}

func only(method, want string, f func() error) error {
	if method == want {
		return f()
	}
	return errcode.Unsupported.WithMessage("method " + method + " is not supported here")
}

// request is one metadata API request, after routing and authentication.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	reg   registry.Registry
	route route
}

func (rq *request) ctx() context.Context { return rq.r.Context() }

// loginServer is the registry's name in bodies: its login server, or the
// address the client used for a registry that has none (the default).
func (rq *request) loginServer() string {
	if rq.reg.LoginServer != "" {
		return rq.reg.LoginServer
	}
	return rq.r.Host
}

// writeError maps an error to a protocol code, once, for every handler.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toCode(err)
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
	switch {
	case errors.As(err, &lock):
		return errcode.Denied.WithMessage(lock.Error())
	case errors.Is(err, registry.ErrNameUnknown):
		return errcode.NameUnknown.New()
	case errors.Is(err, registry.ErrTagUnknown):
		return errcode.TagUnknown.New()
	case errors.Is(err, registry.ErrManifestUnknown):
		return errcode.ManifestUnknown.New()
	case errors.Is(err, registry.ErrCursorUnknown):
		return errcode.RequestInvalid.WithMessage("last names no entry of this listing; follow the Link header of the previous page")
	case errors.Is(err, oci.ErrDigestInvalid):
		return errcode.DigestInvalid.WithMessage("invalid digest")
	}
	return errcode.Unknown.New()
}
