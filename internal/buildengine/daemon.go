package buildengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Daemon is a BuildKit daemon: one this package started and supervises
// (Start), or one that was already running (Connect).
type Daemon struct {
	addr     string
	buildctl string
	logger   *slog.Logger

	// The rest is set only by Start.
	argv        []string
	socket      string
	logPath     string
	stopTimeout time.Duration
	closeOnce   sync.Once
	closing     chan struct{} // closed by Close
	stopped     chan struct{} // closed when supervise returns

	mu   sync.Mutex
	proc *process // the buildkitd running now; nil between restarts
}

// process is one run of buildkitd.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
}

// restartDelay bounds the back-off between restarts of a buildkitd that died.
const (
	firstRestartDelay = time.Second
	maxRestartDelay   = 30 * time.Second
)

// Start writes the daemon's configuration under opts.StateDir, starts
// buildkitd and waits until it lists its workers. buildkitd is restarted
// if it dies, until Close. ctx bounds the start only.
func Start(ctx context.Context, opts Options) (*Daemon, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("buildengine: BuildKit's runc worker needs Linux, not %s", runtime.GOOS)
	}
	l, err := newLayout(opts.StateDir)
	if err != nil {
		return nil, err
	}
	buildkitd, err := findBinary(opts.BinDir, "buildkitd")
	if err != nil {
		return nil, err
	}
	buildctl, err := findBinary(opts.BinDir, "buildctl")
	if err != nil {
		return nil, err
	}
	runc, err := findRunc(opts.Runc)
	if err != nil {
		return nil, err
	}
	cniBin := opts.CNIBinDir
	if cniBin == "" {
		cniBin = DefaultCNIBinDir
	}
	if _, err := executable(filepath.Join(cniBin, "loopback")); err != nil {
		return nil, err
	}
	if err := writeConfig(l, runc, cniBin); err != nil {
		return nil, err
	}
	d := &Daemon{
		addr:        l.addr(),
		buildctl:    buildctl,
		logger:      logger(opts.Logger),
		argv:        []string{buildkitd, "--config", l.config},
		socket:      l.socket,
		logPath:     l.log,
		stopTimeout: durationOr(opts.StopTimeout, 10*time.Second),
		closing:     make(chan struct{}),
		stopped:     make(chan struct{}),
	}
	d.mu.Lock()
	first, err := d.spawnLocked()
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	go d.supervise(first)

	ctx, cancel := context.WithTimeout(ctx, durationOr(opts.StartTimeout, 60*time.Second))
	defer cancel()
	if err := d.waitReady(ctx, first); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("buildengine: buildkitd did not answer on %s: %w; the end of %s:\n%s",
			d.addr, err, l.log, tail(l.log, 2048))
	}
	d.logger.Info("buildkitd ready", "pid", first.cmd.Process.Pid, "addr", d.addr, "state_dir", l.stateDir)
	return d, nil
}

// Connect returns a Daemon for a buildkitd that is already running at addr
// (unix:///path or tcp://host:port), after checking that it answers. Only
// opts.BinDir (for buildctl) and opts.Logger are used; Close does nothing.
func Connect(ctx context.Context, addr string, opts Options) (*Daemon, error) {
	buildctl, err := findBinary(opts.BinDir, "buildctl")
	if err != nil {
		return nil, err
	}
	d := &Daemon{addr: addr, buildctl: buildctl, logger: logger(opts.Logger)}
	if err := d.Ping(ctx); err != nil {
		return nil, fmt.Errorf("buildengine: no BuildKit daemon answers on %s: %w", addr, err)
	}
	return d, nil
}

// Addr is the daemon's address, as buildctl --addr and BuildKit's Go client
// take it.
func (d *Daemon) Addr() string { return d.addr }

// Buildctl returns a command running buildctl against this daemon with args.
func (d *Daemon) Buildctl(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, d.buildctl, append([]string{"--addr", d.addr}, args...)...)
}

// Ping checks that the daemon answers and has at least one worker.
func (d *Daemon) Ping(ctx context.Context) error {
	var stderr bytes.Buffer
	cmd := d.Buildctl(ctx, "debug", "workers", "--format", "{{json .}}")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("buildctl debug workers: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var workers []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &workers); err != nil {
		return fmt.Errorf("buildctl debug workers: %w", err)
	}
	if len(workers) == 0 {
		return errors.New("buildkitd has no worker")
	}
	return nil
}

// Close stops a daemon that Start started: SIGTERM, then SIGKILL after the
// stop timeout. Its cache stays in the state directory.
func (d *Daemon) Close() error {
	if d.stopped == nil {
		return nil
	}
	var err error
	d.closeOnce.Do(func() {
		d.mu.Lock()
		close(d.closing)
		p := d.proc
		d.mu.Unlock()
		if p == nil {
			<-d.stopped
			return
		}
		pid := p.cmd.Process.Pid
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.stopped:
			d.logger.Info("buildkitd stopped", "pid", pid)
			return
		case <-time.After(d.stopTimeout):
		}
		_ = p.cmd.Process.Kill()
		<-d.stopped
		d.logger.Warn("buildkitd killed", "pid", pid, "after", d.stopTimeout)
		err = fmt.Errorf("buildengine: buildkitd (pid %d) ignored SIGTERM for %s and was killed", pid, d.stopTimeout)
	})
	return err
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return l.With("component", "buildengine")
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
