package agent

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path"
	"slices"
	"strings"
)

// Buildctl is the Engine that drives a buildkitd through its buildctl
// command: the Dockerfile frontend, base images from OCI layout stores as
// named contexts, and the result written as an OCI layout directory, so
// BuildKit never talks to a registry.
type Buildctl struct {
	// Command returns buildctl run against the daemon with args, such as
	// buildengine.Daemon.Buildctl.
	Command func(ctx context.Context, args ...string) *exec.Cmd
}

// Build runs one build, streaming BuildKit's plain progress to log.
func (b Buildctl) Build(ctx context.Context, req BuildRequest, log io.Writer) error {
	cmd := b.Command(ctx, b.args(req)...)
	dieWithAgent(cmd)
	// buildctl's own warnings about the local file system say nothing of
	// the build.
	out := newLineWriter(log, func(line string) string {
		if strings.Contains(line, "failed check for fsverity support") {
			return ""
		}
		return line
	})
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	out.Flush()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("buildctl: %w", err)
	}
	return nil
}

func (b Buildctl) args(req BuildRequest) []string {
	dockerfileDir := path.Join(req.ContextDir, path.Dir(req.Dockerfile))
	args := []string{"build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + req.ContextDir,
		"--local", "dockerfile=" + dockerfileDir,
		"--opt", "filename=" + path.Base(req.Dockerfile),
		"--output", "type=oci,tar=false,dest=" + req.OutputDir,
	}
	if req.Platform != "" {
		args = append(args, "--opt", "platform="+req.Platform)
	}
	if req.Target != "" {
		args = append(args, "--opt", "target="+req.Target)
	}
	if req.NoCache {
		args = append(args, "--no-cache")
	}
	for _, k := range slices.Sorted(maps.Keys(req.BuildArgs)) {
		args = append(args, "--opt", "build-arg:"+k+"="+req.BuildArgs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(req.NamedContexts)) {
		args = append(args, "--opt", "context:"+k+"="+req.NamedContexts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(req.Stores)) {
		args = append(args, "--oci-layout", k+"="+req.Stores[k])
	}
	return args
}
