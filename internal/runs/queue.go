package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// BuildRequest is what a quick build does, as stored with its run (the
// secret build args are not in it: they are sealed apart) and as an agent
// receives it.
type BuildRequest struct {
	// Images are repository:tag names in the run's registry. They may hold
	// {{.Run.ID}} and {{.Run.Registry}}, which ImageNames expands.
	Images     []string          `json:"images"`
	Dockerfile string            `json:"dockerfile"`
	BuildArgs  map[string]string `json:"buildArgs,omitempty"`
	// SecretBuildArgNames name the secret build args, whose values only
	// the leasing agent sees.
	SecretBuildArgNames []string   `json:"secretBuildArgNames,omitempty"`
	Target              string     `json:"target,omitempty"`
	Platform            string     `json:"platform"`
	Push                bool       `json:"push"`
	ContextID           oci.Digest `json:"contextId"`
	// CreatedBy is the principal who queued the run: the run's credential
	// never grants more than this principal may do.
	CreatedBy string `json:"createdBy,omitempty"`
}

// QuickBuild is a request to queue a quick build.
type QuickBuild struct {
	Images          []string
	Dockerfile      string // default "Dockerfile"
	BuildArgs       map[string]string
	SecretBuildArgs map[string]string
	Target          string
	Platform        string // default "linux/amd64"
	Push            *bool  // default true
	TimeoutSeconds  int64  // default DefaultBuildTimeout
	AgentPool       string // default: see Options.Pools
	ContextID       string
	CreatedBy       string // the principal queuing the run
}

// Limits of a quick build request.
const (
	DefaultBuildTimeout = 28800 // seconds
	MaxTimeout          = 28800
	maxImages           = 32
	maxBuildArgs        = 100
	maxBuildArgBytes    = 64 << 10
	maxDockerfilePath   = 1024
)

var (
	buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	platformName = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
	targetName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

// QueueBuild validates a quick build and queues it on reg.
func (s *Service) QueueBuild(ctx context.Context, reg meta.Registry, q QuickBuild) (meta.Run, error) {
	req, err := s.checkBuild(ctx, reg, q)
	if err != nil {
		return meta.Run{}, err
	}
	pool, err := s.pool(ctx, reg, q.AgentPool)
	if err != nil {
		return meta.Run{}, err
	}
	timeout := q.TimeoutSeconds
	if timeout == 0 {
		timeout = DefaultBuildTimeout
	}
	if timeout < 1 || timeout > MaxTimeout {
		return meta.Run{}, invalid("timeout %d: give 1 to %d seconds", timeout, MaxTimeout)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return meta.Run{}, err
	}
	run := meta.Run{RegistryID: reg.ID, Registry: reg.Name, RunType: meta.RunQuickBuild, AgentPool: pool,
		Trigger: meta.TriggerManual, Request: body, TimeoutSeconds: timeout}
	if len(q.SecretBuildArgs) > 0 {
		secrets, err := json.Marshal(q.SecretBuildArgs)
		if err != nil {
			return meta.Run{}, err
		}
		run.Secrets = s.seal.Seal(secrets, secretsLabel(reg.ID))
	}
	if err := s.create(ctx, reg, q.AgentPool, &run); err != nil {
		return meta.Run{}, err
	}
	return run, nil
}

// create stores run, queued on run.AgentPool (the queue key s.pool gave
// for the pool name requested), and wakes this replica's leases.
func (s *Service) create(ctx context.Context, reg meta.Registry, requested string, run *meta.Run) error {
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		if run.AgentPool != requested && requested != "" {
			// A dedicated pool deleted since it was looked at takes no
			// run: none of its agents would ever lease it.
			if _, err := dedicatedPool(ctx, tx, reg, requested); err != nil {
				return err
			}
		}
		return tx.CreateRun(ctx, run)
	})
	if errors.Is(err, errNoPool) {
		return invalid("agentPool %q: the dedicated pool was just deleted", requested)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "run queued", "registry", reg.Name, "run_id", run.RunID, "run_type", run.RunType,
		"task", run.TaskName, "trigger", run.Trigger, "agent_pool", run.AgentPool)
	s.wake()
	return nil
}

// checkBuild validates q and returns what the run will store.
func (s *Service) checkBuild(ctx context.Context, reg meta.Registry, q QuickBuild) (BuildRequest, error) {
	req := BuildRequest{Dockerfile: q.Dockerfile, BuildArgs: q.BuildArgs, Target: q.Target, Platform: q.Platform, Push: true,
		CreatedBy: q.CreatedBy}
	if q.Push != nil {
		req.Push = *q.Push
	}
	if len(q.Images) == 0 && req.Push {
		return req, invalid("images: name at least one image to push, such as app:v1, or set push to false")
	}
	if len(q.Images) > maxImages {
		return req, invalid("images: at most %d, not %d", maxImages, len(q.Images))
	}
	for i, name := range q.Images {
		n, err := checkImageName(name)
		if err != nil {
			return req, invalid("images[%d] %q: %v", i, name, err)
		}
		req.Images = append(req.Images, n)
	}
	if req.Images == nil {
		req.Images = []string{}
	}
	if req.Dockerfile == "" {
		req.Dockerfile = "Dockerfile"
	}
	clean := path.Clean(req.Dockerfile)
	if len(req.Dockerfile) > maxDockerfilePath || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || clean == "." {
		return req, invalid("dockerfile %q: give a file path inside the context, such as Dockerfile or docker/app.Dockerfile", q.Dockerfile)
	}
	req.Dockerfile = clean
	if err := checkBuildArgs(q.BuildArgs, q.SecretBuildArgs); err != nil {
		return req, err
	}
	for name := range q.SecretBuildArgs {
		req.SecretBuildArgNames = append(req.SecretBuildArgNames, name)
	}
	slices.Sort(req.SecretBuildArgNames)
	if req.Target != "" && !targetName.MatchString(req.Target) {
		return req, invalid("target %q: give the name of a stage of the Dockerfile", req.Target)
	}
	if req.Platform == "" {
		req.Platform = "linux/amd64"
	}
	if !platformName.MatchString(req.Platform) {
		return req, invalid("platform %q: give OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8", req.Platform)
	}
	if q.ContextID == "" {
		return req, invalid("contextId: upload the build context first (POST /api/registries/%s/buildContexts) and give the contextId it answers", reg.Name)
	}
	d, err := oci.ParseDigest(q.ContextID)
	if err != nil {
		return req, invalid("contextId %q: want a digest such as sha256:…, as the upload answered", q.ContextID)
	}
	if _, err := s.db.BuildContext(ctx, reg.ID, d); errors.Is(err, meta.ErrNotFound) {
		return req, invalid("contextId %s: no such build context was uploaded to registry %q", d, reg.Name)
	} else if err != nil {
		return req, err
	}
	req.ContextID = d
	return req, nil
}

// checkImageName checks repository[:tag] and returns it with its tag,
// latest when it has none.
func checkImageName(name string) (string, error) {
	if strings.Contains(name, "@") {
		return "", errors.New("give repository:tag; a digest names an image that exists, not one to push")
	}
	// Check a name whose placeholders stand for values of their form.
	sample := expandNames([]string{name}, "ca1", "registry")[0]
	repo, tag, ok := oci.SplitTag(sample)
	if !ok {
		tag = "latest"
		name += ":latest"
	}
	if first, _, ok := strings.Cut(repo, "/"); ok && strings.ContainsAny(first, ".:") {
		return "", fmt.Errorf("give the repository without the registry's login server (%s)", first)
	}
	if !oci.ValidName(repo) {
		return "", errors.New("the repository must be lowercase letters and digits, separated by '.', '_', '__' or '-', with '/' between components")
	}
	if !oci.ValidTag(tag) {
		return "", errors.New("the tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
	}
	return name, nil
}

func checkBuildArgs(args, secrets map[string]string) error {
	if len(args)+len(secrets) > maxBuildArgs {
		return invalid("buildArgs and secretBuildArgs: at most %d together, not %d", maxBuildArgs, len(args)+len(secrets))
	}
	size := 0
	for _, m := range []struct {
		field string
		args  map[string]string
	}{{"buildArgs", args}, {"secretBuildArgs", secrets}} {
		for k, v := range m.args {
			if !buildArgName.MatchString(k) {
				return invalid("%s: %q is not a build arg name: letters, digits and '_', not starting with a digit", m.field, k)
			}
			size += len(k) + len(v)
		}
	}
	for k := range secrets {
		if _, ok := args[k]; ok {
			return invalid("build arg %q is both in buildArgs and in secretBuildArgs", k)
		}
	}
	if size > maxBuildArgBytes {
		return invalid("buildArgs and secretBuildArgs: at most %d bytes together, not %d", maxBuildArgBytes, size)
	}
	return nil
}

// pool returns the queue key of the pool a run goes to: the one named,
// a public pool or a dedicated pool of reg, which must exist; else the
// first public pool of the registry's location, else the first.
func (s *Service) pool(ctx context.Context, reg meta.Registry, name string) (string, error) {
	if name != "" && !slices.ContainsFunc(s.pools, func(p Pool) bool { return p.Name == name }) {
		key, err := dedicatedPool(ctx, s.db, reg, name)
		if !errors.Is(err, errNoPool) {
			return key, err
		}
	}
	if len(s.pools) == 0 && name == "" {
		return "", invalid("agentPool: the server has no public agent pool; name a dedicated pool of registry %q, or configure agentPools in the server's config file", reg.Name)
	}
	if name == "" {
		for _, p := range s.pools {
			if p.Location == reg.Location {
				return p.Name, nil
			}
		}
		return s.pools[0].Name, nil
	}
	var names []string
	for _, p := range s.pools {
		if p.Name == name {
			return name, nil
		}
		names = append(names, p.Name)
	}
	have := "the server has " + strings.Join(names, ", ")
	if len(names) == 0 {
		have = "the server has no public pool"
	}
	if ded, err := s.db.RegistryAgentPools(ctx, reg.ID); err == nil && len(ded) > 0 {
		var d []string
		for _, p := range ded {
			d = append(d, p.Name)
		}
		have += "; registry " + strconv.Quote(reg.Name) + " has the dedicated pools " + strings.Join(d, ", ")
	}
	return "", invalid("agentPool %q: no such agent pool; %s", name, have)
}

// ImageNames are the images a run pushes, with {{.Run.ID}} and
// {{.Run.Registry}} expanded.
func ImageNames(run meta.Run, req BuildRequest) []string {
	return expandNames(req.Images, run.RunID, run.Registry)
}

// expandNames replaces {{.Run.ID}} and {{.Run.Registry}} in names.
func expandNames(names []string, runID, registry string) []string {
	r := strings.NewReplacer("{{.Run.ID}}", runID, "{{.Run.Registry}}", registry)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, r.Replace(n))
	}
	return out
}

// Request decodes the request a run was queued with. For a quick run or a
// task run it holds the context, platform and queuer, and as Images those
// of its Docker step (a task file's images are known only as it runs).
func Request(run meta.Run) (BuildRequest, error) {
	var req BuildRequest
	if err := json.Unmarshal(run.Request, &req); err != nil {
		return req, fmt.Errorf("run %s of registry %s: stored request: %w", run.RunID, run.Registry, err)
	}
	if IsSteps(run) {
		steps, err := Steps(run)
		if err != nil {
			return req, err
		}
		req.Images = []string{}
		if steps.Docker != nil {
			req.Images = steps.Docker.Images
		}
	}
	return req, nil
}

// Get returns run runID of reg.
func (s *Service) Get(ctx context.Context, reg meta.Registry, runID string) (meta.Run, error) {
	run, err := s.db.Run(ctx, reg.ID, runID)
	if errors.Is(err, meta.ErrNotFound) {
		return run, fmt.Errorf("%w: run %q of registry %q", meta.ErrNotFound, runID, reg.Name)
	}
	return run, err
}

// List lists reg's runs, newest first.
func (s *Service) List(ctx context.Context, reg meta.Registry, f meta.RunFilter) ([]meta.Run, error) {
	if f.Status != "" {
		st, ok := statusNamed(f.Status)
		if !ok {
			return nil, invalid("status %q: want one of %s", f.Status, strings.Join(Statuses, ", "))
		}
		f.Status = st
	}
	return s.db.Runs(ctx, reg.ID, f)
}

// Statuses are the statuses of a run, in the order a run goes through them.
var Statuses = []string{meta.RunQueued, meta.RunStarted, meta.RunRunning, meta.RunSucceeded, meta.RunFailed,
	meta.RunCanceled, meta.RunError, meta.RunTimeout}

// statusNamed returns the status s names, in any case.
func statusNamed(s string) (string, bool) {
	for _, st := range Statuses {
		if strings.EqualFold(s, st) {
			return st, true
		}
	}
	return "", false
}

// Cancel cancels run runID of reg: a queued run is Canceled at once; a run
// an agent holds is marked, and its agent stops when it learns of it. A
// run that already ended is meta.ErrConflict.
func (s *Service) Cancel(ctx context.Context, reg meta.Registry, runID string) (meta.Run, error) {
	run, err := s.Get(ctx, reg, runID)
	if err != nil {
		return run, err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		run, err = tx.CancelRun(ctx, run.ID)
		return err
	})
	switch {
	case errors.Is(err, meta.ErrConflict):
		return run, fmt.Errorf("%w: run %s of registry %q already ended: %s", meta.ErrConflict, runID, reg.Name, run.Status)
	case errors.Is(err, meta.ErrNotFound):
		return run, fmt.Errorf("%w: run %q of registry %q", meta.ErrNotFound, runID, reg.Name)
	case err != nil:
		return run, err
	}
	s.log.InfoContext(ctx, "run cancel requested", "registry", reg.Name, "run_id", runID, "status", run.Status)
	if !run.Live() && run.LogDigest == "" {
		s.archive(ctx, run)
	}
	s.wake()
	return run, nil
}
