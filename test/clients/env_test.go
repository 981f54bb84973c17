package clients

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

// commandTimeout bounds one client invocation, so a client waiting on a
// server that never answers fails the test instead of hanging it.
const commandTimeout = 2 * time.Minute

// env is one berth server plus a private home for the clients that talk to
// it, so no test reads or writes the user's ~/.docker or regctl config.
type env struct {
	t    *testing.T
	srv  *testserver.Server
	addr string // host:port of the registry, as clients write it
	home string
	vars []string
}

// newEnv starts a server for one test, after checking that the client
// tools it names are installed.
func newEnv(t *testing.T, tools ...string) *env {
	t.Helper()
	for _, tool := range tools {
		testserver.Tool(t, tool)
	}
	srv := testserver.Start(t, testserver.Opts{})
	e := &env{t: t, srv: srv, addr: srv.Addr}
	e.home, e.vars = clientHome(t, "home")
	return e
}

// clientHome makes a fresh home directory for client configuration and the
// environment that points every client at it.
func clientHome(t *testing.T, name string) (string, []string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), name)
	for _, d := range []string{"docker", "config", "run", "cache"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	overridden := map[string]bool{}
	vars := []string{
		"HOME=" + home,
		"DOCKER_CONFIG=" + filepath.Join(home, "docker"),
		"REGCTL_CONFIG=" + filepath.Join(home, "regctl.json"),
		"REGISTRY_AUTH_FILE=" + filepath.Join(home, "auth.json"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(home, "run"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	}
	for _, kv := range vars {
		overridden[kv[:strings.IndexByte(kv, '=')]] = true
	}
	for _, kv := range os.Environ() {
		if i := strings.IndexByte(kv, '='); i > 0 && !overridden[kv[:i]] {
			vars = append(vars, kv)
		}
	}
	return home, vars
}

// run runs a client tool and fails the test unless it succeeds. It returns
// what the tool wrote to stdout.
func (e *env) run(tool string, args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.exec("", e.vars, tool, args...)
	if err != nil {
		e.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", tool, strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// runEnv is run with another client environment (see clientHome).
func (e *env) runEnv(vars []string, tool string, args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.exec("", vars, tool, args...)
	if err != nil {
		e.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", tool, strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// runIn is run with a working directory, for tools that name files relative to it.
func (e *env) runIn(dir, tool string, args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.exec(dir, e.vars, tool, args...)
	if err != nil {
		e.t.Fatalf("%s %s (in %s): %v\nstdout:\n%s\nstderr:\n%s", tool, strings.Join(args, " "), dir, err, stdout, stderr)
	}
	return stdout
}

// runStderr is run for tools that report what they did on stderr.
func (e *env) runStderr(tool string, args ...string) (string, string) {
	e.t.Helper()
	stdout, stderr, err := e.exec("", e.vars, tool, args...)
	if err != nil {
		e.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", tool, strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

var refusedRE = regexp.MustCompile(`(?i)401|unauthori[sz]ed|authentication required|denied`)

// refused runs a tool with the given environment and fails the test unless
// the tool exits non-zero saying that the registry refused its credentials.
func (e *env) refused(vars []string, tool string, args ...string) {
	e.t.Helper()
	stdout, stderr, err := e.exec("", vars, tool, args...)
	if err == nil {
		e.t.Fatalf("%s %s succeeded with a wrong password\nstdout:\n%s", tool, strings.Join(args, " "), stdout)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		e.t.Fatalf("%s %s: %v", tool, strings.Join(args, " "), err)
	}
	if !refusedRE.MatchString(stdout + stderr) {
		e.t.Fatalf("%s %s failed, but not for want of authorization: %v\nstdout:\n%s\nstderr:\n%s",
			tool, strings.Join(args, " "), err, stdout, stderr)
	}
}

func (e *env) exec(dir string, vars []string, tool string, args ...string) (string, string, error) {
	e.t.Helper()
	path := testserver.Tool(e.t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = vars
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	e.t.Logf("$ %s %s", tool, redact(strings.Join(args, " "), e.srv.Password))
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out after %s)", err, commandTimeout)
	}
	return stdout.String(), stderr.String(), err
}

// redact keeps the admin password out of test logs.
func redact(s, password string) string {
	return strings.ReplaceAll(s, password, "***")
}

// response is what the registry answered to a direct request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request sends an authenticated request straight to the registry, to check
// what the clients did without trusting a client to report it.
func (e *env) request(method, path string, accept ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(testserver.AdminUser, e.srv.Password)
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// manifestDigest asks the registry which digest a reference resolves to:
// the digest of the manifest bytes it serves, which must agree with its
// Docker-Content-Digest header when it sends one.
func (e *env) manifestDigest(repo, reference string) string {
	e.t.Helper()
	r := e.request(http.MethodGet, "/v2/"+repo+"/manifests/"+reference, manifestTypes...)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /v2/%s/manifests/%s = %d, want 200: %s", repo, reference, r.status, r.body)
	}
	d := sha256Digest(r.body)
	if h := r.header.Get("Docker-Content-Digest"); h != "" && h != d {
		e.t.Fatalf("GET /v2/%s/manifests/%s: Docker-Content-Digest %s, but the body's digest is %s", repo, reference, h, d)
	}
	return d
}

// tags lists a repository's tags through the tags API.
func (e *env) tags(repo string) []string {
	e.t.Helper()
	r := e.request(http.MethodGet, "/v2/"+repo+"/tags/list")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /v2/%s/tags/list = %d, want 200: %s", repo, r.status, r.body)
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		e.t.Fatalf("GET /v2/%s/tags/list: %v: %s", repo, err, r.body)
	}
	if list.Name != repo {
		e.t.Fatalf("GET /v2/%s/tags/list: name %q", repo, list.Name)
	}
	return list.Tags
}

var manifestTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// testImage is an image pushed by crane from a layer made here.
type testImage struct {
	ref       string // addr/repo:tag
	repo, tag string
	digest    string // manifest digest
	layerTar  []byte // the uncompressed layer
	layer     string // digest of the compressed layer blob
	manifest  []byte
}

// layerTar builds a small deterministic tar with a directory and two files.
func layerTar(t *testing.T, note string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	files := []struct {
		name, body string
	}{
		{"etc/berth-release", "berth end-to-end test image\n"},
		{"hello.txt", "hello from " + note + "\n" + strings.Repeat("berth ", 2000) + "\n"},
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755, ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ociManifest is the part of an image manifest the tests look at.
type ociManifest struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	} `json:"layers"`
	Subject *struct {
		Digest string `json:"digest"`
	} `json:"subject"`
}

func parseManifest(t *testing.T, raw []byte) ociManifest {
	t.Helper()
	var m ociManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v: %s", err, raw)
	}
	return m
}

// pushImage makes an OCI image of one fresh layer with crane (no Docker
// needed) and returns what was pushed, checked against the registry.
func (e *env) pushImage(repo, tag string) testImage {
	e.t.Helper()
	img := testImage{repo: repo, tag: tag, ref: e.addr + "/" + repo + ":" + tag}
	img.layerTar = layerTar(e.t, repo)
	tarPath := filepath.Join(e.t.TempDir(), "layer.tar")
	if err := os.WriteFile(tarPath, img.layerTar, 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.login()
	out := strings.TrimSpace(e.run("crane", "append", "--oci-empty-base", "-f", tarPath, "-t", img.ref))
	prefix := e.addr + "/" + repo + "@"
	if !strings.HasPrefix(out, prefix) {
		e.t.Fatalf("crane append printed %q, want %s<digest>", out, prefix)
	}
	img.digest = strings.TrimPrefix(out, prefix)
	if got := e.manifestDigest(repo, tag); got != img.digest {
		e.t.Fatalf("registry resolves %s to %s, crane pushed %s", img.ref, got, img.digest)
	}
	r := e.request(http.MethodGet, "/v2/"+repo+"/manifests/"+img.digest, manifestTypes...)
	if r.status != http.StatusOK || sha256Digest(r.body) != img.digest {
		e.t.Fatalf("GET manifest %s = %d with digest %s, want 200 and %s", img.digest, r.status, sha256Digest(r.body), img.digest)
	}
	img.manifest = r.body
	m := parseManifest(e.t, r.body)
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || len(m.Layers) != 1 {
		e.t.Fatalf("pushed manifest is not a one-layer OCI manifest: %s", r.body)
	}
	img.layer = m.Layers[0].Digest
	return img
}

// login stores the admin credentials in the private DOCKER_CONFIG for crane,
// which takes no credentials on its command line.
func (e *env) login() {
	e.t.Helper()
	if _, err := os.Stat(filepath.Join(e.home, "docker", "config.json")); err == nil {
		return
	}
	e.run("crane", "auth", "login", e.addr, "-u", testserver.AdminUser, "-p", e.srv.Password)
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip layer: %v", err)
	}
	return out
}

// ociLayout reads an OCI image layout directory: the manifest digest that
// index.json names for a tag, and a blob by digest.
type ociLayout string

func (l ociLayout) manifestFor(t *testing.T, tag string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(string(l), "index.json"))
	if err != nil {
		t.Fatalf("OCI layout: %v", err)
	}
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatalf("OCI layout index.json: %v: %s", err, raw)
	}
	for _, m := range index.Manifests {
		if tag == "" || m.Annotations["org.opencontainers.image.ref.name"] == tag {
			return m.Digest
		}
	}
	t.Fatalf("OCI layout %s has no manifest for %q: %s", l, tag, raw)
	return ""
}

func (l ociLayout) blob(t *testing.T, digest string) []byte {
	t.Helper()
	algo, hexPart, _ := strings.Cut(digest, ":")
	b, err := os.ReadFile(filepath.Join(string(l), "blobs", algo, hexPart))
	if err != nil {
		t.Fatalf("OCI layout blob %s: %v", digest, err)
	}
	if got := sha256Digest(b); got != digest {
		t.Fatalf("OCI layout blob %s has digest %s", digest, got)
	}
	return b
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
