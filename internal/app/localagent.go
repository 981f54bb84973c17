package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/pkg/client"
)

// runLocalAgent runs the in-process build agent of cfg.Agent until ctx
// ends: it calls this server's own agent API over its first listener, so
// it is an agent like any other, and starts its BuildKit daemon only when
// the first run arrives.
func (s *Server) runLocalAgent(ctx context.Context, ln net.Listener) {
	a := s.cfg.Agent
	scheme := "http"
	if s.cfg.TLS.Cert != "" {
		scheme = "https"
	}
	c, err := client.New(scheme+"://"+loopbackAddr(ln.Addr()), client.WithTokenSource(client.StaticToken(s.AgentToken(a.Pool))))
	if err != nil {
		s.log.Error("local agent: not started", "err", err)
		return
	}
	work := filepath.Join(s.cfg.DataDir, "agent")
	if err := os.MkdirAll(work, 0o700); err != nil {
		s.log.Error("local agent: not started", "err", err)
		return
	}
	eng := &lazyEngine{opts: buildengine.Options{StateDir: filepath.Join(s.cfg.DataDir, "buildkit"), Logger: s.log}, addr: a.BuildkitAddr}
	defer eng.Close()
	ag := &agent.Agent{
		API: &agent.Remote{Agent: c.Agent(), Name: "local-" + a.Egress},
		Exec: &agent.Executor{
			Engine: eng,
			Extract: func(ctx context.Context, r io.Reader, dest string) error {
				return buildcontext.Extract(ctx, r, dest, buildcontext.Limits{})
			},
			Egress: netip.MustParseAddr(a.Egress), WorkDir: work, PlainHTTP: s.cfg.TLS.Cert == "",
		},
		Log: s.log,
	}
	s.log.Info("local agent started", "pool", a.Pool, "egress", a.Egress)
	ag.Serve(ctx)
}

// loopbackAddr is where this process reaches its own listener.
func loopbackAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// lazyEngine starts (or connects to) BuildKit at the first build. When
// that fails, every build fails with the reason, which says how to install
// the engine.
type lazyEngine struct {
	opts buildengine.Options
	addr string

	mu     sync.Mutex
	daemon *buildengine.Daemon
}

func (e *lazyEngine) Build(ctx context.Context, req agent.BuildRequest, log io.Writer) error {
	d, err := e.get(ctx)
	if err != nil {
		return fmt.Errorf("no build engine: %w", err)
	}
	return agent.Buildctl{Command: func(ctx context.Context, args ...string) *exec.Cmd { return d.Buildctl(ctx, args...) }}.Build(ctx, req, log)
}

func (e *lazyEngine) get(ctx context.Context) (*buildengine.Daemon, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.daemon != nil {
		return e.daemon, nil
	}
	var d *buildengine.Daemon
	var err error
	if e.addr != "" {
		d, err = buildengine.Connect(ctx, e.addr, e.opts)
	} else {
		d, err = buildengine.Start(ctx, e.opts)
	}
	if err != nil {
		return nil, err
	}
	e.daemon = d
	return d, nil
}

func (e *lazyEngine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.daemon != nil {
		e.daemon.Close()
	}
}
