package distribution

import (
	"context"
	"net/http"
	"strconv"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/registry"
)

// Handler serves /v2/ behind the data-plane pipeline.
type Handler struct {
	svc *registry.Service
}

// New returns the /v2 API; serve it with dataplane.Pipeline.Handler.
func New(svc *registry.Service) *Handler { return &Handler{svc: svc} }

// Route names what a request addresses, for metrics.
func (h *Handler) Route(r *http.Request) string { return parsePath(r.URL.Path).kind.String() }

// Serve answers an authenticated request for reg.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, reg registry.Registry) error {
	rt := parsePath(r.URL.Path)
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

func setLength(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
}
