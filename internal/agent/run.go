package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
)

// Job is one run as the agent executes it: a quick build, or, with
// Steps, a quick run or a task run.
type Job struct {
	RunID       string
	Registry    string   // the registry's name ($RegistryName)
	LoginServer string   // the registry's login server, as the run reaches it
	Images      []string // repository[:tag] to push, relative to the login server
	Dockerfile  string   // path inside the context; default "Dockerfile"
	BuildArgs   map[string]string
	// SecretBuildArgs are build args whose values appear in no log and no
	// image history.
	SecretBuildArgs map[string]string
	Target          string
	Platform        string // default linux/amd64
	Push            bool
	BuildTimeout    time.Duration // default 28800 s
	PushTimeout     time.Duration // default 3600 s
	// Context is the uploaded build context (tar.gz); Extract unpacks it.
	Context io.Reader
	// Username and Password are the run's registry credentials.
	Username, Password string
	// LoginServerAddress is where to connect for LoginServer (HOST:PORT),
	// the names staying LoginServer's: the private endpoint a dedicated
	// pool reaches its registry through. Empty: LoginServer itself.
	LoginServerAddress string

	// Steps is what a quick run or a task run does; nil: a quick build,
	// which the fields above describe.
	Steps *Steps
	// RunTimeout bounds a run with Steps as a whole (0: no bound but the
	// steps' own timeouts).
	RunTimeout time.Duration
	// IdentityToken gets an identity token for one of the run's task's
	// managed identities ("[system]" or a user-assigned identity's
	// clientId), for a registry credential with an Identity.
	IdentityToken func(ctx context.Context, identity string) (string, error)
	// ServerURL is the server's, whose management API built-in commands
	// such as berth import call.
	ServerURL string
}

// Image is a pushed image or a dependency, as the report names it.
type Image struct {
	Registry   string     `json:"registry"`
	Repository string     `json:"repository"`
	Tag        string     `json:"tag,omitempty"`
	Digest     oci.Digest `json:"digest"`
}

// Dependency is one pushed image and the base images it runs on.
type Dependency struct {
	Image   Image   `json:"image"`
	Runtime []Image `json:"runtimeDependency,omitempty"`
}

// Result is how a run ended.
type Result struct {
	Succeeded    bool
	TimedOut     bool // a step ran past its timeout
	Error        string
	Outputs      []Image
	Dependencies []Dependency
}

// Engine builds a Dockerfile, and runs a `cmd` step, with BuildKit.
type Engine interface {
	Build(ctx context.Context, b BuildRequest, log io.Writer) error
	RunCmd(ctx context.Context, req CmdRequest, log io.Writer) error
}

// BuildRequest is one BuildKit build whose base images are all in layout
// stores, and whose result is written as an OCI layout.
type BuildRequest struct {
	ContextDir    string
	Dockerfile    string            // path relative to ContextDir
	BuildArgs     map[string]string // every build arg, secret ones included
	Target        string
	Platform      string
	NamedContexts map[string]string // image ref as the Dockerfile writes it → oci-layout://<store>@<digest>
	Stores        map[string]string // store name → layout directory
	OutputDir     string            // the result, as an OCI layout directory
	NoCache       bool              // run every step afresh (docker build --no-cache)
}

// Extractor unpacks a build context safely into a directory.
type Extractor func(ctx context.Context, r io.Reader, dest string) error

// Executor runs jobs on one agent.
type Executor struct {
	Engine  Engine
	Extract Extractor
	Egress  netip.Addr // every registry connection leaves from here
	WorkDir string     // a directory per run is made under it
	// PlainHTTP talks to registries over http (loopback test setups).
	PlainHTTP bool
	Now       func() time.Time
}

// Run executes job, writing its log to w, and says how it ended. The log
// never holds a secret build arg's value.
func (e *Executor) Run(ctx context.Context, job Job, w io.Writer) Result {
	if job.Steps != nil {
		return e.runSteps(ctx, job, w)
	}
	secrets := secretValues(job)
	red := redactor(w, secrets)
	log := &runLog{w: red, now: e.now}
	r, err := e.run(ctx, job, log)
	if err != nil {
		r.Succeeded, r.Error = false, redact(err.Error(), secrets)
		log.printf("Error: %s", r.Error)
	}
	red.Flush()
	return r
}

func (e *Executor) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Executor) run(ctx context.Context, job Job, log *runLog) (Result, error) {
	dir, err := os.MkdirTemp(e.WorkDir, "run-"+job.RunID+"-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "context")
	if err := os.Mkdir(src, 0o755); err != nil {
		return Result{}, err
	}
	log.printf("Downloading source code...")
	if err := e.Extract(ctx, job.Context, src); err != nil {
		return Result{}, fmt.Errorf("the build context: %w", err)
	}
	log.printf("Finished downloading source code")

	opts := regclient.Options{Egress: e.Egress, PlainHTTP: e.PlainHTTP, Username: job.Username, Password: job.Password}
	if job.LoginServerAddress != "" {
		opts.Resolve = map[string]string{job.LoginServer: job.LoginServerAddress}
		log.printf("Reaching registry %s through its private endpoint at %s", job.LoginServer, job.LoginServerAddress)
	}
	client := regclient.New(opts)
	log.printf("Logging in to registry: %s", job.LoginServer)
	if err := client.Ping(ctx, job.LoginServer); err != nil {
		return Result{}, fmt.Errorf("failed to log in to registry %s: %w", job.LoginServer, err)
	}
	log.printf("Successfully logged into %s", job.LoginServer)

	dockerfile := job.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	platform := job.Platform
	if platform == "" {
		platform = "linux/amd64"
	}
	buildTimeout := orDefault(job.BuildTimeout, 28800*time.Second)
	log.printf("Executing step ID: build. Timeout(sec): %d, Working directory: '', Network: ''", int(buildTimeout/time.Second))
	start := e.now()
	bctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	log.printf("Scanning for dependencies...")
	args := mergeArgs(job.BuildArgs, job.SecretBuildArgs)
	refs, err := BasesOfFile(filepath.Join(src, filepath.FromSlash(dockerfile)), args)
	if err != nil {
		return Result{}, err
	}
	base, err := ocilayout.Create(filepath.Join(dir, "base"))
	if err != nil {
		return Result{}, err
	}
	named := map[string]string{}
	var runtime []Image
	var anon *regclient.Client
	for _, s := range refs {
		ref, err := regclient.ParseReference(s)
		if err != nil {
			return Result{}, fmt.Errorf("base image %q: berth pulls base images from registries by their login server, such as %s/base/busybox:1: %w", s, job.LoginServer, err)
		}
		log.printf("Pulling base image: %s", s)
		// The run's credentials are for its own registry; other registries
		// are read anonymously (a task's credentials name others).
		c := client
		if ref.Host != job.LoginServer {
			if anon == nil {
				anon = regclient.New(regclient.Options{Egress: e.Egress, PlainHTTP: e.PlainHTTP})
			}
			c = anon
		}
		p, err := c.Pull(bctx, ref, base, platform)
		if err != nil {
			return Result{}, fmt.Errorf("pull %s: %w", s, err)
		}
		named[s] = "oci-layout://base@" + string(p.Manifest.Digest)
		runtime = append(runtime, Image{Registry: ref.Host, Repository: ref.Repository, Tag: ref.Tag, Digest: p.Digest})
	}
	log.printf("Successfully scanned dependencies")
	log.printf("Launching container with name: build")
	out := filepath.Join(dir, "out")
	err = e.Engine.Build(bctx, BuildRequest{
		ContextDir: src, Dockerfile: dockerfile, BuildArgs: args, Target: job.Target, Platform: platform,
		NamedContexts: named, Stores: map[string]string{"base": base.Dir()}, OutputDir: out,
	}, log.w)
	if err != nil {
		if errors.Is(bctx.Err(), context.DeadlineExceeded) {
			return Result{TimedOut: true}, fmt.Errorf("step build timed out after %d seconds", int(buildTimeout/time.Second))
		}
		return Result{}, fmt.Errorf("failed to build the image: %w", err)
	}
	log.printf("Successfully executed container: build")
	log.printf("Step ID: build marked as successful (elapsed time in seconds: %.6f)", e.now().Sub(start).Seconds())
	result, err := e.push(ctx, job, client, out, runtime, log)
	if err != nil {
		return Result{}, err
	}
	log.dependencies(result.Dependencies)
	result.Succeeded = true
	return result, nil
}

// push pushes the built image under every name of the job and reports it.
func (e *Executor) push(ctx context.Context, job Job, client *regclient.Client, out string, runtime []Image, log *runLog) (Result, error) {
	l, img, err := builtManifest(out, secretValues(job))
	if err != nil {
		return Result{}, err
	}
	var r Result
	if !job.Push {
		return r, nil
	}
	pushTimeout := orDefault(job.PushTimeout, 3600*time.Second)
	log.printf("Executing step ID: push. Timeout(sec): %d, Working directory: '', Network: ''", int(pushTimeout/time.Second))
	start := e.now()
	pctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	for _, name := range job.Images {
		ref, err := regclient.ParseReference(job.LoginServer + "/" + name)
		if err != nil {
			return Result{}, err
		}
		log.printf("Pushing image: %s, attempt 1", ref)
		d, err := client.Push(pctx, l, img, ref)
		if err != nil {
			return Result{}, fmt.Errorf("push %s: %w", ref, err)
		}
		log.printf("Successfully pushed image: %s", ref)
		out := Image{Registry: ref.Host, Repository: ref.Repository, Tag: ref.Tag, Digest: d}
		r.Outputs = append(r.Outputs, out)
		r.Dependencies = append(r.Dependencies, Dependency{Image: out, Runtime: runtime})
	}
	log.printf("Step ID: push marked as successful (elapsed time in seconds: %.6f)", e.now().Sub(start).Seconds())
	return r, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func mergeArgs(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func secretValues(job Job) []string { return nonBlank(job.SecretBuildArgs) }

// nonBlank lists the values of ms that are more than white space: the
// ones worth redacting.
func nonBlank(ms ...map[string]string) []string {
	var out []string
	for _, m := range ms {
		for _, v := range m {
			if strings.TrimSpace(v) != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// builtManifest opens the OCI layout BuildKit wrote to out and returns it
// with the manifest to push: the built one, its config's history redacted
// of secrets.
func builtManifest(out string, secrets []string) (*ocilayout.Layout, oci.Descriptor, error) {
	l, err := ocilayout.Open(out)
	if err != nil {
		return nil, oci.Descriptor{}, fmt.Errorf("BuildKit returned no image: %w", err)
	}
	ms, err := l.Manifests()
	if err != nil || len(ms) == 0 {
		return nil, oci.Descriptor{}, fmt.Errorf("BuildKit returned no image: %v", err)
	}
	desc := ms[0]
	desc.Annotations = nil
	desc, err = RedactHistory(l, desc, secrets)
	return l, desc, err
}
