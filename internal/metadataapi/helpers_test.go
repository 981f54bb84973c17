package metadataapi_test

// The metadata API tests drive a real berth (app.New on a temporary data
// directory) over httptest: content goes in through /v2 as a client pushes
// it, attributes change through /acr/v1, and the data plane's answers are
// checked over HTTP too.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

const (
	password = "metadata-api-test-password"

	mtOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex    = "application/vnd.oci.image.index.v1+json"
	mtOCIConfig   = "application/vnd.oci.image.config.v1+json"
	mtOCILayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// server is one berth under test.
type server struct {
	t    *testing.T
	url  string
	host string
}

func newServer(t *testing.T) *server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, log, password, io.Discard)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	// Cleanups run last first: the server stops, then the store closes
	// (its checkpointer writes to the data directory until then), then the
	// directory goes.
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	return &server{t: t, url: ts.URL, host: u.Host}
}

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req is one request; a zero value is an authenticated GET.
type req struct {
	method      string
	path        string // may carry a query; sent as is (escapes included)
	body        []byte
	contentType string
	anonymous   bool
	user, pass  string
}

func (s *server) do(r req) response {
	s.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequest(r.method, s.url+r.path, bytes.NewReader(r.body))
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	if r.body == nil {
		hr.Body, hr.ContentLength = http.NoBody, 0
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	switch {
	case r.user != "":
		hr.SetBasicAuth(r.user, r.pass)
	case !r.anonymous:
		hr.SetBasicAuth(app.AdminUser, password)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading body: %v", r.method, r.path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (s *server) get(path string) response { s.t.Helper(); return s.do(req{path: path}) }

// json does a request that must answer want, and decodes the body.
func (s *server) json(r req, want int) map[string]any {
	s.t.Helper()
	resp := s.do(r)
	if resp.status != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, resp.status, want, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.t.Fatalf("%s %s: Content-Type %q, want application/json", r.method, r.path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.body, &m); err != nil {
		s.t.Fatalf("%s %s: body is not a JSON object: %v: %s", r.method, r.path, err, resp.body)
	}
	return m
}

// patch sets attributes and returns the answer's body.
func (s *server) patch(path, body string) map[string]any {
	s.t.Helper()
	return s.json(req{method: http.MethodPatch, path: path, body: []byte(body), contentType: "application/json; charset=utf-8"}, http.StatusOK)
}

// wantError checks a status and the code of the OCI error envelope.
func wantError(t *testing.T, what string, resp response, status int, code string) {
	t.Helper()
	if resp.status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, resp.status, status, resp.body)
		return
	}
	if code == "" {
		return
	}
	var env struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(resp.body, &env); err != nil || len(env.Errors) == 0 {
		t.Errorf("%s: body %q is not an OCI error envelope", what, resp.body)
		return
	}
	if env.Errors[0].Code != code {
		t.Errorf("%s: code %s (%s), want %s", what, env.Errors[0].Code, env.Errors[0].Message, code)
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pushBlob uploads a blob monolithically (POST with the digest).
func (s *server) pushBlob(repo string, b []byte) string {
	s.t.Helper()
	d := digestOf(b)
	resp := s.do(req{method: http.MethodPost, path: "/v2/" + repo + "/blobs/uploads/?digest=" + url.QueryEscape(d), body: b, contentType: "application/octet-stream"})
	if resp.status != http.StatusCreated {
		s.t.Fatalf("push blob to %s: status %d: %s", repo, resp.status, resp.body)
	}
	return d
}

// image is a pushed image manifest and what it is made of.
type image struct {
	digest   string
	manifest []byte
	size     int64 // config + layer
}

// buildImage uploads the config and layer of an image for platform
// arch/os, told apart from others by seed, and returns its manifest
// without pushing it.
func (s *server) buildImage(repo, seed, arch, os string) image {
	s.t.Helper()
	config := []byte(fmt.Sprintf(`{"architecture":%q,"os":%q,"rootfs":{"type":"layers","diff_ids":[]},"seed":%q}`, arch, os, seed))
	layer := []byte("layer of " + seed)
	cd, ld := s.pushBlob(repo, config), s.pushBlob(repo, layer)
	m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		mtOCIManifest, mtOCIConfig, cd, len(config), mtOCILayer, ld, len(layer)))
	return image{digest: digestOf(m), manifest: m, size: int64(len(config) + len(layer))}
}

// putManifest pushes a manifest under ref and returns the response.
func (s *server) putManifest(repo, ref string, m []byte, mediaType string) response {
	s.t.Helper()
	return s.do(req{method: http.MethodPut, path: "/v2/" + repo + "/manifests/" + ref, body: m, contentType: mediaType})
}

// push pushes a linux/amd64 image under tag.
func (s *server) push(repo, tag, seed string) image {
	s.t.Helper()
	img := s.buildImage(repo, seed, "amd64", "linux")
	if resp := s.putManifest(repo, tag, img.manifest, mtOCIManifest); resp.status != http.StatusCreated {
		s.t.Fatalf("push %s:%s: status %d: %s", repo, tag, resp.status, resp.body)
	}
	return img
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantKeys checks that an object has exactly the given fields.
func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(m); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: fields %v, want %v", what, got, want)
	}
}

func obj(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T, want an object", what, v)
	}
	return m
}

func list(t *testing.T, what string, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: %T (%v), want an array", what, v, v)
	}
	return l
}

// names returns the key field ("name", or "digest" for manifests) of each
// entry of a listing's array field, or nil when the field is absent.
func names(t *testing.T, body map[string]any, field, key string) []string {
	t.Helper()
	v, ok := body[field]
	if !ok {
		return nil
	}
	var out []string
	for i, e := range list(t, field, v) {
		if s, ok := e.(string); ok { // the catalog lists bare names
			out = append(out, s)
			continue
		}
		out = append(out, obj(t, fmt.Sprintf("%s[%d]", field, i), e)[key].(string))
	}
	return out
}

// attrs returns the changeableAttributes of an object as a compact string
// such as "d w r l" with a "-" for each false one, in the wire order.
func attrs(t *testing.T, what string, m map[string]any) string {
	t.Helper()
	a := obj(t, what+".changeableAttributes", m["changeableAttributes"])
	wantKeys(t, what+".changeableAttributes", a, "deleteEnabled", "writeEnabled", "readEnabled", "listEnabled")
	var out []string
	for _, k := range []string{"deleteEnabled", "writeEnabled", "readEnabled", "listEnabled"} {
		b, ok := a[k].(bool)
		switch {
		case !ok:
			t.Errorf("%s.%s: %v, want a boolean", what, k, a[k])
		case b:
			out = append(out, k[:1])
		default:
			out = append(out, "-")
		}
	}
	return strings.Join(out, " ")
}

const unlocked = "d w r l"
