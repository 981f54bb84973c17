package taskfile

import (
	"errors"
	"fmt"
	"strings"
)

// ValidationError is one thing wrong with a task file, found before any
// step runs. Parse and Validate return all of them joined with errors.Join;
// find one with errors.As.
type ValidationError struct {
	Where string // e.g. `steps[2] (id "test")`, "when", "template"
	Msg   string
	Line  int // line in the rendered file, when known
}

func (e *ValidationError) Error() string {
	s := e.Msg
	if e.Where != "" {
		s = e.Where + ": " + s
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	return s
}

// problems collects validation errors.
type problems []error

func (p *problems) add(where string, line int, format string, args ...any) {
	*p = append(*p, &ValidationError{Where: where, Msg: fmt.Sprintf(format, args...), Line: line})
}

func (p problems) err() error { return errors.Join(p...) }

// stepWhere names step i for an error: its index, and its id when the file
// gave one.
func stepWhere(i int, id string) string {
	if id == "" || id == defaultID(i) {
		return fmt.Sprintf("steps[%d]", i)
	}
	return fmt.Sprintf("steps[%d] (id %q)", i, id)
}

func defaultID(i int) string { return fmt.Sprintf("acb_step_%d", i) }

// Validate checks a File, whether decoded or built in code: everything but
// the secrets' values, which only Parse knows.
func Validate(f *File) error {
	var p problems
	switch f.Version {
	case "", VersionV100, VersionV110:
	default:
		p.add("version", 0, "%q is not a version berth reads: write %s", f.Version, VersionV110)
	}
	if f.StepTimeout < 0 {
		p.add("stepTimeout", 0, "must be positive")
	}
	checkEnv(&p, "env", f.Env)
	seenSecret := map[string]bool{}
	for i, s := range f.Secrets {
		where := fmt.Sprintf("secrets[%d]", i)
		switch {
		case s.ID == "":
			p.add(where, 0, "id is missing")
		case seenSecret[s.ID]:
			p.add(where, 0, "id %q is declared twice", s.ID)
		}
		seenSecret[s.ID] = true
	}
	if len(f.Steps) == 0 {
		p.add("steps", 0, "no steps: give at least one build, push or cmd step")
	}
	ids := map[string]int{}
	for i, s := range f.Steps {
		where := stepWhere(i, s.ID)
		switch {
		case s.ID == "":
			p.add(where, 0, "id is empty")
		case s.ID == WhenNow || strings.ContainsAny(s.ID, " \t\r\n"):
			p.add(where, 0, "id %q: must not be %q nor contain spaces", s.ID, WhenNow)
		}
		if j, ok := ids[s.ID]; ok && s.ID != "" {
			p.add(where, 0, "id %q is already the id of steps[%d]", s.ID, j)
		} else {
			ids[s.ID] = i
		}
		checkStep(&p, where, s)
	}
	for i, s := range f.Steps {
		where := stepWhere(i, s.ID)
		seen := map[string]bool{}
		for _, w := range s.When {
			switch {
			case w == WhenNow:
				if len(s.When) > 1 {
					p.add(where, 0, "when: %q starts the step at once and cannot be combined with step ids", WhenNow)
				}
			case seen[w]:
				p.add(where, 0, "when: step id %q is listed twice", w)
			default:
				if _, ok := ids[w]; !ok {
					p.add(where, 0, "when: unknown step id %q", w)
				}
			}
			seen[w] = true
		}
	}
	for _, c := range cycles(f) {
		p.add("when", 0, "cycle: %s", strings.Join(c, " -> "))
	}
	return p.err()
}

func checkStep(p *problems, where string, s Step) {
	var kinds []string
	if s.Build != "" {
		kinds = append(kinds, "build")
	}
	if len(s.Push) > 0 {
		kinds = append(kinds, "push")
	}
	if s.Cmd != "" {
		kinds = append(kinds, "cmd")
	}
	switch len(kinds) {
	case 0:
		p.add(where, 0, "one of build, push, cmd is needed (an empty one counts as missing)")
	case 1:
	default:
		p.add(where, 0, "exactly one of build, push, cmd is allowed; found %s", andList(kinds))
	}
	if s.Build != "" {
		if _, err := ParseBuild(s.Build); err != nil {
			p.add(where, 0, "build: %v", err)
		}
	}
	for i, img := range s.Push {
		if err := checkImage(img); err != nil {
			p.add(where, 0, "push[%d]: %v", i, err)
		}
	}
	if s.Cmd != "" {
		if _, err := ParseCmd(s.Cmd); err != nil {
			p.add(where, 0, "cmd: %v", err)
		}
	}
	if s.Timeout < 0 {
		p.add(where, 0, "timeout: must be positive")
	}
	if s.Retries < 0 || s.Retries > 10 {
		p.add(where, 0, "retries: must be 0 to 10, found %d", s.Retries)
	}
	if s.RetryDelay < 0 {
		p.add(where, 0, "retryDelay: must be 0 or more seconds, found %d", s.RetryDelay)
	}
	switch s.Network {
	case "", NetworkDefault, NetworkNone:
	default:
		p.add(where, 0, "network: %q is not a network: write %q (loopback only, the default) or %q (no network)", s.Network, NetworkDefault, NetworkNone)
	}
	checkEnv(p, where+": env", s.Env)
}

func checkEnv(p *problems, where string, env []string) {
	for i, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			p.add(fmt.Sprintf("%s[%d]", where, i), 0, "%q has no \"=\": write KEY=value", kv)
		case k == "" || strings.ContainsAny(k, " \t\r\n"):
			p.add(fmt.Sprintf("%s[%d]", where, i), 0, "%q: the name before \"=\" must be non-empty, without spaces", kv)
		}
	}
}

// andList writes "a", "a and b", "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// deps gives, for each step, the indexes of the steps it waits for. Ids
// that name no step are left out; Validate reports them.
func deps(f *File) [][]int {
	ids := map[string]int{}
	for i, s := range f.Steps {
		if _, ok := ids[s.ID]; !ok {
			ids[s.ID] = i
		}
	}
	out := make([][]int, len(f.Steps))
	for i, s := range f.Steps {
		switch {
		case len(s.When) == 0:
			if i > 0 {
				out[i] = []int{i - 1}
			}
		case len(s.When) == 1 && s.When[0] == WhenNow:
		default:
			for _, w := range s.When {
				if j, ok := ids[w]; ok {
					out[i] = append(out[i], j)
				}
			}
		}
	}
	return out
}

// cycles finds the dependency cycles among the steps, each as a path of
// ids that starts and ends with the same id.
func cycles(f *File) [][]string {
	const (
		unseen = iota
		open
		closed
	)
	d := deps(f)
	state := make([]int, len(d))
	var stack []int
	var found [][]string
	var visit func(i int)
	visit = func(i int) {
		state[i] = open
		stack = append(stack, i)
		for _, j := range d[i] {
			switch state[j] {
			case unseen:
				visit(j)
			case open:
				var path []string
				for k := len(stack) - 1; k >= 0; k-- {
					if stack[k] == j {
						for _, s := range stack[k:] {
							path = append(path, f.Steps[s].ID)
						}
						break
					}
				}
				found = append(found, append(path, f.Steps[j].ID))
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = closed
	}
	for i := range d {
		if state[i] == unseen {
			visit(i)
		}
	}
	return found
}
