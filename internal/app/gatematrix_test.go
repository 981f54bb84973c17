package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/storage/meta"
)

// identityCase is one kind of caller of the matrix, with the Authorization
// header it sends ("" for anonymous).
type identityCase struct {
	name   string
	header string
	bypass string // "trusted", "task" or "": which bypass the spec grants it
}

// gatePolicy is one setting of the registry's network properties.
type gatePolicy struct {
	public, defaultAllow, rule, trusted, tasks bool
}

func (p gatePolicy) json() string {
	enabled := map[bool]string{true: "Enabled", false: "Disabled"}[p.public]
	action := map[bool]string{true: "Allow", false: "Deny"}[p.defaultAllow]
	rules := `[]`
	if p.rule {
		rules = `[{"action":"Allow","value":"127.0.0.1/32"}]`
	}
	bypass := map[bool]string{true: "AzureServices", false: "None"}[p.trusted]
	return fmt.Sprintf(`{"publicNetworkAccess":%q,"networkRuleSet":{"defaultAction":%q,"ipRules":%s},"networkRuleBypassOptions":%q,"networkRuleBypassAllowedForTasks":%t}`,
		enabled, action, rules, bypass, p.tasks)
}

// allowed is ARCHITECTURE §4 step 3 written out again, independently of
// netrules, as the oracle of the matrix.
func (p gatePolicy) allowed(privateEndpoint bool, clientIP string, id identityCase) bool {
	if privateEndpoint {
		return true
	}
	if p.public && (p.defaultAllow || p.rule && clientIP == "127.0.0.1") {
		return true
	}
	return id.bypass == "trusted" && p.trusted || id.bypass == "task" && p.tasks
}

// TestNetworkGateMatrix drives the gate over real sockets: the public
// listener and an approved private endpoint × three client addresses ×
// public access × default action × an IP rule present or not ×
// trusted-services bypass × tasks bypass × every identity kind, each an
// unauthenticated or token-bearing GET /v2/.
func TestNetworkGateMatrix(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	srv := startServer(t, cfg)
	m := newMatrixEnv(t, srv, addr)
	ids := m.identities()
	pe := freePort(t, "127.0.2.1")
	m.api("PUT", "/api/registries/default/privateEndpointConnections/pe1", `{"properties":{"address":"`+pe+`"}}`, nil)
	m.api("POST", "/api/registries/default/privateEndpointConnections/pe1/approve", ``, nil)
	waitFor(t, "the private endpoint listens", func() bool { return !refused(pe) })

	clients := []string{"127.0.0.1", "127.0.1.10", "127.0.9.9"}
	cases := 0
	for _, public := range []bool{true, false} {
		for _, defaultAllow := range []bool{true, false} {
			for _, rule := range []bool{true, false} {
				for _, trusted := range []bool{true, false} {
					for _, tasks := range []bool{true, false} {
						p := gatePolicy{public, defaultAllow, rule, trusted, tasks}
						m.patch(p.json())
						for _, listener := range []string{addr, pe} {
							for _, ip := range clients {
								for _, id := range ids {
									cases++
									m.check(p, listener, ip, id)
								}
							}
						}
					}
				}
			}
		}
	}
	if cases < 100 {
		t.Fatalf("only %d cases", cases)
	}
	t.Logf("%d cases", cases)
}

type matrixEnv struct {
	t       *testing.T
	srv     *app.Server
	addr    string
	idToken string // the owner's identity token
}

func newMatrixEnv(t *testing.T, srv *app.Server, addr string) *matrixEnv {
	m := &matrixEnv{t: t, srv: srv, addr: addr}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	m.form("/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}}, &out)
	m.idToken = out.AccessToken
	return m
}

// form posts a form and decodes a 200 answer into out.
func (m *matrixEnv) form(path string, v url.Values, out any) {
	m.t.Helper()
	resp, err := http.PostForm("http://"+m.addr+path, v)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		m.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		m.t.Fatalf("POST %s: %v", path, err)
	}
}

// api calls the management API as the owner and decodes a 2xx answer.
func (m *matrixEnv) api(method, path, body string, out any) {
	m.t.Helper()
	req, _ := http.NewRequest(method, "http://"+m.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+m.idToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		m.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			m.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (m *matrixEnv) patch(props string) {
	m.t.Helper()
	m.api("PATCH", "/api/registries/default", `{"properties":`+props+`}`, nil)
}

// accessToken turns credentials into a registry access token: an identity
// token through /oauth2/exchange, or Basic credentials through GET
// /oauth2/token.
func (m *matrixEnv) accessToken(identityToken, user, password string) string {
	m.t.Helper()
	var refresh struct {
		RefreshToken string `json:"refresh_token"`
	}
	if identityToken != "" {
		m.form("/oauth2/exchange", url.Values{"grant_type": {"access_token"}, "service": {m.addr}, "access_token": {identityToken}}, &refresh)
		user, password = "00000000-0000-0000-0000-000000000000", refresh.RefreshToken
	}
	req, _ := http.NewRequest("GET", "http://"+m.addr+"/oauth2/token?service="+m.addr+"&scope=repository:app:pull", nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || out.AccessToken == "" {
		m.t.Fatalf("access token for %s: %d", user, resp.StatusCode)
	}
	return out.AccessToken
}

// identities makes one caller of every identity kind, while the registry
// still allows everyone.
func (m *matrixEnv) identities() []identityCase {
	m.t.Helper()
	ctx := context.Background()
	ids := m.srv.Identity()
	bearer := func(identityToken, user, password string) string {
		return "Bearer " + m.accessToken(identityToken, user, password)
	}
	// The registry's admin user.
	m.patch(`{"adminUserEnabled":true}`)
	var creds struct {
		Username  string
		Passwords []struct{ Value string }
	}
	m.api("POST", "/api/registries/default/listCredentials", `{}`, &creds)
	// A registry token with the pull scope map.
	var tok struct {
		Properties struct {
			Credentials struct {
				Username  string
				Passwords []struct{ Value string }
			}
		}
	}
	m.api("PUT", "/api/registries/default/tokens/puller", `{"properties":{"scopeMapId":"_repositories_pull"}}`, &tok)
	// A service principal an instance owner marked trusted.
	var sp struct{ AppID, Password string }
	m.api("POST", "/api/servicePrincipals", `{"name":"importer"}`, &sp)
	var marked struct{ Properties struct{ TrustedService bool } }
	m.api("PATCH", "/api/servicePrincipals/"+sp.AppID, `{"properties":{"trustedService":true}}`, &marked)
	if !marked.Properties.TrustedService {
		m.t.Fatal("the service principal is not marked trusted")
	}
	var spToken struct {
		AccessToken string `json:"access_token"`
	}
	m.form("/identity/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {sp.AppID}, "client_secret": {sp.Password}}, &spToken)
	// An ordinary service principal.
	var sp2 struct{ AppID, Password string }
	m.api("POST", "/api/servicePrincipals", `{"name":"ci"}`, &sp2)
	var sp2Token struct {
		AccessToken string `json:"access_token"`
	}
	m.form("/identity/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {sp2.AppID}, "client_secret": {sp2.Password}}, &sp2Token)
	// A task's system-assigned identity, and a user-assigned identity.
	sys, err := ids.CreateSystemIdentity(ctx, "task:helloworldtask")
	if err != nil {
		m.t.Fatal(err)
	}
	mi, err := ids.CreateManagedIdentity(ctx, "builder")
	if err != nil {
		m.t.Fatal(err)
	}
	identityToken := func(p meta.Principal) string {
		s, err := m.srv.IdentityTokenFor(p)
		if err != nil {
			m.t.Fatal(err)
		}
		return s
	}
	return []identityCase{
		{name: "anonymous"},
		{name: "user", header: bearer(m.idToken, "", "")},
		{name: "admin user", header: bearer("", creds.Username, creds.Passwords[0].Value)},
		{name: "token", header: bearer("", tok.Properties.Credentials.Username, tok.Properties.Credentials.Passwords[0].Value)},
		{name: "service principal", header: bearer(sp2Token.AccessToken, "", "")},
		{name: "trusted service", header: bearer(spToken.AccessToken, "", ""), bypass: "trusted"},
		{name: "task system identity", header: bearer(identityToken(sys), "", ""), bypass: "task"},
		{name: "user-assigned identity", header: bearer(identityToken(mi), "", "")},
	}
}

// check makes one request and compares it with the oracle: a denied
// request gets 403 with the exact body; an allowed one is authenticated
// (200) or challenged (401) as for any registry.
func (m *matrixEnv) check(p gatePolicy, listener, ip string, id identityCase) {
	m.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+listener+"/v2/", nil)
	// The registry has no login server of its own, so its tokens' audience
	// is the host they were asked for; on the private endpoint the Host
	// header picks no registry, the endpoint does.
	req.Host = m.addr
	if id.header != "" {
		req.Header.Set("Authorization", id.header)
	}
	resp, err := from(ip).Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pe := listener != m.addr
	name := fmt.Sprintf("%+v on %s from %s as %s", p, listener, ip, id.name)
	if !p.allowed(pe, ip, id) {
		want := `{"errors":[{"code":"DENIED","message":"client with IP '` + ip + `' is not allowed access. Refer docs/network.md to grant access."}]}`
		if resp.StatusCode != 403 || strings.TrimSpace(string(b)) != want {
			m.t.Errorf("%s: %d %s, want 403 %s", name, resp.StatusCode, b, want)
		}
		return
	}
	want := 200
	if id.header == "" {
		want = 401
	}
	if resp.StatusCode != want {
		m.t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, b, want)
	}
	if want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer realm=") {
		m.t.Errorf("%s: no challenge", name)
	}
}
