package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/pkg/buildcontext"
	"github.com/berth-project/berth/pkg/client"
)

// The build phase (issue 5): context upload MB/s, `berth build` cold and
// warm against `buildctl build` of the same Dockerfile on the same
// buildkitd, and the queue-to-start latency of runs with an idle agent.
// Build times are wall times of one process each; none is asserted in a
// test: they are figures of one `make bench` run.

const (
	// latencyRuns is how many runs the queue-to-start figures time, one
	// after another; of 20, the p99 is the slowest.
	latencyRuns = 20
	// coldRounds and warmRounds are how many times the cold and the warm
	// builds alternate buildctl and berth, so that drift in the machine's
	// speed falls on both; the median of each counts.
	coldRounds = 3
	warmRounds = 5
	// idleSettle lets the agent go back to waiting for a lease after a run
	// ended, so that each timed run finds it idle.
	idleSettle = 250 * time.Millisecond
	// buildTimeout bounds one build, including the first, which starts
	// buildkitd.
	buildTimeout = 5 * time.Minute
)

// buildDockerfile is the trivial build: the bench's own base image and one
// RUN step, so that BuildKit starts a container (a COPY would not).
func buildDockerfile(base string) string {
	return "FROM " + base + "\nRUN echo hi > /hi\n"
}

// buildPhase runs the build figures. Upload needs only berth's management
// API; the builds need a server this bench started (to reach its agent's
// buildkitd), root and the engine of `make engine`, and are reported as
// skipped when any is missing.
func (b *bench) buildPhase(ctx context.Context) error {
	const phase = "build"
	hc := newClient(2, blobTimeout)
	defer closeClient(hc)
	tok, err := b.reg.mgmtToken(ctx, hc)
	if err != nil {
		b.skip(phase, "context upload and builds", "", nil, "management API unavailable: "+err.Error())
		return nil
	}
	c, err := client.New(b.reg.base.String(), client.WithHTTPClient(hc),
		client.WithTokenSource(client.StaticToken(tok)), client.WithUserAgent("berth-bench"))
	if err != nil {
		return err
	}
	runs := c.Runs("default")
	if err := b.uploadFigures(ctx, runs); err != nil {
		return err
	}

	if b.srv == nil {
		b.skip(phase, "builds and queue-to-start", "", nil, "needs --berth, to reach the agent's buildkitd")
		return nil
	}
	tools, err := findBuildTools(b.opts.berthPath)
	if err == nil {
		var bd *builds
		if bd, err = b.newBuilds(ctx, tools, runs); err == nil {
			defer bd.close()
			err = bd.buildFigures(ctx)
		}
		if err == nil {
			err = bd.latencyFigures(ctx)
		}
		if err == nil {
			err = bd.quickRunFigures(ctx)
		}
	}
	var why cannotBuild
	if errors.As(err, &why) {
		b.logf("build: skipped: %v", why)
		b.skip(phase, "builds and queue-to-start", "", nil, why.Error())
		return nil
	}
	return err
}

// builds is what the build figures share: the tools, a logged-in CLI
// config, the base image in the registry and as a layout, and the
// Dockerfile's directory.
type builds struct {
	b        *bench
	tools    buildTools
	runs     client.Runs
	work     string   // temporary: the CLI's config, the context, layouts
	env      []string // the CLI's environment
	context  string   // the Dockerfile's directory
	base     string   // the base image as the Dockerfile names it
	baseDesc descriptor
	layout   string // the base image as an OCI layout, for buildctl
	socket   string // the agent's buildkitd
	platform string
	seq      int
}

func (b *bench) newBuilds(ctx context.Context, tools buildTools, runs client.Runs) (bd *builds, err error) {
	work, err := os.MkdirTemp("", "berth-bench-build-")
	if err != nil {
		return nil, err
	}
	bd = &builds{b: b, tools: tools, runs: runs, work: work, platform: "linux/" + runtime.GOARCH,
		// internal/buildengine's layout of the agent's state directory,
		// under <data dir>/agent/buildkit (internal/app/localagent.go).
		socket: filepath.Join(b.srv.dataDir, "agent", "buildkit", "buildkitd.sock")}
	defer func() {
		if err != nil {
			bd.close()
		}
	}()
	img, err := newBaseImage(tools.busybox)
	if err != nil {
		return nil, err
	}
	// The agent pulls the base image from its registry's login server,
	// which for the default registry is the server's own address.
	repo := b.repo("base")
	if err := img.push(ctx, b.reg, repo, "1"); err != nil {
		return nil, fmt.Errorf("pushing the base image: %w", err)
	}
	bd.base, bd.baseDesc = b.reg.base.Host+"/"+repo+":1", img.manifestDesc
	bd.layout = filepath.Join(work, "base")
	if err := img.writeLayout(bd.layout); err != nil {
		return nil, err
	}
	bd.context = filepath.Join(work, "context")
	if err := os.Mkdir(bd.context, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(bd.context, "Dockerfile"), []byte(buildDockerfile(bd.base)), 0o644); err != nil {
		return nil, err
	}
	// The CLI logs in as the bench does, its config in the work directory;
	// the password goes on standard input, not on the command line.
	bd.env = append(os.Environ(), "BERTH_CONFIG_DIR="+filepath.Join(work, "berth"), "DOCKER_CONFIG="+filepath.Join(work, "docker"))
	login := exec.CommandContext(ctx, tools.berth, "login", "--server", b.reg.base.String(), "-u", b.reg.user)
	login.Env, login.Stdin = bd.env, strings.NewReader(b.reg.password+"\n")
	if out, err := login.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("berth login: %v\n%s", err, out)
	}
	return bd, nil
}

func (bd *builds) close() { os.RemoveAll(bd.work) }

// berthBuild runs `berth build` of the Dockerfile, pushing the result as
// tag, and returns its wall time: pack, upload, queue, the agent's lease,
// context download, base image pull, BuildKit, push, and the log followed
// to its end.
func (bd *builds) berthBuild(ctx context.Context, tag string) (build, error) {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	image := bd.b.repo("build") + ":" + tag
	cmd := exec.CommandContext(ctx, bd.tools.berth, "build", "-r", "default", "-t", image, "--platform", bd.platform, bd.context)
	cmd.Env = bd.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		if s := out.String(); strings.Contains(s, "the build engine is not installed") {
			return build{}, cannotBuild("no engine: the server's agent found no BuildKit; run `make engine`")
		}
		return build{}, fmt.Errorf("berth build %s: %v\n%s", image, err, tailLines(out.String(), 30))
	}
	return build{"berth build", elapsed, out.String()}, nil
}

// buildctlBuild runs `buildctl build` of the same Dockerfile on the
// agent's buildkitd the way the agent does (internal/agent/buildctl.go):
// the base image as an oci-layout named context, the result written as an
// OCI layout directory. It returns the wall time.
func (bd *builds) buildctlBuild(ctx context.Context) (build, error) {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	bd.seq++
	dest := filepath.Join(bd.work, "out-"+strconv.Itoa(bd.seq))
	defer os.RemoveAll(dest)
	cmd := exec.CommandContext(ctx, bd.tools.buildctl, buildctlArgs(bd.socket, bd.context, dest, bd.platform, bd.base, bd.baseDesc.Digest, bd.layout)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return build{}, fmt.Errorf("buildctl build: %v\n%s", err, tailLines(out.String(), 30))
	}
	return build{"buildctl build", elapsed, out.String()}, nil
}

// build is one timed build and its output.
type build struct {
	tool    string
	elapsed time.Duration
	out     string
}

// wantCached checks that BuildKit found the RUN step in its cache, or did
// not, as the figure the build is timed for assumes.
func (b build) wantCached(want bool) error {
	cached, found := runStepCached(b.out)
	switch {
	case !found:
		return fmt.Errorf("%s: no RUN step in its output:\n%s", b.tool, tailLines(b.out, 30))
	case cached != want:
		return fmt.Errorf("%s: RUN step cached %v, want %v (is the cache not what the figure assumes?):\n%s",
			b.tool, cached, want, tailLines(b.out, 30))
	}
	return nil
}

// runStepCached reads BuildKit's plain progress, which numbers each step
// ("#6 [2/2] RUN echo hi > /hi") and marks a step found in the cache with
// "#6 CACHED", and says whether the RUN step was cached.
func runStepCached(progress string) (cached, found bool) {
	lines := strings.Split(progress, "\n")
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.HasPrefix(f[0], "#") || !strings.Contains(line, "] RUN echo hi > /hi") {
			continue
		}
		found = true
		for _, l := range lines {
			if g := strings.Fields(l); len(g) == 2 && g[0] == f[0] && g[1] == "CACHED" {
				return true, true
			}
		}
	}
	return false, found
}

// buildctlArgs are the agent's buildctl arguments for one Dockerfile in
// dir whose one base image is in the layout store "base".
func buildctlArgs(socket, dir, dest, platform, base, baseDigest, layout string) []string {
	return []string{"--addr", "unix://" + socket, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + dir,
		"--local", "dockerfile=" + dir,
		"--opt", "filename=Dockerfile",
		"--output", "type=oci,tar=false,dest=" + dest,
		"--opt", "platform=" + platform,
		"--opt", "context:" + base + "=oci-layout://base@" + baseDigest,
		"--oci-layout", "base=" + layout,
	}
}

// prune empties the daemon's build cache, so that the next build is cold.
func (bd *builds) prune(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, bd.tools.buildctl, "--addr", "unix://"+bd.socket, "prune", "--all").CombinedOutput()
	if err != nil {
		return fmt.Errorf("buildctl prune --all: %v\n%s", err, tailLines(string(out), 10))
	}
	return nil
}

// buildFigures times the builds. The first `berth build` on the new server
// also starts its agent's buildkitd; then each tool builds coldRounds
// times on an emptied cache (cold) and warmRounds times on a full one
// (warm). Each build's output must show the RUN step run or cached as
// the figure assumes.
func (bd *builds) buildFigures(ctx context.Context) error {
	const phase = "build"
	b := bd.b
	b.logf("build: first berth build, starting the agent's buildkitd")
	first, err := bd.berthBuild(ctx, "first")
	if err == nil {
		err = first.wantCached(false)
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(bd.socket); err != nil {
		return fmt.Errorf("the agent's buildkitd socket: %w (has its state directory moved?)", err)
	}
	b.logf("build: cold builds")
	cold := func(run func(context.Context) (build, error)) (build, error) {
		if err := bd.prune(ctx); err != nil {
			return build{}, err
		}
		r, err := run(ctx)
		if err == nil {
			err = r.wantCached(false)
		}
		return r, err
	}
	var berthColds, ctlColds []time.Duration
	for i := range coldRounds {
		r, err := cold(bd.buildctlBuild)
		if err != nil {
			return err
		}
		ctlColds = append(ctlColds, r.elapsed)
		if r, err = cold(func(ctx context.Context) (build, error) { return bd.berthBuild(ctx, "cold-"+strconv.Itoa(i)) }); err != nil {
			return err
		}
		berthColds = append(berthColds, r.elapsed)
	}
	b.logf("build: warm builds")
	var berthWarm, ctlWarm []time.Duration
	for i := range warmRounds {
		r, err := bd.berthBuild(ctx, "warm-"+strconv.Itoa(i))
		if err == nil {
			err = r.wantCached(true)
		}
		if err != nil {
			return err
		}
		berthWarm = append(berthWarm, r.elapsed)
		if r, err = bd.buildctlBuild(ctx); err == nil {
			err = r.wantCached(true)
		}
		if err != nil {
			return err
		}
		ctlWarm = append(ctlWarm, r.elapsed)
	}
	bc, cc := median(berthColds), median(ctlColds)
	bw, cw := median(berthWarm), median(ctlWarm)
	b.add(phase, "berth build, first on a new server (starts buildkitd)", first.elapsed.Seconds(), "s", nil)
	b.add(phase, fmt.Sprintf("buildctl build, cold, median of %d", coldRounds), cc.Seconds(), "s", nil)
	b.add(phase, fmt.Sprintf("berth build, cold, median of %d", coldRounds), bc.Seconds(), "s", nil)
	b.add(phase, "cold overhead, berth − buildctl", (bc - cc).Seconds(), "s", nil)
	b.add(phase, fmt.Sprintf("buildctl build, warm, median of %d", warmRounds), cw.Seconds(), "s", nil)
	b.add(phase, fmt.Sprintf("berth build, warm, median of %d", warmRounds), bw.Seconds(), "s", nil)
	b.add(phase, "warm overhead, berth − buildctl", (bw - cw).Seconds(), "s", atMost(1))
	b.add(phase, "berth warm ÷ buildctl warm", bw.Seconds()/cw.Seconds(), "ratio", nil)
	return nil
}

// latencyFigures queues latencyRuns trivial builds (no push) one after
// another, each once the previous one ended and the agent is idle again,
// and records two latencies of each: queue to start on the server's
// clock (createTime to startTime, when the agent leased it) and the
// client's wait from the queue call's answer to the first byte of the
// run's log (which the agent sends every 200 ms).
func (bd *builds) latencyFigures(ctx context.Context) error {
	const phase = "build"
	b := bd.b
	r, _, err := buildcontext.Pack(ctx, bd.context, buildcontext.PackOptions{})
	if err != nil {
		return err
	}
	uploaded, err := bd.runs.UploadContext(ctx, r, -1)
	r.Close()
	if err != nil {
		return err
	}
	b.logf("build: %d runs for queue-to-start", latencyRuns)
	push := false
	var toStart, toLog []time.Duration
	for i := range latencyRuns {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idleSettle):
		}
		run, err := bd.runs.QueueBuild(ctx, client.QuickBuild{ContextID: uploaded.ContextID, Platform: bd.platform, Push: &push})
		if err != nil {
			return fmt.Errorf("queueing run %d: %w", i, err)
		}
		answered := time.Now()
		first := &firstWrite{}
		fctx, cancel := context.WithTimeout(ctx, buildTimeout)
		ended, err := bd.runs.FollowLog(fctx, run.Properties.RunID, first)
		cancel()
		if err != nil {
			return fmt.Errorf("following run %s: %w", run.Properties.RunID, err)
		}
		p := ended.Properties
		if p.Status != client.RunSucceeded || p.StartTime == nil {
			return fmt.Errorf("run %s ended %s: %s", p.RunID, p.Status, p.Error)
		}
		toStart = append(toStart, p.StartTime.Sub(p.CreateTime))
		if at := first.at(); !at.IsZero() {
			toLog = append(toLog, at.Sub(answered))
		}
	}
	slices.Sort(toStart)
	slices.Sort(toLog)
	name := fmt.Sprintf("queue → start, idle agent, %d runs", latencyRuns)
	b.add(phase, name+", p50", ms(percentile(toStart, 50)), "ms", nil)
	b.add(phase, name+", p99", ms(percentile(toStart, 99)), "ms", nil)
	if len(toLog) == 0 {
		b.skip(phase, "queue answer → first log byte", "ms", nil, "no run wrote a log")
		return nil
	}
	name = fmt.Sprintf("queue answer → first log byte, %d runs", len(toLog))
	b.add(phase, name+", p50", ms(percentile(toLog, 50)), "ms", nil)
	b.add(phase, name+", p99", ms(percentile(toLog, 99)), "ms", nil)
	return nil
}

// firstWrite discards what is written and remembers when the first byte
// came.
type firstWrite struct {
	mu    sync.Mutex
	first time.Time
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.first.IsZero() && len(p) > 0 {
		f.first = time.Now()
	}
	f.mu.Unlock()
	return len(p), nil
}

func (f *firstWrite) at() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
}

// median returns the median of ds (the lower middle for an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// tailLines returns the last n lines of s, for errors.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
