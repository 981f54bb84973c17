package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

// commandTimeout bounds one command, so that a client waiting on a server
// that never answers fails the test instead of hanging it.
const commandTimeout = 2 * time.Minute

// machine is one person's or one CI job's computer: a private HOME, berth
// CLI config, docker config, regctl config and containers auth, so that
// nothing is read from or written to the user running the test.
type machine struct {
	t            *testing.T
	redact       func(string) string // hides secrets in logs and failures
	name         string
	home         string
	dockerConfig string
	env          []string
}

// newMachine makes a fresh machine. DOCKER_CONFIG is deliberately not
// ~/.docker: every client must honour it to find the credentials.
func newMachine(t *testing.T, name string, redact func(string) string) *machine {
	t.Helper()
	home := filepath.Join(t.TempDir(), name)
	m := &machine{t: t, redact: redact, name: name, home: home, dockerConfig: filepath.Join(home, "docker-config")}
	for _, d := range []string{home, filepath.Join(home, "run"), filepath.Join(home, "berth")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !inheritedOnly(k) {
			m.env = append(m.env, kv)
		}
	}
	m.env = append(m.env,
		"HOME="+home,
		"BERTH_CONFIG_DIR="+filepath.Join(home, "berth"),
		"DOCKER_CONFIG="+m.dockerConfig,
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"NO_PROXY=127.0.0.1,127.0.3.1,localhost",
		"no_proxy=127.0.0.1,127.0.3.1,localhost",
	)
	return m
}

// inheritedOnly reports whether an environment variable of the test
// process must not reach a machine: client and berth settings, and proxies.
func inheritedOnly(key string) bool {
	k := strings.ToUpper(key)
	for _, p := range []string{"BERTH_", "DOCKER_", "REGCTL_", "CONTAINERS_", "XDG_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	switch k {
	case "HOME", "REGISTRY_AUTH_FILE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
		return true
	}
	return false
}

// berth runs the berth CLI and fails the test unless it exits 0; it
// returns what it printed on stdout.
func (m *machine) berth(args ...string) string {
	m.t.Helper()
	return m.must("", testserver.Binary(m.t), args)
}

// berthJSON runs the berth CLI and decodes its JSON output into out.
func (m *machine) berthJSON(out any, args ...string) {
	m.t.Helper()
	decodeJSON(m.t, "berth "+strings.Join(args, " "), m.berth(args...), out)
}

// berthFails runs the berth CLI and fails the test unless it exits
// non-zero; it returns what it printed.
func (m *machine) berthFails(args ...string) string {
	m.t.Helper()
	stdout, stderr, err := m.exec("", testserver.Binary(m.t), args)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		m.t.Fatalf("berth %s: %v, want a non-zero exit\nstdout:\n%s", m.redact(strings.Join(args, " ")), err, m.redact(stdout))
	}
	return stdout + stderr
}

// tool runs a client tool from bin/ and fails the test unless it exits 0.
func (m *machine) tool(name string, args ...string) string {
	m.t.Helper()
	return m.must("", testserver.Tool(m.t, name), args)
}

// toolIn is tool in a working directory, for tools that name files
// relative to it.
func (m *machine) toolIn(dir, name string, args ...string) string {
	m.t.Helper()
	return m.must(dir, testserver.Tool(m.t, name), args)
}

var refusedRE = regexp.MustCompile(`(?i)\b40[13]\b|unauthori[sz]ed|authentication required|denied|forbidden`)

// refused runs a client tool and fails the test unless it exits non-zero
// saying that the registry refused it.
func (m *machine) refused(name string, args ...string) {
	m.t.Helper()
	stdout, stderr, err := m.exec("", testserver.Tool(m.t, name), args)
	line := m.redact(name + " " + strings.Join(args, " "))
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		m.t.Fatalf("%s: %v, want it refused\nstdout:\n%s", line, err, m.redact(stdout))
	}
	if !refusedRE.MatchString(stdout + stderr) {
		m.t.Fatalf("%s failed, but not because the registry refused it: %v\nstdout:\n%s\nstderr:\n%s", line, err, m.redact(stdout), m.redact(stderr))
	}
}

func (m *machine) must(dir, path string, args []string) string {
	m.t.Helper()
	stdout, stderr, err := m.exec(dir, path, args)
	if err != nil {
		m.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), m.redact(strings.Join(args, " ")), err,
			m.redact(stdout), m.redact(stderr))
	}
	return stdout
}

func (m *machine) exec(dir, path string, args []string) (string, string, error) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = m.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	m.t.Logf("%s$ %s %s", m.name, filepath.Base(path), m.redact(strings.Join(args, " ")))
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out after %s)", err, commandTimeout)
	}
	return stdout.String(), stderr.String(), err
}

// dockerAuth returns the user name and password docker's config.json
// keeps for server in its auths.
func dockerAuth(t *testing.T, path, server string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	decodeJSON(t, path, string(b), &cfg)
	entry, ok := cfg.Auths[server]
	if !ok {
		t.Fatalf("%s has no auths entry for %s", path, server)
	}
	raw, err := base64.StdEncoding.DecodeString(entry.Auth)
	if err != nil {
		t.Fatalf("%s: auths[%s].auth: %v", path, server, err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		t.Fatalf("%s: auths[%s].auth is not user:password", path, server)
	}
	return user, pass
}

// layerTar makes a tar holding one file.
func layerTar(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tw, body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fileInTar returns the content of the file called name in a tar stream.
func fileInTar(t *testing.T, b []byte, name string) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("no %s in the exported file system", name)
		}
		if err != nil {
			t.Fatalf("exported file system: %v", err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(body)
		}
	}
}

func decodeJSON(t *testing.T, what, s string, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, s)
	}
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
