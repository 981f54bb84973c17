package taskcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/berth-project/berth/internal/cli/buildcmd"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// What tasks and quick runs (berth run) share: where their source comes
// from, their values, and their task file. Exported for package runcmd.

// Source is a run's or a task's context as the server takes it: exactly
// one of the two is set.
type Source struct {
	ContextID   string // an uploaded context
	ContextPath string // /dev/null, a git URL or oci://…
}

// gitURL is a git repository over HTTP(S), optionally with #ref:folder.
var gitURL = regexp.MustCompile(`^https?://[^#\s]+\.git(#[^\s]*)?$`)

// ContextKind tells what a context argument is: remote (passed to the
// server as a path) or local (a directory or a .tar.gz file to upload);
// anything else is an error that says what a context may be.
func ContextKind(arg string) (remote bool, err error) {
	switch {
	case arg == "":
		return false, errors.New("the context is empty: give a directory, a .tar.gz file, /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<loginServer>/<repo>:<tag>")
	case arg == "-":
		return false, errors.New("a context on standard input is not taken here: give a directory, a .tar.gz file, /dev/null, a git URL or oci://…")
	case arg == "/dev/null", strings.HasPrefix(arg, "oci://"):
		return true, nil
	case strings.HasPrefix(arg, "https://"), strings.HasPrefix(arg, "http://"):
		if !gitURL.MatchString(arg) {
			return false, fmt.Errorf("context %s: a URL context must be a git repository ending in .git, optionally with #ref:folder, such as https://github.com/me/app.git#main:src", arg)
		}
		return true, nil
	case strings.Contains(arg, "://"):
		return false, fmt.Errorf("context %s: give a directory, a .tar.gz file, /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<loginServer>/<repo>:<tag>", arg)
	}
	fi, err := os.Stat(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("the context %s does not exist: give a directory, a .tar.gz file, /dev/null, a git URL or oci://…", arg)
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return false, fmt.Errorf("the context %s is neither a directory nor a .tar.gz file", arg)
	}
	return false, nil
}

// ResolveSource returns the server's form of context arg (checked with
// ContextKind first): a remote one as it is; a local one packed and
// uploaded as berth build does (buildcmd.UploadContext: dockerfile,
// relative to the context, is always kept; "" means Dockerfile).
func ResolveSource(ctx context.Context, ios *cmdutil.IOStreams, status io.Writer, runs client.Runs, registry, arg, dockerfile string) (Source, error) {
	if remote, err := ContextKind(arg); err != nil {
		return Source{}, err
	} else if remote {
		return Source{ContextPath: arg}, nil
	}
	id, err := buildcmd.UploadContext(ctx, ios, status, runs, registry, arg, dockerfile)
	if err != nil {
		return Source{}, err
	}
	return Source{ContextID: id}, nil
}

// valueName is a {{.Values.name}}: what text/template takes after a dot.
var valueName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Values are the values of --values FILE (a YAML map of strings) with
// --set over them, and the --set-secret ones; a name may not be both.
func Values(valuesFile string, set, setSecret []string) (values, secrets map[string]string, err error) {
	if valuesFile != "" {
		if values, err = readValuesFile(valuesFile); err != nil {
			return nil, nil, err
		}
	}
	setValues, err := buildcmd.ParseNameValues("--set", "value", set, false)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range setValues {
		if values == nil {
			values = map[string]string{}
		}
		values[k] = v
	}
	if secrets, err = buildcmd.ParseNameValues("--set-secret", "value", setSecret, true); err != nil {
		return nil, nil, err
	}
	for name := range secrets {
		if _, ok := values[name]; ok {
			return nil, nil, fmt.Errorf("value %s is given both as a value and with --set-secret: give it once", name)
		}
	}
	return values, secrets, nil
}

func readValuesFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--values: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("--values %s: not a YAML map of names to values: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !valueName.MatchString(k) {
			return nil, fmt.Errorf("--values %s: %q is not a value name: letters, digits and '_', not starting with a digit", path, k)
		}
		switch v := raw[k].(type) {
		case string:
			out[k] = v
		case int, int64, float64, bool:
			out[k] = fmt.Sprint(v)
		case nil:
			out[k] = ""
		default:
			return nil, fmt.Errorf("--values %s: %s is not a string, number or boolean", path, k)
		}
	}
	return out, nil
}

// ReadTaskFile reads a task file, "-" being standard input.
func ReadTaskFile(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("-f %s: %w", path, err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("-f %s: the task file is empty", path)
	}
	return string(b), nil
}
