package app

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// endpointRetry is how long a private endpoint whose address could not be
// bound waits for another try when no reload comes first.
const endpointRetry = 10 * time.Second

// endpointListeners keeps one listener open for every approved private
// endpoint, following the route table: it is told of every reload, and
// opens and closes listeners to match. Before start and after stop it
// only remembers the table, so nothing listens outside Server.Run.
type endpointListeners struct {
	log     *slog.Logger
	handler http.Handler // what every endpoint serves

	mu      sync.Mutex
	running bool
	tls     *tls.Config // nil: plain HTTP, as the public listeners
	table   *routeTable // the latest reload's
	open    map[int64]*endpointListener
	failed  map[int64]string // the last bind error of an endpoint, until it binds
	retry   *time.Timer      // pending while some endpoint failed to bind
}

// endpointListener is the listener of one approved endpoint.
type endpointListener struct {
	addr string
	srv  *http.Server
}

func newEndpointListeners(log *slog.Logger, h http.Handler) *endpointListeners {
	return &endpointListeners{log: log, handler: privateEndpointHandler(h),
		open: map[int64]*endpointListener{}, failed: map[int64]string{}}
}

// privateEndpointHandler serves the data plane only: the management,
// identity, portal and ops planes are reached on the public listeners.
func privateEndpointHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v2" || strings.HasPrefix(p, "/v2/"), strings.HasPrefix(p, "/oauth2/"),
			strings.HasPrefix(p, "/acr/v1/"), p == "/healthz":
			h.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// reloaded is the routes' onReload hook. It runs under the routes' reload
// lock, so tables arrive in order; it never blocks on a connection.
func (m *endpointListeners) reloaded(_ context.Context, t *routeTable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.table = t
	if m.running {
		m.reconcile()
	}
}

// start opens the listeners of the approved endpoints, serving TLS with
// tlsCfg when it is not nil, and keeps them in step with reloads.
func (m *endpointListeners) start(tlsCfg *tls.Config) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running, m.tls = true, tlsCfg
	m.reconcile()
}

// stop shuts every endpoint listener down gracefully, as the public ones
// are, until ctx ends; later reloads open nothing.
func (m *endpointListeners) stop(ctx context.Context) {
	m.mu.Lock()
	m.running = false
	if m.retry != nil {
		m.retry.Stop()
		m.retry = nil
	}
	open := m.open
	m.open = map[int64]*endpointListener{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range open {
		wg.Add(1)
		go func() { defer wg.Done(); l.srv.Shutdown(ctx) }()
	}
	wg.Wait()
}

// reconcile makes the open listeners those of the approved endpoints of
// the table. m.mu is held.
func (m *endpointListeners) reconcile() {
	if m.table == nil {
		return
	}
	for id, l := range m.open {
		e, ok := m.table.endpoints[id]
		if ok && e.State == meta.EndpointApproved && e.Address == l.addr {
			continue
		}
		// Close, not Shutdown: a rejected endpoint's keep-alive
		// connections must end now, not when their clients go.
		l.srv.Close()
		delete(m.open, id)
		m.log.Info("private endpoint closed", "endpoint_id", id, "addr", l.addr)
	}
	for id := range m.failed {
		if e, ok := m.table.endpoints[id]; !ok || e.State != meta.EndpointApproved {
			delete(m.failed, id)
		}
	}
	for id, e := range m.table.endpoints {
		if e.State != meta.EndpointApproved || m.open[id] != nil {
			continue
		}
		if err := m.listen(e); err != nil {
			m.bindFailed(e, err)
		}
	}
}

// listen opens e's listener and serves it. m.mu is held.
func (m *endpointListeners) listen(e meta.PrivateEndpoint) error {
	ln, err := net.Listen("tcp", e.Address)
	if err != nil {
		return err
	}
	id := e.ID
	srv := newHTTPServer(m.handler, m.tls, m.log)
	srv.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), endpointKey{}, id)
	}
	l := &endpointListener{addr: e.Address, srv: srv}
	m.open[id] = l
	delete(m.failed, id)
	go m.serve(id, l, ln)
	m.log.Info("private endpoint listening", "registry", e.Registry, "endpoint", e.Name, "addr", ln.Addr().String(), "tls", m.tls != nil)
	return nil
}

func (m *endpointListeners) serve(id int64, l *endpointListener, ln net.Listener) {
	var err error
	if l.srv.TLSConfig != nil {
		err = l.srv.ServeTLS(ln, "", "")
	} else {
		err = l.srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return
	}
	// The listener broke under us: forget it, so that a retry opens it again.
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open[id] == l {
		delete(m.open, id)
		if e, ok := m.table.endpoints[id]; ok {
			m.bindFailed(e, err)
		}
	}
}

// bindFailed logs a listener that could not be opened (as a warning the
// first time, then quietly) and has it tried again later. m.mu is held.
func (m *endpointListeners) bindFailed(e meta.PrivateEndpoint, err error) {
	level := slog.LevelWarn
	if m.failed[e.ID] == err.Error() {
		level = slog.LevelDebug
	}
	m.failed[e.ID] = err.Error()
	m.log.Log(context.Background(), level, "private endpoint cannot listen; will retry",
		"registry", e.Registry, "endpoint", e.Name, "addr", e.Address, "err", err)
	if m.retry == nil && m.running {
		m.retry = time.AfterFunc(endpointRetry, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.retry = nil
			if m.running {
				m.reconcile()
			}
		})
	}
}

// newHTTPServer is how every listener of the server serves h. Each gets
// its own copy of tlsCfg: serving TLS writes to the config (NextProtos).
func newHTTPServer(h http.Handler, tlsCfg *tls.Config, log *slog.Logger) *http.Server {
	if tlsCfg != nil {
		tlsCfg = tlsCfg.Clone()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		TLSConfig:         tlsCfg,
	}
}
