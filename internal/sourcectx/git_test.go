package sourcectx_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/sourcectx"
	"github.com/berth-project/berth/internal/testserver/gitserver"
)

func TestKind(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want sourcectx.SourceKind
	}{
		{".", sourcectx.Local},
		{"./app", sourcectx.Local},
		{"ctx.tar.gz", sourcectx.Local},
		{"/dev/null", sourcectx.Empty},
		{"oci://myregistry.example.com/ctx:1.0", sourcectx.OCI},
		{"OCI://myregistry.example.com/ctx@sha256:abc", sourcectx.OCI},
		{"https://github.com/owner/repo.git", sourcectx.Git},
		{"https://github.com/owner/repo.git#main:app", sourcectx.Git},
		{"http://127.0.0.1:8080/repo.git#v1", sourcectx.Git},
		{"https://github.com/owner/repo", sourcectx.Git},
		{"https://github.com/owner/repo#dev", sourcectx.Git},
		{"https://token@github.com/owner/repo/", sourcectx.Git},
		{"git@github.com:owner/repo.git", sourcectx.Git},
		{"ssh://git@host/repo.git", sourcectx.Git},
		{"https://github.com/owner/repo/archive/main.tar.gz", sourcectx.URL},
		{"https://example.com/ctx.tar.gz", sourcectx.URL},
	} {
		if got := sourcectx.Kind(tt.in); got != tt.want {
			t.Errorf("Kind(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseGit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want sourcectx.GitSource
		str  string
	}{
		{"https://github.com/o/r.git", sourcectx.GitSource{URL: "https://github.com/o/r.git"}, "https://github.com/o/r.git"},
		{"https://github.com/o/r.git#main", sourcectx.GitSource{URL: "https://github.com/o/r.git", Ref: "main"}, "https://github.com/o/r.git#main"},
		{"https://github.com/o/r.git#main:app/web", sourcectx.GitSource{URL: "https://github.com/o/r.git", Ref: "main", Folder: "app/web"}, "https://github.com/o/r.git#main:app/web"},
		{"https://github.com/o/r.git#:app/", sourcectx.GitSource{URL: "https://github.com/o/r.git", Folder: "app"}, "https://github.com/o/r.git#:app"},
		{"https://github.com/o/r.git#feature/x:./app/./web", sourcectx.GitSource{URL: "https://github.com/o/r.git", Ref: "feature/x", Folder: "app/web"}, "https://github.com/o/r.git#feature/x:app/web"},
		{"https://github.com/o/r.git#v1.0:.", sourcectx.GitSource{URL: "https://github.com/o/r.git", Ref: "v1.0"}, "https://github.com/o/r.git#v1.0"},
		{"http://127.0.0.1:9/r.git#0123abc", sourcectx.GitSource{URL: "http://127.0.0.1:9/r.git", Ref: "0123abc"}, "http://127.0.0.1:9/r.git#0123abc"},
		{"https://github.com/o/r", sourcectx.GitSource{URL: "https://github.com/o/r"}, "https://github.com/o/r"},
		{"https://user:tok3n@github.com/o/r.git#main", sourcectx.GitSource{URL: "https://user:tok3n@github.com/o/r.git", Ref: "main"}, "https://***@github.com/o/r.git#main"},
	} {
		got, err := sourcectx.ParseGit(tt.in)
		if err != nil {
			t.Errorf("ParseGit(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseGit(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("ParseGit(%q).String() = %q, want %q", tt.in, got.String(), tt.str)
		}
	}

	for _, tt := range []struct{ in, want string }{
		{"https://github.com/o/r.git#main:../x", "leaves the repository"},
		{"https://github.com/o/r.git#main:app/../../x", "leaves the repository"},
		{"https://github.com/o/r.git#main:/etc", "relative to the repository"},
		{"https://github.com/o/r.git#-upload-pack=evil", "not a branch"},
		{"https://github.com/o/r.git#a..b", "not a branch"},
		{"https://github.com/o/r.git#a b", "not a branch"},
		{"git@github.com:o/r.git", "only https://"},
		{"ssh://git@github.com/o/r.git", "only https://"},
		{"git://github.com/o/r.git", "only https://"},
		{"file:///srv/r.git", "scheme"},
		{"ext::sh -c evil", "write https://"},
		{"https:///r.git", "no host"},
		{"https://github.com", "names no repository"},
		{"https://user:s3cretTok@github.com/o/r.git#main:../x", "***@github.com"},
	} {
		_, err := sourcectx.ParseGit(tt.in)
		if err == nil {
			t.Errorf("ParseGit(%q) succeeded, want an error with %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseGit(%q) = %v, want it to say %q", tt.in, err, tt.want)
		}
		if strings.Contains(err.Error(), "s3cretTok") {
			t.Errorf("ParseGit(%q) error shows the credentials: %v", tt.in, err)
		}
	}
}

// tree reads the regular files under dir, keyed by slash path; symbolic
// links read as "-> target".
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			files[filepath.ToSlash(rel)] = "-> " + target
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalTrees(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: got files %v, want %v", what, got, want)
	}
}

func fetchGit(t *testing.T, s string) (map[string]string, string, string, error) {
	t.Helper()
	src, err := sourcectx.ParseGit(s)
	if err != nil {
		t.Fatalf("ParseGit(%q): %v", s, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dest := filepath.Join(t.TempDir(), "ctx")
	var log bytes.Buffer
	commit, err := sourcectx.FetchGit(ctx, src, dest, &log)
	if err != nil {
		if entries, _ := os.ReadDir(dest); len(entries) > 0 {
			t.Errorf("FetchGit(%s) failed and left %d entries in dest", s, len(entries))
		}
		return nil, "", log.String(), err
	}
	return tree(t, dest), commit, log.String(), nil
}

func TestFetchGit(t *testing.T) {
	t.Parallel()
	s := gitserver.Start(t)
	v1Files := map[string]string{
		"Dockerfile":       "FROM scratch\n",
		"app/Dockerfile":   "FROM alpine\n",
		"app/src/main.go":  "package main\n",
		"README.md":        "$Format:%H$\n",
		".gitattributes":   "README.md export-ignore export-subst\n",
		"docs/guide/a.txt": "a\n",
	}
	url, first := s.CreateRepo(t, "demo", v1Files, "main")
	s.Tag(t, "demo", "v1", first)
	second := s.Commit(t, "demo", "main", map[string]string{"app/Dockerfile": "FROM alpine:3\n"})
	dev := s.Commit(t, "demo", "dev", map[string]string{"app/dev.txt": "dev\n"})

	v2Files := maps.Clone(v1Files)
	v2Files["app/Dockerfile"] = "FROM alpine:3\n"
	devFiles := maps.Clone(v2Files)
	devFiles["app/dev.txt"] = "dev\n"
	appOf := func(files map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			if rest, ok := strings.CutPrefix(k, "app/"); ok {
				out[rest] = v
			}
		}
		return out
	}

	for _, tt := range []struct {
		name, ref  string
		wantCommit string
		want       map[string]string
	}{
		{"default branch", "", second, v2Files},
		{"branch", "#main", second, v2Files},
		{"other branch", "#dev", dev, devFiles},
		{"annotated tag", "#v1", first, v1Files},
		{"commit", "#" + first, first, v1Files},
		{"branch and folder", "#dev:app", dev, appOf(devFiles)},
		{"folder of the default branch", "#:app/src", second, map[string]string{"main.go": "package main\n"}},
		{"tag and nested folder", "#v1:docs/guide", first, map[string]string{"a.txt": "a\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, commit, log, err := fetchGit(t, url+tt.ref)
			if err != nil {
				t.Fatalf("FetchGit: %v\nlog:\n%s", err, log)
			}
			if commit != tt.wantCommit {
				t.Errorf("commit = %s, want %s", commit, tt.wantCommit)
			}
			// The files as committed: no .git, and .gitattributes asks
			// nothing of the export.
			equalTrees(t, "FetchGit("+tt.ref+")", got, tt.want)
			if !strings.Contains(log, "Source commit: "+tt.wantCommit) {
				t.Errorf("log does not name the commit:\n%s", log)
			}
		})
	}

	for _, tt := range []struct{ name, ref, want string }{
		{"unknown branch", "#nosuch", `ref "nosuch" is not in the repository`},
		{"unknown commit", "#" + strings.Repeat("ab", 20), "is not in the repository"},
		{"missing folder", "#main:nosuch", `folder "nosuch" does not exist`},
		{"folder is a file", "#main:Dockerfile", `folder "Dockerfile" is not a directory`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, log, err := fetchGit(t, url+tt.ref)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FetchGit(%s) = %v, want an error saying %q\nlog:\n%s", tt.ref, err, tt.want, log)
			}
			t.Logf("error: %v", err)
		})
	}

	t.Run("unknown repository", func(t *testing.T) {
		_, _, _, err := fetchGit(t, s.RepoURL("nosuch"))
		if err == nil || !strings.Contains(err.Error(), "no repository at this URL") {
			t.Fatalf("FetchGit = %v, want no repository", err)
		}
	})
}

// A server that refuses commits by id (protocol v0, no
// allowReachableSHA1InWant) still gives them with the whole history.
func TestFetchGitCommitFallback(t *testing.T) {
	t.Parallel()
	s := gitserver.Start(t)
	url, first := s.CreateRepo(t, "demo", map[string]string{"a.txt": "one\n"}, "main")
	s.Commit(t, "demo", "main", map[string]string{"a.txt": "two\n"})
	s.SetAllowSHA(false)

	for _, ref := range []string{first, first[:10]} {
		got, commit, log, err := fetchGit(t, url+"#"+ref)
		if err != nil {
			t.Fatalf("FetchGit(#%s): %v\nlog:\n%s", ref, err, log)
		}
		if commit != first {
			t.Errorf("FetchGit(#%s) commit = %s, want %s", ref, commit, first)
		}
		equalTrees(t, "FetchGit(#"+ref+")", got, map[string]string{"a.txt": "one\n"})
		if !strings.Contains(log, "fetching the whole repository") {
			t.Errorf("log does not say it fell back to a full fetch:\n%s", log)
		}
	}
	_, _, _, err := fetchGit(t, url+"#"+strings.Repeat("cd", 20))
	if err == nil || !strings.Contains(err.Error(), "is not in the repository") {
		t.Errorf("FetchGit of a missing commit = %v, want not in the repository", err)
	}
}

func TestFetchGitCredentials(t *testing.T) {
	t.Parallel()
	const user, password = "alice", "tok3n-Very-s3cret"
	s := gitserver.StartAuth(t, user, password)
	url, commit := s.CreateRepo(t, "private", map[string]string{"Dockerfile": "FROM scratch\n"}, "main")
	withCreds := strings.Replace(url, "http://", "http://"+user+":"+password+"@", 1)

	got, c, log, err := fetchGit(t, withCreds+"#main")
	if err != nil {
		t.Fatalf("FetchGit with credentials: %v", err)
	}
	if c != commit {
		t.Errorf("commit = %s, want %s", c, commit)
	}
	equalTrees(t, "private repository", got, map[string]string{"Dockerfile": "FROM scratch\n"})
	if strings.Contains(log, password) {
		t.Errorf("log shows the password:\n%s", log)
	}
	if !strings.Contains(log, "***@127.0.0.1") {
		t.Errorf("log does not show the redacted URL:\n%s", log)
	}

	for _, u := range []string{url, strings.Replace(url, "http://", "http://"+user+":wrong-"+password+"@", 1)} {
		_, _, log, err := fetchGit(t, u+"#main")
		if err == nil || !strings.Contains(err.Error(), "refused access") {
			t.Errorf("FetchGit(%s) = %v, want refused access", u, err)
			continue
		}
		t.Logf("error: %v", err)
		if strings.Contains(err.Error(), password) || strings.Contains(log, password) {
			t.Errorf("error or log shows the password: %v\n%s", err, log)
		}
	}
}

// Links committed to the repository obey buildcontext's rules: a link that
// leaves the context is refused, and nothing is left in dest.
func TestFetchGitRefusesEscapingLinks(t *testing.T) {
	t.Parallel()
	s := gitserver.Start(t)
	url, _ := s.CreateRepo(t, "links", map[string]string{"app/Dockerfile": "FROM scratch\n"}, "main")
	pushLinks(t, filepath.Join(s.Root, "links.git"), map[string]string{
		"app/inside":  "Dockerfile",
		"app/outside": "../../../../etc/passwd",
		"app/up":      "..",
	})

	_, _, _, err := fetchGit(t, url+"#main")
	var refused *buildcontext.RefusedError
	if err == nil || !errors.As(err, &refused) {
		t.Fatalf("FetchGit of a repository with an escaping link = %v, want a RefusedError", err)
	}
	t.Logf("error: %v", err)
	// The folder's own links are judged from the folder: "up" leaves it.
	_, _, _, err = fetchGit(t, url+"#main:app")
	if err == nil {
		t.Fatalf("FetchGit(#main:app) succeeded with links leaving app")
	}
}

// pushLinks commits symbolic links to the bare repository's main branch.
func pushLinks(t *testing.T, bare string, links map[string]string) {
	t.Helper()
	work := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid"}, args...)...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("clone", "--quiet", bare, ".")
	for name, target := range links {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "--all")
	git("commit", "--quiet", "-m", "links")
	git("push", "--quiet", "origin", "HEAD:refs/heads/main")
}

func TestFetchGitCanceled(t *testing.T) {
	t.Parallel()
	s := gitserver.Start(t)
	url, _ := s.CreateRepo(t, "demo", map[string]string{"a": "a"}, "main")
	src, err := sourcectx.ParseGit(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sourcectx.FetchGit(ctx, src, t.TempDir(), nil); err == nil {
		t.Fatal("FetchGit with a canceled context succeeded")
	}
}
