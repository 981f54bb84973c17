package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/agentpool"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Dedicated agent pools (docs/builds.md, "Agent pools") are records of the
// metadata store, not config: the server runs count in-process agents for
// each, on the BuildKit its local agent uses, and follows every change
// within a reload. A pool's agents leave from its egress address (the
// private endpoint's host, or the address allotted to the pool), lease
// with the pool's own token, and, for a pool with a private endpoint, are
// told to connect to the endpoint for every request to the login server.

// dedicatedPoll is how often the agents are checked against the store
// when no reload says anything changed.
const dedicatedPoll = 5 * time.Second

// dedicatedAgents runs the in-process agents of every dedicated pool.
type dedicatedAgents struct {
	db   *meta.DB
	open func(sealed []byte, label string) ([]byte, error)
	log  *slog.Logger
	kick chan struct{} // a reload happened: look at the pools now

	// set by run
	server    string // the agent API's URL
	plainHTTP bool
	dataDir   string // agents' work directories are made under it
	engine    *agent.SharedEngine

	mu      sync.Mutex
	running map[dedicatedSlot]*dedicatedAgent
}

// dedicatedSlot is one agent of a pool: its index, 1 to count.
type dedicatedSlot struct {
	pool  int64
	index int
}

// dedicatedAgent is a running agent and what it was started with.
type dedicatedAgent struct {
	egress    netip.Addr
	tokenHash string
	stop      context.CancelFunc
	done      chan struct{}
}

func newDedicatedAgents(db *meta.DB, open func([]byte, string) ([]byte, error), log *slog.Logger) *dedicatedAgents {
	return &dedicatedAgents{db: db, open: open, log: log, kick: make(chan struct{}, 1), running: map[dedicatedSlot]*dedicatedAgent{}}
}

// reloaded is the routes' onReload hook: pools, and the endpoints they
// use, move the registries version. It never blocks.
func (d *dedicatedAgents) reloaded(context.Context, *routeTable) {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run keeps the agents in step with the stored pools until ctx ends, then
// stops them all and waits for them.
func (d *dedicatedAgents) run(ctx context.Context, server string, plainHTTP bool, dataDir string, engine *agent.SharedEngine) {
	d.server, d.plainHTTP, d.dataDir, d.engine = server, plainHTTP, dataDir, engine
	t := time.NewTicker(dedicatedPoll)
	defer t.Stop()
	for {
		if err := d.reconcile(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("dedicated agent pools: reconcile failed", "err", err)
		}
		select {
		case <-ctx.Done():
			d.stopAll()
			return
		case <-d.kick:
		case <-t.C:
		}
	}
}

// reconcile starts the agents the pools want and stops the others: those
// of deleted or shrunk pools, and those whose egress or token changed
// (started again with the new ones).
func (d *dedicatedAgents) reconcile(ctx context.Context) error {
	pools, err := d.db.AgentPools(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	want := map[dedicatedSlot]bool{}
	for _, p := range pools {
		egress, err := agentpool.Egress(p)
		if err != nil {
			d.log.Error("dedicated agent pool: no egress address; its agents do not run", "registry", p.Registry, "pool", p.Name, "err", err)
			continue
		}
		for i := 1; i <= p.Count; i++ {
			slot := dedicatedSlot{p.ID, i}
			want[slot] = true
			if a := d.running[slot]; a != nil {
				if a.egress == egress && a.tokenHash == p.TokenHash {
					continue
				}
				d.stop(slot)
			}
			if err := d.start(ctx, slot, p, egress); err != nil {
				d.log.Error("dedicated agent: not started", "registry", p.Registry, "pool", p.Name, "index", i, "err", err)
			}
		}
	}
	for slot := range d.running {
		if !want[slot] {
			d.stop(slot)
		}
	}
	return nil
}

// start starts the agent of slot. d.mu is held.
func (d *dedicatedAgents) start(ctx context.Context, slot dedicatedSlot, p meta.AgentPool, egress netip.Addr) error {
	tok, err := d.open(p.Token, agentpool.TokenLabel(p.RegistryID, p.Name))
	if err != nil {
		return fmt.Errorf("the pool's token does not open with this server's master key: %w", err)
	}
	name := fmt.Sprintf("%s-%d", p.Name, slot.index)
	ag, err := agent.New(agent.Options{Server: d.server, Token: string(tok), Name: name, Egress: egress,
		DataDir:   filepath.Join(d.dataDir, fmt.Sprintf("%d-%d", slot.pool, slot.index)),
		PlainHTTP: d.plainHTTP, Log: d.log.With("registry", p.Registry, "agent_pool", p.Name, "agent", name),
		SharedEngine: d.engine})
	if err != nil {
		return err
	}
	actx, stop := context.WithCancel(ctx)
	a := &dedicatedAgent{egress: egress, tokenHash: p.TokenHash, stop: stop, done: make(chan struct{})}
	d.running[slot] = a
	go func() {
		defer close(a.done)
		defer ag.Close()
		ag.Serve(actx)
	}()
	d.log.Info("dedicated agent started", "registry", p.Registry, "agent_pool", p.Name, "agent", name, "egress", egress.String())
	return nil
}

// stop stops the agent of slot; a run it holds ends when its lease
// lapses. d.mu is held.
func (d *dedicatedAgents) stop(slot dedicatedSlot) {
	a := d.running[slot]
	delete(d.running, slot)
	a.stop()
	d.log.Info("dedicated agent stopped", "agent_pool_id", slot.pool, "index", slot.index)
}

// stopAll stops every agent and waits for them to end.
func (d *dedicatedAgents) stopAll() {
	d.mu.Lock()
	var done []chan struct{}
	for slot, a := range d.running {
		done = append(done, a.done)
		delete(d.running, slot)
		a.stop()
	}
	d.mu.Unlock()
	for _, c := range done {
		<-c
	}
}

// poolOfToken finds the dedicated pool an agent's token is for: the
// agent API's PoolOfToken.
func (s *Server) poolOfToken(ctx context.Context, token string) (string, error) {
	p, err := s.db.AgentPoolByTokenHash(ctx, agentpool.TokenHash(token))
	if errors.Is(err, meta.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return runs.DedicatedPoolKey(p.Registry, p.Name), nil
}

// loginServerAddress is where the agents of run's pool connect for its
// login server: the private endpoint of a dedicated pool that has one.
func (s *Server) loginServerAddress(ctx context.Context, run meta.Run) (string, error) {
	name, ok := strings.CutPrefix(run.AgentPool, run.Registry+"/")
	if !ok {
		return "", nil // a public pool
	}
	p, err := s.db.AgentPool(ctx, run.RegistryID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return "", nil
	}
	if err != nil || p.PrivateEndpointID == 0 {
		return "", err
	}
	return p.EndpointAddress, nil
}
