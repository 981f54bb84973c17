package distribution_test

// The spec tests drive the whole /v2 surface of a real berth (app.New on a
// temporary data directory) over httptest, one table of requests per
// feature of the OCI Distribution Spec v1.1. Each table runs in order on
// one server, so a case may depend on what the cases before it stored;
// cases after a refused write check that nothing changed.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

const (
	password = "spec-test-password"

	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtOCIConfig      = "application/vnd.oci.image.config.v1+json"
	mtDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mtOCILayer       = "application/vnd.oci.image.layer.v1.tar+gzip"
	mtDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mtEmpty          = "application/vnd.oci.empty.v1+json"
	mtOctet          = "application/octet-stream"

	// secondLogin is the login server of the second registry every test
	// server has, to check that registries do not see each other's content.
	secondLogin = "second.registry.test"
)

// absent as a wanted header value means the header must not be sent.
const absent = "\x00absent"

// server is one berth under test.
type server struct {
	t   *testing.T
	dir string
	url string

	mu         sync.Mutex
	started    int      // requests the handler was called for
	finished   int      // requests the handler has returned from
	lastStatus int      // the status of the last of them
	failures   []string // requests answered with a 5xx
}

// newServer starts berth on a fresh data directory.
func newServer(t *testing.T) *server {
	t.Helper()
	return newServerAt(t, t.TempDir())
}

// newServerAt starts berth on dir, which may hold another server's data.
func newServerAt(t *testing.T, dir string) *server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Registries = []config.Registry{{Name: "secondreg", LoginServer: secondLogin}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, log, password, io.Discard)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	s := &server{t: t, dir: dir}
	h := a.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusRecorder{ResponseWriter: w}
		s.mu.Lock()
		s.started++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.finished++
			s.lastStatus = sw.status
			if sw.status >= 500 {
				s.failures = append(s.failures, r.Method+" "+r.URL.String()+" -> "+strconv.Itoa(sw.status))
			}
		}()
		h.ServeHTTP(sw, r)
	}))
	s.url = ts.URL
	t.Cleanup(func() {
		ts.Close()
		// Closed before the data directory is removed: an open store may
		// still write its files.
		a.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		// A client's mistake, or a client going away, is never the
		// server's fault.
		for _, f := range s.failures {
			t.Errorf("server error: %s", f)
		}
	})
	return s
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *server) finishedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// waitStarted waits until the handler has been called for n requests.
func (s *server) waitStarted(n int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		if started >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the server started %d requests, want %d", started, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFinished waits until the handler has returned from n requests.
func (s *server) waitFinished(n int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.finishedCount() < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("the server finished %d requests, want %d", s.finishedCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       time.Minute,
}

// step is one request and what the spec says the answer must be.
type step struct {
	name   string
	method string
	// path is relative to the server; "$LOC" stands for the last upload
	// Location this table was given.
	path   string
	header http.Header
	body   []byte
	stream bool // send body without Content-Length (chunked)
	noAuth bool

	status int
	// want holds response headers: an exact value, a prefix ending in
	// "*", or absent.
	want     map[string]string
	code     string // the OCI error code of an error response
	msg      string // a substring of the error message
	wantBody []byte // the exact body, when not nil
	check    func(t *testing.T, resp *http.Response, body []byte)
}

// table runs steps in order on s; later steps see what earlier ones stored.
type table struct {
	s   *server
	loc string
}

func (s *server) run(t *testing.T, steps []step) {
	t.Helper()
	tb := &table{s: s}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) { tb.run(t, st) })
	}
}

func (tb *table) run(t *testing.T, st step) {
	path := strings.ReplaceAll(st.path, "$LOC", tb.loc)
	var body io.Reader = http.NoBody
	if st.body != nil {
		body = bytes.NewReader(st.body)
		if st.stream {
			body = io.MultiReader(body) // hides the length: chunked encoding
		}
	}
	req, err := http.NewRequest(st.method, tb.s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range st.header {
		if k == "Host" {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	if !st.noAuth && req.Header.Get("Authorization") == "" {
		req.SetBasicAuth(app.AdminUser, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", st.method, path, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", st.method, path, err)
	}
	if l := resp.Header.Get("Location"); strings.Contains(l, "/blobs/uploads/") {
		tb.loc = l
	}
	checkResponse(t, st, resp, got)
}

func checkResponse(t *testing.T, st step, resp *http.Response, got []byte) {
	t.Helper()
	if resp.StatusCode != st.status {
		t.Errorf("status %d, want %d; body %.300s", resp.StatusCode, st.status, got)
	}
	if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
		t.Errorf("Docker-Distribution-API-Version %q, want registry/2.0", v)
	}
	if st.method == http.MethodHead {
		if len(got) != 0 {
			t.Errorf("HEAD answered with a %d-byte body", len(got))
		}
	} else if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(got)) {
		t.Errorf("Content-Length %s, body has %d bytes", cl, len(got))
	}
	for k, want := range st.want {
		v, ok := resp.Header[http.CanonicalHeaderKey(k)]
		switch {
		case want == absent:
			if ok {
				t.Errorf("header %s: %q, want it absent", k, v)
			}
		case strings.HasSuffix(want, "*"):
			if !ok || !strings.HasPrefix(v[0], strings.TrimSuffix(want, "*")) {
				t.Errorf("header %s: %q, want prefix %q", k, v, strings.TrimSuffix(want, "*"))
			}
		default:
			if !ok || len(v) != 1 || v[0] != want {
				t.Errorf("header %s: %q, want %q", k, v, want)
			}
		}
	}
	if st.code != "" || st.msg != "" {
		checkError(t, st.method, resp, got, st.code, st.msg)
	}
	if st.wantBody != nil && !bytes.Equal(got, st.wantBody) {
		t.Errorf("body %.300q, want %.300q", got, st.wantBody)
	}
	if st.check != nil {
		st.check(t, resp, got)
	}
}

type errorBody struct {
	Errors []struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"errors"`
}

// checkError checks the OCI error envelope of a response.
func checkError(t *testing.T, method string, resp *http.Response, body []byte, code, msg string) {
	t.Helper()
	if method == http.MethodHead {
		return // no body to read the code from
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Errorf("error body %q is not an OCI error envelope (%v)", body, err)
		return
	}
	if code != "" && e.Errors[0].Code != code {
		t.Errorf("error code %s (%q), want %s", e.Errors[0].Code, e.Errors[0].Message, code)
	}
	if msg != "" && !strings.Contains(e.Errors[0].Message, msg) {
		t.Errorf("error message %q does not mention %q", e.Errors[0].Message, msg)
	}
}

// do sends one request outside a table, for setting up content.
func (s *server) do(t *testing.T, method, path string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.SetBasicAuth(app.AdminUser, password)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got
}

// pushBlob uploads content to repo with a single POST and returns its digest.
func (s *server) pushBlob(t *testing.T, repo string, content []byte) string {
	t.Helper()
	d := sha256Digest(content)
	resp, body := s.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d, hdr("Content-Type", mtOctet), content)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push blob %s to %s: %d %s", d, repo, resp.StatusCode, body)
	}
	return d
}

// pushManifest stores a manifest under ref and returns its digest.
func (s *server) pushManifest(t *testing.T, repo, ref, mediaType string, m []byte) string {
	t.Helper()
	resp, body := s.do(t, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, hdr("Content-Type", mediaType), m)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push manifest %s:%s: %d %s", repo, ref, resp.StatusCode, body)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// hdr builds a request header from key, value pairs; a key given twice
// is sent twice.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[http.CanonicalHeaderKey(kv[i])] = append(h[http.CanonicalHeaderKey(kv[i])], kv[i+1])
	}
	return h
}

func sha256Digest(p []byte) string {
	sum := sha256.Sum256(p)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func sha512Digest(p []byte) string {
	sum := sha512.Sum512(p)
	return "sha512:" + hex.EncodeToString(sum[:])
}

// desc is an OCI descriptor as a JSON object.
func desc(mediaType string, content []byte) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": sha256Digest(content), "size": len(content)}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// image is the content of one image: a config, layers and the manifest.
type image struct {
	config, layer []byte
	manifest      []byte
	digest        string
}

// ociManifest builds an OCI image manifest over config and layers.
func ociManifest(t *testing.T, config []byte, layers ...[]byte) []byte {
	t.Helper()
	ls := []any{}
	for _, l := range layers {
		ls = append(ls, desc(mtOCILayer, l))
	}
	return mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest,
		"config": desc(mtOCIConfig, config), "layers": ls,
	})
}

// pushImage stores a one-layer OCI image in repo under tag.
func (s *server) pushImage(t *testing.T, repo, tag, seed string) image {
	t.Helper()
	img := image{config: []byte(`{"architecture":"amd64","os":"linux","seed":"` + seed + `"}`), layer: []byte("layer of " + seed)}
	s.pushBlob(t, repo, img.config)
	s.pushBlob(t, repo, img.layer)
	img.manifest = ociManifest(t, img.config, img.layer)
	img.digest = s.pushManifest(t, repo, tag, mtOCIManifest, img.manifest)
	if img.digest != sha256Digest(img.manifest) {
		t.Fatalf("pushed manifest digest %s, want %s", img.digest, sha256Digest(img.manifest))
	}
	return img
}

// tagsAre is a check that a tags/list body names exactly tags.
func tagsAre(repo string, tags ...string) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		var got struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("tags/list body %q: %v", body, err)
		}
		if got.Name != repo {
			t.Errorf("tags/list name %q, want %q", got.Name, repo)
		}
		if got.Tags == nil {
			t.Errorf("tags/list tags is null, want a list")
		}
		if strings.Join(got.Tags, ",") != strings.Join(tags, ",") {
			t.Errorf("tags %q, want %q", got.Tags, tags)
		}
	}
}

// errorDetailHas checks that the first error's detail mentions s.
func errorDetailHas(s string) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
			t.Fatalf("error body %q: %v", body, err)
		}
		if !strings.Contains(string(e.Errors[0].Detail), s) {
			t.Errorf("error detail %s does not mention %s", e.Errors[0].Detail, s)
		}
	}
}

func TestSpecBase(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.run(t, []step{
		{name: "GET /v2/ answers 200 with the API version", method: "GET", path: "/v2/",
			status: 200, want: map[string]string{"Content-Type": "application/json", "Content-Length": "2"}, wantBody: []byte("{}")},
		{name: "HEAD /v2/", method: "HEAD", path: "/v2/", status: 200},
		{name: "GET /v2 without the slash", method: "GET", path: "/v2", status: 200},
		{name: "no credentials: 401 with a challenge", method: "GET", path: "/v2/", noAuth: true,
			status: 401, code: "UNAUTHORIZED", want: map[string]string{"WWW-Authenticate": `Bearer realm=*`}},
		{name: "wrong password: 401", method: "GET", path: "/v2/", noAuth: true,
			header: hdr("Authorization", "Basic YWRtaW46d3Jvbmc="), status: 401, code: "UNAUTHORIZED"},
		{name: "every endpoint needs credentials", method: "GET", path: "/v2/a/manifests/latest", noAuth: true,
			status: 401, code: "UNAUTHORIZED", want: map[string]string{"WWW-Authenticate": "Bearer realm=*"}},
		{name: "HEAD without credentials: 401 without a body", method: "HEAD", path: "/v2/a/blobs/" + sha256Digest(nil), noAuth: true,
			status: 401},
		{name: "an unknown endpoint is 404", method: "GET", path: "/v2/a/b", status: 404, code: "NAME_UNKNOWN"},
		{name: "an unknown verb under a repository is 404", method: "GET", path: "/v2/a/things/x", status: 404, code: "NAME_UNKNOWN"},
		{name: "a method the endpoint lacks is 405", method: "DELETE", path: "/v2/", status: 405, code: "UNSUPPORTED"},
		{name: "POST on a manifest is 405", method: "POST", path: "/v2/a/manifests/latest", status: 405, code: "UNSUPPORTED"},
		{name: "PATCH on a blob is 405", method: "PATCH", path: "/v2/a/blobs/" + sha256Digest(nil), status: 405, code: "UNSUPPORTED"},
		{name: "GET on the upload start is 405", method: "GET", path: "/v2/a/blobs/uploads/", status: 405, code: "UNSUPPORTED"},
		{name: "PUT on tags/list is 405", method: "PUT", path: "/v2/a/tags/list", status: 405, code: "UNSUPPORTED"},
	})
}

// TestSpecPathsAreNotCleaned checks that a /v2 path reaches the handler as
// sent: "a//b" is not a valid name, and must not become "a/b".
func TestSpecPathsAreNotCleaned(t *testing.T) {
	s := newServer(t)
	img := s.pushImage(t, "clean/app", "v1", "clean")
	s.run(t, []step{
		{name: "a name with an empty component", method: "GET", path: "/v2/clean//app/manifests/v1", status: 400, code: "NAME_INVALID"},
		{name: "a name with a dot-dot component", method: "GET", path: "/v2/clean/x/../app/manifests/" + img.digest, status: 400, code: "NAME_INVALID"},
		{name: "a PUT to a name with an empty component", method: "PUT", path: "/v2/clean//app/manifests/v2",
			header: hdr("Content-Type", mtOCIManifest), body: img.manifest, status: 400, code: "NAME_INVALID"},
		{name: "the PUT did not land in clean/app", method: "GET", path: "/v2/clean/app/tags/list", status: 200, check: tagsAre("clean/app", "v1")},
		{name: "an upload id of dots", method: "GET", path: "/v2/clean/app/blobs/uploads/..", status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
	})
}
