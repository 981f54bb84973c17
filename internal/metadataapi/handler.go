// Package metadataapi serves /acr/v1/, the metadata API of the managed
// cloud registry berth is compatible with: listings of repositories, tags
// and manifests with their times and locks, changes to those locks, and
// deletes. Its paths, JSON and status codes follow that registry's, so
// that tools written for it (purge tools, CLIs, SDKs) work unchanged.
//
// Handlers return errors; the data-plane pipeline (package dataplane) alone
// turns them into the OCI error envelope, which that registry answers this
// API with too. The rules (what
// a lock forbids, what a listing hides) live in package registry, the only
// way this package reaches the stores (it uses package meta's record types,
// never its queries); how credentials are checked is the data plane's
// Authenticator's business.
package metadataapi

import (
	"context"
	"net/http"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/registry"
)

// Handler serves /acr/v1/ behind the data-plane pipeline.
type Handler struct {
	svc *registry.Service
}

// New returns the /acr/v1 API; serve it with dataplane.Pipeline.Handler,
// the same pipeline as /v2.
func New(svc *registry.Service) *Handler { return &Handler{svc: svc} }

// Route names what a request addresses, for metrics.
func (h *Handler) Route(r *http.Request) string { return parsePath(r.URL.Path).kind.String() }

// Serve answers an authenticated request for reg.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	rt := parsePath(r.URL.Path)
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
