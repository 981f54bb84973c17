package agent

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Lease is a run an agent holds, as the agent API hands it out.
type Lease struct {
	Registry string
	RunID    string
	LeaseID  string
	// Duration is how long the lease lasts without a heartbeat.
	Duration time.Duration
	Job      Job // without Context, which Source opens
}

// API is the server's agent API, as the agent uses it.
type API interface {
	// Lease waits a while for a run of the agent's pool; nil when none came.
	Lease(ctx context.Context) (*Lease, error)
	// Source opens the run's build context.
	Source(ctx context.Context, l *Lease) (io.ReadCloser, error)
	// Running says the run has started executing.
	Running(ctx context.Context, l *Lease) error
	// Heartbeat extends the lease; cancel says the run was canceled.
	Heartbeat(ctx context.Context, l *Lease) (cancel bool, err error)
	// Log appends to the run's log.
	Log(ctx context.Context, l *Lease, chunk []byte) error
	// Complete ends the run.
	Complete(ctx context.Context, l *Lease, status string, r Result) error
}

// Statuses a run ends with.
const (
	StatusSucceeded = "Succeeded"
	StatusFailed    = "Failed"
	StatusCanceled  = "Canceled"
	StatusTimeout   = "Timeout"
	StatusError     = "Error"
)

// Agent leases runs from the API and executes them, one at a time.
type Agent struct {
	API  API
	Exec *Executor
	Log  *slog.Logger

	engine *lazyEngine // set by New
}

// Serve runs until ctx ends.
func (a *Agent) Serve(ctx context.Context) error {
	for ctx.Err() == nil {
		l, err := a.API.Lease(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			a.Log.Warn("agent: lease failed", "err", err)
			sleep(ctx, 2*time.Second)
			continue
		}
		if l == nil {
			continue
		}
		a.execute(ctx, l)
	}
	return nil
}

// execute runs one leased run to its end, keeping the lease alive and the
// log flowing meanwhile.
func (a *Agent) execute(ctx context.Context, l *Lease) {
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var canceled atomic.Bool // set by the heartbeat goroutine
	go a.heartbeat(runCtx, l, func() {
		canceled.Store(true)
		cancelRun()
	})
	logw := newChunker(runCtx, func(b []byte) error { return a.API.Log(ctx, l, b) })
	status, r := a.run(runCtx, l, logw)
	logw.Close()
	if canceled.Load() {
		status = StatusCanceled
	}
	if err := a.API.Complete(ctx, l, status, r); err != nil {
		a.Log.Warn("agent: completing the run failed", "registry", l.Registry, "run", l.RunID, "err", err)
	}
}

func (a *Agent) run(ctx context.Context, l *Lease, logw io.Writer) (string, Result) {
	if err := a.API.Running(ctx, l); err != nil {
		return StatusError, Result{Error: "the server refused the run's start: " + err.Error()}
	}
	job := l.Job
	// A run with steps may take its source from elsewhere (/dev/null, git,
	// oci://), and has no uploaded context then.
	if job.Steps == nil || job.Steps.Context == "" {
		src, err := a.API.Source(ctx, l)
		if err != nil {
			return StatusError, Result{Error: "download the build context: " + err.Error()}
		}
		defer src.Close()
		job.Context = src
	}
	r := a.Exec.Run(ctx, job, logw)
	switch {
	case r.Succeeded:
		return StatusSucceeded, r
	case r.TimedOut:
		return StatusTimeout, r
	}
	return StatusFailed, r
}

func (a *Agent) heartbeat(ctx context.Context, l *Lease, onCancel func()) {
	every := l.Duration / 3
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cancel, err := a.API.Heartbeat(ctx, l)
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("agent: heartbeat failed", "run", l.RunID, "err", err)
		}
		if cancel {
			onCancel()
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// chunker collects log output and sends it in chunks: at most every
// 200 ms, or at 32 KiB, and what is left at Close.
type chunker struct {
	mu    sync.Mutex
	buf   []byte
	send  func([]byte) error
	kick  chan struct{}
	done  chan struct{}
	ended chan struct{}
	err   error
}

func newChunker(ctx context.Context, send func([]byte) error) *chunker {
	c := &chunker{send: send, kick: make(chan struct{}, 1), done: make(chan struct{}), ended: make(chan struct{})}
	go c.loop(ctx)
	return c
}

func (c *chunker) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf = append(c.buf, p...)
	full := len(c.buf) >= 32<<10
	c.mu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

func (c *chunker) loop(ctx context.Context) {
	defer close(c.ended)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			c.flush()
			return
		case <-t.C:
		case <-c.kick:
		}
		c.flush()
	}
}

func (c *chunker) flush() {
	c.mu.Lock()
	b := c.buf
	c.buf = nil
	c.mu.Unlock()
	if len(b) > 0 {
		if err := c.send(b); err != nil && c.err == nil {
			c.err = err
		}
	}
}

// Close sends what is left and stops.
func (c *chunker) Close() error {
	close(c.done)
	<-c.ended
	return c.err
}
