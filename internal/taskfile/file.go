package taskfile

import "strings"

// Versions of the file format that berth reads.
const (
	VersionV100 = "v1.0.0"
	VersionV110 = "v1.1.0"
)

// DefaultStepTimeout is the step timeout, in seconds, of a file that does
// not set stepTimeout.
const DefaultStepTimeout = 600

// Networks a step may ask for.
const (
	// NetworkDefault is the engine's own network: loopback only.
	NetworkDefault = "default"
	// NetworkNone is no network at all, not even loopback.
	NetworkNone = "none"
)

// WhenNow, alone in a step's when, starts the step at once.
const WhenNow = "-"

// File is a decoded task file.
type File struct {
	Version     string
	StepTimeout int // seconds
	Env         []string
	Secrets     []Secret
	Alias       Alias
	Steps       []Step
}

// Secret is a secret the file uses as {{.Secrets.<ID>}}. Its value is given
// with the run (--set-secret ID=…), never in the file.
type Secret struct {
	ID string
}

// Alias holds the file's own aliases, name to value.
type Alias struct {
	Values map[string]string
}

// Step is one step of a file. Exactly one of Build, Push and Cmd is set.
type Step struct {
	ID    string
	Build string   // docker build arguments; see ParseBuild
	Push  []string // images to push, as written
	Cmd   string   // an image and its arguments; see ParseCmd

	// When lists the ids of the steps this one waits for. Empty means the
	// previous step (the first step starts at once); ["-"] means at once.
	When []string

	Timeout          int // seconds; 0 means the file's stepTimeout
	Env              []string
	WorkingDirectory string
	Retries          int
	RetryDelay       int // seconds
	IgnoreErrors     bool
	Network          string // "" or NetworkDefault, or NetworkNone
}

// Kind names the step's kind: "build", "push" or "cmd" ("" when none is set).
func (s Step) Kind() string {
	switch {
	case s.Build != "":
		return "build"
	case len(s.Push) > 0:
		return "push"
	case s.Cmd != "":
		return "cmd"
	}
	return ""
}

// EnvFor is the environment of step s: the file's env, then the step's,
// a later KEY replacing an earlier one in place.
func (f *File) EnvFor(s Step) []string {
	var out []string
	at := map[string]int{}
	for _, kv := range append(append([]string(nil), f.Env...), s.Env...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := at[k]; ok {
			out[i] = kv
			continue
		}
		at[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// Timeout is the step's timeout in seconds, with the defaults applied.
func (f *File) Timeout(s Step) int {
	switch {
	case s.Timeout > 0:
		return s.Timeout
	case f.StepTimeout > 0:
		return f.StepTimeout
	}
	return DefaultStepTimeout
}
