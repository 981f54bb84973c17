// Package testserver runs a real `berth serve` process for end-to-end tests.
//
// It builds the berth binary once per test process, starts it on a free
// loopback port with a temporary data directory and a random admin password,
// and stops it when the test ends. It also finds the client tools (crane,
// oras, regctl, skopeo) that `make tools` links into the repository's bin/.
//
// It knows nothing of berth's packages: it drives the binary from outside,
// the way an operator or a client would.
package testserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// AdminUser is the bootstrap user whose password BERTH_ADMIN_PASSWORD sets.
	AdminUser = "admin"

	healthTimeout = 20 * time.Second
	stopTimeout   = 10 * time.Second
	bindAttempts  = 5

	// binaryEnv names a prebuilt berth binary to use instead of building one;
	// `make test` sets it to the bin/berth it has just built.
	binaryEnv = "BERTH_BINARY"
	// skipToolsEnv turns a missing client tool into a skip instead of a failure.
	skipToolsEnv = "BERTH_E2E_SKIP_TOOLS"
)

// Opts changes how Start runs the server. The zero value is the embedded
// default on one free loopback port.
type Opts struct {
	// ExtraListen adds --listen addresses. An address whose port is 0
	// (for example "127.0.0.2:0") gets a free port, chosen once, so that
	// Restart comes back on the same addresses.
	ExtraListen []string
	// Args are appended to the `berth serve` command line.
	Args []string
	// Env entries (KEY=VALUE) are added to the server's environment and win
	// over the defaults, including BERTH_ADMIN_PASSWORD.
	Env []string
	// DataDir is used instead of a fresh temporary directory.
	DataDir string
}

// Server is a running `berth serve` process.
type Server struct {
	// URL is the base URL of the first listener, e.g. http://127.0.0.1:40123.
	URL string
	// Addr is the first listener's host:port.
	Addr string
	// Listen holds every --listen address, Addr first.
	Listen []string
	// Password is the admin password.
	Password string
	// DataDir is the server's data directory.
	DataDir string
	// PID is the process ID of the current server process.
	PID int

	t      testing.TB
	binary string
	opts   Opts

	mu     sync.Mutex
	cmd    *exec.Cmd
	stderr *tailBuffer
	exited chan struct{} // closed when the current process has been reaped
	err    error         // the current process's exit status, once exited
	ended  bool          // the current process was stopped or killed by us
}

// Start builds berth if needed, starts `berth serve` and waits until its
// /healthz answers 200. The server is stopped when the test ends.
func Start(t testing.TB, opts Opts) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		binary:   Binary(t),
		opts:     opts,
		Password: randomPassword(t),
		DataDir:  opts.DataDir,
	}
	if s.DataDir == "" {
		// Created before the stop cleanup is registered, so it is removed
		// only after the server has exited.
		s.DataDir = t.TempDir()
	}
	t.Cleanup(func() {
		s.Stop()
		if out := s.Stderr(); t.Failed() && out != "" {
			t.Logf("berth serve stderr, last %d bytes:\n%s", failureTail, lastBytes(out, failureTail))
		}
	})

	var lastErr error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		if err := s.pickAddrs(); err != nil {
			t.Fatalf("testserver: %v", err)
		}
		err := s.start()
		if err == nil {
			return s
		}
		lastErr = err
		// Another process may have taken the port between our probe and
		// the server's bind; anything else is a real failure.
		if !strings.Contains(s.Stderr(), "address already in use") {
			break
		}
	}
	t.Fatalf("testserver: %v\nberth serve stderr:\n%s", lastErr, s.Stderr())
	return nil
}

// pickAddrs chooses the listen addresses for a fresh start.
func (s *Server) pickAddrs() error {
	addr, err := freeAddr("127.0.0.1")
	if err != nil {
		return err
	}
	listen := []string{addr}
	for _, a := range s.opts.ExtraListen {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("extra listen address %q: %w", a, err)
		}
		if port == "0" {
			if a, err = freeAddr(host); err != nil {
				return err
			}
		}
		listen = append(listen, a)
	}
	s.Addr = addr
	s.URL = "http://" + addr
	s.Listen = listen
	return nil
}

// start launches the process on s.Listen and waits for it to be healthy.
func (s *Server) start() error {
	args := []string{"serve", "--data-dir", s.DataDir}
	for _, a := range s.Listen {
		args = append(args, "--listen", a)
	}
	args = append(args, s.opts.Args...)

	cmd := exec.Command(s.binary, args...)
	cmd.Dir = s.DataDir
	cmd.Env = append(serverEnv(), "BERTH_ADMIN_PASSWORD="+s.Password)
	cmd.Env = append(cmd.Env, s.opts.Env...)
	stderr := newTailBuffer()
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	// A child of the server holding the output pipe open must not stall Wait.
	cmd.WaitDelay = 2 * time.Second
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.binary, err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.stderr, s.exited, s.err, s.ended = cmd, stderr, exited, nil, false
	s.PID = cmd.Process.Pid
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		// Whatever the server left behind goes with it.
		killGroup(cmd.Process.Pid)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(exited)
	}()

	if err := waitHealthy(s.URL+"/healthz", exited); err != nil {
		s.Kill()
		return err
	}
	return nil
}

// Stop sends SIGTERM and waits for the process to exit, sending SIGKILL after
// 10 s. The test fails if the server does not exit cleanly, since SIGTERM is
// a graceful stop, and if it had already died without Kill. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		s.mu.Lock()
		err, ended := s.err, s.ended
		s.ended = true // report a crash once
		s.mu.Unlock()
		if !ended {
			s.t.Errorf("testserver: berth serve (pid %d) exited by itself during the test: %v", cmd.Process.Pid, err)
		}
		return
	default:
	}
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if err != nil {
			s.t.Errorf("testserver: berth serve (pid %d) did not exit cleanly on SIGTERM: %v", cmd.Process.Pid, err)
		}
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
		s.t.Errorf("testserver: berth serve (pid %d) ignored SIGTERM for %s; killed", cmd.Process.Pid, stopTimeout)
	}
}

// Kill sends SIGKILL to the server and anything it started, and waits for
// the process to be gone, as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	killGroup(cmd.Process.Pid)
	<-exited
}

// Restart stops the server if it is running and starts it again with the
// same data directory, addresses, password and options.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("testserver: restart: %v\nberth serve stderr:\n%s", err, s.Stderr())
	}
}

// Exited reports whether the current process has exited, and its status.
func (s *Server) Exited() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false, nil
	}
	select {
	case <-s.exited:
		return true, s.err
	default:
		return false, nil
	}
}

// Stderr returns the tail of what the current process wrote to stderr and stdout.
func (s *Server) Stderr() string {
	s.mu.Lock()
	b := s.stderr
	s.mu.Unlock()
	if b == nil {
		return ""
	}
	return b.String()
}

// Client returns an HTTP client that talks to the server directly (no
// proxy from the environment).
func (s *Server) Client() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
}

// waitHealthy polls url until it answers 200, the process exits, or the
// health timeout passes.
func waitHealthy(url string, exited <-chan struct{}) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	deadline := time.Now().Add(healthTimeout)
	var last string
	for {
		select {
		case <-exited:
			return errors.New("berth serve exited before " + url + " answered 200")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s did not answer 200 within %s (last: %s)", url, healthTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns host:port with a port that was free a moment ago.
func freeAddr(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", host, err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// serverEnv is the test process's environment without BERTH_* variables, so
// a developer's own settings cannot leak into the server under test.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BERTH_") {
			env = append(env, kv)
		}
	}
	return env
}

func randomPassword(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testserver: random password: %v", err)
	}
	return "pw-" + hex.EncodeToString(b)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns the path of a berth binary built from this checkout,
// building it on first use in this test process. BERTH_BINARY, when set,
// names a binary to use instead.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv(binaryEnv); p != "" {
			if _, err := os.Stat(p); err != nil {
				buildErr = fmt.Errorf("%s=%s: %w", binaryEnv, p, err)
			}
			buildPath = p
			return
		}
		buildPath, buildErr = build()
	})
	if buildErr != nil {
		t.Fatalf("testserver: %v", buildErr)
	}
	return buildPath
}

// build runs `go build ./cmd/berth` from the module root into a directory
// kept per checkout under the user cache, so that repeated test runs reuse
// one file instead of leaving binaries behind. The build writes a private
// file and renames it into place, so parallel test processes do not clash.
func build() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := buildDir(root)
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	tmp := filepath.Join(dir, "berth.tmp-"+strconv.Itoa(os.Getpid()))
	cmd := exec.Command(goBin, "build", "-o", tmp, "./cmd/berth")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build ./cmd/berth in %s: %v\n%s", root, err, out.String())
	}
	final := filepath.Join(dir, "berth")
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return final, nil
}

func buildDir(root string) (string, error) {
	if cache, err := os.UserCacheDir(); err == nil {
		// One directory per checkout: the path's hash tells them apart.
		dir := filepath.Join(cache, "berth", "testserver", shortHash(root))
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir, nil
		}
	}
	return os.MkdirTemp("", "berth-testserver-")
}

// ModuleRoot returns the directory holding go.mod, found by walking up from
// the working directory (a test runs in its package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Tool returns the path of a client tool (crane, oras, regctl, skopeo) in the
// repository's bin/, where `make tools` puts it. A missing tool fails the
// test, since a skipped end-to-end test proves nothing; set
// BERTH_E2E_SKIP_TOOLS=1 to skip instead.
func Tool(t testing.TB, name string) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	path := filepath.Join(root, "bin", name)
	info, err := os.Stat(path) // follows the symlink into the tool cache
	if err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
		return path
	}
	msg := fmt.Sprintf("client tool %s not found at %s: run `make tools`", name, path)
	if os.Getenv(skipToolsEnv) == "1" {
		t.Skip(msg + " (skipping: " + skipToolsEnv + "=1)")
	}
	t.Fatal(msg)
	return ""
}
