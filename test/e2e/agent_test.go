package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
)

// Builds on a standalone agent: `berth serve` with its in-process agent
// off and a run lease of 3 s, one `berth agent` process of the pool local
// reaching the registry from 127.0.1.11, and `berth build` as the user
// runs it.

const (
	standaloneAgentIP = "127.0.1.11"
	runLease          = 3 * time.Second
	// leaseLost is what a run whose agent stopped answering ends with
	// (meta.LeaseLostMessage).
	leaseLost = "the agent stopped answering (lease expired)"
)

type agentScenario struct {
	*netScenario
	base       string // the base image
	agentToken string
	agentDir   string
	agent      *agentProc
}

// agentProc is a `berth agent` process this test started.
type agentProc struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
}

func newAgentScenario(t *testing.T) *agentScenario {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("BuildKit's runc worker needs Linux and root")
	}
	cfg := filepath.Join(t.TempDir(), "berth.yaml")
	if err := os.WriteFile(cfg, []byte("agent: {enabled: false}\nrunLeaseDuration: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Opts{ExtraListen: []string{"127.0.3.1:0"}, Args: []string{"--config", cfg}})
	n := &netScenario{t: t, srv: srv, loginServer: srv.Listen[1]}
	n.owner = newMachine(t, "owner", func(s string) string { return strings.ReplaceAll(s, srv.Password, "***") })
	o := n.owner
	o.berth("login", "--server", srv.URL, "-u", testserver.AdminUser, "-p", srv.Password)
	o.berth("registry", "create", "-n", netReg, "--location", "local", "--login-server", n.loginServer)
	o.berth("registry", "login", "-n", netReg)
	_, n.refresh = dockerAuth(t, filepath.Join(o.dockerConfig, "config.json"), n.loginServer)
	a := &agentScenario{netScenario: n, base: n.pushBase(), agentDir: filepath.Join(t.TempDir(), "agent")}
	tok, err := os.ReadFile(filepath.Join(srv.DataDir, "agent-token"))
	if err != nil {
		t.Fatalf("the local pool's token: %v", err)
	}
	a.agentToken = strings.TrimSpace(string(tok))
	a.startAgent()
	return a
}

// startAgent starts `berth agent`, the pool's token in its environment
// (which no build step may see), with the engine of `make engine` on its
// PATH. It is stopped when the test ends, unless killed before.
func (a *agentScenario) startAgent() {
	t := a.t
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testserver.Binary(t), "agent", "--server", a.srv.URL, "--pool", "local",
		"--egress-address", standaloneAgentIP, "--data-dir", a.agentDir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BERTH_") && !strings.HasPrefix(kv, "PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "BERTH_AGENT_TOKEN="+a.agentToken,
		"PATH="+filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	p := &agentProc{cmd: cmd, out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// If the test process dies, the agent goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	a.agent = p
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-p.exited
				t.Errorf("berth agent (pid %d) ignored SIGTERM for 20 s", cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("berth agent output:\n%s", p.out.String())
		}
	})
}

// killAgent kills the agent process, and only it, as a crash would.
func (a *agentScenario) killAgent() {
	a.t.Helper()
	if err := a.agent.cmd.Process.Kill(); err != nil {
		a.t.Fatal(err)
	}
	<-a.agent.exited
}

// context writes a Dockerfile into a fresh context directory.
func (a *agentScenario) context(dockerfile string) string {
	a.t.Helper()
	dir := a.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+a.base+"\n"+dockerfile), 0o644); err != nil {
		a.t.Fatal(err)
	}
	return dir
}

// bgBuild is a `berth build` running in the background.
type bgBuild struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

func (a *agentScenario) startBuild(dir, image string, extra ...string) *bgBuild {
	a.t.Helper()
	args := append([]string{"build", "-r", netReg, "--image", image}, extra...)
	cmd := exec.Command(testserver.Binary(a.t), append(args, ".")...)
	cmd.Dir, cmd.Env = dir, a.owner.env
	b := &bgBuild{cmd: cmd, out: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	go func() { b.done <- cmd.Wait() }()
	a.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			cmd.Process.Kill()
		}
	})
	return b
}

// waitOutput waits until the build's output holds s.
func (b *bgBuild) waitOutput(t *testing.T, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(b.out.String(), s) {
		select {
		case err := <-b.done:
			t.Fatalf("berth build ended (%v) before it showed %q:\n%s", err, s, b.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth build did not show %q within %s:\n%s", s, d, b.out)
		}
	}
}

// wait waits up to d for the build to end and returns its exit error.
func (b *bgBuild) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-b.done:
		return err
	case <-time.After(d):
		t.Fatalf("berth build still runs after %s:\n%s", d, b.out)
		return nil
	}
}

// runStatus is the run's status and error, as berth task show-run says.
func (a *agentScenario) runStatus(runID string) (string, string) {
	a.t.Helper()
	var run struct {
		Properties struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"properties"`
	}
	a.owner.berthJSON(&run, "task", "show-run", "-r", netReg, "--run-id", runID, "-o", "json")
	return run.Properties.Status, run.Properties.Error
}

// pulledFiles pulls an image of the registry with the owner's credentials
// and returns its files.
func (a *agentScenario) pulledFiles(image string) map[string]string {
	a.t.Helper()
	l, err := ocilayout.Create(a.t.TempDir())
	if err != nil {
		a.t.Fatal(err)
	}
	ref, _ := regclient.ParseReference(a.loginServer + "/" + image)
	c := regclient.New(regclient.Options{PlainHTTP: true, Username: nullUser, Password: a.refresh})
	p, err := c.Pull(context.Background(), ref, l, "linux/amd64")
	if err != nil {
		a.t.Fatalf("pull %s: %v", ref, err)
	}
	return layoutFiles(a.t, l, p.Manifest.Digest)
}

// layoutFiles returns the regular files of the image whose manifest is m
// in l, its layers applied in order (whiteouts aside), by path without
// the leading slash.
func layoutFiles(t *testing.T, l *ocilayout.Layout, m oci.Digest) map[string]string {
	t.Helper()
	var man struct{ Layers []oci.Descriptor }
	b, err := l.Bytes(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, layer := range man.Layers {
		f, err := l.ReadBlob(layer.Digest)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("layer %s: %v", layer.Digest, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", layer.Digest, err)
			}
			if h.Typeflag == tar.TypeReg {
				body, _ := io.ReadAll(tr)
				files[strings.TrimPrefix(h.Name, "./")] = string(body)
			}
		}
		f.Close()
	}
	return files
}

// stepWord is a word that no other process has in its command line.
func stepWord() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "berth-e2e-step-" + hex.EncodeToString(b)
}

// sleeper is a RUN that prints "up-<word>" (which the step's heading in
// the log does not) and sleeps; word stays in its command line.
func sleeper(word string) string {
	return "RUN printf 'up-%s\\n' " + word + " && sleep 60 && printf 'end-%s\\n' " + word + "\n"
}

// processesWith lists the pids of the processes whose command line holds s.
func processesWith(s string) []string {
	var pids []string
	ms, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range ms {
		if b, err := os.ReadFile(m); err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, filepath.Base(filepath.Dir(m)))
		}
	}
	return pids
}

func waitNoProcess(t *testing.T, what, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for len(processesWith(s)) > 0 {
		if time.Now().After(deadline) {
			t.Errorf("%s still runs %s later (pids %v)", what, d, processesWith(s))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func exitedNonZero(err error) bool {
	var exit *exec.ExitError
	return errors.As(err, &exit) && exit.ExitCode() != 0
}

// TestStandaloneAgentRuns: what a run's RUN steps can see, a failing RUN,
// a run canceled and a run timed out through the CLI, and a run whose
// agent is killed, all on a `berth agent` process.
func TestStandaloneAgentRuns(t *testing.T) {
	a := newAgentScenario(t)
	t.Log("== a RUN step sees no credential and cannot reach the server")
	a.isolatedStep()
	t.Log("== a failing RUN fails the run")
	a.failingRun()
	t.Log("== berth task cancel-run stops a running build")
	a.cancelRun()
	t.Log("== a run past its timeout ends Timeout")
	a.timedOutRun()
	t.Log("== a run whose agent is killed ends Error")
	a.killedAgent()
}

// isolatedStep: a RUN step (run ca1) sees neither the agent's pool token,
// nor the run's registry credential, nor any other secret, in its
// environment, its mounts or its file system; the data directories of the
// server and the agent are not in it; and it cannot reach the server.
func (a *agentScenario) isolatedStep() {
	t := a.t
	probe := "RUN mkdir /dump && cd /dump && " +
		"{ env > env; cat /proc/1/environ > environ.1; cat /proc/self/environ > environ.self; " +
		"cat /proc/mounts > mounts; ls -la / > ls; ps > ps; " +
		"ls " + a.srv.DataDir + " > server.ls 2>&1; echo $? > server.status; " +
		"ls " + a.agentDir + " > agent.ls 2>&1; echo $? > agent.status; " +
		"timeout 10 wget -q -O- " + a.srv.URL + "/healthz > healthz.out 2>&1; echo $? > healthz.status; " +
		"timeout 10 wget -q -O- http://" + a.loginServer + "/v2/ > v2.out 2>&1; echo $? > v2.status; true; }\n"
	out := a.wantBuild(a.context(probe), "isolation/probe:v1", "ca1", true, "the probing build")
	if !strings.Contains(out, "Logging in to registry: "+a.loginServer) {
		t.Errorf("the build did not log in:\n%s", out)
	}
	files := a.pulledFiles("isolation/probe:v1")
	if files["dump/env"] == "" || files["dump/mounts"] == "" {
		t.Fatalf("the probe wrote nothing: env %q, mounts %q", files["dump/env"], files["dump/mounts"])
	}
	secrets := map[string]string{"the agent pool's token": a.agentToken, "the owner's refresh token": a.refresh,
		"the admin password": a.srv.Password}
	for path, body := range files {
		for what, secret := range secrets {
			if strings.Contains(body, secret) {
				t.Errorf("the image's /%s holds %s", path, what)
			}
		}
		// The run's own registry credential is a JWT, minted for the
		// agent alone; a JSON header starts "eyJ" in base64.
		if strings.HasPrefix(path, "dump/") && strings.Contains(body, "eyJ") {
			t.Errorf("the image's /%s holds what looks like a token:\n%s", path, body)
		}
	}
	if strings.Contains(files["dump/env"], "BERTH_") || strings.Contains(files["dump/environ.1"], "BERTH_") {
		t.Errorf("the agent's environment reached the step:\n%s", files["dump/env"])
	}
	// The step sees its own processes only (its shell, and ps forked from
	// it): none of the agent, BuildKit or runc.
	ps := lines(files["dump/ps"])
	if len(ps) < 2 {
		t.Errorf("ps in a RUN step showed no process: %q", files["dump/ps"])
	}
	for i, l := range ps {
		if i > 0 && !strings.Contains(l, "/bin/sh -c mkdir /dump") {
			t.Errorf("a RUN step sees a process not its own: %q", l)
		}
	}
	for _, dir := range []string{"server", "agent"} {
		if st := strings.TrimSpace(files["dump/"+dir+".status"]); st == "0" || st == "" {
			t.Errorf("a RUN step lists the %s's data directory (exit %q):\n%s", dir, st, files["dump/"+dir+".ls"])
		}
	}
	for _, m := range strings.Split(strings.TrimSpace(files["dump/mounts"]), "\n") {
		f := strings.Fields(m)
		if len(f) < 3 {
			continue
		}
		if strings.Contains(m, a.srv.DataDir) || !allowedStepMount(f[1], f[2]) {
			t.Errorf("a RUN step has the mount %q", m)
		}
	}
	for _, p := range []string{"healthz", "v2"} {
		st, out := strings.TrimSpace(files["dump/"+p+".status"]), files["dump/"+p+".out"]
		if st == "0" || st == "" || !strings.Contains(out, "refused") {
			t.Errorf("a RUN step's wget of the server (%s): exit %q, output %q; want the connection refused", p, st, out)
		}
	}
}

// failingRun: a RUN that exits 3 (run ca2) fails the run; berth build
// exits non-zero with the step's output and the error in its log.
func (a *agentScenario) failingRun() {
	t := a.t
	out := a.wantBuild(a.context("RUN echo about to fail from the step && exit 3\n"), "failing/app:v1", "ca2", false, "a failing RUN")
	for _, want := range []string{"about to fail from the step", "exit code: 3", "Run ID: ca2 failed after", "Error: failed to build the image"} {
		if !strings.Contains(out, want) {
			t.Errorf("berth build's output has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Executing step ID: push") {
		t.Errorf("the failed build went on to push:\n%s", out)
	}
	if st, _ := a.runStatus("ca2"); st != "Failed" {
		t.Errorf("run ca2 is %s, want Failed", st)
	}
}

// cancelRun: berth task cancel-run of a running build (run ca3) stops its
// step; the run ends Canceled and berth build exits non-zero.
func (a *agentScenario) cancelRun() {
	t := a.t
	word := stepWord()
	b := a.startBuild(a.context(sleeper(word)), "cancel/app:v1")
	b.waitOutput(t, "up-"+word, time.Minute)
	if st, _ := a.runStatus("ca3"); st != "Running" {
		t.Fatalf("run ca3 is %s while its step sleeps, want Running", st)
	}
	a.owner.berth("task", "cancel-run", "-r", netReg, "--run-id", "ca3")
	err := b.wait(t, 15*time.Second)
	if !exitedNonZero(err) || !strings.Contains(b.out.String(), "Run ID: ca3 was canceled after") {
		t.Errorf("berth build of a canceled run: %v\n%s", err, b.out)
	}
	if st, _ := a.runStatus("ca3"); st != "Canceled" {
		t.Errorf("run ca3 is %s, want Canceled", st)
	}
	waitNoProcess(t, "the canceled RUN step", word, 10*time.Second)
}

// timedOutRun: a build past its --timeout (run ca4) ends Timeout and its
// step is stopped.
func (a *agentScenario) timedOutRun() {
	t := a.t
	word := stepWord()
	b := a.startBuild(a.context(sleeper(word)), "timeout/app:v1", "--timeout", "3")
	err := b.wait(t, 30*time.Second)
	if !exitedNonZero(err) || !strings.Contains(b.out.String(), "Run ID: ca4 timed out after") {
		t.Errorf("berth build of a run past its timeout: %v\n%s", err, b.out)
	}
	if st, msg := a.runStatus("ca4"); st != "Timeout" || !strings.Contains(msg, "3 seconds") {
		t.Errorf("run ca4 is %s (%q), want Timeout after 3 seconds", st, msg)
	}
	waitNoProcess(t, "the timed-out RUN step", word, 10*time.Second)
}

// killedAgent: a run (ca5) whose agent is killed mid-build ends Error,
// with the lease-lost message, within the 3 s lease; the agent's buildctl
// and buildkitd go with it.
func (a *agentScenario) killedAgent() {
	t := a.t
	word := stepWord()
	b := a.startBuild(a.context(sleeper(word)), "killed/app:v1")
	b.waitOutput(t, "up-"+word, time.Minute)
	if st, _ := a.runStatus("ca5"); st != "Running" {
		t.Fatalf("run ca5 is %s while its step sleeps, want Running", st)
	}
	killed := time.Now()
	a.killAgent()
	// The lease, the reaper's pass (every second) and the CLI's
	// follow; far below the default lease of 30 s.
	err := b.wait(t, runLease+7*time.Second)
	took := time.Since(killed)
	if !exitedNonZero(err) || !strings.Contains(b.out.String(), "Run ID: ca5 failed after") ||
		!strings.Contains(b.out.String(), "Error: "+leaseLost) {
		t.Errorf("berth build of a run whose agent was killed: %v\n%s", err, b.out)
	}
	if st, msg := a.runStatus("ca5"); st != "Error" || msg != leaseLost {
		t.Errorf("run ca5 is %s (%q), want Error (%q)", st, msg, leaseLost)
	}
	t.Logf("the run ended %s after its agent was killed", took.Round(100*time.Millisecond))

	// buildctl dies with the agent, so BuildKit cancels the build, and
	// buildkitd, told to stop by the agent's death, stops.
	t.Cleanup(func() { a.reapStep(word) })
	waitNoProcess(t, "buildctl of the killed agent", filepath.Join(a.agentDir, "runs"), 5*time.Second)
	waitNoProcess(t, "buildkitd of the killed agent", filepath.Join(a.agentDir, "buildkit"), 15*time.Second)
	// The step should go too, and mostly does. But buildkitd gets the
	// agent's death signal (SIGTERM) once for each of the agent's threads
	// that exits after the one that started it, and at the third it exits
	// at once, before it kills the step's container, which runc then
	// leaves running: a limitation of internal/buildengine, reported, not
	// a failure of the run's handling.
	deadline := time.Now().Add(5 * time.Second)
	for len(processesWith(word)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if pids := processesWith(word); len(pids) > 0 {
		t.Logf("the RUN step of the killed agent outlived its buildkitd (pids %v); removing it", pids)
	}
}

// reapStep kills what BuildKit may leave of a killed agent's step (the
// processes holding word, which only this test's step has), runc's
// record of its container, and the mounts under the agent's data
// directory, which the test's temporary directory cannot be removed with.
func (a *agentScenario) reapStep(word string) {
	for _, p := range processesWith(word) {
		if pid, err := strconv.Atoi(p); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		runc = "/usr/sbin/runc"
	}
	states, _ := filepath.Glob("/run/runc/*/state.json")
	for _, s := range states {
		if b, err := os.ReadFile(s); err == nil && bytes.Contains(b, []byte(a.agentDir+"/")) {
			exec.Command(runc, "delete", "--force", filepath.Base(filepath.Dir(s))).Run()
		}
	}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], a.agentDir+"/") {
			mounts = append(mounts, f[4])
		}
	}
	// The deepest first.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// allowedStepMount reports whether a mount a RUN step has is one that
// BuildKit's runc worker gives every step: its root file system, the
// kernel's pseudo file systems, and the hosts and resolv.conf files it
// writes for the step. Anything else would be a host path in the step.
//
// BuildKit also binds its OpenTelemetry trace collector's socket at
// /dev/otel-grpc.sock into every step (moby/buildkit#4764): the socket
// takes trace spans only and holds no secret, and berth keeps it in each
// daemon's state directory, so steps of different daemons do not share it.
func allowedStepMount(target, fstype string) bool {
	switch {
	case target == "/dev/otel-grpc.sock":
		return true
	case target == "/":
		return fstype == "overlay" || fstype == "bind"
	case target == "/proc" || strings.HasPrefix(target, "/proc/"),
		target == "/dev" || strings.HasPrefix(target, "/dev/"),
		target == "/sys" || strings.HasPrefix(target, "/sys/"):
		return fstype != "ext4" && fstype != "xfs" && fstype != "btrfs" && fstype != "overlay"
	case target == "/etc/hosts", target == "/etc/resolv.conf", target == "/etc/hostname":
		return true
	}
	return false
}

// lockedBuffer is a bytes.Buffer that a process's output goroutine and
// the test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
