package taskfile

import "strings"

// Default timeouts, in seconds, of a quick build's two steps.
const (
	QuickBuildTimeout = 28800
	QuickPushTimeout  = 3600
)

// FromCmd is the file of a quick run with --cmd: one cmd step,
// acb_step_0, with the given timeout (DefaultStepTimeout when not positive).
func FromCmd(cmd string, timeoutSecs int) *File {
	if timeoutSecs <= 0 {
		timeoutSecs = DefaultStepTimeout
	}
	return &File{
		Version:     VersionV110,
		StepTimeout: timeoutSecs,
		Steps: []Step{{
			ID:      defaultID(0),
			Cmd:     cmd,
			Timeout: timeoutSecs,
			Network: NetworkDefault,
		}},
	}
}

// DockerfileBuild is what a quick build (berth build -t …) or a task with
// a Dockerfile asks for.
type DockerfileBuild struct {
	Images       []string // as written; the caller puts the registry first when there is none
	Dockerfile   string   // "" means Dockerfile in the context
	Context      string   // path in the run's source; "" means .
	BuildArgs    []string // NAME=value
	Target       string
	Platform     string
	NoCache      bool
	NoPush       bool
	BuildTimeout int // seconds; QuickBuildTimeout when not positive
	PushTimeout  int // seconds; QuickPushTimeout when not positive
}

// FromDockerfile is the file of a Dockerfile build: a step "build" that
// builds and tags every image, then, unless NoPush, a step "push" that
// pushes them. It runs through the same scheduler as any task file.
func FromDockerfile(d DockerfileBuild) (*File, error) {
	if d.BuildTimeout <= 0 {
		d.BuildTimeout = QuickBuildTimeout
	}
	if d.PushTimeout <= 0 {
		d.PushTimeout = QuickPushTimeout
	}
	if d.Context == "" {
		d.Context = "."
	}
	var args []string
	for _, img := range d.Images {
		args = append(args, "-t", quote(img))
	}
	if d.Dockerfile != "" {
		args = append(args, "-f", quote(d.Dockerfile))
	}
	for _, a := range d.BuildArgs {
		args = append(args, "--build-arg", quote(a))
	}
	if d.Target != "" {
		args = append(args, "--target", quote(d.Target))
	}
	if d.Platform != "" {
		args = append(args, "--platform", quote(d.Platform))
	}
	if d.NoCache {
		args = append(args, "--no-cache")
	}
	if strings.HasPrefix(d.Context, "-") {
		args = append(args, "--")
	}
	args = append(args, quote(d.Context))
	f := &File{
		Version:     VersionV110,
		StepTimeout: DefaultStepTimeout,
		Steps: []Step{{
			ID:      "build",
			Build:   strings.Join(args, " "),
			When:    []string{WhenNow},
			Timeout: d.BuildTimeout,
			Network: NetworkDefault,
		}},
	}
	if !d.NoPush && len(d.Images) > 0 {
		f.Steps = append(f.Steps, Step{
			ID:      "push",
			Push:    append([]string(nil), d.Images...),
			When:    []string{"build"},
			Timeout: d.PushTimeout,
			Network: NetworkDefault,
		})
	}
	if err := Validate(f); err != nil {
		return nil, err
	}
	return f, nil
}
