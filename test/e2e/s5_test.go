package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
)

// SCENARIOS.md S5 — every way to authenticate (seed 003): an individual
// through `berth registry login`, the exposed registry token, a service
// principal, the registry's admin user and a repository-scoped token, each
// used by real clients against the registry's own login server.

const (
	// s5Registry is the registry S5 creates, with a login server of its own.
	s5Registry = "blogbuildtest"
	// nullUser is the user name docker-compatible clients send with a
	// registry refresh token as the password.
	nullUser = "00000000-0000-0000-0000-000000000000"
	// refreshLifetime is how long `berth registry login`'s token lasts.
	refreshLifetime = 3 * time.Hour
	// helloText is the file of the image S5 pushes first.
	helloText = "hello from S5\n"
)

func TestS5EveryWayToAuthenticate(t *testing.T) {
	for _, tool := range []string{"crane", "oras", "regctl", "skopeo"} {
		testserver.Tool(t, tool)
	}
	start := time.Now()
	srv := testserver.Start(t, testserver.Opts{ExtraListen: []string{"127.0.3.1:0"}})
	s := &s5{t: t, srv: srv, loginServer: srv.Listen[1], secrets: []string{srv.Password}}
	s.admin = s.machine("admin")

	s.setUp()
	s.individual()
	s.exposedToken()
	s.servicePrincipal()
	s.adminUser()
	s.scopedTokens()
	s.defaultRegistry()
	t.Logf("S5 took %s", time.Since(start).Round(time.Millisecond))
}

// s5 is the state of the scenario as it goes.
type s5 struct {
	t           *testing.T
	srv         *testserver.Server
	loginServer string // 127.0.3.1:<port>, the registry's data plane
	secrets     []string
	admin       *machine // the bootstrap owner's machine
	alice       *machine // alice's machine, logged in with berth

	registryID    string
	alicePassword string
	adminPassword string      // the admin user's first password
	image         pushedImage // samples/a:v1, pushed by alice with crane
}

// pushedImage is what the registry holds for a pushed tag.
type pushedImage struct {
	digest string // manifest digest
	layer  string // digest of its one layer blob
}

// setUp is what the owner does before S5: log in, create the registry on
// its own login server, and give alice AcrPush on it.
func (s *s5) setUp() {
	s.t.Log("== the owner creates the registry and alice")
	a := s.admin
	a.berth("login", "--server", s.srv.URL, "-u", testserver.AdminUser, "-p", s.srv.Password)

	var reg registryResource
	a.berthJSON(&reg, "registry", "create", "-n", s5Registry, "--location", "local", "--login-server", s.loginServer)
	if reg.Name != s5Registry || reg.Location != "local" || reg.Properties.LoginServer != s.loginServer || reg.Properties.AdminUserEnabled {
		s.t.Fatalf("registry create answered %+v, want %s in local at %s with the admin user off", reg, s5Registry, s.loginServer)
	}
	s.registryID = strings.TrimSpace(a.berth("registry", "show", "-n", s5Registry, "--query", "id", "-o", "tsv"))
	if s.registryID != "/registries/"+s5Registry {
		s.t.Fatalf("registry id %q, want /registries/%s", s.registryID, s5Registry)
	}

	alicePassword := s.secret("alice-" + randomHex(s.t))
	var user struct {
		Name       string `json:"name"`
		Properties struct {
			PrincipalID string `json:"principalId"`
		} `json:"properties"`
	}
	a.berthJSON(&user, "user", "create", "-n", "alice", "-p", alicePassword)
	if user.Name != "alice" || user.Properties.PrincipalID == "" {
		s.t.Fatalf("user create answered %+v", user)
	}
	var ra struct {
		Properties struct {
			PrincipalID        string `json:"principalId"`
			RoleDefinitionName string `json:"roleDefinitionName"`
			Scope              string `json:"scope"`
		} `json:"properties"`
	}
	a.berthJSON(&ra, "role", "assignment", "create", "--assignee", "alice", "--role", "AcrPush", "--scope", s.registryID)
	if ra.Properties.PrincipalID != user.Properties.PrincipalID || ra.Properties.RoleDefinitionName != "AcrPush" || ra.Properties.Scope != s.registryID {
		s.t.Fatalf("role assignment create answered %+v", ra)
	}
	s.alicePassword = alicePassword
}

// individual: alice logs in to berth, then to the registry, and every
// client pushes and pulls with the docker config that wrote, no password.
func (s *s5) individual() {
	s.t.Log("== individual: berth login, berth registry login, then four clients")
	t := s.t
	// The registry wants credentials, so what the clients do below they do
	// with the ones `berth registry login` stored.
	status, header, _ := s.request("GET", "/v2/", "", "")
	wantRealm := fmt.Sprintf(`realm="http://%s/oauth2/token"`, s.loginServer)
	if status != http.StatusUnauthorized || !strings.Contains(header.Get("WWW-Authenticate"), wantRealm) {
		t.Fatalf("anonymous GET /v2/ on %s = %d %q, want 401 with %s", s.loginServer, status, header.Get("WWW-Authenticate"), wantRealm)
	}

	alice := s.machine("alice")
	s.alice = alice
	alice.berth("login", "--server", s.srv.URL, "-u", "alice", "-p", s.alicePassword)
	if out := alice.berth("registry", "login", "-n", s5Registry); !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("berth registry login printed %q, want Login Succeeded", out)
	}
	cfgPath := filepath.Join(alice.dockerConfig, "config.json")
	if info, err := os.Stat(cfgPath); err != nil {
		t.Fatalf("berth registry login wrote no docker config: %v", err)
	} else if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s has mode %v, want 0600", cfgPath, info.Mode().Perm())
	}
	user, refresh := dockerAuth(t, cfgPath, s.loginServer)
	if user != nullUser {
		t.Fatalf("docker config user for %s is %q, want %s", s.loginServer, user, nullUser)
	}
	s.checkRefreshToken("the docker config's password", refresh)

	// crane: push an image made of one layer, pull its files back.
	layer := filepath.Join(alice.home, "layer.tar")
	if err := os.WriteFile(layer, layerTar(t, "hello.txt", helloText), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := s.loginServer + "/samples/a:v1"
	out := strings.TrimSpace(alice.tool("crane", "--insecure", "append", "--oci-empty-base", "-f", layer, "-t", ref))
	digest, ok := strings.CutPrefix(out, s.loginServer+"/samples/a@")
	if !ok {
		t.Fatalf("crane append printed %q, want %s/samples/a@<digest>", out, s.loginServer)
	}
	s.image = s.stored("samples/a", "v1")
	if s.image.digest != digest {
		t.Fatalf("crane pushed %s, the registry holds %s for samples/a:v1", digest, s.image.digest)
	}
	if got := fileInTar(t, []byte(alice.tool("crane", "--insecure", "export", ref, "-")), "hello.txt"); got != helloText {
		t.Fatalf("crane export of %s: hello.txt is %q, want %q", ref, got, helloText)
	}
	// A repository outside samples/, for the scoped token to be refused.
	alice.tool("crane", "--insecure", "copy", ref, s.loginServer+"/other/app:v1")
	s.sameImage("other/app", "v1")

	// oras: push an artifact, pull it into another directory.
	dir := filepath.Join(alice.home, "notes")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("notes of S5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notes := s.loginServer + "/samples/notes:v1"
	alice.toolIn(dir, "oras", "push", "--plain-http", "--artifact-type", "application/vnd.example.notes", notes, "notes.txt")
	s.stored("samples/notes", "v1")
	pulled := filepath.Join(alice.home, "pulled")
	alice.tool("oras", "pull", "--plain-http", "-o", pulled, notes)
	if b, err := os.ReadFile(filepath.Join(pulled, "notes.txt")); err != nil || string(b) != "notes of S5\n" {
		t.Fatalf("oras pull: notes.txt %q, %v", b, err)
	}

	// regctl: TLS off for the login server is all it is told; the
	// credentials it reads from docker's config.json.
	alice.tool("regctl", "registry", "set", "--tls", "disabled", s.loginServer)
	if b, err := os.ReadFile(filepath.Join(alice.home, ".regctl", "config.json")); err != nil {
		t.Fatalf("regctl registry set: %v", err)
	} else if strings.Contains(string(b), refresh) {
		t.Fatalf("regctl keeps the token in its own config, so it did not read docker's")
	}
	alice.tool("regctl", "image", "copy", ref, s.loginServer+"/samples/regctl:v1")
	s.sameImage("samples/regctl", "v1")
	if blob := alice.tool("regctl", "blob", "get", s.loginServer+"/samples/regctl", s.image.layer); sha256Digest([]byte(blob)) != s.image.layer {
		t.Fatalf("regctl blob get %s returned other bytes", s.image.layer)
	}

	// skopeo: reads docker's config.json ($DOCKER_CONFIG) too.
	alice.tool("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+ref, "docker://"+s.loginServer+"/samples/skopeo:v1")
	s.sameImage("samples/skopeo", "v1")
	var inspect struct{ Digest string }
	decodeJSON(t, "skopeo inspect", alice.tool("skopeo", "inspect", "--tls-verify=false", "docker://"+s.loginServer+"/samples/skopeo:v1"), &inspect)
	if inspect.Digest != s.image.digest {
		t.Fatalf("skopeo inspect: digest %s, want %s", inspect.Digest, s.image.digest)
	}
}

// exposedToken: --expose-token prints the registry token instead of
// storing it, and crane logs in with it under the null user.
func (s *s5) exposedToken() {
	s.t.Log("== --expose-token, then crane auth login with it")
	t := s.t
	cfgPath := filepath.Join(s.alice.dockerConfig, "config.json")
	before, _ := os.ReadFile(cfgPath)
	var exposed map[string]string
	s.alice.berthJSON(&exposed, "registry", "login", "-n", s5Registry, "--expose-token")
	keys := make([]string, 0, len(exposed))
	for k := range exposed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"accessToken", "loginServer", "username"}) {
		t.Fatalf("--expose-token printed the fields %v, want accessToken, loginServer, username", keys)
	}
	if exposed["loginServer"] != s.loginServer || exposed["username"] != nullUser {
		t.Fatalf("--expose-token printed loginServer %q, username %q; want %s, %s", exposed["loginServer"], exposed["username"], s.loginServer, nullUser)
	}
	token := s.secret(exposed["accessToken"])
	s.checkRefreshToken("the exposed accessToken", token)
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Fatalf("--expose-token changed %s", cfgPath)
	}

	m := s.machine("exposed")
	m.tool("crane", "auth", "login", s.loginServer, "-u", nullUser, "-p", token)
	m.tool("crane", "--insecure", "copy", s.loginServer+"/samples/a:v1", s.loginServer+"/samples/exposed:v1")
	s.sameImage("samples/exposed", "v1")
}

// servicePrincipal: create-for-rbac gives an appId and a one-year secret
// that crane pushes with.
func (s *s5) servicePrincipal() {
	s.t.Log("== service principal")
	t := s.t
	var sp struct {
		AppID       string    `json:"appId"`
		DisplayName string    `json:"displayName"`
		Password    string    `json:"password"`
		PrincipalID string    `json:"principalId"`
		ExpiresAt   time.Time `json:"expiresAt"`
	}
	s.admin.berthJSON(&sp, "sp", "create-for-rbac", "-n", "ci", "--role", "AcrPush", "--scopes", s.registryID)
	if sp.AppID == "" || sp.Password == "" || sp.PrincipalID == "" || sp.DisplayName != "ci" {
		t.Fatalf("sp create-for-rbac answered %+v", sp)
	}
	s.secret(sp.Password)
	if want := time.Now().AddDate(1, 0, 0); absDuration(sp.ExpiresAt.Sub(want)) > 10*time.Minute {
		t.Fatalf("the secret expires at %s, want a year from now (%s)", sp.ExpiresAt, want.UTC().Format(time.RFC3339))
	}

	m := s.machine("sp")
	m.tool("crane", "auth", "login", s.loginServer, "-u", sp.AppID, "-p", sp.Password)
	m.tool("crane", "--insecure", "copy", s.loginServer+"/samples/a:v1", s.loginServer+"/ci/app:v1")
	s.sameImage("ci/app", "v1")
}

// adminUser: off by default; once on it has two passwords, and renewing
// one stops its old value at once and leaves the other alone.
func (s *s5) adminUser() {
	s.t.Log("== admin user")
	t := s.t
	a := s.admin
	if out := strings.TrimSpace(a.berth("registry", "show", "-n", s5Registry, "--query", "properties.adminUserEnabled", "-o", "tsv")); out != "false" {
		t.Fatalf("adminUserEnabled is %q on a new registry, want false", out)
	}
	if out := a.berthFails("registry", "credential", "show", "-n", s5Registry); !strings.Contains(out, "disabled") {
		t.Fatalf("credential show with the admin user off failed, but does not say it is disabled:\n%s", out)
	}
	if status, _, body := s.request("GET", "/v2/", s5Registry, "password"); status != http.StatusUnauthorized {
		t.Fatalf("Basic %s with the admin user off: %d %s, want 401", s5Registry, status, body)
	}

	var reg registryResource
	a.berthJSON(&reg, "registry", "update", "-n", s5Registry, "--admin-enabled", "true")
	if !reg.Properties.AdminUserEnabled {
		t.Fatalf("registry update answered %+v, want the admin user on", reg)
	}
	creds := s.adminCredentials("credential", "show", "-n", s5Registry)
	pw1, pw2 := creds["password"], creds["password2"]
	if pw1 == "" || pw2 == "" || pw1 == pw2 {
		t.Fatalf("credential show gave passwords %q and %q, want two different ones", pw1, pw2)
	}
	for _, pw := range []string{pw1, pw2} {
		if status, _, body := s.request("GET", "/v2/_catalog", s5Registry, pw); status != http.StatusOK {
			t.Fatalf("Basic %s on /v2/_catalog: %d %s, want 200", s5Registry, status, body)
		}
	}
	m := s.machine("admin-user")
	m.tool("crane", "auth", "login", s.loginServer, "-u", s5Registry, "-p", pw2)
	if got := strings.TrimSpace(m.tool("crane", "--insecure", "digest", s.loginServer+"/samples/a:v1")); got != s.image.digest {
		t.Fatalf("crane digest as the admin user: %s, want %s", got, s.image.digest)
	}

	renewed := s.adminCredentials("credential", "renew", "-n", s5Registry, "--password-name", "password2")
	if renewed["password"] != pw1 {
		t.Fatalf("renewing password2 changed password")
	}
	newPw2 := renewed["password2"]
	if newPw2 == "" || newPw2 == pw2 || newPw2 == pw1 {
		t.Fatalf("renewing password2 gave %q", newPw2)
	}
	// At once: no waiting for a cache of good passwords to expire.
	if status, _, body := s.request("GET", "/v2/", s5Registry, pw2); status != http.StatusUnauthorized {
		t.Fatalf("the old password2 right after renew: %d %s, want 401", status, body)
	}
	m.refused("crane", "--insecure", "digest", s.loginServer+"/samples/a:v1")
	for name, pw := range map[string]string{"password": pw1, "the new password2": newPw2} {
		if status, _, body := s.request("GET", "/v2/samples/a/manifests/v1", s5Registry, pw); status != http.StatusOK {
			t.Fatalf("%s after renewing password2: %d %s, want 200", name, status, body)
		}
	}
	if again := s.adminCredentials("credential", "show", "-n", s5Registry); again["password"] != pw1 || again["password2"] != newPw2 {
		t.Fatalf("credential show after renew disagrees with what renew printed")
	}
	s.adminPassword = pw1
}

// scopedTokens: a token on samples/* pulls samples/a and nothing else and
// cannot list the catalog; a token on * can.
func (s *s5) scopedTokens() {
	s.t.Log("== repository-scoped tokens")
	t := s.t
	user, pw := s.createToken("ci-pull", "samples/*")
	if user != "ci-pull" {
		t.Fatalf("token ci-pull has the user name %q", user)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/v2/samples/a/manifests/v1", http.StatusOK},
		{"/v2/samples/a/blobs/" + s.image.layer, http.StatusOK},
		{"/v2/other/app/manifests/v1", http.StatusForbidden},
		{"/v2/_catalog", http.StatusForbidden},
	} {
		if status, _, body := s.request("GET", c.path, user, pw); status != c.want {
			t.Fatalf("GET %s as ci-pull: %d %s, want %d", c.path, status, body, c.want)
		}
	}

	m := s.machine("ci-pull")
	m.tool("crane", "auth", "login", s.loginServer, "-u", user, "-p", pw)
	if got := fileInTar(t, []byte(m.tool("crane", "--insecure", "export", s.loginServer+"/samples/a:v1", "-")), "hello.txt"); got != helloText {
		t.Fatalf("ci-pull pulled hello.txt %q, want %q", got, helloText)
	}
	m.refused("crane", "--insecure", "pull", s.loginServer+"/other/app:v1", filepath.Join(m.home, "other.tar"))
	m.refused("crane", "--insecure", "copy", s.loginServer+"/samples/a:v1", s.loginServer+"/samples/a:v2")
	if status, _, _ := s.request("GET", "/v2/samples/a/manifests/v2", testserver.AdminUser, s.srv.Password); status != http.StatusNotFound {
		t.Fatalf("after ci-pull's refused push, samples/a:v2 answers %d, want 404", status)
	}
	m.refused("crane", "--insecure", "catalog", s.loginServer)

	user, pw = s.createToken("ci-catalog", "*")
	if status, _, body := s.request("GET", "/v2/_catalog", user, pw); status != http.StatusOK {
		t.Fatalf("GET /v2/_catalog as %s: %d %s, want 200", user, status, body)
	}
	m = s.machine("ci-catalog")
	m.tool("crane", "auth", "login", s.loginServer, "-u", user, "-p", pw)
	repos := lines(m.tool("crane", "--insecure", "catalog", s.loginServer))
	for _, want := range []string{"samples/a", "other/app", "ci/app"} {
		if !slices.Contains(repos, want) {
			t.Fatalf("crane catalog as %s listed %v, want %s in it", user, repos, want)
		}
	}
}

// defaultRegistry: with defaults.registry set, commands need no -n or -r.
func (s *s5) defaultRegistry() {
	s.t.Log("== berth config set defaults.registry")
	t := s.t
	a := s.admin
	if out := a.berthFails("registry", "credential", "show"); !strings.Contains(out, "defaults.registry") {
		t.Fatalf("credential show with no -n and no default failed, but does not point at defaults.registry:\n%s", out)
	}
	a.berth("config", "set", "defaults.registry="+s5Registry)
	if got := s.adminCredentials("credential", "show"); got["password"] != s.adminPassword {
		t.Fatalf("credential show with defaults.registry gave other passwords than -n %s", s5Registry)
	}
	var tokens []struct {
		Name string `json:"name"`
	}
	a.berthJSON(&tokens, "token", "list")
	var names []string
	for _, tok := range tokens {
		names = append(names, tok.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ci-catalog", "ci-pull"}) {
		t.Fatalf("token list with defaults.registry: %v, want ci-catalog and ci-pull", names)
	}
}

// registryResource is the part of a registry the test looks at.
type registryResource struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Location   string `json:"location"`
	Properties struct {
		LoginServer      string `json:"loginServer"`
		AdminUserEnabled bool   `json:"adminUserEnabled"`
	} `json:"properties"`
}

// adminCredentials runs a `berth registry` credential command as the owner
// and returns the admin user's passwords by name.
func (s *s5) adminCredentials(args ...string) map[string]string {
	s.t.Helper()
	var creds struct {
		Username  string `json:"username"`
		Passwords []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"passwords"`
	}
	s.admin.berthJSON(&creds, append([]string{"registry"}, args...)...)
	if creds.Username != s5Registry || len(creds.Passwords) != 2 {
		s.t.Fatalf("berth registry %s: user %q with %d passwords, want %s with 2", strings.Join(args, " "), creds.Username, len(creds.Passwords), s5Registry)
	}
	out := map[string]string{}
	for _, p := range creds.Passwords {
		out[p.Name] = s.secret(p.Value)
	}
	return out
}

// createToken runs `berth token create --repository REPO content/read` as
// the owner and returns the token's user name and first password.
func (s *s5) createToken(name, repo string) (string, string) {
	s.t.Helper()
	var tok struct {
		Properties struct {
			ScopeMapID  string `json:"scopeMapId"`
			Status      string `json:"status"`
			Credentials struct {
				Username  string `json:"username"`
				Passwords []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"passwords"`
			} `json:"credentials"`
		} `json:"properties"`
	}
	s.admin.berthJSON(&tok, "token", "create", "-r", s5Registry, "-n", name, "--repository", repo, "content/read")
	c := tok.Properties.Credentials
	if tok.Properties.Status != "enabled" || len(c.Passwords) == 0 || c.Passwords[0].Value == "" {
		s.t.Fatalf("token create %s answered %+v", name, tok)
	}
	var sm struct {
		Properties struct {
			Actions []string `json:"actions"`
		} `json:"properties"`
	}
	s.admin.berthJSON(&sm, "scope-map", "show", "-r", s5Registry, "-n", tok.Properties.ScopeMapID)
	if want := []string{"repositories/" + repo + "/content/read"}; !slices.Equal(sm.Properties.Actions, want) {
		s.t.Fatalf("token %s's scope map %s allows %v, want %v", name, tok.Properties.ScopeMapID, sm.Properties.Actions, want)
	}
	return c.Username, s.secret(c.Passwords[0].Value)
}

// checkRefreshToken checks that tok is a registry refresh token for the
// login server that lasts 3 hours from now.
func (s *s5) checkRefreshToken(what, tok string) {
	s.t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		s.t.Fatalf("%s is not a JWT", what)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		s.t.Fatalf("%s: JWT payload: %v", what, err)
	}
	var claims struct {
		Exp  int64           `json:"exp"`
		Aud  json.RawMessage `json:"aud"`
		Kind string          `json:"kind"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		s.t.Fatalf("%s: JWT claims: %v: %s", what, err, payload)
	}
	left := time.Until(time.Unix(claims.Exp, 0))
	if left < refreshLifetime-5*time.Minute || left > refreshLifetime+time.Minute {
		s.t.Fatalf("%s expires in %s, want about %s", what, left.Round(time.Second), refreshLifetime)
	}
	var aud []string
	if json.Unmarshal(claims.Aud, &aud) != nil {
		var one string
		json.Unmarshal(claims.Aud, &one)
		aud = []string{one}
	}
	if !slices.Contains(aud, s.loginServer) || claims.Kind != "refresh" {
		s.t.Fatalf("%s: aud %s, kind %q; want %s and refresh", what, claims.Aud, claims.Kind, s.loginServer)
	}
}

// request sends one request to the registry's login server, with Basic
// credentials when user is not empty.
func (s *s5) request(method, path, user, password string) (int, http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, "http://"+s.loginServer+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	for _, mt := range manifestTypes {
		req.Header.Add("Accept", mt)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, body
}

var manifestTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// stored asks the registry, as the owner, what repo:tag is: its manifest
// digest (checked against the bytes served) and its first layer.
func (s *s5) stored(repo, tag string) pushedImage {
	s.t.Helper()
	status, header, body := s.request("GET", "/v2/"+repo+"/manifests/"+tag, testserver.AdminUser, s.srv.Password)
	if status != http.StatusOK {
		s.t.Fatalf("GET %s:%s as the owner: %d %s, want 200", repo, tag, status, body)
	}
	img := pushedImage{digest: sha256Digest(body)}
	if h := header.Get("Docker-Content-Digest"); h != img.digest {
		s.t.Fatalf("%s:%s: Docker-Content-Digest %s, body digest %s", repo, tag, h, img.digest)
	}
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	decodeJSON(s.t, repo+":"+tag, string(body), &m)
	if len(m.Layers) > 0 {
		img.layer = m.Layers[0].Digest
	}
	return img
}

// sameImage checks that repo:tag is the image alice pushed first.
func (s *s5) sameImage(repo, tag string) {
	s.t.Helper()
	if got := s.stored(repo, tag); got.digest != s.image.digest {
		s.t.Fatalf("%s:%s is %s, want %s (samples/a:v1)", repo, tag, got.digest, s.image.digest)
	}
}

// secret keeps v out of the test's logs and returns it.
func (s *s5) secret(v string) string {
	if v != "" {
		s.secrets = append(s.secrets, v)
	}
	return v
}

func (s *s5) redact(line string) string {
	for _, v := range s.secrets {
		line = strings.ReplaceAll(line, v, "***")
	}
	return line
}

// machine makes a fresh machine whose logs hide the scenario's secrets.
func (s *s5) machine(name string) *machine {
	s.t.Helper()
	return newMachine(s.t, name, s.redact)
}
