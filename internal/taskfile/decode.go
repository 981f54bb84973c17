package taskfile

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Keys of the managed registry's format that berth does not offer; they
// get a clearer error than an unknown key.
var (
	unsupportedTop  = []string{"networks", "volumes", "totalTimeout", "workingDirectory"}
	unsupportedStep = []string{"detach", "privileged", "user", "ports", "expose", "entryPoint", "isolation",
		"keep", "startDelay", "repeat", "pull", "cache", "exitedWith", "exitedWithout",
		"disableWorkingDirectoryOverride", "volumeMounts"}
)

// Decode reads rendered task YAML strictly, applies the defaults and
// validates the result. It does not check secret values; Parse does.
func Decode(text string) (*File, error) {
	f, p := decode(text)
	if len(p) > 0 {
		return nil, p.err()
	}
	return f, nil
}

// decode returns the file as far as it could be read, with every problem.
func decode(text string) (*File, problems) {
	var p problems
	dec := yaml.NewDecoder(strings.NewReader(text))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add("", 0, "the file is empty: give at least a steps list")
		} else {
			p.add("yaml", 0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, p
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.add("yaml", extra.Line, "the file holds more than one YAML document: keep one (remove ---)")
		return nil, p
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		p.add("", root.Line, "the file must be a mapping with keys such as version and steps")
		return nil, p
	}
	w := walker{p: &p}
	f := &File{}
	stepTimeoutSet := false
	w.mapping("", root, func(key string, v *yaml.Node) {
		switch key {
		case "version":
			f.Version = w.str(key, v)
		case "stepTimeout":
			f.StepTimeout, stepTimeoutSet = w.int(key, v)
		case "env":
			f.Env = w.strs(key, v, `["KEY=value"]`)
		case "secrets":
			f.Secrets = w.secrets(v)
		case "alias":
			f.Alias = w.alias(v)
		case "steps":
			f.Steps = w.steps(v)
		default:
			w.unknown("", key, v, unsupportedTop)
		}
	})
	if f.Version == "" {
		f.Version = VersionV110
	}
	if stepTimeoutSet && f.StepTimeout <= 0 {
		p.add("stepTimeout", 0, "must be positive")
		f.StepTimeout = 0
	}
	if f.StepTimeout == 0 {
		f.StepTimeout = DefaultStepTimeout
	}
	for i := range f.Steps {
		s := &f.Steps[i]
		if s.Timeout == 0 {
			s.Timeout = f.StepTimeout
		}
		if s.Network == "" {
			s.Network = NetworkDefault
		}
	}
	if err := Validate(f); err != nil {
		p = append(p, err)
	}
	return f, p
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// walker reads yaml nodes into Go values, adding a problem for each value
// of the wrong shape.
type walker struct{ p *problems }

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + ": " + key
}

// mapping calls fn for each key of n in order; a key given twice is
// reported once and not passed on.
func (w walker) mapping(where string, n *yaml.Node, fn func(key string, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if seen[k.Value] {
			w.p.add(where, k.Line, "key %q is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, v)
	}
}

func (w walker) unknown(where, key string, v *yaml.Node, unsupported []string) {
	for _, u := range unsupported {
		if u == key {
			w.p.add(where, v.Line, "key %q is not supported by berth", key)
			return
		}
	}
	w.p.add(where, v.Line, "unknown key %q", key)
}

func (w walker) str(where string, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		w.p.add(where, v.Line, "must be a string")
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func (w walker) int(where string, v *yaml.Node) (int, bool) {
	var n int
	if v.Kind != yaml.ScalarNode || v.Decode(&n) != nil {
		w.p.add(where, v.Line, "must be a whole number, found %q", v.Value)
		return 0, false
	}
	return n, true
}

func (w walker) bool(where string, v *yaml.Node) bool {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
		w.p.add(where, v.Line, "must be true or false, found %q", v.Value)
	}
	return b
}

func (w walker) strs(where string, v *yaml.Node, example string) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		w.p.add(where, v.Line, "must be a list, such as %s", example)
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode {
			w.p.add(fmt.Sprintf("%s[%d]", where, i), item.Line, "must be a string")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (w walker) secrets(v *yaml.Node) []Secret {
	if v.Kind != yaml.SequenceNode {
		w.p.add("secrets", v.Line, "must be a list, such as [{id: token}]")
		return nil
	}
	var out []Secret
	for i, item := range v.Content {
		where := fmt.Sprintf("secrets[%d]", i)
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			w.p.add(where, item.Line, "must be a mapping, such as {id: token}")
			continue
		}
		var s Secret
		w.mapping(where, item, func(key string, v *yaml.Node) {
			if key == "id" {
				s.ID = w.str(join(where, key), v)
				return
			}
			w.unknown(where, key, v, []string{"keyvault", "clientID"})
		})
		out = append(out, s)
	}
	return out
}

func (w walker) alias(v *yaml.Node) Alias {
	a := Alias{}
	if v.Kind != yaml.MappingNode {
		w.p.add("alias", v.Line, "must be a mapping, such as {values: {repo: myrepo}}")
		return a
	}
	w.mapping("alias", v, func(key string, v *yaml.Node) {
		if key != "values" {
			w.unknown("alias", key, v, []string{"src", "directive"})
			return
		}
		if v.Kind != yaml.MappingNode {
			w.p.add("alias: values", v.Line, "must be a mapping of name: value")
			return
		}
		a.Values = map[string]string{}
		w.mapping("alias: values", v, func(name string, val *yaml.Node) {
			a.Values[name] = w.str("alias: values: "+name, val)
		})
	})
	return a
}

func (w walker) steps(v *yaml.Node) []Step {
	if v.Kind != yaml.SequenceNode {
		w.p.add("steps", v.Line, "must be a list of steps, such as [{cmd: alpine echo hello}]")
		return nil
	}
	out := make([]Step, 0, len(v.Content))
	for i, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			w.p.add(fmt.Sprintf("steps[%d]", i), item.Line, "must be a mapping with one of build, push, cmd")
			out = append(out, Step{ID: defaultID(i)})
			continue
		}
		out = append(out, w.step(i, item))
	}
	return out
}

func (w walker) step(i int, n *yaml.Node) Step {
	s := Step{ID: defaultID(i)}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if k, v := resolve(n.Content[j]), resolve(n.Content[j+1]); k.Value == "id" && v.Kind == yaml.ScalarNode {
			s.ID = v.Value
			break
		}
	}
	where := stepWhere(i, s.ID)
	w.mapping(where, n, func(key string, v *yaml.Node) {
		at := join(where, key)
		switch key {
		case "id":
			w.str(at, v)
		case "build":
			s.Build = w.str(at, v)
		case "push":
			s.Push = w.strs(at, v, `["app:v1"]`)
		case "cmd":
			s.Cmd = w.str(at, v)
		case "when":
			s.When = w.strs(at, v, `["-"] or ["build"]`)
			if s.When != nil && len(s.When) == 0 {
				w.p.add(at, v.Line, `is empty: leave it out to wait for the previous step, or write ["-"] to start at once`)
			}
		case "timeout":
			if t, ok := w.int(at, v); ok && t <= 0 {
				w.p.add(at, v.Line, "must be positive")
			} else {
				s.Timeout = t
			}
		case "env":
			s.Env = w.strs(at, v, `["KEY=value"]`)
		case "workingDirectory":
			s.WorkingDirectory = w.str(at, v)
		case "retries":
			s.Retries, _ = w.int(at, v)
		case "retryDelay":
			s.RetryDelay, _ = w.int(at, v)
		case "ignoreErrors":
			s.IgnoreErrors = w.bool(at, v)
		case "network":
			s.Network = w.str(at, v)
		default:
			w.unknown(where, key, v, unsupportedStep)
		}
	})
	return s
}
