package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/pkg/client"
)

// Options describe an agent: where its server is, which pool it serves,
// where its registry traffic leaves from and where it keeps its work.
type Options struct {
	Server  string // the server's URL, such as http://127.0.0.1:5000
	Token   string // the pool's token
	Name    string // how runs name the agent
	Egress  netip.Addr
	DataDir string // run work directories, and BuildKit's state unless BuildkitAddr
	// BuildkitAddr uses a running buildkitd; empty starts one (at the
	// first run) under DataDir/buildkit.
	BuildkitAddr string
	// PlainHTTP talks to registries over http.
	PlainHTTP bool
	Log       *slog.Logger
	// SharedEngine is a BuildKit the agent shares with others of its
	// process (BuildkitAddr is then unused, and Close leaves it running);
	// nil: the agent has its own.
	SharedEngine *SharedEngine
}

// SharedEngine is a BuildKit that several agents of one process build on:
// it is started (or connected to) at the first build of any of them.
type SharedEngine struct{ lazy *lazyEngine }

// NewSharedEngine returns an engine on the buildkitd at addr, or, when
// addr is empty, on one it starts with its state under stateDir.
func NewSharedEngine(addr, stateDir string, log *slog.Logger) *SharedEngine {
	return &SharedEngine{&lazyEngine{addr: addr, opts: buildengine.Options{StateDir: stateDir, Logger: log}}}
}

// Close stops the engine's BuildKit daemon, if it started one.
func (e *SharedEngine) Close() { e.lazy.Close() }

// New makes an agent from opts. Close releases its BuildKit daemon.
func New(opts Options) (*Agent, error) {
	c, err := client.New(opts.Server, client.WithTokenSource(client.StaticToken(opts.Token)))
	if err != nil {
		return nil, err
	}
	work := filepath.Join(opts.DataDir, "runs")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	eng := &lazyEngine{addr: opts.BuildkitAddr,
		opts: buildengine.Options{StateDir: filepath.Join(opts.DataDir, "buildkit"), Logger: opts.Log}}
	owned := eng
	if opts.SharedEngine != nil {
		eng, owned = opts.SharedEngine.lazy, nil
	}
	return &Agent{
		API: &Remote{Agent: c.Agent(), Name: opts.Name, Server: opts.Server},
		Exec: &Executor{
			Engine: eng,
			Extract: func(ctx context.Context, r io.Reader, dest string) error {
				return buildcontext.Extract(ctx, r, dest, buildcontext.Limits{})
			},
			Egress: opts.Egress, WorkDir: work, PlainHTTP: opts.PlainHTTP,
		},
		Log:    opts.Log,
		engine: owned,
	}, nil
}

// Close stops the agent's BuildKit daemon, if it started one.
func (a *Agent) Close() {
	if a.engine != nil {
		a.engine.Close()
	}
}

// lazyEngine starts (or connects to) BuildKit at the first build. When
// that fails, the build fails with the reason, which says how to install
// the engine.
type lazyEngine struct {
	opts buildengine.Options
	addr string

	mu     sync.Mutex
	daemon *buildengine.Daemon
}

func (e *lazyEngine) Build(ctx context.Context, req BuildRequest, log io.Writer) error {
	b, err := e.buildctl(ctx)
	if err != nil {
		return err
	}
	return b.Build(ctx, req, log)
}

func (e *lazyEngine) RunCmd(ctx context.Context, req CmdRequest, log io.Writer) error {
	b, err := e.buildctl(ctx)
	if err != nil {
		return err
	}
	return b.RunCmd(ctx, req, log)
}

// buildctl is the Buildctl engine on the daemon, started at the first call.
func (e *lazyEngine) buildctl(ctx context.Context) (Buildctl, error) {
	d, err := e.get(ctx)
	if err != nil {
		return Buildctl{}, fmt.Errorf("no build engine: %w", err)
	}
	return Buildctl{Command: d.Buildctl}, nil
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
		e.daemon = nil
	}
}
