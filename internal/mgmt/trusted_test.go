package mgmt_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
)

// trustedTarget is a principal whose trusted-service mark PATCH changes.
type trustedTarget struct {
	kind       string
	path, list string
}

func (e *env) trustedTargets() []trustedTarget {
	e.t.Helper()
	sp := e.must(201, e.owner, "POST", "/api/servicePrincipals", `{"name":"importer"}`)
	e.must(201, e.owner, "PUT", "/api/identities/builder", nil)
	return []trustedTarget{
		{"service principal", "/api/servicePrincipals/" + sp["appId"].(string), "/api/servicePrincipals"},
		{"identity", "/api/identities/builder", "/api/identities"},
	}
}

// trustedIn reports the mark of the principal named name as show and list
// give it, failing when they disagree.
func (e *env) trustedIn(t *testing.T, tok string, x trustedTarget, name string) bool {
	t.Helper()
	shown, ok := props(t, e.must(200, tok, "GET", x.path, nil))["trustedService"].(bool)
	if !ok {
		t.Fatalf("show %s: no boolean trustedService", x.path)
	}
	var listed *bool
	for _, v := range e.must(200, tok, "GET", x.list, nil)["value"].([]any) {
		if m := v.(map[string]any); m["name"] == name {
			b, ok := props(t, m)["trustedService"].(bool)
			if !ok {
				t.Fatalf("list %s: no boolean trustedService for %s", x.list, name)
			}
			listed = &b
		}
	}
	if listed == nil || *listed != shown {
		t.Fatalf("%s: show says trustedService %v, list %v", x.path, shown, listed)
	}
	return shown
}

func TestTrustedServiceMark(t *testing.T) {
	e := newEnv(t)
	targets := e.trustedTargets()
	names := map[string]string{"service principal": "importer", "identity": "builder"}
	contributor := e.newUser("carol", "Contributor", "/")
	registryOwner := e.newUser("rob", "Owner", "/registries/default")
	reader := e.newUser("rita", "Reader", "/")

	for _, x := range targets {
		t.Run(x.kind, func(t *testing.T) {
			name := names[x.kind]
			if e.trustedIn(t, e.owner, x, name) {
				t.Fatal("a new principal is trusted")
			}
			cases := []struct {
				name   string
				tok    string
				body   any
				status int
				code   string
				want   bool // the mark afterwards
			}{
				{"contributor at / may not", contributor, `{"properties":{"trustedService":true}}`, 403, "AuthorizationFailed", false},
				{"owner of a registry may not", registryOwner, `{"properties":{"trustedService":true}}`, 403, "AuthorizationFailed", false},
				{"reader may not", reader, `{"properties":{"trustedService":true}}`, 403, "AuthorizationFailed", false},
				{"owner at / marks it", e.owner, `{"properties":{"trustedService":true}}`, 200, "", true},
				{"again is no change", e.owner, `{"properties":{"trustedService":true}}`, 200, "", true},
				{"unknown property", e.owner, `{"properties":{"trustedService":false,"trusted":false}}`, 400, "InvalidRequest", true},
				{"read-only property", e.owner, `{"properties":{"trustedService":false,"appId":"x"}}`, 400, "InvalidRequest", true},
				{"outside properties", e.owner, `{"trustedService":false}`, 400, "InvalidRequest", true},
				{"a string", e.owner, `{"properties":{"trustedService":"false"}}`, 400, "InvalidRequest", true},
				{"a number", e.owner, `{"properties":{"trustedService":0}}`, 400, "InvalidRequest", true},
				{"malformed", e.owner, `{"properties":{"trustedService":false`, 400, "InvalidRequest", true},
				{"no body", e.owner, nil, 400, "InvalidRequest", true},
				{"two objects", e.owner, `{"properties":{"trustedService":false}} {}`, 400, "InvalidRequest", true},
				{"nothing given keeps it", e.owner, `{"properties":{}}`, 200, "", true},
				{"contributor may not take it away", contributor, `{"properties":{"trustedService":false}}`, 403, "AuthorizationFailed", true},
				{"owner at / takes it away", e.owner, `{"properties":{"trustedService":false}}`, 200, "", false},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := e.call(c.tok, "PATCH", x.path, c.body)
					if r.status != c.status {
						t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
					}
					if c.code != "" {
						if code := r.errorCode(t); code != c.code {
							t.Errorf("code %s, want %s: %s", code, c.code, r.body)
						}
					} else if got, ok := props(t, r.json(t))["trustedService"].(bool); !ok || got != c.want {
						t.Errorf("answer shows trustedService %v, want %v: %s", props(t, r.json(t))["trustedService"], c.want, r.body)
					}
					if got := e.trustedIn(t, e.owner, x, name); got != c.want {
						t.Errorf("afterwards trustedService is %v, want %v", got, c.want)
					}
				})
			}
			// A Contributor at / reads the mark, as it reads the principal.
			e.must(200, e.owner, "PATCH", x.path, `{"properties":{"trustedService":true}}`)
			if !e.trustedIn(t, contributor, x, name) {
				t.Error("the contributor does not see the mark")
			}
		})
	}

	t.Run("refusals name the role", func(t *testing.T) {
		r := e.call(contributor, "PATCH", targets[0].path, `{"properties":{"trustedService":true}}`)
		if want := `user "carol" may not mark identities as trusted services: that needs the role Owner at scope /`; r.message(t) != want {
			t.Errorf("message %q, want %q", r.message(t), want)
		}
	})
	t.Run("unknown principals", func(t *testing.T) {
		for _, path := range []string{"/api/servicePrincipals/00000000-0000-0000-0000-00000000dead", "/api/identities/nobody"} {
			if r := e.call(e.owner, "PATCH", path, `{"properties":{"trustedService":true}}`); r.status != 404 || r.errorCode(t) != "NotFound" {
				t.Errorf("PATCH %s: %d %s", path, r.status, r.body)
			}
		}
	})
	t.Run("not a task's system-assigned identity", func(t *testing.T) {
		sys, err := e.srv.Identity().CreateSystemIdentity(context.Background(), "task:sometask")
		if err != nil {
			t.Fatal(err)
		}
		if r := e.call(e.owner, "PATCH", "/api/identities/"+sys.Name, `{"properties":{"trustedService":true}}`); r.status != 404 {
			t.Errorf("%d %s", r.status, r.body)
		}
		if p, err := e.srv.Identity().ManagedIdentity(context.Background(), sys.Name); err != nil || p.Trusted {
			t.Errorf("system-assigned identity %+v, %v", p, err)
		}
	})
}

// A token carries the mark its principal had when it was issued: the one
// issued while trusted still passes a closed registry after the mark is
// taken away; one issued afterwards does not.
func TestTrustedServiceTokens(t *testing.T) {
	e := newEnv(t)
	sp := e.must(201, e.owner, "POST", "/api/servicePrincipals", `{"name":"importer","role":"AcrPull","scopes":["/registries/default"]}`)
	appID, secret := sp["appId"].(string), sp["password"].(string)
	path := "/api/servicePrincipals/" + appID

	before := e.accessToken(appID, secret, "repository:app:pull")
	e.must(200, e.owner, "PATCH", path, `{"properties":{"trustedService":true}}`)
	trusted := e.accessToken(appID, secret, "repository:app:pull")
	e.must(200, e.owner, "PATCH", path, `{"properties":{"trustedService":false}}`)
	after := e.accessToken(appID, secret, "repository:app:pull")

	e.must(200, e.owner, "PATCH", "/api/registries/default", `{"properties":{"publicNetworkAccess":"Disabled"}}`)
	for _, c := range []struct {
		name, tok string
		want      int
	}{
		{"issued before the mark", before, 403},
		{"issued while trusted", trusted, 200},
		{"issued after the mark was taken away", after, 403},
	} {
		if status, body := e.data(dp{path: "/v2/", bearer: c.tok}); status != c.want {
			t.Errorf("%s: GET /v2/ %d, want %d: %s", c.name, status, c.want, body)
		}
	}
	// With the trusted-services exception off, not even the trusted token passes.
	e.must(200, e.owner, "PATCH", "/api/registries/default", `{"properties":{"networkRuleBypassOptions":"None"}}`)
	if status, _ := e.data(dp{path: "/v2/", bearer: trusted}); status != 403 {
		t.Errorf("trusted token with bypass None: %d, want 403", status)
	}
}

// TestTrustedServiceRenewal checks that tokens minted from an older token
// take the mark the principal has now: a refresh token obtained while
// trusted still passes for itself, but what it renews into does not.
func TestTrustedServiceRenewal(t *testing.T) {
	e := newEnv(t)
	sp := e.must(201, e.owner, "POST", "/api/servicePrincipals", `{"name":"importer","role":"AcrPull","scopes":["/registries/default"]}`)
	appID, secret := sp["appId"].(string), sp["password"].(string)
	path := "/api/servicePrincipals/" + appID
	e.must(200, e.owner, "PATCH", path, `{"properties":{"trustedService":true}}`)
	renew := func(user, pass string) (int, string, string) {
		status, b := e.data(dp{path: "/oauth2/token?offline_token=true&service=" + url.QueryEscape(e.host()) + "&scope=repository:app:pull", user: user, pass: pass})
		var out struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		json.Unmarshal(b, &out)
		return status, out.AccessToken, out.RefreshToken
	}
	_, _, refresh := renew(appID, secret)
	if refresh == "" {
		t.Fatal("no refresh token")
	}
	e.must(200, e.owner, "PATCH", path, `{"properties":{"trustedService":false}}`)
	e.must(200, e.owner, "PATCH", "/api/registries/default", `{"properties":{"publicNetworkAccess":"Disabled"}}`)

	// The old refresh token still carries the mark, so its renewal passes the gate...
	status, access, renewed := renew("00000000-0000-0000-0000-000000000000", refresh)
	if status != 200 {
		t.Fatalf("renewal with the refresh token minted while trusted: %d, want 200", status)
	}
	// ...but the tokens it renews into carry the mark of now: none.
	if status, body := e.data(dp{path: "/v2/", bearer: access}); status != 403 {
		t.Errorf("access token renewed after the mark was taken away: %d, want 403: %s", status, body)
	}
	if status, _, _ := renew("00000000-0000-0000-0000-000000000000", renewed); status != 403 {
		t.Errorf("renewing the renewed refresh token: %d, want 403", status)
	}
}
