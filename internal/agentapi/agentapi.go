// Package agentapi is the agent API under /agent/v1/ (docs/builds.md):
// what build agents call to lease a run of their pool, renew the lease,
// stream the run's log, say it is running, report how it ended, and
// download its build context. An agent authenticates with its pool's
// token; every call about a run also names the lease it holds
// (the Berth-Lease header), so that an agent that lost a run cannot touch
// it again.
//
// It owns the wire shapes of that API and the one function that turns an
// error into {"error":{"code","message"}}. The queue itself is package
// runs; this package must not know the management API or the data plane.
package agentapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// LeaseHeader carries the lease id in every call about a leased run.
const LeaseHeader = "Berth-Lease"

// Pool is an agent pool and the token its agents present.
type Pool struct {
	Name  string
	Token string // "": no agent may call as this pool
}

// Options are what New wires together.
type Options struct {
	Runs  *runs.Service
	Pools []Pool
	// PoolOfToken finds the dedicated pool whose agents present token,
	// for a token that is none of Pools': its queue key (runs.
	// DedicatedPoolKey), or "" when no pool has the token. nil: only
	// Pools' agents are let in.
	PoolOfToken func(ctx context.Context, token string) (string, error)
	// LoginServer is the address an agent reaches registry at.
	LoginServer func(ctx context.Context, registry string) (string, error)
	// LoginServerAddress is where the agents of run's pool connect for
	// the login server: the private endpoint of a dedicated pool that
	// has one, "" for the login server itself (nil: always "").
	LoginServerAddress func(ctx context.Context, run meta.Run) (string, error)
	// RunCredential mints the registry credential of a leased run (user
	// name and password for Basic at the login server's token endpoint);
	// nil: runs get none.
	RunCredential func(ctx context.Context, run meta.Run, loginServer string) (user, password string, err error)
	// IdentityToken mints an identity token for the managed identity
	// principalID, for run: limited to it and expiring with it. nil:
	// runs get none.
	IdentityToken func(ctx context.Context, run meta.Run, principalID string) (token string, expires time.Time, err error)
	// LeaseWait is the longest a lease call waits for a run (20 s).
	LeaseWait time.Duration
	// MaxLogChunk bounds one log call's body (1 MiB).
	MaxLogChunk int64
	Log         *slog.Logger
}

// Defaults of Options.
const (
	DefaultLeaseWait   = 20 * time.Second
	DefaultMaxLogChunk = 1 << 20
)

// maxBody bounds the JSON bodies of the API.
const maxBody = 1 << 20

// API serves /agent/v1/.
type API struct {
	runs        *runs.Service
	pools       []pool
	poolOfToken func(ctx context.Context, token string) (string, error)
	loginServer func(ctx context.Context, registry string) (string, error)
	loginAddr   func(ctx context.Context, run meta.Run) (string, error)
	runCred     func(ctx context.Context, run meta.Run, loginServer string) (string, string, error)
	idToken     func(ctx context.Context, run meta.Run, principalID string) (string, time.Time, error)
	leaseWait   time.Duration
	maxChunk    int64
	log         *slog.Logger
	mux         *http.ServeMux
}

// pool is a Pool with its token hashed, so that comparing tokens takes
// the same time whatever their lengths.
type pool struct {
	name string
	hash [sha256.Size]byte
	ok   bool // has a token
}

// New returns the agent API.
func New(o Options) *API {
	a := &API{runs: o.Runs, poolOfToken: o.PoolOfToken, loginServer: o.LoginServer, loginAddr: o.LoginServerAddress, runCred: o.RunCredential, idToken: o.IdentityToken, leaseWait: o.LeaseWait, maxChunk: o.MaxLogChunk, log: o.Log, mux: http.NewServeMux()}
	for _, p := range o.Pools {
		a.pools = append(a.pools, pool{name: p.Name, hash: sha256.Sum256([]byte(p.Token)), ok: p.Token != ""})
	}
	if a.leaseWait <= 0 {
		a.leaseWait = DefaultLeaseWait
	}
	if a.maxChunk <= 0 {
		a.maxChunk = DefaultMaxLogChunk
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.loginServer == nil {
		a.loginServer = func(context.Context, string) (string, error) { return "", nil }
	}
	a.routes()
	return a
}

// handlerFunc is an agent call: it answers, or returns an error for
// writeError. pool is the caller's pool.
type handlerFunc func(w http.ResponseWriter, r *http.Request, pool string) error

func (a *API) routes() {
	a.mux.HandleFunc("/agent/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, a.log, &apiError{codeNotFound, "there is no operation " + r.Method + " " + r.URL.Path})
	})
	const run = "/agent/v1/runs/{registry}/{runId}"
	for _, rt := range []struct {
		pattern string
		h       handlerFunc
	}{
		{"POST /agent/v1/lease", a.lease},
		{"POST " + run + "/heartbeat", a.heartbeat},
		{"POST " + run + "/status", a.status},
		{"POST " + run + "/log", a.appendLog},
		{"POST " + run + "/complete", a.complete},
		{"GET " + run + "/context", a.context},
		{"POST " + run + "/identityToken", a.identityToken},
	} {
		a.mux.Handle(rt.pattern, a.authenticated(rt.h))
	}
}

// ServeHTTP serves a request under /agent/v1/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// authenticated runs h for a caller with a pool's token.
func (a *API) authenticated(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pool, err := a.authenticate(r)
		if err == nil {
			err = h(w, r, pool)
		}
		if err != nil {
			writeError(w, r, a.log, err)
		}
	})
}

// authenticate finds the pool whose token the request carries, comparing
// with every configured pool's in constant time, then asking for a
// dedicated pool's.
func (a *API) authenticate(r *http.Request) (string, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return "", &apiError{codeUnauthorized, "send the agent pool's token as Authorization: Bearer <token>"}
	}
	h := sha256.Sum256([]byte(tok))
	found := ""
	for _, p := range a.pools {
		if subtle.ConstantTimeCompare(h[:], p.hash[:]) == 1 && p.ok {
			found = p.name
		}
	}
	if found == "" && a.poolOfToken != nil {
		var err error
		if found, err = a.poolOfToken(r.Context(), tok); err != nil {
			return "", err
		}
	}
	if found == "" {
		return "", &apiError{codeUnauthorized, "the token is not the token of any agent pool of this server"}
	}
	return found, nil
}
