package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/internal/ocilayout"
)

// cmdEnv is a BuildKit daemon and the busybox image in a layout store, as
// the agent hands a `cmd` step's image to BuildKit.
type cmdEnv struct {
	engine agent.Buildctl
	base   agent.CmdRequest // the image, its store and config

	mu   sync.Mutex
	runs []buildctlRun
}

// buildctlRun is one buildctl command, as the step started it.
type buildctlRun struct {
	args       []string
	dockerfile string      // the generated Dockerfile
	dirMode    os.FileMode // of its directory
	fileMode   os.FileMode
}

func newCmdEnv(t *testing.T) *cmdEnv {
	t.Helper()
	d := startEngine(t)

	store := t.TempDir()
	desc, err := buildengine.WriteBusyboxImage(store, "", "busybox")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ocilayout.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := agent.ImageConfigOf(l, desc)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cmd) != 1 || cfg.Cmd[0] != "sh" || len(cfg.Env) != 1 || !strings.HasPrefix(cfg.Env[0], "PATH=") {
		t.Fatalf("ImageConfigOf(busybox) = %+v", cfg)
	}
	e := &cmdEnv{base: agent.CmdRequest{
		Image:        "registry.invalid/base/busybox@sha256:" + strings.Repeat("0", 64), // no registry answers this name
		NamedContext: "oci-layout://step@" + desc.Digest.String(),
		Stores:       map[string]string{"step": store},
		Config:       cfg,
		ContextDir:   t.TempDir(),
	}}
	e.engine = agent.Buildctl{Command: func(ctx context.Context, args ...string) *exec.Cmd {
		r := buildctlRun{args: args}
		for _, a := range args {
			if dir, ok := strings.CutPrefix(a, "dockerfile="); ok {
				b, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
				r.dockerfile = string(b)
				if fi, err := os.Stat(dir); err == nil {
					r.dirMode = fi.Mode().Perm()
				}
				if fi, err := os.Stat(filepath.Join(dir, "Dockerfile")); err == nil {
					r.fileMode = fi.Mode().Perm()
				}
			}
		}
		e.mu.Lock()
		e.runs = append(e.runs, r)
		e.mu.Unlock()
		return d.Buildctl(ctx, args...)
	}}
	return e
}

// last is the buildctl command of the step run last.
func (e *cmdEnv) last() buildctlRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[len(e.runs)-1]
}

func (e *cmdEnv) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.runs)
}

// run runs the step req (the image's fields filled in when empty) and
// returns its log.
func (e *cmdEnv) run(ctx context.Context, req agent.CmdRequest) (string, error) {
	if req.Image == "" {
		req.Image, req.NamedContext, req.Stores = e.base.Image, e.base.NamedContext, e.base.Stores
	}
	if req.Config.Cmd == nil && req.Config.Entrypoint == nil {
		req.Config = e.base.Config
	}
	if req.ContextDir == "" {
		req.ContextDir = e.base.ContextDir
	}
	var log bytes.Buffer
	err := e.engine.RunCmd(ctx, req, &syncWriter{w: &log})
	return log.String(), err
}

// syncWriter lets a test read a log that a step may still write to.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func sh(script string) []string { return []string{"sh", "-c", script} }

func TestCmdStep(t *testing.T) {
	e := newCmdEnv(t)
	ctx := context.Background()

	t.Run("output and env", func(t *testing.T) {
		const secret = `s3cr3t "quoted" $HOME \back`
		log, err := e.run(ctx, agent.CmdRequest{
			Args: sh(`echo hello $NAME; printf '%s\n' "$TOKEN"; echo "$X $PATH"; echo to-stderr >&2; printf partial`),
			Env:  []string{"NAME=world", "TOKEN=" + secret, "X=1", "X=2", "PATH=/bin:/step"},
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, log)
		}
		// stderr's line is whole, somewhere among stdout's lines: BuildKit
		// sends the two streams in chunks of their own.
		stdout, found := strings.CutPrefix(log, "to-stderr\n")
		if !found {
			before, after, ok := strings.Cut(log, "\nto-stderr\n")
			stdout, found = before+"\n"+after, ok
		}
		if want := "hello world\n" + secret + "\n2 /bin:/step\npartial"; !found || stdout != want {
			t.Errorf("log %q, want %q with the line to-stderr", log, want)
		}
		// No env value on buildctl's command line, which every user of
		// the machine can list; the Dockerfile that holds them is private.
		r := e.last()
		if args := strings.Join(r.args, " "); strings.Contains(args, "s3cr3t") || strings.Contains(args, "world") {
			t.Errorf("buildctl's command line holds an env value: %s", args)
		}
		if !strings.Contains(r.dockerfile, "ENV NAME=") || r.dirMode != 0o700 || r.fileMode != 0o600 {
			t.Errorf("the Dockerfile (mode %v, its directory %v):\n%s", r.fileMode, r.dirMode, r.dockerfile)
		}
		t.Logf("the generated Dockerfile:\n%s", r.dockerfile)
	})

	t.Run("only the command's lines", func(t *testing.T) {
		log, err := e.run(ctx, agent.CmdRequest{Args: sh("echo hello $NAME; echo hello $NAME"), Env: []string{"NAME=world"}})
		if err != nil || log != "hello world\nhello world\n" {
			t.Fatalf("log %q, error %v", log, err)
		}
	})

	t.Run("image cmd and entrypoint", func(t *testing.T) {
		// No Args: the image's Cmd runs.
		log, err := e.run(ctx, agent.CmdRequest{Config: agent.ImageConfig{Cmd: sh("echo from the image cmd")}})
		if err != nil || log != "from the image cmd\n" {
			t.Errorf("image Cmd: log %q, error %v", log, err)
		}
		// Args replace Cmd, after the Entrypoint.
		log, err = e.run(ctx, agent.CmdRequest{
			Config: agent.ImageConfig{Entrypoint: []string{"echo", "entry"}, Cmd: []string{"not-this"}},
			Args:   []string{"a $b", "<<EOF"},
		})
		if err != nil || log != "entry a $b <<EOF\n" {
			t.Errorf("entrypoint and args: log %q, error %v", log, err)
		}
	})

	t.Run("exit status", func(t *testing.T) {
		log, err := e.run(ctx, agent.CmdRequest{Args: sh("echo about to fail; exit 3")})
		if err == nil || err.Error() != "the command exited with status 3" {
			t.Errorf("error %v, want the command exited with status 3", err)
		}
		if log != "about to fail\n" {
			t.Errorf("log %q", log)
		}
		log, err = e.run(ctx, agent.CmdRequest{Args: []string{"no-such-command"}})
		if err == nil || !strings.Contains(log, "no-such-command") {
			t.Errorf("a missing command: log %q, error %v", log, err)
		}
		t.Logf("a missing command: %v, log %q", err, log)
		// BuildKit makes a working directory that the source lacks, in
		// the step's copy only.
		log, err = e.run(ctx, agent.CmdRequest{WorkingDir: "missing", Args: sh("pwd")})
		if err != nil || log != "/workspace/missing\n" {
			t.Errorf("a working directory the source lacks: log %q, error %v", log, err)
		}
		if _, err := os.Stat(filepath.Join(e.base.ContextDir, "missing")); err == nil {
			t.Error("the step's working directory was made in the source")
		}
	})

	t.Run("workspace", func(t *testing.T) {
		src := t.TempDir()
		os.WriteFile(filepath.Join(src, "file.txt"), []byte("from the source\n"), 0o644)
		os.WriteFile(filepath.Join(src, ".dockerignore"), []byte("file.txt\n"), 0o644)
		os.Mkdir(filepath.Join(src, "sub dir"), 0o755)
		os.WriteFile(filepath.Join(src, "sub dir", "inner"), []byte("inner\n"), 0o644)
		log, err := e.run(ctx, agent.CmdRequest{ContextDir: src,
			Args: sh("pwd; cat file.txt; echo changed > file.txt; echo new > new.txt; cat file.txt new.txt")})
		if err != nil || log != "/workspace\nfrom the source\nchanged\nnew\n" {
			t.Errorf("log %q, error %v", log, err)
		}
		if b, _ := os.ReadFile(filepath.Join(src, "file.txt")); string(b) != "from the source\n" {
			t.Errorf("the step changed the source: file.txt = %q", b)
		}
		if _, err := os.Stat(filepath.Join(src, "new.txt")); err == nil {
			t.Error("the step wrote new.txt into the source")
		}
		log, err = e.run(ctx, agent.CmdRequest{ContextDir: src, WorkingDir: "sub dir", Args: sh("pwd; cat inner")})
		if err != nil || log != "/workspace/sub dir\ninner\n" {
			t.Errorf("relative working directory: log %q, error %v", log, err)
		}
		log, err = e.run(ctx, agent.CmdRequest{ContextDir: src, WorkingDir: "/tmp/$HOME", Args: sh("pwd; cat /workspace/file.txt")})
		if err != nil || log != "/tmp/$HOME\nfrom the source\n" {
			t.Errorf("absolute working directory: log %q, error %v", log, err)
		}
	})

	t.Run("network", func(t *testing.T) {
		// A server on the host's loopback, which no step may reach.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("reached the host\n"))
				c.Close()
			}
		}()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		hostNetNS, _ := os.Readlink("/proc/self/ns/net")
		// Interfaces, routes (the header only), the host's server, and
		// whether the namespace is the host's.
		probe := sh("ls /sys/class/net; cat /proc/net/route | wc -l; " +
			"timeout 5 nc 127.0.0.1 " + port + " </dev/null 2>&1; echo nc $?; " +
			"[ \"$(readlink /proc/self/ns/net)\" = '" + hostNetNS + "' ] && echo host namespace; true")
		// BuildKit's "none" and the engine's loopback-only CNI network look
		// the same from inside: a namespace of the step's own whose lo is
		// up (runc brings it up), no other interface, no route.
		want := "lo\n1\nnc: can't connect to remote host (127.0.0.1): Connection refused\nnc 1\n"
		for _, network := range []string{"", "default", "none"} {
			log, err := e.run(ctx, agent.CmdRequest{Network: network, Args: probe})
			if err != nil || log != want {
				t.Errorf("network %q: log %q, want %q, error %v", network, log, want, err)
			}
			wantRun := "RUN --network=" + network + " "
			if network == "" {
				wantRun = "RUN --network=default "
			}
			if df := e.last().dockerfile; !strings.Contains(df, wantRun) {
				t.Errorf("network %q: the Dockerfile has no %q:\n%s", network, wantRun, df)
			}
		}
		n := e.count()
		if _, err := e.run(ctx, agent.CmdRequest{Network: "host", Args: probe}); err == nil || e.count() != n {
			t.Errorf("network host: error %v", err)
		}
	})

	t.Run("refused before BuildKit", func(t *testing.T) {
		for name, req := range map[string]agent.CmdRequest{
			"line break in env": {Args: sh("true"), Env: []string{"K=a\nb"}},
			"bad env name":      {Args: sh("true"), Env: []string{"A B=1"}},
			"no command":        {Config: agent.ImageConfig{Cmd: []string{}, Entrypoint: []string{}}},
		} {
			n := e.count()
			if _, err := e.run(ctx, req); err == nil || strings.Contains(err.Error(), "a\nb") {
				t.Errorf("%s: error %v", name, err)
			} else {
				t.Logf("%s: %v", name, err)
			}
			if e.count() != n {
				t.Errorf("%s: buildctl ran", name)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		word := marker(t)
		log := newWatchLog("up-" + word)
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		err := e.engine.RunCmd(tctx, agent.CmdRequest{
			Image: e.base.Image, NamedContext: e.base.NamedContext, Stores: e.base.Stores, ContextDir: e.base.ContextDir,
			Args: sh("printf 'up-%s\\n' " + word + "; sleep 30; printf 'end-%s\\n' " + word),
		}, log)
		took := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the deadline", err)
		}
		if took > 12*time.Second {
			t.Errorf("a step with a 3 s timeout ended after %s", took)
		}
		select {
		case <-log.seen:
		default:
			t.Errorf("the command never started:\n%s", log)
		}
		if strings.Contains(log.String(), "end-"+word) {
			t.Errorf("the command ran to its end:\n%s", log)
		}
		waitGone(t, "the cmd step", word, 10*time.Second)
	})

	t.Run("concurrent", func(t *testing.T) {
		// Warm, each alone takes a little over 3 s.
		start := time.Now()
		var wg sync.WaitGroup
		logs, errs := make([]string, 2), make([]error, 2)
		for i, name := range []string{"one", "two"} {
			wg.Go(func() {
				logs[i], errs[i] = e.run(ctx, agent.CmdRequest{Args: sh("sleep 3; echo step $N"), Env: []string{"N=" + name}})
			})
		}
		wg.Wait()
		took := time.Since(start)
		for i, name := range []string{"one", "two"} {
			if errs[i] != nil || logs[i] != "step "+name+"\n" {
				t.Errorf("step %s: log %q, error %v", name, logs[i], errs[i])
			}
		}
		if took > 6*time.Second {
			t.Errorf("two 3 s steps took %s together: they did not run at once", took)
		}
		t.Logf("two 3 s steps at once: %s", took)
	})

	t.Run("warm trivial step", func(t *testing.T) {
		// The same step again runs again (BuildKit's cache would show a
		// cached step, and no output).
		var best time.Duration
		for range 3 {
			start := time.Now()
			if log, err := e.run(ctx, agent.CmdRequest{Args: []string{"echo", "warm"}}); err != nil || log != "warm\n" {
				t.Fatalf("log %q, error %v", log, err)
			}
			if d := time.Since(start); best == 0 || d < best {
				best = d
			}
		}
		t.Logf("a trivial cmd step, warm: %s", best)
	})
}

// TestCmdProgressDecoding feeds RunCmd a buildctl that prints a rawjson
// progress of its making: the RUN vertex's output alone reaches the log,
// its logs from before BuildKit named the vertex included, each stream's
// lines whole; the exit status comes from the vertex or buildctl's message.
func TestCmdProgressDecoding(t *testing.T) {
	type vertex struct {
		Digest string `json:"digest"`
		Name   string `json:"name,omitempty"`
		Error  string `json:"error,omitempty"`
	}
	type vlog struct {
		Vertex string `json:"vertex"`
		Stream int    `json:"stream"`
		Data   []byte `json:"data"`
	}
	status := func(vs []vertex, ls ...vlog) string {
		b, err := json.Marshal(struct {
			Vertexes []vertex `json:"vertexes,omitempty"`
			Logs     []vlog   `json:"logs,omitempty"`
		}{vs, ls})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const run = "[linux/amd64 stage-0 2/3] RUN --network=default [\"x\"]"
	for _, c := range []struct {
		name     string
		progress []string
		log      string
		err      string
	}{{
		name: "exit status of the vertex",
		progress: []string{
			`time="2026-01-01T00:00:00Z" level=warning msg="failed check for fsverity support"`,
			status(nil, vlog{"sha256:b", 1, []byte("early ")}),
			status([]vertex{{Digest: "sha256:a", Name: "[internal] load build definition from Dockerfile"}},
				vlog{"sha256:a", 1, []byte("#1 framing\n")}),
			status([]vertex{{Digest: "sha256:b", Name: run}},
				vlog{"sha256:b", 2, []byte("err line\nerr half")}, vlog{"sha256:b", 1, []byte("line\nout half")}),
			status([]vertex{{Digest: "sha256:c", Name: "[stage-0 1/3] FROM x"}}, vlog{"sha256:c", 1, []byte("resolve\n")}),
			status([]vertex{{Digest: "sha256:b", Name: run, Error: `process "x" did not complete successfully: exit code: 42`}}),
			`error: failed to solve: process "x" did not complete successfully: exit code: 42`,
		},
		log: "err line\nearly line\nout half\nerr half", // unfinished lines at the end: stdout first
		err: "the command exited with status 42",
	}, {
		name:     "exit status of buildctl's message",
		progress: []string{`error: failed to solve: process "x" did not complete successfully: exit code: 7`},
		err:      "the command exited with status 7",
	}, {
		name:     "an engine error",
		progress: []string{`error: failed to solve: the frontend says no`},
		err:      "buildctl: exit status 1: error: failed to solve: the frontend says no",
	}} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "progress")
			if err := os.WriteFile(file, []byte(strings.Join(c.progress, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			b := agent.Buildctl{Command: func(ctx context.Context, args ...string) *exec.Cmd {
				return exec.CommandContext(ctx, "sh", "-c", `cat "$0" >&2; exit 1`, file)
			}}
			var log bytes.Buffer
			err := b.RunCmd(context.Background(), agent.CmdRequest{Image: "x", Args: []string{"x"}}, &log)
			if err == nil || err.Error() != c.err {
				t.Errorf("error %v, want %s", err, c.err)
			}
			if log.String() != c.log {
				t.Errorf("log %q, want %q", log.String(), c.log)
			}
		})
	}
}
