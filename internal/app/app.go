// Package app is berth serve's composition root: it turns a validated
// config into stores, services and listeners, and shuts them down in
// order. Nothing imports it but the CLI's serve command.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/agentapi"
	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/dataplane"
	"github.com/berth-project/berth/internal/distribution"
	"github.com/berth-project/berth/internal/gc"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/importer"
	"github.com/berth-project/berth/internal/metadataapi"
	"github.com/berth-project/berth/internal/mgmt"
	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/token"
)

// AdminUser is the bootstrap owner created at first start.
const AdminUser = "admin"

// Server is a running berth serve.
type Server struct {
	cfg config.Config
	log *slog.Logger
	db  *meta.DB
	svc *registry.Service
	gc  *gc.Collector
	// tasks are the stored tasks; triggers fire their timers and base
	// image updates.
	tasks    *tasks.Service
	triggers *tasks.Triggers
	routes   *registryRoutes
	audit    *denialAudit
	tokens   *token.Service
	ids      *identity.Service
	handler  http.Handler
	servers  []*http.Server
	// endpoints are the listeners of approved private endpoints.
	endpoints *endpointListeners
	// runs is the run queue; agentPools the pools agents lease from.
	runs *runs.Service
	// imports copies images into registries (berth import).
	imports    *importer.Service
	agentPools []agentapi.Pool
	// dedicated runs the agents of the dedicated pools.
	dedicated *dedicatedAgents
}

// New opens the stores under cfg.DataDir and prepares the handlers.
// adminPassword sets the bootstrap owner's password; when empty and the
// owner does not exist yet, a random one is generated and written to out.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, adminPassword string, out io.Writer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	db, err := meta.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "meta.db"))
	if err != nil {
		return nil, err
	}
	blobs, err := blob.NewFS(cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, db: db, svc: registry.New(db, blobs, log)}
	m := newMetrics()
	s.gc = newCollector(db, blobs, cfg, log, m)
	if err := s.bootstrap(ctx, adminPassword, out); err != nil {
		db.Close()
		return nil, err
	}
	if s.routes, err = newRegistryRoutes(ctx, s.svc, db, cfg, log); err != nil {
		db.Close()
		return nil, err
	}
	s.audit = newDenialAudit(db, log, m.reg)
	s.routes.onDenied = func(d meta.NetworkDenial) {
		m.denied(d.Registry, d.Reason)
		s.audit.record(d)
	}
	seal, err := identity.LoadSealer(filepath.Join(cfg.DataDir, "master.key"))
	if err != nil {
		db.Close()
		return nil, err
	}
	ids := identity.NewService(db, seal, cfg.CredentialCacheTTL)
	s.ids = ids
	if s.tokens, err = token.New(ctx, identity.KeyStore{DB: db, Seal: seal}, token.Options{Issuer: "berth"}); err != nil {
		db.Close()
		return nil, fmt.Errorf("token signing keys: %w", err)
	}
	if s.agentPools, err = agentPools(cfg); err != nil {
		db.Close()
		return nil, err
	}
	s.runs = runs.New(runs.Options{Store: db, Blobs: blobs, Sealer: seal, Pools: runPools(cfg),
		LeaseDuration: cfg.RunLeaseDuration, Log: log})
	authn := auth.New(ids, s.tokens, db)
	authn.SetRealmHost(endpointHost)
	s.routes.bypass = authn.BypassIdentity
	pipeline := dataplane.New(authn, s.routes.resolve, log, m.observe).WithGate(s.routes)
	v2 := pipeline.Handler(distribution.New(s.svc))
	acr := pipeline.Handler(metadataapi.New(s.svc))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(r.Context()); err != nil {
			http.Error(w, "metadata store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", m.handler())
	mux.Handle("/oauth2/", pipeline.Gated(authn.TokenEndpoints(s.routes.resolve)))
	mux.Handle("POST /identity/oauth2/token", authn.IdentityEndpoint())
	if s.imports, err = s.newImporter(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.tasks = tasks.New(tasks.Options{Store: db, Identities: ids, Runs: s.runs, Sealer: seal, Log: log})
	s.triggers = s.tasks.Triggers(s.resolveBase)
	mux.Handle("/api/", mgmt.New(mgmt.Options{
		Store: db, Identity: ids, Registries: s.svc, Tokens: s.tokens,
		Region: cfg.Region, Domain: strings.ToLower(cfg.Domain), DefaultRegistry: cfg.DefaultRegistry,
		RegistriesChanged: s.routes.reload, Log: log, Pools: pools(cfg), Listeners: listenerPolicy(cfg),
		Runs: s.runs, Imports: s.imports, Tasks: s.tasks,
	}))
	mux.Handle("/agent/v1/", agentapi.New(agentapi.Options{Runs: s.runs, Pools: s.agentPools,
		PoolOfToken: s.poolOfToken, LoginServer: agentLoginServer(db, cfg), LoginServerAddress: s.loginServerAddress, Log: log,
		RunCredential: func(ctx context.Context, run meta.Run, loginServer string) (string, string, error) {
			tok, err := auth.RunToken(s.tokens, run.Registry, loginServer, run, time.Now())
			return auth.NullUser, tok, err
		},
		IdentityToken: s.runIdentityToken}))
	s.handler = dataPlane(v2, acr, mux)
	s.endpoints = newEndpointListeners(log, s.handler)
	s.dedicated = newDedicatedAgents(db, seal.Open, log)
	s.routes.onReload = append(s.routes.onReload, s.endpoints.reloaded, s.dedicated.reloaded)
	s.endpoints.reloaded(ctx, s.routes.table.Load())
	return s, nil
}

// bootstrap creates the default and configured registries and the owner.
func (s *Server) bootstrap(ctx context.Context, adminPassword string, out io.Writer) error {
	if _, err := s.svc.EnsureRegistry(ctx, s.cfg.DefaultRegistry, "", s.cfg.Region); err != nil {
		return fmt.Errorf("create registry %s: %w", s.cfg.DefaultRegistry, err)
	}
	for _, r := range s.cfg.Registries {
		loc := r.Location
		if loc == "" {
			loc = s.cfg.Region
		}
		if _, err := s.svc.EnsureRegistry(ctx, r.Name, r.LoginServer, loc); err != nil {
			return fmt.Errorf("create registry %s: %w", r.Name, err)
		}
	}
	_, err := s.db.User(ctx, AdminUser)
	switch {
	case err == nil && adminPassword == "":
		return nil
	case err != nil && !errors.Is(err, meta.ErrNotFound):
		return err
	}
	generated := adminPassword == ""
	if generated {
		adminPassword = identity.RandomPassword()
	}
	u := meta.User{Name: AdminUser, PasswordHash: identity.HashPassword(adminPassword), Role: "Owner"}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.PutUser(ctx, &u); err != nil {
			return err
		}
		a := meta.RoleAssignment{PrincipalID: u.PrincipalID, Role: "Owner", Scope: "/"}
		if err := tx.CreateRoleAssignment(ctx, &a); err != nil && !errors.Is(err, meta.ErrConflict) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(out, "berth: created the owner %q with password %s (shown once; set BERTH_ADMIN_PASSWORD to choose it)\n", AdminUser, adminPassword)
	}
	return nil
}

// dataPlane sends /v2 and /acr/v1 requests straight to their handlers:
// http.ServeMux would clean "a//b" and "a/../b" into another repository's
// path with a redirect, where the protocol wants NAME_INVALID.
func dataPlane(v2, acr, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v2" || strings.HasPrefix(p, "/v2/"):
			v2.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/acr/v1/"):
			acr.ServeHTTP(w, r)
		default:
			rest.ServeHTTP(w, r)
		}
	})
}

// refreshKeys reloads the token signing keys every minute, so that keys
// another replica added are known well before they start signing.
func (s *Server) refreshKeys(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.tokens.Refresh(ctx); err != nil {
				s.log.Warn("token key refresh failed", "err", err)
			}
		}
	}
}

// Close releases the stores of a server that never ran.
func (s *Server) Close() error { return s.db.Close() }

// Handler is the whole HTTP surface (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// DataDir is where the server keeps its stores.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Identity is the identity service, for tests that make principals
// without going through the management API.
func (s *Server) Identity() *identity.Service { return s.ids }

// TaskTriggers are the task triggers (tests fire them with their own
// clock).
func (s *Server) TaskTriggers() *tasks.Triggers { return s.triggers }

// Collector is the blob garbage collector (tests run passes of it on a
// server that does not Run).
func (s *Server) Collector() *gc.Collector { return s.gc }

// Service is the registry service (tests seed content through it).
func (s *Server) Service() *registry.Service { return s.svc }

// Run listens on every configured address until ctx ends, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	var lns []net.Listener
	for _, addr := range s.cfg.Listen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		lns = append(lns, ln)
	}
	var tlsCfg *tls.Config
	if s.cfg.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLS.Cert, s.cfg.TLS.Key)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	go s.refreshKeys(ctx)
	go s.routes.watch(ctx)
	go s.runs.RunReaper(ctx, time.Second)
	go s.gc.Run(ctx)
	go s.triggers.Run(ctx, taskTriggerInterval)
	agentDone := make(chan struct{})
	agentCtx, stopAgent := context.WithCancel(ctx)
	defer stopAgent()
	if s.cfg.Agent.Enabled && len(lns) > 0 {
		go func() { defer close(agentDone); s.runAgents(agentCtx, lns[0]) }()
	} else {
		close(agentDone)
	}
	actx, stopAudit := context.WithCancel(context.Background())
	audited := make(chan struct{})
	go func() { defer close(audited); s.audit.run(actx) }()
	if s.cfg.PprofListen != "" {
		go servePprof(s.cfg.PprofListen, s.log)
	}
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		srv := newHTTPServer(s.handler, tlsCfg, s.log)
		s.servers = append(s.servers, srv)
		go func(ln net.Listener) {
			var err error
			if tlsCfg != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(ln)
		s.log.Info("listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	}
	s.endpoints.start(tlsCfg)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down")
	stopAgent()
	s.runs.Close() // long-polled leases and log followers answer now
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.endpoints.stop(sctx) }()
	for _, srv := range s.servers {
		wg.Add(1)
		go func() { defer wg.Done(); srv.Shutdown(sctx) }()
	}
	wg.Wait()
	<-agentDone // their BuildKit daemon is stopped too
	stopAudit() // after the listeners: the last requests' denials are written too
	<-audited
	return errors.Join(runErr, s.db.Close())
}

// listenerPolicy is where private endpoints may listen: by the rule of
// the public listeners (config.Validate), and not where the server does.
func listenerPolicy(cfg config.Config) mgmt.ListenerPolicy {
	taken := append([]string(nil), cfg.Listen...)
	if cfg.PprofListen != "" {
		taken = append(taken, cfg.PprofListen)
	}
	return mgmt.ListenerPolicy{TLS: cfg.TLS.Cert != "", Insecure: cfg.Insecure, Taken: taken}
}

// pools are the configured public agent pools, as service tags see them.
func pools(cfg config.Config) []netrules.Pool {
	var out []netrules.Pool
	for _, p := range cfg.AgentPools {
		out = append(out, netrules.Pool{Name: p.Name, Location: p.Location, Kind: netrules.PoolPublic, EgressPrefixes: p.EgressPrefixes})
	}
	return out
}
