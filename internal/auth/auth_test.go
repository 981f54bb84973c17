package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/storage/meta"
)

type env struct {
	t   *testing.T
	srv *app.Server
	url string
	reg meta.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	srv, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "ownerpass", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	regs, _ := srv.Service().Registries(context.Background())
	return &env{t: t, srv: srv, url: hs.URL, reg: regs[0]}
}

type req struct {
	method, path string
	user, pass   string
	bearer       string
	form         url.Values
	body         []byte
	ctype        string
}

func (e *env) do(r req) (*http.Response, []byte) {
	e.t.Helper()
	var body io.Reader
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		r.ctype = "application/x-www-form-urlencoded"
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	hr, _ := http.NewRequest(r.method, e.url+r.path, body)
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.user != "" || r.pass != "" {
		hr.SetBasicAuth(r.user, r.pass)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushAs pushes a one-blob image with the given credentials and returns the
// status of the manifest PUT (or of the first failing step).
func (e *env) pushAs(r req, repo string) int {
	e.t.Helper()
	layer, cfg := []byte("layer of "+repo), []byte("{}")
	for _, b := range [][]byte{layer, cfg} {
		r.method, r.path, r.body, r.ctype = "POST", fmt.Sprintf("/v2/%s/blobs/uploads/?digest=%s", repo, digest(b)), b, "application/octet-stream"
		if resp, _ := e.do(r); resp.StatusCode != 201 {
			return resp.StatusCode
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`, digest(cfg), digest(layer), len(layer))
	r.method, r.path, r.body, r.ctype = "PUT", "/v2/"+repo+"/manifests/v1", []byte(m), "application/vnd.oci.image.manifest.v1+json"
	resp, _ := e.do(r)
	return resp.StatusCode
}

type tokenResponse struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
}

func (e *env) token(r req) (int, tokenResponse) {
	e.t.Helper()
	resp, b := e.do(r)
	var tr tokenResponse
	json.Unmarshal(b, &tr)
	return resp.StatusCode, tr
}

// claims decodes a JWT's payload without checking it.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func TestDockerTokenFlow(t *testing.T) {
	e := newEnv(t)
	if got := e.pushAs(req{user: "admin", pass: "ownerpass"}, "team/app"); got != 201 {
		t.Fatalf("owner push with Basic: %d", got)
	}
	// The challenge names the token endpoint and the scope.
	resp, _ := e.do(req{method: "GET", path: "/v2/team/app/manifests/v1"})
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.Contains(ch, `/oauth2/token"`) || !strings.Contains(ch, `scope="repository:team/app:pull"`) {
		t.Fatalf("challenge %d %q", resp.StatusCode, ch)
	}
	status, tr := e.token(req{method: "GET", path: "/oauth2/token?service=" + strings.TrimPrefix(e.url, "http://") + "&scope=repository:team/app:pull", user: "admin", pass: "ownerpass"})
	if status != 200 || tr.Token == "" || tr.Token != tr.AccessToken || tr.ExpiresIn <= 0 || tr.IssuedAt == "" || tr.RefreshToken != "" {
		t.Fatalf("token response %d %+v", status, tr)
	}
	c := claims(t, tr.Token)
	if c["aud"] != strings.TrimPrefix(e.url, "http://") || c["kind"] != "access" {
		t.Errorf("claims %v", c)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/team/app/manifests/v1", bearer: tr.Token}); resp.StatusCode != 200 {
		t.Fatalf("pull with the token: %d", resp.StatusCode)
	}
	// The token carries pull only: a push is challenged for more.
	resp, _ = e.do(req{method: "POST", path: "/v2/team/app/blobs/uploads/", bearer: tr.Token})
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="repository:team/app:pull,push"`) {
		t.Fatalf("push with a pull token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Another repository is not covered.
	if resp, _ := e.do(req{method: "GET", path: "/v2/other/app/tags/list", bearer: tr.Token}); resp.StatusCode != 401 {
		t.Fatalf("other repository with the token: %d", resp.StatusCode)
	}
	// offline_token=true adds a refresh token, usable with the null user.
	status, tr = e.token(req{method: "GET", path: "/oauth2/token?offline_token=true&scope=repository:team/app:pull,push", user: "admin", pass: "ownerpass"})
	if status != 200 || tr.RefreshToken == "" {
		t.Fatalf("offline token %d %+v", status, tr)
	}
	status, tr2 := e.token(req{method: "GET", path: "/oauth2/token?scope=repository:team/app:push", user: auth.NullUser, pass: tr.RefreshToken})
	if status != 200 || !strings.Contains(fmt.Sprint(claims(t, tr2.Token)["access"]), "push") {
		t.Fatalf("null user with a refresh token: %d %v", status, claims(t, tr2.Token)["access"])
	}
	if got := e.pushAs(req{bearer: tr2.Token}, "team/app"); got != 201 {
		t.Fatalf("push with a push token: %d", got)
	}
}

func TestIdentityExchangeAndIntersection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := e.srv.Identity()
	if _, err := ids.CreateUser(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	// Identity token for the management plane.
	status, id := e.token(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}}})
	if status != 200 || id.AccessToken == "" {
		t.Fatalf("identity token %d %+v", status, id)
	}
	if status, _ := e.token(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}}); status != 401 {
		t.Fatalf("wrong password: %d", status)
	}
	// Exchange it for a registry refresh token.
	resp, b := e.do(req{method: "POST", path: "/oauth2/exchange", form: url.Values{"grant_type": {"access_token"}, "service": {strings.TrimPrefix(e.url, "http://")}, "access_token": {id.AccessToken}}})
	var ex struct {
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal(b, &ex)
	if resp.StatusCode != 200 || ex.RefreshToken == "" {
		t.Fatalf("exchange %d %s", resp.StatusCode, b)
	}
	// An identity token is not a registry token.
	if resp, _ := e.do(req{method: "GET", path: "/v2/", bearer: id.AccessToken}); resp.StatusCode != 401 {
		t.Fatalf("identity token on /v2: %d", resp.StatusCode)
	}
	// alice has no role: asking for push gets a token with no access, not an error.
	status, tr := e.token(req{method: "POST", path: "/oauth2/token", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ex.RefreshToken}, "scope": {"repository:team/app:pull,push registry:catalog:*"}}})
	if status != 200 {
		t.Fatalf("refresh grant: %d", status)
	}
	if acc := claims(t, tr.AccessToken)["access"]; acc != nil && fmt.Sprint(acc) != "[]" {
		t.Fatalf("a principal without roles got access %v", acc)
	}
	// Deleting alice revokes her refresh token at once.
	p, _ := ids.Resolve(ctx, "alice")
	if err := ids.DeletePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if status, _ := e.token(req{method: "POST", path: "/oauth2/token", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ex.RefreshToken}}}); status != 401 {
		t.Fatalf("refresh token of a deleted user: %d", status)
	}
}

func TestScopeMapTokensAndAdminUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := e.srv.Identity()
	if got := e.pushAs(req{user: "admin", pass: "ownerpass"}, "samples/a"); got != 201 {
		t.Fatal(got)
	}
	creds, err := ids.CreateToken(ctx, e.reg, "ci-pull", "_repositories_pull")
	if err != nil {
		t.Fatal(err)
	}
	pw := creds.Passwords[0].Value
	if resp, _ := e.do(req{method: "GET", path: "/v2/samples/a/manifests/v1", user: "ci-pull", pass: pw}); resp.StatusCode != 200 {
		t.Fatalf("pull with a pull token: %d", resp.StatusCode)
	}
	if got := e.pushAs(req{user: "ci-pull", pass: pw}, "samples/a"); got != 403 {
		t.Fatalf("push with a pull token: %d, want 403", got)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/_catalog", user: "ci-pull", pass: pw}); resp.StatusCode != 200 {
		t.Fatalf("catalog with _repositories_pull (covers *): %d", resp.StatusCode)
	}
	if err := ids.SetTokenEnabled(ctx, e.reg, "ci-pull", false); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/samples/a/manifests/v1", user: "ci-pull", pass: pw}); resp.StatusCode != 401 {
		t.Fatalf("disabled token: %d", resp.StatusCode)
	}
	// The admin user: off by default, then on.
	if resp, _ := e.do(req{method: "GET", path: "/v2/samples/a/manifests/v1", user: e.reg.Name, pass: "x"}); resp.StatusCode != 401 {
		t.Fatalf("admin user while disabled: %d", resp.StatusCode)
	}
	if err := ids.SetAdminEnabled(ctx, e.reg, true); err != nil {
		t.Fatal(err)
	}
	a, _ := ids.AdminCredentials(ctx, e.reg)
	if got := e.pushAs(req{user: e.reg.Name, pass: a.Passwords[1].Value}, "samples/b"); got != 201 {
		t.Fatalf("admin user push: %d", got)
	}
}

func TestBadTokensAreRefused(t *testing.T) {
	e := newEnv(t)
	_, tr := e.token(req{method: "GET", path: "/oauth2/token?scope=repository:a:pull", user: "admin", pass: "ownerpass"})
	parts := strings.Split(tr.Token, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","kind":"access","access":[{"type":"repository","name":"a","actions":["push"]}]}`)) + "." + parts[2]
	for name, tok := range map[string]string{
		"alg none": none, "tampered": tampered, "garbage": "a.b.c", "empty": " ", "huge": strings.Repeat("A", 20000),
	} {
		resp, b := e.do(req{method: "GET", path: "/v2/a/tags/list", bearer: tok})
		if resp.StatusCode != 401 || !bytes.Contains(b, []byte("UNAUTHORIZED")) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	// Malformed scopes are a clear client error, never a 500.
	for _, scope := range []string{"repository::pull", "repository:A:pull", "nonsense", "repository:a:fly"} {
		resp, b := e.do(req{method: "GET", path: "/oauth2/token?scope=" + url.QueryEscape(scope), user: "admin", pass: "ownerpass"})
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("scope %q: %d %s", scope, resp.StatusCode, b)
		}
	}
	// A token minted for another service is refused at the token endpoint.
	if resp, _ := e.do(req{method: "GET", path: "/oauth2/token?service=elsewhere.example", user: "admin", pass: "ownerpass"}); resp.StatusCode != 401 {
		t.Errorf("token for another service: %d", resp.StatusCode)
	}
}

func TestPasswordGuessingIsRateLimited(t *testing.T) {
	e := newEnv(t)
	// Ten wrong passwords for admin from this address, then even the right
	// one is refused with 429 and a Retry-After.
	for i := 0; i < 10; i++ {
		if status, _ := e.token(req{method: "GET", path: "/oauth2/token", user: "admin", pass: fmt.Sprint("guess", i)}); status != 401 {
			t.Fatalf("guess %d: %d, want 401", i, status)
		}
	}
	resp, b := e.do(req{method: "GET", path: "/oauth2/token", user: "admin", pass: "ownerpass"})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !bytes.Contains(b, []byte("TOOMANYREQUESTS")) {
		t.Fatalf("after 10 failures: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// The identity endpoint shares the counters (same address).
	resp, _ = e.do(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"ownerpass"}}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("identity endpoint after 10 failures: %d", resp.StatusCode)
	}
	// The data plane's Basic auth too.
	if resp, _ := e.do(req{method: "GET", path: "/v2/", user: "admin", pass: "ownerpass"}); resp.StatusCode != 429 {
		t.Fatalf("/v2 Basic after 10 failures: %d", resp.StatusCode)
	}
}

// from returns a client whose connections leave from a loopback address.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func (e *env) signIn(c *http.Client, user, pass string) int {
	e.t.Helper()
	resp, err := c.PostForm(e.url+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRateLimitPerUserAndPerAddress(t *testing.T) {
	e := newEnv(t)
	ids := e.srv.Identity()
	for _, u := range []string{"bob", "carol"} {
		if _, err := ids.CreateUser(context.Background(), u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	// Guesses for bob spread over ten addresses: no address is over its
	// limit, but bob is.
	for i := 0; i < 10; i++ {
		if got := e.signIn(from(fmt.Sprintf("127.0.5.%d", i+1)), "bob", "guess"); got != 401 {
			t.Fatalf("guess %d: %d", i, got)
		}
	}
	if got := e.signIn(from("127.0.6.1"), "bob", "bob-password"); got != 429 {
		t.Fatalf("bob from a fresh address after 10 guesses: %d, want 429", got)
	}
	if got := e.signIn(from("127.0.6.1"), "carol", "carol-password"); got != 200 {
		t.Fatalf("carol from that address: %d, want 200", got)
	}
	// Ten guesses from one address for ten users: the address is limited.
	for i := 0; i < 10; i++ {
		e.signIn(from("127.0.7.1"), fmt.Sprint("nobody", i), "x")
	}
	if got := e.signIn(from("127.0.7.1"), "carol", "carol-password"); got != 429 {
		t.Fatalf("carol from a guessing address: %d, want 429", got)
	}
	if got := e.signIn(from("127.0.7.2"), "carol", "carol-password"); got != 200 {
		t.Fatalf("carol from another address: %d, want 200", got)
	}
}

// hostDo sends a request with another Host, as a client of another login
// server on the same listener would.
func (e *env) hostDo(host string, r req) *http.Response {
	e.t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hr, _ := http.NewRequest(r.method, e.url+r.path, body)
	hr.Host = host
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.user != "" {
		hr.SetBasicAuth(r.user, r.pass)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A token minted for a registry is refused after that registry is deleted,
// though its login server now reaches the default registry.
func TestTokensAreBoundToTheirRegistry(t *testing.T) {
	e := newEnv(t)
	_, id := e.token(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"ownerpass"}}})
	mgmt := func(method, path, body string) int {
		resp, _ := e.do(req{method: method, path: path, bearer: id.AccessToken, body: []byte(body), ctype: "application/json"})
		return resp.StatusCode
	}
	if got := mgmt("PUT", "/api/registries/teamone", `{"location":"local","properties":{"loginServer":"teamone.example:5000"}}`); got != 201 {
		t.Fatalf("create registry: %d", got)
	}
	if got := e.pushAs(req{user: "admin", pass: "ownerpass"}, "team/app"); got != 201 {
		t.Fatal(got) // in the default registry
	}
	hr, _ := http.NewRequest("GET", e.url+"/oauth2/token?scope=repository:team/app:pull", nil)
	hr.Host = "teamone.example:5000"
	hr.SetBasicAuth("admin", "ownerpass")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if tr.AccessToken == "" {
		t.Fatalf("no token for teamone: %d", resp.StatusCode)
	}
	if got := mgmt("DELETE", "/api/registries/teamone", ""); got != 204 {
		t.Fatalf("delete registry: %d", got)
	}
	// teamone.example:5000 now falls back to the default registry, which
	// holds team/app; the token minted for teamone must not open it.
	if got := e.hostDo("teamone.example:5000", req{method: "GET", path: "/v2/team/app/manifests/v1", bearer: tr.AccessToken}).StatusCode; got != 401 {
		t.Fatalf("a deleted registry's token on the default registry: %d, want 401", got)
	}
}

func TestAnonymousPull(t *testing.T) {
	e := newEnv(t)
	if got := e.pushAs(req{user: "admin", pass: "ownerpass"}, "public/app"); got != 201 {
		t.Fatal(got)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/public/app/manifests/v1"}); resp.StatusCode != 401 {
		t.Fatalf("anonymous pull while disabled: %d", resp.StatusCode)
	}
	_, id := e.token(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"ownerpass"}}})
	resp, _ := e.do(req{method: "PATCH", path: "/api/registries/default", bearer: id.AccessToken,
		body: []byte(`{"properties":{"anonymousPullEnabled":true}}`), ctype: "application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("enable anonymous pull: %d", resp.StatusCode)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/public/app/manifests/v1"}); resp.StatusCode != 200 {
		t.Fatalf("anonymous pull: %d", resp.StatusCode)
	}
	// Anything but pull is challenged, so a client can authenticate.
	for _, r := range []req{{method: "POST", path: "/v2/public/app/blobs/uploads/"}, {method: "GET", path: "/v2/_catalog"},
		{method: "DELETE", path: "/v2/public/app/manifests/v1"}, {method: "GET", path: "/acr/v1/public/app/_tags"}} {
		if resp, _ := e.do(r); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous %s %s: %d, want 401 with a challenge", r.method, r.path, resp.StatusCode)
		}
	}
	// The token endpoint hands out pull-only tokens without credentials.
	status, tr := e.token(req{method: "GET", path: "/oauth2/token?scope=repository:public/app:pull,push"})
	if status != 200 || tr.RefreshToken != "" {
		t.Fatalf("anonymous token: %d %+v", status, tr)
	}
	if acc := fmt.Sprint(claims(t, tr.Token)["access"]); strings.Contains(acc, "push") || !strings.Contains(acc, "pull") {
		t.Fatalf("anonymous token access %s, want pull only", acc)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/public/app/manifests/v1", bearer: tr.Token}); resp.StatusCode != 200 {
		t.Fatalf("pull with an anonymous token: %d", resp.StatusCode)
	}
	// Turning it off stops anonymous tokens at once.
	e.do(req{method: "PATCH", path: "/api/registries/default", bearer: id.AccessToken,
		body: []byte(`{"properties":{"anonymousPullEnabled":false}}`), ctype: "application/json"})
	if resp, _ := e.do(req{method: "GET", path: "/v2/public/app/manifests/v1", bearer: tr.Token}); resp.StatusCode != 401 {
		t.Fatalf("anonymous token after disabling: %d", resp.StatusCode)
	}
	if resp, _ := e.do(req{method: "GET", path: "/v2/public/app/manifests/v1"}); resp.StatusCode != 401 {
		t.Fatalf("anonymous pull after disabling: %d", resp.StatusCode)
	}
}
