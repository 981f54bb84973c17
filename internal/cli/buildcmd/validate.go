package buildcmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/pkg/client"
)

// The server checks all of these again; checking them here first saves
// uploading a context for a build it would refuse. They follow the rules
// of docs/builds.md, which berth run and berth task share.

// MaxTimeout bounds --timeout of builds, runs and tasks, in seconds.
const MaxTimeout = 28800

var (
	buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	platformName = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
	targetName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

// validate checks the flags and the context, and fills o.request.
func (o *BuildOptions) validate() error {
	if len(o.Images) == 0 && !o.NoPush {
		return errors.New("give the image to push with -t/--image, such as -t buildtest/hello-world:v1, or build without pushing with --no-push")
	}
	for _, name := range o.Images {
		if err := checkImage(name); err != nil {
			return err
		}
	}
	args, err := ParseNameValues("--build-arg", "build arg", o.BuildArgs, false)
	if err != nil {
		return err
	}
	secrets, err := ParseNameValues("--secret-build-arg", "build arg", o.SecretBuildArgs, true)
	if err != nil {
		return err
	}
	for name := range secrets {
		if _, ok := args[name]; ok {
			return fmt.Errorf("build arg %s is given both with --build-arg and with --secret-build-arg: give it once", name)
		}
	}
	if err := CheckPlatform(o.Platform); err != nil {
		return err
	}
	if o.Target != "" && !targetName.MatchString(o.Target) {
		return fmt.Errorf("--target %s: give the name of a stage of the Dockerfile (FROM … AS name)", o.Target)
	}
	isDir, err := o.checkContext()
	if err != nil {
		return err
	}
	dockerfile, err := o.dockerfile(isDir)
	if err != nil {
		return err
	}
	push := !o.NoPush
	o.request = client.QuickBuild{
		Images:          append([]string{}, o.Images...),
		Dockerfile:      dockerfile,
		BuildArgs:       args,
		SecretBuildArgs: secrets,
		Target:          o.Target,
		Platform:        o.Platform,
		Push:            &push,
		Timeout:         o.Timeout,
		AgentPool:       o.AgentPool,
	}
	return nil
}

// checkImage checks an image to push: repository[:tag] in the registry,
// as the server will.
func checkImage(name string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("-t %s: %s", name, fmt.Sprintf(format, a...))
	}
	if strings.Contains(name, "@") {
		return bad("give repository[:tag]; a digest names an image that exists, not one to push")
	}
	// The placeholders the server expands stand for values of their form.
	sample := strings.NewReplacer("{{.Run.ID}}", "ca1", "{{.Run.Registry}}", "registry").Replace(name)
	repo, tag := sample, "latest"
	if i := strings.LastIndexByte(sample, ':'); i > strings.LastIndexByte(sample, '/') {
		repo, tag = sample[:i], sample[i+1:]
	}
	// As docker reads a name: a first component with a dot or a port, or
	// localhost, is a registry's address.
	if first, _, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return bad("give the name relative to the registry, without its login server %s: -t %s", first, strings.TrimPrefix(name, first+"/"))
	}
	if !oci.ValidName(repo) {
		if oci.ValidName(strings.ToLower(repo)) {
			return bad("repository names are lowercase: %s", strings.ToLower(repo))
		}
		return bad("the repository must be lowercase letters and digits, separated by '.', '_', '__' or '-', with '/' between components")
	}
	if !oci.ValidTag(tag) {
		return bad("the tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
	}
	return nil
}

// CheckTimeout checks a --timeout that was given.
func CheckTimeout(seconds int) error {
	if seconds < 1 || seconds > MaxTimeout {
		return fmt.Errorf("--timeout %d: give 1 to %d seconds", seconds, MaxTimeout)
	}
	return nil
}

// CheckPlatform checks a --platform; "" is the server's default.
func CheckPlatform(platform string) error {
	if platform != "" && !platformName.MatchString(platform) {
		return fmt.Errorf("--platform %s: give OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8", platform)
	}
	return nil
}

// ParseNameValues reads the NAME=VALUE arguments of flag, whose names are
// of kind ("build arg", "value"). The value may be empty; a name given
// twice keeps its last value, as docker does. For secret ones, errors show
// the name at most: what the user typed may be the secret itself.
func ParseNameValues(flag, kind string, list []string, secret bool) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	shown := func(kv, name string) string {
		if secret {
			return name + "=…"
		}
		return kv
	}
	out := make(map[string]string, len(list))
	for _, kv := range list {
		name, value, ok := strings.Cut(kv, "=")
		switch {
		case !ok && secret:
			return nil, fmt.Errorf("%s: give NAME=VALUE; an argument has no '=' (it is not shown: it may be the secret)", flag)
		case !ok:
			return nil, fmt.Errorf("%s %s: give NAME=VALUE", flag, kv)
		case name == "":
			return nil, fmt.Errorf("%s %s: the name is empty: give NAME=VALUE", flag, shown(kv, name))
		case !buildArgName.MatchString(name):
			return nil, fmt.Errorf("%s %s: %q is not a %s name: letters, digits and '_', not starting with a digit", flag, shown(kv, name), name, kind)
		}
		out[name] = value
	}
	return out, nil
}

// checkContext checks that the context exists and tells whether it is a
// directory. Pack checks the rest (an archive's format) before it sends
// anything.
func (o *BuildOptions) checkContext() (isDir bool, err error) {
	if o.Context == "-" {
		return false, nil
	}
	fi, err := os.Stat(o.Context)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("the build context %s does not exist: give a directory, a .tar.gz file, or - for standard input", o.Context)
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// dockerfile returns the Dockerfile's path relative to the context root,
// with slashes, as the server takes it. Like az acr build's --file, -f is
// relative to the context, not to the working directory; an absolute path
// must lie inside a directory context. In a directory, the file must exist.
func (o *BuildOptions) dockerfile(isDir bool) (string, error) {
	given := o.Dockerfile
	rel := given
	if rel == "" {
		rel = "Dockerfile"
	}
	if filepath.IsAbs(rel) {
		if !isDir {
			return "", fmt.Errorf("-f %s: give the Dockerfile's path inside the archive, relative to its root", given)
		}
		abs, err := filepath.Abs(o.Context)
		if err != nil {
			return "", err
		}
		if rel, err = filepath.Rel(abs, rel); err != nil {
			rel = ".."
		}
	}
	rel = filepath.Clean(rel)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("-f %s: the Dockerfile must be inside the context %s; give its path relative to the context", given, o.Context)
	}
	if !isDir {
		return filepath.ToSlash(rel), nil
	}
	fi, err := os.Stat(filepath.Join(o.Context, rel))
	switch {
	case errors.Is(err, fs.ErrNotExist) && given == "":
		return "", fmt.Errorf("the context %s has no Dockerfile: give its path with -f, relative to the context", o.Context)
	case errors.Is(err, fs.ErrNotExist):
		msg := fmt.Sprintf("-f %s: no such file in the context %s (the path is relative to the context, not to the working directory)", given, o.Context)
		if hint := o.fromWorkingDir(given); hint != "" {
			msg += "; did you mean -f " + hint + "?"
		}
		return "", errors.New(msg)
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", fmt.Errorf("-f %s: a directory, not a Dockerfile", given)
	}
	return filepath.ToSlash(rel), nil
}

// fromWorkingDir returns, for a relative -f that names a file from the
// working directory inside the context, its path relative to the context.
func (o *BuildOptions) fromWorkingDir(given string) string {
	if filepath.IsAbs(given) {
		return ""
	}
	if fi, err := os.Stat(given); err != nil || fi.IsDir() {
		return ""
	}
	absCtx, err1 := filepath.Abs(o.Context)
	absFile, err2 := filepath.Abs(given)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(absCtx, absFile)
	if err != nil || !filepath.IsLocal(rel) {
		return ""
	}
	return filepath.ToSlash(rel)
}
