package buildengine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// layout names the files a daemon keeps under its state directory.
type layout struct {
	stateDir string
	root     string // buildkitd's --root: cache, snapshots, netns
	socket   string
	otel     string // BuildKit's trace socket, which it mounts into every step
	config   string // buildkitd.toml
	cniConf  string // loopback-only CNI network list
	log      string // buildkitd's stdout and stderr
}

func newLayout(stateDir string) (layout, error) {
	if stateDir == "" {
		return layout{}, fmt.Errorf("buildengine: Options.StateDir is required")
	}
	dir, err := filepath.Abs(stateDir)
	if err != nil {
		return layout{}, fmt.Errorf("buildengine: state dir: %w", err)
	}
	l := layout{
		stateDir: dir,
		root:     filepath.Join(dir, "root"),
		socket:   filepath.Join(dir, "buildkitd.sock"),
		otel:     filepath.Join(dir, "otel.sock"),
		config:   filepath.Join(dir, "buildkitd.toml"),
		cniConf:  filepath.Join(dir, "cni", "loopback.conflist"),
		log:      filepath.Join(dir, "buildkitd.log"),
	}
	// sun_path holds 108 bytes with the terminating NUL.
	if len(l.socket) > 107 || len(l.otel) > 107 {
		return layout{}, fmt.Errorf("buildengine: socket path %s is longer than a unix socket allows (107 bytes); use a shorter state dir", l.socket)
	}
	for _, p := range []string{l.root, l.socket, l.otel, l.cniConf} {
		if strings.ContainsAny(p, "\"\\\n\r\t") {
			return layout{}, fmt.Errorf("buildengine: state dir %q holds a character the generated config cannot carry", dir)
		}
	}
	return l, nil
}

func (l layout) addr() string { return "unix://" + l.socket }

// cniLoopbackConf is the only network a build step gets. BuildKit's CNI
// provider brings lo up itself and wants one more network from the file, so
// the file names the loopback plugin again: no interface besides lo, no
// address but 127.0.0.1 (the step's own), no route out.
const cniLoopbackConf = `{
  "cniVersion": "1.0.0",
  "name": "berth-loopback",
  "plugins": [{"type": "loopback"}]
}
`

// buildkitdConfig renders buildkitd.toml. Paths were checked by newLayout to
// need no escaping; runc and cniBin come from the file system and are
// quoted the same way.
func buildkitdConfig(l layout, runc, cniBin string) string {
	q := func(s string) string { return `"` + s + `"` }
	return `# Written by berth (internal/buildengine) at every start; edits are lost.
root = ` + q(l.root) + `
# No insecure entitlements: no network.host, no security.insecure.
insecure-entitlements = []

[log]
  format = "json"

[grpc]
  address = [` + q(l.addr()) + `]

# BuildKit mounts its trace socket into every build step: keep it this
# daemon's own, not the machine-wide /run/buildkit/otel-grpc.sock that
# every buildkitd would share.
[otel]
  socketPath = ` + q(l.otel) + `

[worker.oci]
  enabled = true
  binary = ` + q(runc) + `
  snapshotter = "auto"
  # Each build step gets a network namespace of its own holding only lo.
  networkMode = "cni"
  cniConfigPath = ` + q(l.cniConf) + `
  cniBinaryPath = ` + q(cniBin) + `

[worker.containerd]
  enabled = false
`
}

// writeConfig creates the state directory, private to its owner, and
// writes buildkitd.toml and the CNI network list afresh.
func writeConfig(l layout, runc, cniBin string) error {
	for _, p := range []string{runc, cniBin} {
		if strings.ContainsAny(p, "\"\\\n\r\t") {
			return fmt.Errorf("buildengine: path %q holds a character the generated config cannot carry", p)
		}
	}
	if err := os.MkdirAll(filepath.Dir(l.cniConf), 0o700); err != nil {
		return fmt.Errorf("buildengine: %w", err)
	}
	if err := os.Chmod(l.stateDir, 0o700); err != nil {
		return fmt.Errorf("buildengine: %w", err)
	}
	if err := os.WriteFile(l.cniConf, []byte(cniLoopbackConf), 0o600); err != nil {
		return fmt.Errorf("buildengine: %w", err)
	}
	if err := os.WriteFile(l.config, []byte(buildkitdConfig(l, runc, cniBin)), 0o600); err != nil {
		return fmt.Errorf("buildengine: %w", err)
	}
	return nil
}
