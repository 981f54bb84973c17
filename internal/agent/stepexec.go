package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/taskfile"
)

// build runs a build step: every base image is pulled (or taken from an
// earlier build step of the run) into a layout store, BuildKit builds into
// a layout of the step's own, and the image is remembered under each -t
// for later push steps and cmd steps.
func (r *stepRun) build(ctx context.Context, s taskfile.Step) error {
	b, err := taskfile.ParseBuild(s.Build)
	if err != nil {
		return err
	}
	base, err := r.within(r.src, s.WorkingDirectory, "the working directory")
	if err != nil {
		return err
	}
	contextDir, err := r.within(base, b.Context, "the build context")
	if err != nil {
		return err
	}
	if fi, err := os.Stat(contextDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("the build context %s is not a directory of the run's source", b.Context)
	}
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	dfPath, err := r.within(contextDir, dockerfile, "the Dockerfile")
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dfPath); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("no Dockerfile %s in the build context %s", dockerfile, b.Context)
	}
	rel, err := filepath.Rel(contextDir, dfPath)
	if err != nil {
		return err
	}
	args := map[string]string{}
	for _, a := range b.BuildArgs {
		k, v, _ := strings.Cut(a, "=")
		args[k] = v
	}
	platform := b.Platform
	if platform == "" {
		platform = r.platform
	}

	dir, err := os.MkdirTemp(r.dir, "step-")
	if err != nil {
		return err
	}
	r.log.printf("Scanning for dependencies...")
	refs, err := BasesOfFile(dfPath, args)
	if err != nil {
		return err
	}
	named := map[string]string{}
	stores := map[string]string{}
	var runtime []Image
	for i, ref := range refs {
		img, err := r.image(ctx, ref, filepath.Join(dir, fmt.Sprintf("base%d", i)), platform, "base image")
		if err != nil {
			return err
		}
		store := fmt.Sprintf("base%d", i)
		stores[store] = img.dir
		named[ref] = "oci-layout://" + store + "@" + string(img.desc.Digest)
		runtime = append(runtime, img.runtime...)
	}
	r.log.printf("Successfully scanned dependencies")
	r.log.printf("Launching container with name: %s", s.ID)
	out := filepath.Join(dir, "out")
	err = r.e.Engine.Build(ctx, BuildRequest{
		ContextDir: contextDir, Dockerfile: filepath.ToSlash(rel), BuildArgs: args, Target: b.Target, Platform: platform,
		NamedContexts: named, Stores: stores, OutputDir: out, NoCache: b.NoCache,
	}, r.log.w)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("failed to build the image: %w", err)
	}
	// Only the run's secret values can reach a build (through its
	// arguments); its passwords and tokens never do.
	_, desc, err := builtManifest(out, r.buildSecrets())
	if err != nil {
		return err
	}
	r.log.printf("Successfully executed container: %s", s.ID)
	for _, t := range b.Tags {
		ref, err := r.reference(t)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.built[ref.String()] = builtImage{dir: out, desc: desc, runtime: runtime}
		r.mu.Unlock()
	}
	return nil
}

// push runs a push step: each image must have been built by an earlier
// build step of the run.
func (r *stepRun) push(ctx context.Context, s taskfile.Step, attempt int) error {
	for _, name := range s.Push {
		ref, err := r.reference(name)
		if err != nil {
			return err
		}
		r.mu.Lock()
		b, ok := r.built[ref.String()]
		r.mu.Unlock()
		if !ok {
			return fmt.Errorf("image %s was not built by an earlier build step of this run: a push step pushes what a build step tagged with -t", name)
		}
		l, err := ocilayout.Open(b.dir)
		if err != nil {
			return err
		}
		c, err := r.reg.client(ctx, ref.Host)
		if err != nil {
			return err
		}
		r.log.printf("Pushing image: %s, attempt %d", ref, attempt)
		d, err := c.Push(ctx, l, b.desc, ref)
		if err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		r.log.printf("Successfully pushed image: %s", ref)
		out := Image{Registry: ref.Host, Repository: ref.Repository, Tag: ref.Tag, Digest: d}
		r.mu.Lock()
		if !r.pushed[ref.String()] {
			r.pushed[ref.String()] = true
			r.outputs = append(r.outputs, out)
			r.deps = append(r.deps, Dependency{Image: out, Runtime: b.runtime})
		}
		r.mu.Unlock()
	}
	return nil
}

// cmd runs a cmd step: a built-in berth command inside the agent, or a
// container of the step's image through BuildKit, with the run's source
// at /workspace.
func (r *stepRun) cmd(ctx context.Context, s taskfile.Step) error {
	c, err := taskfile.ParseCmd(s.Cmd)
	if err != nil {
		return err
	}
	if c.Builtin() {
		return r.builtin(ctx, c.Args)
	}
	dir, err := os.MkdirTemp(r.dir, "step-")
	if err != nil {
		return err
	}
	img, err := r.image(ctx, c.Image, filepath.Join(dir, "image"), r.platform, "image")
	if err != nil {
		return err
	}
	l, err := ocilayout.Open(img.dir)
	if err != nil {
		return err
	}
	cfg, err := ImageConfigOf(l, img.desc)
	if err != nil {
		return err
	}
	r.log.printf("Launching container with name: %s", s.ID)
	err = r.e.Engine.RunCmd(ctx, CmdRequest{
		Image: c.Image, NamedContext: "oci-layout://step@" + string(img.desc.Digest),
		Stores: map[string]string{"step": img.dir}, Config: cfg, Args: c.Args,
		Env: r.file.EnvFor(s), WorkingDir: s.WorkingDirectory, Network: s.Network,
		ContextDir: r.src, Platform: r.platform,
	}, r.log.w)
	if err != nil {
		return err
	}
	r.log.printf("Successfully executed container: %s", s.ID)
	return nil
}

// image makes the image name names available in a layout store: the one
// an earlier build step of the run tagged so, or else the image pulled,
// with the client for its registry, into a new layout at dir. A base
// image must name its registry; a cmd step's image without one is the
// run's registry's.
func (r *stepRun) image(ctx context.Context, name, dir, platform, what string) (builtImage, error) {
	var ref regclient.Reference
	var err error
	if what == "base image" {
		ref, err = regclient.ParseReference(name)
		if err != nil {
			return builtImage{}, fmt.Errorf("base image %q: berth pulls base images from registries by their login server, such as %s/base/busybox:1: %w", name, r.job.LoginServer, err)
		}
	} else if ref, err = r.reference(name); err != nil {
		return builtImage{}, err
	}
	r.mu.Lock()
	b, ok := r.built[ref.String()]
	r.mu.Unlock()
	if ok {
		r.log.printf("Using %s %s, built by an earlier step", what, ref)
		return builtImage{dir: b.dir, desc: b.desc,
			runtime: []Image{{Registry: ref.Host, Repository: ref.Repository, Tag: ref.Tag, Digest: b.desc.Digest}}}, nil
	}
	c, err := r.reg.client(ctx, ref.Host)
	if err != nil {
		return builtImage{}, err
	}
	if what == "base image" {
		r.log.printf("Pulling base image: %s", name)
	} else {
		r.log.printf("Pulling image: %s", ref)
	}
	l, err := ocilayout.Create(dir)
	if err != nil {
		return builtImage{}, err
	}
	p, err := c.Pull(ctx, ref, l, platform)
	if err != nil {
		return builtImage{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	return builtImage{dir: dir, desc: p.Manifest,
		runtime: []Image{{Registry: ref.Host, Repository: ref.Repository, Tag: ref.Tag, Digest: p.Digest}}}, nil
}

// within joins rel (a slash path as the step writes it) to base, and
// refuses an absolute path or one that leaves the run's source.
func (r *stepRun) within(base, rel, what string) (string, error) {
	if rel == "" {
		return base, nil
	}
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s %s: give a path relative to the run's source", what, rel)
	}
	p := filepath.Join(base, filepath.FromSlash(rel))
	if out, err := filepath.Rel(r.src, p); err != nil || !filepath.IsLocal(out) && out != "." {
		return "", fmt.Errorf("%s %s leaves the run's source", what, rel)
	}
	return p, nil
}

// buildSecrets are the secret values of the run, which a build step's
// arguments may hold and its image's history then shows.
func (r *stepRun) buildSecrets() []string {
	return nonBlank(r.job.Steps.SecretValues, r.job.SecretBuildArgs)
}
