package buildengine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// spawnLocked starts one buildkitd, its output appended to the log file,
// and records it as the running process. d.mu must be held, so that Close
// either sees the new process or stops the supervisor before it spawns.
func (d *Daemon) spawnLocked() (*process, error) {
	logFile, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("buildengine: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	// A socket left by a buildkitd that was killed would make the next one
	// fail to listen.
	_ = os.Remove(d.socket)
	cmd := exec.Command(d.argv[0], d.argv[1:]...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("buildengine: start %s: %w", d.argv[0], err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	d.proc = p
	d.logger.Info("buildkitd started", "pid", cmd.Process.Pid, "config", d.argv[2], "log", d.logPath)
	return p, nil
}

// supervise waits for each buildkitd to exit and, unless Close was called,
// starts another after a delay that doubles while restarts keep failing.
func (d *Daemon) supervise(p *process) {
	defer close(d.stopped)
	delay := firstRestartDelay
	for {
		if p != nil {
			started := time.Now()
			err := p.cmd.Wait()
			close(p.exited)
			d.mu.Lock()
			d.proc = nil
			d.mu.Unlock()
			select {
			case <-d.closing:
				return
			default:
			}
			if time.Since(started) > 10*maxRestartDelay {
				delay = firstRestartDelay // it had been running well
			}
			d.logger.Error("buildkitd exited", "pid", p.cmd.Process.Pid, "err", err, "restart_in", delay, "log", d.logPath)
		}
		select {
		case <-d.closing:
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRestartDelay)

		d.mu.Lock()
		select {
		case <-d.closing:
			d.mu.Unlock()
			return
		default:
		}
		var err error
		p, err = d.spawnLocked()
		d.mu.Unlock()
		if err != nil {
			d.logger.Error("buildkitd restart failed", "err", err, "retry_in", delay)
		}
	}
}

// waitReady polls until the daemon lists a worker, p exits, or ctx ends.
func (d *Daemon) waitReady(ctx context.Context, p *process) error {
	var last error
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = d.Ping(pingCtx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("buildkitd exited during start-up: %s", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("%w (last try: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail returns at most the last n bytes of the file at path.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
