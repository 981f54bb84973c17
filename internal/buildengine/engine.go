// Package buildengine runs the build engine of berth's agents: a BuildKit
// daemon (buildkitd with the runc worker) that this package starts,
// configures and supervises as a child process, and the base image that
// tests and agents build on without any registry.
//
// It owns the daemon's configuration, which is where the security boundary
// of a build step is drawn: no containerd worker, no insecure entitlements,
// and a CNI network holding only the loopback plugin, so a RUN step sees its
// own loopback interface and nothing else. It knows nothing of registries,
// credentials or egress: BuildKit is only ever handed local OCI layouts, and
// the agent that uses this package pulls and pushes itself.
//
// The binaries come from `make engine` (scripts/engine.sh); when they are
// missing, every error wraps ErrNotInstalled, which says how to get them.
package buildengine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// BuildKitVersion is the BuildKit release scripts/engine.sh builds; the two
// must agree (a test checks).
const BuildKitVersion = "v0.34.2"

// DefaultCNIBinDir is where Debian's containernetworking-plugins puts the
// CNI plugins.
const DefaultCNIBinDir = "/usr/lib/cni"

// ErrNotInstalled is wrapped by every error about a missing part of the
// engine; its text tells the operator what to run.
var ErrNotInstalled = errors.New("the build engine is not installed: run `make engine` " +
	"(scripts/engine.sh) in berth's source tree to install BuildKit " + BuildKitVersion +
	", runc, the CNI plugins and busybox-static")

// Options configures a daemon started by Start.
type Options struct {
	// StateDir holds the generated configuration, the socket, buildkitd's
	// log and its cache (root/). Required. It is made private to its owner,
	// since whoever reaches the socket can run builds as root. The cache
	// survives Close, so a later Start with the same StateDir reuses it.
	StateDir string
	// BinDir holds buildkitd and buildctl. Empty looks in DefaultBinDir(),
	// then on $PATH.
	BinDir string
	// Runc is the runc binary. Empty looks on $PATH, then in /usr/sbin.
	Runc string
	// CNIBinDir holds the CNI plugins; empty means DefaultCNIBinDir.
	CNIBinDir string
	// StartTimeout bounds the wait for buildkitd to answer; zero means 60s.
	StartTimeout time.Duration
	// StopTimeout is how long Close waits after SIGTERM before SIGKILL;
	// zero means 10s.
	StopTimeout time.Duration
	// Logger receives the supervisor's records; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultBinDir is where scripts/engine.sh caches the BuildKit binaries:
// $BERTH_TOOLS_CACHE, else $XDG_CACHE_HOME/berth, else ~/.cache/berth,
// followed by buildkit-<version>/bin.
func DefaultBinDir() string {
	root := os.Getenv("BERTH_TOOLS_CACHE")
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			cache = filepath.Join(home, ".cache")
		}
		root = filepath.Join(cache, "berth")
	}
	return filepath.Join(root, "buildkit-"+BuildKitVersion, "bin")
}

// findBinary returns the path of name in dir, or, when dir is empty, in
// DefaultBinDir() and then on $PATH.
func findBinary(dir, name string) (string, error) {
	if dir != "" {
		return executable(filepath.Join(dir, name))
	}
	if p, err := executable(filepath.Join(DefaultBinDir(), name)); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("buildengine: %s not found in %s or on $PATH: %w", name, DefaultBinDir(), ErrNotInstalled)
}

// findRunc returns path if set, else runc from $PATH or /usr/sbin, where
// Debian's package puts it (often not on a non-root $PATH).
func findRunc(path string) (string, error) {
	if path != "" {
		return executable(path)
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return p, nil
	}
	if p, err := executable("/usr/sbin/runc"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("buildengine: runc not found on $PATH or in /usr/sbin: %w", ErrNotInstalled)
}

func executable(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("buildengine: %s is missing or not executable: %w", path, ErrNotInstalled)
	}
	return filepath.Abs(path)
}
