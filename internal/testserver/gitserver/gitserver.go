// Package gitserver serves git repositories over smart HTTP on loopback,
// with the real `git http-backend`, for tests that fetch git contexts.
//
// It knows nothing of berth: it only drives the git binary.
package gitserver

import (
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Server is a git smart-HTTP server whose repositories live in a
// temporary directory. It is closed when the test ends.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123.
	URL string
	// Root is the directory holding the bare repositories (GIT_PROJECT_ROOT).
	Root string

	home      string      // HOME of every git command, with no configuration in it
	refuseSHA atomic.Bool // see SetAllowSHA
}

// Start serves every repository under a fresh root, without
// authentication.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "", "")
}

// StartAuth is Start with HTTP basic authentication: every request must
// carry user and password, or it is answered 401.
func StartAuth(t testing.TB, user, password string) *Server {
	t.Helper()
	if user == "" {
		t.Fatal("gitserver: StartAuth needs a user")
	}
	return start(t, user, password)
}

func start(t testing.TB, user, password string) *Server {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("gitserver: git is not installed: %v", err)
	}
	out, err := exec.Command(gitBin, "--exec-path").Output()
	if err != nil {
		t.Fatalf("gitserver: git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	s := &Server{Root: t.TempDir(), home: t.TempDir()}
	backendFor := func(allowSHA string) *cgi.Handler {
		return &cgi.Handler{
			Path:   backend,
			Stderr: io.Discard, // a refused fetch is expected; the client reports it
			Env: []string{
				"GIT_PROJECT_ROOT=" + s.Root,
				"GIT_HTTP_EXPORT_ALL=1",
				"GIT_CONFIG_NOSYSTEM=1",
				"HOME=" + s.home,
				"GIT_CONFIG_COUNT=1",
				"GIT_CONFIG_KEY_0=uploadpack.allowReachableSHA1InWant",
				"GIT_CONFIG_VALUE_0=" + allowSHA,
			},
		}
	}
	allowing, refusing := backendFor("true"), backendFor("false")
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.refuseSHA.Load() {
			allowing.ServeHTTP(w, r)
			return
		}
		// Protocol v2 serves any commit by id whatever the
		// configuration says; v0 obeys allowReachableSHA1InWant.
		r.Header.Del("Git-Protocol")
		refusing.ServeHTTP(w, r)
	})
	if user != "" {
		backendHandler := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			backendHandler.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// RepoURL is the URL a client fetches repository name from.
func (s *Server) RepoURL(name string) string { return s.URL + "/" + name + ".git" }

// CreateRepo makes the bare repository <name>.git whose branch (also its
// default branch, HEAD) holds one commit with files, keyed by slash path.
// It returns the repository's URL and the commit.
func (s *Server) CreateRepo(t testing.TB, name string, files map[string]string, branch string) (url, commit string) {
	t.Helper()
	s.git(t, "", "init", "--quiet", "--bare", "--initial-branch="+branch, s.bare(name))
	return s.RepoURL(name), s.Commit(t, name, branch, files)
}

// Commit adds a commit with files (added or overwritten; the rest of the
// tree is kept) on branch, which is created from HEAD when it does not
// exist yet, and returns it.
func (s *Server) Commit(t testing.TB, name, branch string, files map[string]string) string {
	t.Helper()
	work := t.TempDir()
	s.git(t, work, "init", "--quiet", "--initial-branch="+branch)
	s.git(t, work, "fetch", "--quiet", s.bare(name), "+refs/heads/*:refs/remotes/origin/*")
	switch {
	case s.hasRef(work, "refs/remotes/origin/"+branch):
		s.git(t, work, "reset", "--quiet", "--hard", "origin/"+branch)
	case s.hasRef(s.bare(name), "HEAD"):
		s.git(t, work, "reset", "--quiet", "--hard", strings.TrimSpace(s.git(t, s.bare(name), "rev-parse", "HEAD")))
	}
	for p, content := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.git(t, work, "add", "--all")
	s.git(t, work, "commit", "--quiet", "--allow-empty", "-m", "commit on "+branch)
	s.git(t, work, "push", "--quiet", s.bare(name), "HEAD:refs/heads/"+branch)
	return strings.TrimSpace(s.git(t, work, "rev-parse", "HEAD"))
}

// Tag makes the annotated tag tag of commit in repository name.
func (s *Server) Tag(t testing.TB, name, tag, commit string) {
	t.Helper()
	s.git(t, s.bare(name), "tag", "-a", "-m", "tag "+tag, tag, commit)
}

// SetAllowSHA sets whether clients may fetch a commit by its id. The
// server starts allowing it for reachable commits, as GitHub and GitLab
// do; off, it speaks only protocol v0 with
// uploadpack.allowReachableSHA1InWant=false, so a shallow fetch by commit
// is refused as by servers that serve only branches and tags.
func (s *Server) SetAllowSHA(allow bool) { s.refuseSHA.Store(!allow) }

func (s *Server) bare(name string) string { return filepath.Join(s.Root, name+".git") }

func (s *Server) hasRef(dir, ref string) bool {
	cmd := s.command(dir, "rev-parse", "--verify", "--quiet", ref)
	return cmd.Run() == nil
}

func (s *Server) command(dir string, args ...string) *exec.Cmd {
	args = append([]string{"-c", "user.name=gitserver", "-c", "user.email=gitserver@example.invalid", "-c", "init.defaultBranch=main"}, args...)
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
	return cmd
}

// git runs git in dir ("" for the root) and returns its stdout.
func (s *Server) git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	if dir == "" {
		dir = s.Root
	}
	cmd := s.command(dir, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gitserver: git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
