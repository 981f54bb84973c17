// Package dataplane is the request pipeline in front of every data-plane
// API (/v2 and /acr/v1): it finds the registry a request is for, checks its
// credentials, records metrics, and turns the errors the APIs return into
// the OCI error envelope, in one place. The APIs behind it only answer
// requests that got through.
package dataplane

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/registry"
)

// Authenticator checks the credentials of a data-plane request.
type Authenticator interface {
	// Authenticate returns who is asking when the request's credentials are
	// good for reg. Otherwise it returns an error, and Challenge tells the
	// client how to authenticate for what it wanted.
	Authenticate(ctx context.Context, reg registry.Registry, r *http.Request) (Caller, error)
	Challenge(reg registry.Registry, r *http.Request, want Want) string
}

// Caller is an authenticated client and what it may do.
type Caller interface {
	// Can reports whether action is allowed on repository repo of reg.
	Can(reg registry.Registry, repo, action string) bool
	// CanCatalog reports whether reg's catalog may be listed.
	CanCatalog(reg registry.Registry) bool
	// Bearer reports whether the caller came with an access token, which a
	// client renews for more rights after a 401 challenge.
	Bearer() bool
}

// Want is what a request needs: an action on a repository, the catalog,
// or nothing beyond authentication.
type Want struct {
	Repository string
	Action     string // rbac.Action*, or ActionCatalog, or "" for none
}

// ActionCatalog is the want of a catalog listing.
const ActionCatalog = "catalog"

// Resolver names the registry a request is for, from its listener and Host.
type Resolver func(r *http.Request) (registry.Registry, bool)

// Observer is told of every finished request (metrics).
type Observer func(route, method string, status int, elapsed time.Duration)

// API is one data-plane API behind the pipeline.
type API interface {
	// Route names what a request addresses, for metrics.
	Route(r *http.Request) string
	// Want names the repository and action a request needs.
	Want(r *http.Request) Want
	// Serve answers a request whose registry is known and whose credentials
	// were accepted, or returns an error for the pipeline to write.
	Serve(w http.ResponseWriter, r *http.Request, reg registry.Registry) error
}

// Gatekeeper is the network gate: whether a request may reach a registry
// from where it comes, decided before any credential is looked at.
type Gatekeeper interface {
	// Admit returns "" when the request may pass, else the message of the
	// 403 DENIED it gets.
	Admit(reg registry.Registry, r *http.Request) (denial string)
}

// Pipeline runs every data-plane request through the same steps.
type Pipeline struct {
	auth    Authenticator
	resolve Resolver
	log     *slog.Logger
	observe Observer
	gate    Gatekeeper
}

// WithGate puts the network gate in front of authentication.
func (p *Pipeline) WithGate(g Gatekeeper) *Pipeline {
	p.gate = g
	return p
}

// Gated serves h (an endpoint outside the APIs, such as the token
// endpoints) behind registry resolution and the network gate only.
func (p *Pipeline) Gated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg, ok := p.resolve(r)
		if !ok {
			errcode.Write(w, r, errcode.NameUnknown.WithMessage("no registry is served at this address"))
			return
		}
		if p.gate != nil {
			if denial := p.gate.Admit(reg, r); denial != "" {
				errcode.Write(w, r, errcode.Denied.WithMessage(denial))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// New returns a pipeline; observe may be nil.
func New(auth Authenticator, resolve Resolver, log *slog.Logger, observe Observer) *Pipeline {
	if observe == nil {
		observe = func(string, string, int, time.Duration) {}
	}
	return &Pipeline{auth: auth, resolve: resolve, log: log, observe: observe}
}

// Handler serves api behind the pipeline.
func (p *Pipeline) Handler(api API) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if err := p.serve(w, r, api); err != nil {
			p.writeError(w, r, err)
		}
		p.observe(api.Route(r), r.Method, w.status, time.Since(start))
	})
}

func (p *Pipeline) serve(w http.ResponseWriter, r *http.Request, api API) error {
	reg, ok := p.resolve(r)
	if !ok {
		return errcode.NameUnknown.WithMessage("no registry is served at this address")
	}
	if p.gate != nil {
		if denial := p.gate.Admit(reg, r); denial != "" {
			return errcode.Denied.WithMessage(denial)
		}
	}
	want := api.Want(r)
	caller, err := p.auth.Authenticate(r.Context(), reg, r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", p.auth.Challenge(reg, r, want))
		if e := errcode.As(err); e != nil {
			return e
		}
		return errcode.Unauthorized.New()
	}
	if !allowed(caller, reg, want) {
		if caller.Bearer() {
			// The token lacks the scope: the client asks for it and retries.
			w.Header().Set("WWW-Authenticate", p.auth.Challenge(reg, r, want))
			return errcode.Unauthorized.WithMessage("the access token does not grant " + want.Action + " on " + wantName(want))
		}
		return errcode.Denied.WithMessage("requested access to " + wantName(want) + " is denied: " + want.Action + " is not granted")
	}
	return api.Serve(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)), reg)
}

type callerKey struct{}

// CallerFrom returns the caller of a request that went through the
// pipeline, for the rare check that needs a second want (a mount's source).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

func allowed(c Caller, reg registry.Registry, want Want) bool {
	switch want.Action {
	case "":
		return true
	case ActionCatalog:
		return c.CanCatalog(reg)
	}
	return c.Can(reg, want.Repository, want.Action)
}

func wantName(w Want) string {
	if w.Action == ActionCatalog {
		return "the catalog"
	}
	return "repository " + w.Repository
}

// writeError writes err as an OCI error, logging what the client cannot fix.
func (p *Pipeline) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := Code(err)
	if e.Code.Status >= 500 && r.Context().Err() != nil {
		e = errcode.ClientClosed.New() // what failed did so because the client left
	}
	if e.Code.Status >= 500 {
		p.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		p.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code.Name, "err", err)
	}
	errcode.Write(w, r, e)
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
