package mgmt_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	parts := strings.Split(e.owner, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","aud":"berth-management","kind":"identity"}`)) + "." + parts[2]
	access := e.accessToken("admin", ownerPassword, "repository:a:pull")
	cases := []struct {
		name   string
		header string
	}{
		{"no credentials", ""},
		{"garbage bearer token", "Bearer not.a.token"},
		{"empty bearer token", "Bearer "},
		{"tampered identity token", "Bearer " + tampered},
		{"a registry access token", "Bearer " + access},
		{"basic credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+ownerPassword))},
		{"bearer in lower case", "bearer " + e.owner},
	}
	for _, c := range cases {
		for _, path := range []string{"/api/registries", "/api/users/admin"} {
			t.Run(c.name+" "+path, func(t *testing.T) {
				req, _ := http.NewRequest("GET", e.url+path, nil)
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%d %q, want 401 with a Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	t.Run("the error envelope", func(t *testing.T) {
		r := e.call("", "GET", "/api/registries", nil)
		if r.status != 401 || r.errorCode(t) != "Unauthorized" || !strings.Contains(r.message(t), "/identity/oauth2/token") {
			t.Errorf("%d %s", r.status, r.body)
		}
		wantKeys(t, "error envelope", r.json(t), "error")
		wantKeys(t, "error", r.json(t)["error"].(map[string]any), "code", "message")
	})
	t.Run("a refused call changes nothing", func(t *testing.T) {
		if r := e.call("", "PUT", "/api/registries/sneakyreg", nil); r.status != 401 {
			t.Fatalf("%d", r.status)
		}
		if got := e.names(e.owner, "/api/registries"); !slices.Equal(got, []string{"default"}) {
			t.Errorf("registries %v", got)
		}
	})
	t.Run("the owner's token works", func(t *testing.T) {
		e.must(200, e.owner, "GET", "/api/registries", nil)
	})
	t.Run("a service principal's token works", func(t *testing.T) {
		sp := e.must(201, e.owner, "POST", "/api/servicePrincipals", `{"name":"robot","role":"Reader","scopes":["/"]}`)
		status, tok := e.identityToken(map[string][]string{"grant_type": {"client_credentials"}, "client_id": {sp["appId"].(string)}, "client_secret": {sp["password"].(string)}})
		if status != 200 {
			t.Fatalf("client_credentials: %d", status)
		}
		if got := e.names(tok, "/api/registries"); !slices.Equal(got, []string{"default"}) {
			t.Errorf("the reader's registries %v", got)
		}
	})
}

// A deleted user's identity token is refused at once.
func TestDeletedPrincipalIsRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.newUser("dave", "Reader", "/")
	e.must(200, tok, "GET", "/api/registries", nil)
	e.must(204, e.owner, "DELETE", "/api/users/dave", nil)
	r := e.call(tok, "GET", "/api/registries", nil)
	if r.status != 401 || r.errorCode(t) != "Unauthorized" {
		t.Errorf("deleted user's token: %d %s", r.status, r.body)
	}
}

// Each caller may do what its roles allow, and nothing else.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/teamalpha", nil)
	e.must(201, e.owner, "PUT", "/api/registries/teambeta1", nil)
	tenantReader := e.newUser("reader", "Reader", "/")
	alphaReader := e.newUser("alphareader", "Reader", "/registries/teamalpha")
	contributor := e.newUser("contrib", "Contributor", "/")
	alphaContributor := e.newUser("alphacontrib", "Contributor", "/registries/teamalpha")
	pusher := e.newUser("pusher", "AcrPush", "/registries/teamalpha")
	alphaOwner := e.newUser("alphaowner", "Owner", "/registries/teamalpha")
	nobody := e.newUser("nobody", "", "")
	e.must(201, e.owner, "PUT", "/api/registries/teamalpha/scopeMaps/readers", `{"properties":{"actions":["repositories/*/content/read"]}}`)

	const denied, allowed = 403, 0
	cases := []struct {
		name, tok, method, path string
		body                    any
		status                  int    // 403, or 0 for "anything but 401 and 403"
		mention                 string // in a 403's message: the role needed
	}{
		{"reader creates a registry", tenantReader, "PUT", "/api/registries/readersreg", nil, denied, "Contributor or Owner"},
		{"reader changes a registry", tenantReader, "PATCH", "/api/registries/teamalpha", `{"properties":{"adminUserEnabled":true}}`, denied, "Contributor or Owner"},
		{"reader deletes a registry", tenantReader, "DELETE", "/api/registries/teamalpha", nil, denied, "Contributor or Owner"},
		{"reader reads admin passwords", tenantReader, "POST", "/api/registries/teamalpha/listCredentials", nil, denied, "Contributor or Owner"},
		{"reader creates a scope map", tenantReader, "PUT", "/api/registries/teamalpha/scopeMaps/more", `{"properties":{"actions":["repositories/*/content/read"]}}`, denied, "Contributor"},
		{"reader creates a token", tenantReader, "PUT", "/api/registries/teamalpha/tokens/tok", `{"properties":{"scopeMapId":"readers"}}`, denied, "Contributor"},
		{"reader reads a registry", tenantReader, "GET", "/api/registries/teambeta1", nil, allowed, ""},
		{"reader reads scope maps", tenantReader, "GET", "/api/registries/teamalpha/scopeMaps", nil, allowed, ""},
		{"registry reader reads another registry", alphaReader, "GET", "/api/registries/teambeta1", nil, denied, "Reader, Contributor or Owner"},
		{"registry reader reads its registry", alphaReader, "GET", "/api/registries/teamalpha", nil, allowed, ""},
		{"registry reader reads an unknown registry", alphaReader, "GET", "/api/registries/nosuchreg", nil, denied, "Reader"},
		{"registry reader creates a registry", alphaReader, "PUT", "/api/registries/newreg01", nil, denied, "Contributor or Owner"},
		{"pusher reads another registry", pusher, "GET", "/api/registries/teambeta1", nil, denied, "Reader, Contributor or Owner"},
		{"pusher reads its own registry (to log in to it)", pusher, "GET", "/api/registries/teamalpha", nil, allowed, ""},
		{"pusher changes its own registry", pusher, "PATCH", "/api/registries/teamalpha", `{"properties":{"adminUserEnabled":true}}`, denied, "Contributor or Owner"},
		{"pusher lists tokens", pusher, "GET", "/api/registries/teamalpha/tokens", nil, denied, "Reader"},
		{"contributor assigns a role", contributor, "POST", "/api/roleAssignments", `{"assignee":"nobody","role":"AcrPull","scope":"/registries/teamalpha"}`, denied, "Owner"},
		{"contributor creates a user", contributor, "PUT", "/api/users/eve", `{"password":"eve-password"}`, denied, "Owner"},
		{"contributor reads a user", contributor, "GET", "/api/users/nobody", nil, denied, "Owner"},
		{"contributor resets a password", contributor, "POST", "/api/users/nobody/resetPassword", `{"password":"new-password"}`, denied, "Owner"},
		{"contributor deletes a user", contributor, "DELETE", "/api/users/nobody", nil, denied, "Owner"},
		{"contributor creates a service principal with a role", contributor, "POST", "/api/servicePrincipals", `{"name":"ci","role":"AcrPush","scopes":["/registries/teamalpha"]}`, denied, "Owner"},
		{"contributor creates a registry", contributor, "PUT", "/api/registries/contribreg", nil, allowed, ""},
		{"registry contributor changes another registry", alphaContributor, "PATCH", "/api/registries/teambeta1", `{"properties":{"adminUserEnabled":true}}`, denied, "Contributor or Owner"},
		{"registry contributor creates a scope map in another registry", alphaContributor, "PUT", "/api/registries/teambeta1/scopeMaps/maps", `{"properties":{"actions":["repositories/*/content/read"]}}`, denied, "Contributor"},
		{"registry contributor creates a registry", alphaContributor, "PUT", "/api/registries/alphanew1", nil, denied, "at scope /"},
		{"registry contributor creates a service principal", alphaContributor, "POST", "/api/servicePrincipals", `{"name":"ci2"}`, denied, "Contributor or Owner"},
		{"registry contributor creates an identity", alphaContributor, "PUT", "/api/identities/builder", nil, denied, "Contributor or Owner"},
		{"registry owner assigns a role on another registry", alphaOwner, "POST", "/api/roleAssignments", `{"assignee":"nobody","role":"AcrPull","scope":"/registries/teambeta1"}`, denied, "Owner"},
		{"registry owner assigns a role at /", alphaOwner, "POST", "/api/roleAssignments", `{"assignee":"nobody","role":"AcrPull","scope":"/"}`, denied, "Owner"},
		{"registry owner assigns a role on its registry", alphaOwner, "POST", "/api/roleAssignments", `{"assignee":"nobody","role":"AcrPull","scope":"/registries/teamalpha"}`, allowed, ""},
		{"registry owner assigns a role on a repository of its registry", alphaOwner, "POST", "/api/roleAssignments", `{"assignee":"nobody","role":"AcrPush","scope":"/registries/teamalpha/repositories/app"}`, allowed, ""},
		{"registry owner creates a user", alphaOwner, "PUT", "/api/users/frank", `{"password":"frank-password"}`, denied, "at scope /"},
		{"nobody (AcrPull on teamalpha by now) reads teamalpha", nobody, "GET", "/api/registries/teamalpha", nil, allowed, ""},
		{"nobody (AcrPull on teamalpha by now) reads teambeta1", nobody, "GET", "/api/registries/teambeta1", nil, denied, "Reader"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(c.tok, c.method, c.path, c.body)
			if c.status == denied {
				if r.status != 403 || r.errorCode(t) != "AuthorizationFailed" {
					t.Fatalf("%d %s, want 403 AuthorizationFailed", r.status, r.body)
				}
				if !strings.Contains(r.message(t), c.mention) {
					t.Errorf("message %q does not mention %q", r.message(t), c.mention)
				}
				return
			}
			if r.status == 401 || r.status == 403 || r.status >= 500 {
				t.Fatalf("%d %s, want it allowed", r.status, r.body)
			}
		})
	}

	// Refused changes left the store as it was.
	if got := e.names(e.owner, "/api/registries"); !slices.Equal(got, []string{"contribreg", "default", "teamalpha", "teambeta1"}) {
		t.Errorf("registries %v", got)
	}
	if got := e.names(e.owner, "/api/users"); !slices.Equal(got, []string{"admin", "alphacontrib", "alphaowner", "alphareader", "contrib", "nobody", "pusher", "reader"}) {
		t.Errorf("users %v", got)
	}
	if got := e.names(e.owner, "/api/servicePrincipals"); len(got) != 0 {
		t.Errorf("service principals %v", got)
	}
	if got := e.names(e.owner, "/api/roleAssignments?assignee=nobody"); len(got) != 2 {
		t.Errorf("nobody's assignments %v, want the two the registry owner made", got)
	}

	// Lists show only what the caller may read.
	lists := []struct {
		name, tok, path string
		want            []string
	}{
		{"registries of a registry reader", alphaReader, "/api/registries", []string{"teamalpha"}},
		{"registries of a tenant reader", tenantReader, "/api/registries", []string{"contribreg", "default", "teamalpha", "teambeta1"}},
		{"registries of a pusher", pusher, "/api/registries", []string{"teamalpha"}},
		{"registries of nobody (AcrPull on teamalpha)", nobody, "/api/registries", []string{"teamalpha"}},
		{"users of a contributor", contributor, "/api/users", nil},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			got := e.names(l.tok, l.path)
			if l.want == nil && len(got) != 0 || l.want != nil && !slices.Equal(got, l.want) {
				t.Errorf("%v, want %v", got, l.want)
			}
		})
	}
	t.Run("role assignments a registry owner sees", func(t *testing.T) {
		m := e.must(200, alphaOwner, "GET", "/api/roleAssignments", nil)
		for _, v := range m["value"].([]any) {
			scope := props(t, v.(map[string]any))["scope"].(string)
			if scope != "/registries/teamalpha" && !strings.HasPrefix(scope, "/registries/teamalpha/") {
				t.Errorf("the owner of teamalpha sees an assignment at %s", scope)
			}
		}
		if n := len(m["value"].([]any)); n != 6 {
			t.Errorf("%d assignments, want the 6 at teamalpha and below", n)
		}
		// Owner at / is the bootstrap owner's, which the registry owner does not see.
		owners := e.must(200, alphaOwner, "GET", "/api/roleAssignments?role=owner", nil)["value"].([]any)
		if len(owners) != 1 || props(t, owners[0].(map[string]any))["principalName"] != "alphaowner" {
			t.Errorf("Owner assignments the registry owner sees: %v", owners)
		}
	})
}
