package app

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/berth-project/berth/internal/agent"
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
	ag, err := agent.New(agent.Options{
		Server: scheme + "://" + loopbackAddr(ln.Addr()), Token: s.AgentToken(a.Pool), Name: "local-" + a.Egress,
		Egress: netip.MustParseAddr(a.Egress), DataDir: filepath.Join(s.cfg.DataDir, "agent"),
		BuildkitAddr: a.BuildkitAddr, PlainHTTP: s.cfg.TLS.Cert == "", Log: s.log,
	})
	if err != nil {
		s.log.Error("local agent: not started", "err", err)
		return
	}
	defer ag.Close()
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
