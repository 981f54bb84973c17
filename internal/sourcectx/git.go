package sourcectx

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/buildcontext"
)

// GitSource is a git context: a folder of a repository at a ref.
type GitSource struct {
	// URL is the repository's http(s) URL, with the credentials it may
	// carry (https://user:token@host/…). It is never printed as is: String
	// and every error and log line redact it.
	URL string
	// Ref is a branch, a tag or a commit id (full or abbreviated); "" is
	// the repository's default branch.
	Ref string
	// Folder is the slash path, inside the repository, of the directory
	// that is the context's root; "" is the whole repository.
	Folder string
	// Limits bound what the folder may hold; a zero field takes
	// buildcontext's default. ParseGit leaves them zero.
	Limits buildcontext.Limits
}

// String is the source as ParseGit reads it, credentials redacted.
func (g GitSource) String() string {
	s := redactURL(g.URL)
	if g.Ref != "" || g.Folder != "" {
		s += "#" + g.Ref
	}
	if g.Folder != "" {
		s += ":" + g.Folder
	}
	return s
}

// ParseGit parses a git context, https://host/owner/repo.git#ref:folder,
// where #ref and :folder are optional. http:// is accepted too; SSH and
// git:// addresses are refused, for an agent holds no keys.
func ParseGit(s string) (GitSource, error) {
	raw, frag, _ := strings.Cut(s, "#")
	fail := func(format string, args ...any) (GitSource, error) {
		return GitSource{}, fmt.Errorf("context %s: %s", redactURL(s), fmt.Sprintf(format, args...))
	}
	if hasPrefixFold(raw, "git@") || hasPrefixFold(raw, "ssh://") || hasPrefixFold(raw, "git+ssh://") || hasPrefixFold(raw, "git://") {
		return fail("only https:// git URLs are supported, for agents hold no SSH keys: write https://host/owner/repo.git, with https://<user>:<token>@host/… for a private repository")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return fail("not a URL: write https://host/owner/repo.git#branch:folder")
	}
	if sc := strings.ToLower(u.Scheme); sc != "https" && sc != "http" {
		return fail("scheme %q: write https://host/owner/repo.git#branch:folder", u.Scheme)
	}
	if u.Host == "" {
		return fail("no host: write https://host/owner/repo.git#branch:folder")
	}
	if strings.Trim(u.Path, "/") == "" {
		return fail("the URL names no repository: write https://host/owner/repo.git#branch:folder")
	}
	ref, folder, _ := strings.Cut(frag, ":")
	if ref != "" && !validRef(ref) {
		return fail("ref %q is not a branch, tag or commit name", ref)
	}
	folder, err = cleanFolder(folder)
	if err != nil {
		return fail("%v", err)
	}
	return GitSource{URL: raw, Ref: ref, Folder: folder}, nil
}

// validRef accepts the names git allows for branches and tags (and commit
// ids), minus what could read as an option or a refspec.
func validRef(r string) bool {
	if r == "" || len(r) > 1024 || r[0] == '-' || r[0] == '+' || r[0] == '/' ||
		strings.HasSuffix(r, "/") || strings.HasSuffix(r, ".") || strings.HasSuffix(r, ".lock") ||
		strings.Contains(r, "..") || strings.Contains(r, "//") || strings.Contains(r, "@{") || r == "@" {
		return false
	}
	for _, c := range []byte(r) {
		if c <= ' ' || c == 0x7f || strings.IndexByte("~^:?*[\\", c) >= 0 {
			return false
		}
	}
	return true
}

// cleanFolder checks the folder of a git context: a relative slash path
// that stays inside the repository.
func cleanFolder(f string) (string, error) {
	if f == "" {
		return "", nil
	}
	if strings.HasPrefix(f, "/") || strings.Contains(f, "\\") {
		return "", fmt.Errorf("folder %q: give a path relative to the repository's root, such as app or src/app", f)
	}
	for _, e := range strings.Split(f, "/") {
		if e == ".." {
			return "", fmt.Errorf("folder %q leaves the repository: give a path inside it, such as app or src/app", f)
		}
	}
	for _, c := range []byte(f) {
		if c < ' ' || c == 0x7f {
			return "", fmt.Errorf("folder %q holds a control character", f)
		}
	}
	f = path.Clean(f)
	if f == "." {
		f = ""
	}
	return f, nil
}

// FetchGit fetches src's ref with the git binary and unpacks its folder
// into dest (which must be empty or not exist), without .git, under the
// rules of buildcontext.Extract. It returns the commit fetched, and
// writes progress lines for the run's log to log (nil: none).
//
// git runs with no system or user configuration, no credential helper and
// no prompt; credentials in the URL reach it as an HTTP header, never on
// its command line, and never appear in log or errors. ctx bounds it.
func FetchGit(ctx context.Context, src GitSource, dest string, log io.Writer) (commit string, err error) {
	if log == nil {
		log = io.Discard
	}
	g, err := newGitRun(src)
	if err != nil {
		return "", err
	}
	defer g.close()

	fmt.Fprintf(log, "Fetching source code from %s\n", src)
	ref := src.Ref
	if ref == "" {
		ref = "HEAD"
	}
	if _, err := g.run(ctx, "init", "--quiet", "--bare", "--template=", g.repo); err != nil {
		return "", g.fail("git init: %v", err)
	}
	// git archive must give the tree as committed, whatever the
	// repository's .gitattributes ask of an export.
	if err := os.MkdirAll(filepath.Join(g.repo, "info"), 0o755); err != nil {
		return "", g.fail("%v", err)
	}
	if err := os.WriteFile(filepath.Join(g.repo, "info", "attributes"), []byte("* -export-ignore -export-subst\n"), 0o644); err != nil {
		return "", g.fail("%v", err)
	}
	rev := "FETCH_HEAD"
	_, err = g.run(ctx, "fetch", "--quiet", "--no-tags", "--depth", "1", "--", g.url, ref)
	if err != nil && isCommitID(ref) && !isAuthError(err) {
		// Some servers refuse a commit they do not advertise; the whole
		// history then holds it, if it exists.
		fmt.Fprintf(log, "The server refused a shallow fetch of commit %s; fetching the whole repository\n", ref)
		_, err = g.run(ctx, "fetch", "--quiet", "--tags", "--", g.url, "+refs/heads/*:refs/remotes/origin/*")
		if err == nil {
			rev = ref
			if _, verr := g.run(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); verr != nil {
				return "", g.fail("commit %s is not in the repository: give a branch, a tag or a commit that exists", ref)
			}
		}
	}
	if err != nil {
		return "", g.fetchError(ctx, ref, err)
	}
	out, err := g.run(ctx, "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return "", g.fail("ref %q does not name a commit: %v", ref, err)
	}
	commit = strings.TrimSpace(out)

	tree := commit
	if src.Folder != "" {
		tree = commit + ":" + src.Folder
		kind, err := g.run(ctx, "cat-file", "-t", tree)
		if err != nil {
			return "", g.fail("folder %q does not exist in commit %s: give a directory of the repository after the colon, as in #%s:app", src.Folder, commit, ref)
		}
		if k := strings.TrimSpace(kind); k != "tree" {
			return "", g.fail("folder %q is not a directory in commit %s (it is a %s): give a directory after the colon", src.Folder, commit, gitObjectKind(k))
		}
	}
	if err := g.archive(ctx, tree, dest, src.Limits); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "Source commit: %s\n", commit)
	return commit, nil
}

func gitObjectKind(k string) string {
	if k == "blob" {
		return "file or a symbolic link"
	}
	return k
}

// isCommitID reports whether ref may be a (possibly abbreviated) commit id.
func isCommitID(ref string) bool {
	if len(ref) < 7 || len(ref) > 64 {
		return false
	}
	for _, c := range []byte(ref) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// gitRun is one fetch: a scratch directory holding a bare repository and
// the empty home git runs with.
type gitRun struct {
	src     GitSource
	dir     string
	repo    string
	url     string   // src.URL without its credentials
	env     []string // git's whole environment
	secrets []string // what redact removes from git's output
}

func newGitRun(src GitSource) (*gitRun, error) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("context %s: git is not installed on this agent: install it (apt-get install git) or use an uploaded or oci:// context", src)
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, fmt.Errorf("context %s: not a URL", src)
	}
	dir, err := os.MkdirTemp("", "berth-git-")
	if err != nil {
		return nil, fmt.Errorf("context %s: %w", src, err)
	}
	g := &gitRun{src: src, dir: dir, repo: filepath.Join(dir, "repo")}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("context %s: %w", src, err)
	}
	config := [][2]string{
		{"credential.helper", ""},
		{"core.askPass", ""},
		{"protocol.allow", "never"},
		{"protocol.http.allow", "always"},
		{"protocol.https.allow", "always"},
	}
	if u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		config = append(config, [2]string{"http.extraHeader", "Authorization: Basic " + basic})
		g.secrets = append(g.secrets, basic, u.User.String())
		for _, s := range []string{user, pass} {
			if len(s) >= 4 { // shorter values would mask ordinary words
				g.secrets = append(g.secrets, s, url.QueryEscape(s), url.PathEscape(s))
			}
		}
		u.User = nil
	}
	g.url = u.String()
	g.env = []string{
		"PATH=" + filepath.Dir(gitBin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=http:https",
		"LC_ALL=C",
		"GIT_CONFIG_COUNT=" + strconv.Itoa(len(config)),
	}
	for i, kv := range config {
		g.env = append(g.env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	// The network settings of the agent's host still apply.
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			g.env = append(g.env, k+"="+v)
		}
	}
	return g, nil
}

func (g *gitRun) close() { os.RemoveAll(g.dir) }

// gitError is a failed git command, its output redacted.
type gitError struct {
	args   string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	msg := lastLines(e.stderr, 3)
	if msg == "" {
		return fmt.Sprintf("git %s: %v", e.args, e.err)
	}
	return fmt.Sprintf("git %s: %s", e.args, msg)
}

func (e *gitError) Unwrap() error { return e.err }

// run runs git in the scratch directory and returns its stdout.
func (g *gitRun) run(ctx context.Context, args ...string) (string, error) {
	cmd := g.command(ctx, args...)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", &gitError{args: args[0], err: err, stderr: g.redact(stderr.String())}
	}
	return stdout.String(), nil
}

func (g *gitRun) command(ctx context.Context, args ...string) *exec.Cmd {
	if args[0] != "init" {
		args = append([]string{"--git-dir", g.repo}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	// git's remote helper may outlive a killed git and hold the pipes.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// archive unpacks tree into dest through `git archive`, so that the
// folder's content goes through buildcontext's rules and .git stays out.
func (g *gitRun) archive(ctx context.Context, tree, dest string, limits buildcontext.Limits) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx, "archive", "--format=tar", tree)
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return g.fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		return g.fail("git archive: %v", err)
	}
	xerr := buildcontext.Extract(ctx, out, dest, limits)
	if xerr != nil {
		cancel() // git may still be writing
	} else {
		io.Copy(io.Discard, out) // the archive's padding, after its end
	}
	werr := cmd.Wait()
	switch {
	case xerr != nil:
		var refused *buildcontext.RefusedError
		if errors.As(xerr, &refused) {
			return fmt.Errorf("context %s: %w", g.src, xerr)
		}
		if werr != nil && ctx.Err() == nil {
			return g.fail("%v", &gitError{args: "archive", err: werr, stderr: g.redact(stderr.String())})
		}
		return fmt.Errorf("context %s: %w", g.src, xerr)
	case werr != nil:
		return g.fail("%v", &gitError{args: "archive", err: werr, stderr: g.redact(stderr.String())})
	}
	return nil
}

func (g *gitRun) fail(format string, args ...any) error {
	return fmt.Errorf("context %s: %s", g.src, fmt.Sprintf(format, args...))
}

// fetchError says why a fetch failed and what to do about it.
func (g *gitRun) fetchError(ctx context.Context, ref string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("context %s: fetching the repository took too long: %w", g.src, ctx.Err())
	}
	var ge *gitError
	msg := err.Error()
	if errors.As(err, &ge) {
		msg = ge.stderr
	}
	switch {
	case strings.Contains(msg, "couldn't find remote ref"), strings.Contains(msg, "not our ref"),
		strings.Contains(msg, "unadvertised object"):
		return g.fail("ref %q is not in the repository: give a branch, a tag or a commit that exists, as in #main", ref)
	case isAuthError(err) && len(g.secrets) > 0:
		return g.fail("the repository refused access with the credentials in the URL: check the user and token, and that the token may read this repository (%v)", err)
	case isAuthError(err):
		return g.fail("the repository refused access: for a private repository give credentials in the URL, as in https://<user>:<token>@host/owner/repo.git, with a token allowed to read it (%v)", err)
	case strings.Contains(msg, "not found"), strings.Contains(msg, "returned error: 404"):
		return g.fail("no repository at this URL: check the address (%v)", err)
	case strings.Contains(msg, "Could not resolve host"), strings.Contains(msg, "Failed to connect"), strings.Contains(msg, "Connection refused"):
		return g.fail("the git server cannot be reached from this agent (%v)", err)
	}
	return g.fail("%v", err)
}

func isAuthError(err error) bool {
	var ge *gitError
	if !errors.As(err, &ge) {
		return false
	}
	for _, s := range []string{"terminal prompts disabled", "Authentication failed", "could not read Username", "could not read Password", "returned error: 401", "returned error: 403"} {
		if strings.Contains(ge.stderr, s) {
			return true
		}
	}
	return false
}

// redact removes the URL's credentials from git's output.
func (g *gitRun) redact(s string) string {
	for _, secret := range g.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// redactURL hides the user information of a URL, which may be a token,
// without needing the URL to parse.
func redactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return s
	}
	return s[:i+3] + "***@" + rest[at+1:]
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r", "\n")), "\n")
	var kept []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return strings.Join(kept, "; ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string { return string(b.buf) }
