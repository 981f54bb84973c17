package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is a berth process the bench started itself, so that it knows its
// PID, owns its data directory and stops it at the end.
type server struct {
	cmd      *exec.Cmd
	dir      string // temporary; holds data/ and server.log
	dataDir  string // the server's --data-dir, dir/data
	logPath  string
	url      string
	password string
	exited   chan struct{}
	waitErr  error
}

const healthTimeout = 30 * time.Second

func startServer(ctx context.Context, path string) (*server, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, logPath: filepath.Join(dir, "server.log"), password: randomHex(16), exited: make(chan struct{})}
	s.dataDir = filepath.Join(dir, "data")
	if err := os.Mkdir(s.dataDir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.url = "http://" + addr
	logFile, err := os.Create(s.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	// Not exec.CommandContext: the server is stopped with SIGTERM by stop,
	// also when ctx was cancelled by an interrupt.
	s.cmd = exec.Command(path, "serve", "--data-dir", s.dataDir, "--listen", addr)
	s.cmd.Env = append(os.Environ(), "BERTH_ADMIN_PASSWORD="+s.password)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a Ctrl-C at the terminal reaches only the
		// bench, which then stops the server with SIGTERM and cleans up.
		Setpgid: true,
		// And should the bench be killed outright, the server goes too.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx); err != nil {
		note := s.exitNote()
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, note)
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// freeAddr returns a 127.0.0.1 address with a port nobody listened on a
// moment ago. Another process could take it before the server does; the
// health check then fails rather than measuring the wrong thing.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHealthy polls GET /healthz until it answers 200, the server exits, or
// healthTimeout passes.
func (s *server) waitHealthy(ctx context.Context) error {
	c := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "status " + resp.Status
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited before it was healthy: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server not healthy after %v: GET /healthz: %s", healthTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exitNote says whether the server has exited and shows the end of its log,
// for errors that may be the server's doing.
func (s *server) exitNote() string {
	var b strings.Builder
	select {
	case <-s.exited:
		fmt.Fprintf(&b, "server exited: %v\n", s.waitErr)
	default:
	}
	if log, err := os.ReadFile(s.logPath); err == nil && len(bytes.TrimSpace(log)) > 0 {
		lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
		lines = lines[max(0, len(lines)-20):]
		fmt.Fprintf(&b, "server log (last %d lines):\n  %s", len(lines), strings.Join(lines, "\n  "))
	}
	return b.String()
}

// stop sends SIGTERM, waits for a clean exit (SIGKILL after 10 s) and
// removes the temporary directory. An unclean exit is returned as an error.
func (s *server) stop() error {
	var err error
	select {
	case <-s.exited:
		err = fmt.Errorf("server had already exited: %v", s.waitErr)
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.waitErr != nil {
				err = fmt.Errorf("server exit after SIGTERM: %v", s.waitErr)
			}
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			err = errors.New("server did not exit within 10s of SIGTERM; killed")
		}
	}
	if rmErr := os.RemoveAll(s.dir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}
