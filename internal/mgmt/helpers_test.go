package mgmt_test

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
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

// ownerPassword is the bootstrap owner's password in every test server.
const ownerPassword = "owner-password"

// env is a whole berth server over httptest, and the owner's identity token.
type env struct {
	t     *testing.T
	srv   *app.Server
	url   string
	owner string
}

func newEnv(t *testing.T) *env { return newEnvWith(t, func(*config.Config) {}) }

func newEnvWith(t *testing.T, change func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	change(&cfg)
	srv, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ownerPassword, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	e := &env{t: t, srv: srv, url: hs.URL}
	e.owner = e.login(app.AdminUser, ownerPassword)
	return e
}

// host is the address the test server answers on: the default registry's.
func (e *env) host() string { return strings.TrimPrefix(e.url, "http://") }

// identityToken asks the identity endpoint for a token; it returns the
// status and the token.
func (e *env) identityToken(form url.Values) (int, string) {
	e.t.Helper()
	resp, err := http.PostForm(e.url+"/identity/oauth2/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.AccessToken
}

// login returns a user's identity token.
func (e *env) login(user, password string) string {
	e.t.Helper()
	status, tok := e.identityToken(url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if status != 200 || tok == "" {
		e.t.Fatalf("login as %s: %d", user, status)
	}
	return tok
}

// result is an answer of the management API.
type result struct {
	status int
	body   []byte
	header http.Header
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// errorCode returns the code of an error answer, checking the envelope.
func (r result) errorCode(t *testing.T) string {
	t.Helper()
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error == nil || env.Error.Message == "" {
		t.Fatalf("answer %d is not an error envelope: %s", r.status, r.body)
	}
	return env.Error.Code
}

func (r result) message(t *testing.T) string {
	t.Helper()
	r.errorCode(t)
	var env struct{ Error struct{ Message string } }
	json.Unmarshal(r.body, &env)
	return env.Error.Message
}

// call sends a management request with an identity token (none when
// empty) and a body: nil, a string sent as is, or a value sent as JSON.
func (e *env) call(tok, method, path string, body any) result {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 204 && !json.Valid(b) {
		e.t.Fatalf("%s %s answered %d with a body that is not JSON: %q", method, path, resp.StatusCode, b)
	}
	return result{status: resp.StatusCode, body: b, header: resp.Header}
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, tok, method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.call(tok, method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if want == 204 {
		if len(r.body) != 0 {
			e.t.Fatalf("%s %s: 204 with a body %q", method, path, r.body)
		}
		return nil
	}
	return r.json(e.t)
}

// names lists the "name" of each item of a list answer, checking the
// envelope.
func (e *env) names(tok, path string) []string {
	e.t.Helper()
	m := e.must(200, tok, "GET", path, nil)
	vals, ok := m["value"].([]any)
	if !ok {
		e.t.Fatalf("GET %s: no value array: %v", path, m)
	}
	var out []string
	for _, v := range vals {
		out = append(out, v.(map[string]any)["name"].(string))
	}
	return out
}

// newUser creates a user and, when role is not empty, assigns it role at
// scope; it returns the user's identity token.
func (e *env) newUser(name, role, scope string) string {
	e.t.Helper()
	e.must(201, e.owner, "PUT", "/api/users/"+name, map[string]string{"password": name + "-password"})
	if role != "" {
		e.must(201, e.owner, "POST", "/api/roleAssignments", map[string]string{"assignee": name, "role": role, "scope": scope})
	}
	return e.login(name, name+"-password")
}

// dp is a data-plane request.
type dp struct {
	method, path string
	host         string // Host header; empty: the default registry's
	user, pass   string // Basic auth when user is set
	bearer       string
	body         []byte
	ctype        string
}

func (e *env) data(r dp) (int, []byte) {
	e.t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	req, err := http.NewRequest(r.method, e.url+r.path, bytes.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if r.host != "" {
		req.Host = r.host
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// push pushes a one-layer image repo:v1 with r's credentials and host, and
// returns the status of the first step that failed or of the manifest PUT.
func (e *env) push(r dp, repo string) int {
	e.t.Helper()
	layer, cfg := []byte("layer of "+repo), []byte("{}")
	for _, b := range [][]byte{layer, cfg} {
		r.method, r.path, r.body, r.ctype = "POST", fmt.Sprintf("/v2/%s/blobs/uploads/?digest=%s", repo, digest(b)), b, "application/octet-stream"
		if status, _ := e.data(r); status != 201 {
			return status
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
		digest(cfg), digest(layer), len(layer))
	r.method, r.path, r.body, r.ctype = "PUT", "/v2/"+repo+"/manifests/v1", []byte(m), "application/vnd.oci.image.manifest.v1+json"
	status, _ := e.data(r)
	return status
}

// pull fetches repo:v1's manifest and returns the status.
func (e *env) pull(r dp, repo string) int {
	e.t.Helper()
	r.method, r.path = "GET", "/v2/"+repo+"/manifests/v1"
	status, _ := e.data(r)
	return status
}

// accessToken gets a registry access token with Basic credentials for
// scope on the default registry.
func (e *env) accessToken(user, pass, scope string) string {
	e.t.Helper()
	status, b := e.data(dp{path: "/oauth2/token?service=" + url.QueryEscape(e.host()) + "&scope=" + url.QueryEscape(scope), user: user, pass: pass})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &out)
	if status != 200 || out.AccessToken == "" {
		e.t.Fatalf("access token for %s: %d %s", user, status, b)
	}
	return out.AccessToken
}

// props returns an answer's properties.
func props(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	p, ok := m["properties"].(map[string]any)
	if !ok {
		t.Fatalf("no properties in %v", m)
	}
	return p
}

// keys returns the sorted keys of a JSON object, to pin a shape exactly.
func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("%s has fields %v, want %v", what, got, want)
	}
}
