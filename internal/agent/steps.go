package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/sourcectx"
	"github.com/berth-project/berth/internal/taskfile"
)

// Steps is what a quick run or a task run does: the agent's own copy of
// pkg/client.AgentSteps. Exactly one of TaskFile, Cmd and Docker is set.
type Steps struct {
	TaskName string
	TaskFile string      // multi-step YAML, templates unrendered
	Cmd      string      // one cmd step (berth run --cmd)
	Docker   *DockerStep // build a Dockerfile and push it
	Values   map[string]string
	// SecretValues are {{.Secrets.x}}: they appear in no log.
	SecretValues map[string]string
	// Context is "" (the uploaded context, Job.Context), "/dev/null", a
	// git URL or oci://<login server>/<repository>:<tag>.
	Context string
	// AuthMode is AuthModeDefault ("" too): the run's own credential
	// (Job.Username and Password) logs in to Job.LoginServer; or
	// AuthModeNone: only RegistryCredentials.
	AuthMode            string
	RegistryCredentials []RegistryCredential
	Date                time.Time // when the run was queued: $Date
	Trigger             string
	TriggeredBy         string
}

// DockerStep builds the context's Dockerfile and pushes it.
type DockerStep struct {
	Images     []string // repository:tag in the run's registry
	Dockerfile string
}

// RegistryCredential is how a run logs in to one registry: with a managed
// identity of its task (Identity: "[system]" or a user-assigned
// identity's clientId), whose identity token is exchanged at the
// registry's /oauth2/exchange, or with a user name and password. An entry
// for the run's own login server replaces the run's default credential.
type RegistryCredential struct {
	LoginServer string
	Identity    string
	Username    string
	Password    string
}

// Auth modes of a run with Steps.
const (
	AuthModeDefault = "Default"
	AuthModeNone    = "None"
)

var (
	_ Engine = Buildctl{}
	_ Engine = (*lazyEngine)(nil)
)

// secretSet holds the values no log may show: it grows while the run goes
// (tokens exchanged at login), and redacts the longest first, so that a
// secret inside another leaves nothing of the longer one.
type secretSet struct {
	mu   sync.Mutex
	vals []string
}

func (s *secretSet) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		if strings.TrimSpace(v) != "" && !slices.Contains(s.vals, v) {
			s.vals = append(s.vals, v)
		}
	}
	sort.Slice(s.vals, func(i, j int) bool { return len(s.vals[i]) > len(s.vals[j]) })
}

func (s *secretSet) values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vals...)
}

func (s *secretSet) redact(line string) string { return redact(line, s.values()) }

// stepRun is one run with Steps as it goes.
type stepRun struct {
	e        *Executor
	job      Job
	log      *runLog
	sec      *secretSet
	reg      *registries
	file     *taskfile.File
	dir      string // the run's work directory
	src      string // its source, dir/context
	platform string

	mu      sync.Mutex
	built   map[string]builtImage // reference (ParseReference's String) → the image a build step tagged so
	outputs []Image
	deps    []Dependency
	pushed  map[string]bool
}

// builtImage is an image a build step made, in an OCI layout.
type builtImage struct {
	dir     string
	desc    oci.Descriptor
	runtime []Image
}

// runSteps runs a quick run or a task run: it reads the steps (a file
// that does not validate fails the run before anything else), downloads
// the source, logs in to every registry it has a credential for, and runs
// the steps with taskfile.Run. Every secret value, password and token is
// redacted from the log and the error.
func (e *Executor) runSteps(ctx context.Context, job Job, w io.Writer) Result {
	sec := &secretSet{}
	sec.add(job.Password)
	for _, v := range job.SecretBuildArgs {
		sec.add(v)
	}
	for _, v := range job.Steps.SecretValues {
		sec.add(v)
	}
	for _, c := range job.Steps.RegistryCredentials {
		sec.add(c.Password)
	}
	red := newLineWriter(w, sec.redact)
	log := &runLog{w: red, now: e.now}
	r, err := e.steps(ctx, job, sec, log)
	if err != nil {
		r.Succeeded, r.Error = false, sec.redact(err.Error())
		log.printf("Error: %s", r.Error)
	}
	red.Flush()
	return r
}

func (e *Executor) steps(ctx context.Context, job Job, sec *secretSet, log *runLog) (Result, error) {
	platform := job.Platform
	if platform == "" {
		platform = "linux/amd64"
	}
	run := &stepRun{e: e, job: job, log: log, sec: sec, platform: platform,
		built: map[string]builtImage{}, pushed: map[string]bool{}}
	f, err := run.parse()
	if err != nil {
		return Result{}, fmt.Errorf("the task file is not valid, no step ran: %w", err)
	}
	run.file = f

	runCtx := ctx
	if job.RunTimeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, job.RunTimeout)
		defer cancel()
	}
	timedOut := func() bool {
		return errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	}

	run.dir, err = os.MkdirTemp(e.WorkDir, "run-"+safeName(job.RunID)+"-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(run.dir)
	run.src = filepath.Join(run.dir, "context")
	if err := os.Mkdir(run.src, 0o755); err != nil {
		return Result{}, err
	}
	run.reg = newRegistries(e, job, sec)
	if err := run.source(runCtx); err != nil {
		return Result{TimedOut: timedOut()}, err
	}
	if err := run.reg.login(runCtx, log); err != nil {
		return Result{TimedOut: timedOut()}, err
	}

	results := taskfile.Run(runCtx, f, run.exec, taskfile.RunOptions{Now: e.now})
	res := Result{}
	run.mu.Lock()
	res.Outputs, res.Dependencies = run.outputs, run.deps
	run.mu.Unlock()
	for _, r := range results {
		if r.Ignored {
			log.printf("Step ID: %s failed and its errors are ignored (ignoreErrors): %v", r.ID, r.Err)
		}
		if r.Status == taskfile.StatusTimedOut && !r.Ignored {
			res.TimedOut = true
		}
	}
	if err := taskfile.Failed(results); err != nil {
		res.TimedOut = res.TimedOut || timedOut()
		if timedOut() {
			err = fmt.Errorf("the run timed out after %d seconds: %w", int(job.RunTimeout/time.Second), err)
		}
		return res, err
	}
	log.dependencies(res.Dependencies)
	res.Succeeded = true
	return res, nil
}

// parse makes the run's task file from what the run says it does.
func (r *stepRun) parse() (*taskfile.File, error) {
	s := r.job.Steps
	n := 0
	for _, set := range []bool{s.TaskFile != "", s.Cmd != "", s.Docker != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("a run does exactly one of a task file, a cmd and a Dockerfile build")
	}
	date := s.Date
	if date.IsZero() {
		date = r.e.now()
	}
	osName, arch, _ := strings.Cut(r.platform, "/")
	arch, _, _ = strings.Cut(arch, "/")
	data := taskfile.Data{
		Values:  s.Values,
		Secrets: s.SecretValues,
		Run: taskfile.RunInfo{ID: r.job.RunID, Registry: r.job.LoginServer, RegistryName: r.job.Registry,
			Date: taskfile.FormatDate(date), TaskName: s.TaskName, OS: osName, Architecture: arch},
	}
	// --cmd, and a Dockerfile task's images and Dockerfile, take the
	// aliases and templates a task file takes ({{.Run.ID}}, $Registry, …).
	render := func(text string) (string, error) {
		out, err := taskfile.ExpandAliases(text, data.Run)
		if err != nil {
			return "", err
		}
		return taskfile.Render(out, data)
	}
	switch {
	case s.TaskFile != "":
		return taskfile.Parse(s.TaskFile, data)
	case s.Cmd != "":
		cmd, err := render(s.Cmd)
		if err != nil {
			return nil, err
		}
		f := taskfile.FromCmd(cmd, int(r.job.RunTimeout/time.Second))
		return f, taskfile.Validate(f)
	}
	d := taskfile.DockerfileBuild{Platform: r.job.Platform}
	for _, img := range s.Docker.Images {
		img, err := render(img)
		if err != nil {
			return nil, err
		}
		d.Images = append(d.Images, withRegistry(img, r.job.LoginServer))
	}
	var err error
	if d.Dockerfile, err = render(s.Docker.Dockerfile); err != nil {
		return nil, err
	}
	return taskfile.FromDockerfile(d)
}

// source puts the run's source context into r.src.
func (r *stepRun) source(ctx context.Context) error {
	c := r.job.Steps.Context
	switch kind := sourcectx.Kind(c); {
	case c == "":
		if r.job.Context == nil {
			return errors.New("the run's uploaded context is missing")
		}
		r.log.printf("Downloading source code...")
		if err := r.e.Extract(ctx, r.job.Context, r.src); err != nil {
			return fmt.Errorf("the source context: %w", err)
		}
	case kind == sourcectx.Empty:
		return nil
	case kind == sourcectx.Git:
		g, err := sourcectx.ParseGit(c)
		if err != nil {
			return err
		}
		r.log.printf("Downloading source code from %s...", g)
		commit, err := sourcectx.FetchGit(ctx, g, r.src, r.log.w)
		if err != nil {
			return err
		}
		r.log.printf("Fetched commit %s", commit)
	case kind == sourcectx.OCI:
		ref, err := sourcectx.ParseOCI(c)
		if err != nil {
			return err
		}
		r.log.printf("Downloading source code from oci://%s...", ref)
		client, err := r.reg.client(ctx, ref.Host)
		if err != nil {
			return fmt.Errorf("context oci://%s: %w", ref, err)
		}
		if err := sourcectx.FetchOCI(ctx, client, ref, r.src, 0); err != nil {
			return err
		}
	default:
		return fmt.Errorf("context %q: a run's context is uploaded source, /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<login server>/<repository>:<tag>", c)
	}
	r.log.printf("Finished downloading source code")
	return nil
}

// exec runs one attempt of a step and logs how it went.
func (r *stepRun) exec(ctx context.Context, s taskfile.Step, attempt int) error {
	if attempt == 1 {
		r.log.printf("Executing step ID: %s. Timeout(sec): %d, Working directory: '%s', Network: '%s'",
			s.ID, r.file.Timeout(s), s.WorkingDirectory, s.Network)
	} else {
		r.log.printf("Retrying step ID: %s, attempt %d", s.ID, attempt)
	}
	start := r.e.now()
	var err error
	switch s.Kind() {
	case "build":
		err = r.build(ctx, s)
	case "push":
		err = r.push(ctx, s, attempt)
	case "cmd":
		err = r.cmd(ctx, s)
	default:
		err = fmt.Errorf("step %s has no build, push or cmd", s.ID)
	}
	elapsed := r.e.now().Sub(start).Seconds()
	switch {
	case err == nil:
		r.log.printf("Step ID: %s marked as successful (elapsed time in seconds: %.6f)", s.ID, elapsed)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.log.printf("Step ID: %s timed out after %d seconds (attempt %d)", s.ID, r.file.Timeout(s), attempt)
	case ctx.Err() != nil:
		r.log.printf("Step ID: %s was canceled (elapsed time in seconds: %.6f)", s.ID, elapsed)
	default:
		r.log.printf("Step ID: %s marked as failed (elapsed time in seconds: %.6f, attempt %d): %v", s.ID, elapsed, attempt, err)
	}
	return err
}

// withRegistry puts loginServer before an image that names no registry.
func withRegistry(img, loginServer string) string {
	first, _, ok := strings.Cut(img, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return img
	}
	return loginServer + "/" + img
}

// reference reads an image a step names, in the run's registry when it
// names none.
func (r *stepRun) reference(img string) (regclient.Reference, error) {
	return regclient.ParseReference(withRegistry(img, r.job.LoginServer))
}

// safeName keeps the characters of s that may go in a file name.
func safeName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, s)
}
