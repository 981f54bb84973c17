package app

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"sync"

	"github.com/berth-project/berth/internal/agent"
)

// runAgents runs the in-process build agents until ctx ends: the agent of
// cfg.Agent, and those of the dedicated pools. They call this server's own
// agent API over its first listener, so each is an agent like any other,
// and they share one BuildKit daemon, started only when the first run
// arrives and stopped before runAgents returns.
func (s *Server) runAgents(ctx context.Context, ln net.Listener) {
	scheme := "http"
	if s.cfg.TLS.Cert != "" {
		scheme = "https"
	}
	server := scheme + "://" + reachableAddr(ln.Addr().String())
	engine := agent.NewSharedEngine(s.cfg.Agent.BuildkitAddr, filepath.Join(s.cfg.DataDir, "agent", "buildkit"), s.log)
	defer engine.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.runLocalAgent(ctx, server, engine) }()
	go func() {
		defer wg.Done()
		s.dedicated.run(ctx, server, s.cfg.TLS.Cert == "", filepath.Join(s.cfg.DataDir, "agent", "dedicated"), engine)
	}()
	wg.Wait()
}

// runLocalAgent runs the in-process build agent of cfg.Agent until ctx
// ends.
func (s *Server) runLocalAgent(ctx context.Context, server string, engine *agent.SharedEngine) {
	a := s.cfg.Agent
	ag, err := agent.New(agent.Options{
		Server: server, Token: s.AgentToken(a.Pool), Name: "local-" + a.Egress,
		Egress: netip.MustParseAddr(a.Egress), DataDir: filepath.Join(s.cfg.DataDir, "agent"),
		PlainHTTP: s.cfg.TLS.Cert == "", Log: s.log, SharedEngine: engine,
	})
	if err != nil {
		s.log.Error("local agent: not started", "err", err)
		return
	}
	defer ag.Close()
	s.log.Info("local agent started", "pool", a.Pool, "egress", a.Egress)
	ag.Serve(ctx)
}
