package gitserver_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver/gitserver"
)

// fetch fetches url's ref the way a client would and returns the fetched
// commit, or git's error output.
func fetch(t *testing.T, url, ref string, extra ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), err
		}
		return strings.TrimSpace(string(out)), nil
	}
	if out, err := run("init", "--quiet"); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	args := append(append([]string{}, extra...), "fetch", "--quiet", "--depth", "1", url, ref)
	if out, err := run(args...); err != nil {
		return out, err
	}
	return run("rev-parse", "FETCH_HEAD^{commit}")
}

func TestServer(t *testing.T) {
	s := gitserver.Start(t)
	url, first := s.CreateRepo(t, "demo", map[string]string{"README": "hello\n", "app/Dockerfile": "FROM scratch\n"}, "main")
	if want := s.URL + "/demo.git"; url != want {
		t.Errorf("url = %s, want %s", url, want)
	}
	second := s.Commit(t, "demo", "main", map[string]string{"README": "hello again\n"})
	dev := s.Commit(t, "demo", "dev", map[string]string{"dev.txt": "dev\n"})
	s.Tag(t, "demo", "v1", first)

	for _, tt := range []struct{ ref, want string }{
		{"HEAD", second}, {"main", second}, {"dev", dev}, {"v1", first}, {first, first},
	} {
		got, err := fetch(t, url, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("fetch %s = %q, %v; want %s", tt.ref, got, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root, "demo.git", "HEAD")); err != nil {
		t.Errorf("bare repository missing: %v", err)
	}

	s.SetAllowSHA(false)
	for _, proto := range []string{"0", "2"} {
		if out, err := fetch(t, url, first, "-c", "protocol.version="+proto); err == nil {
			t.Errorf("protocol %s: fetch by commit succeeded with allowSHA off: %s", proto, out)
		}
	}
	if got, err := fetch(t, url, "main"); err != nil || got != second {
		t.Errorf("fetch main with allowSHA off = %q, %v", got, err)
	}
}

func TestAuth(t *testing.T) {
	s := gitserver.StartAuth(t, "alice", "s3cret")
	url, commit := s.CreateRepo(t, "private", map[string]string{"a": "a"}, "main")
	if out, err := fetch(t, url, "main"); err == nil {
		t.Errorf("fetch without credentials succeeded: %s", out)
	}
	authed := strings.Replace(url, "http://", "http://alice:s3cret@", 1)
	if got, err := fetch(t, authed, "main"); err != nil || got != commit {
		t.Errorf("fetch with credentials = %q, %v; want %s", got, err, commit)
	}
}
