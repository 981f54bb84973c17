package mgmt_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	e := newEnv(t)
	m := e.must(201, e.owner, "PUT", "/api/users/alice", `{"password":"alice-password"}`)
	wantKeys(t, "user", m, "id", "name", "type", "properties")
	p := props(t, m)
	wantKeys(t, "user properties", p, "principalId", "createdAt")
	if m["id"] != "/users/alice" || m["name"] != "alice" || m["type"] != "users" || len(p["principalId"].(string)) != 36 {
		t.Errorf("user %v", m)
	}
	if strings.Contains(string(e.call(e.owner, "GET", "/api/users/alice", nil).body), "password") {
		t.Error("a user's answer mentions a password")
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
		check              func(t *testing.T, r result)
	}{
		{"show", "GET", "/api/users/alice", nil, 200, func(t *testing.T, r result) {
			if got := r.json(t); got["id"] != "/users/alice" || props(t, got)["principalId"] != p["principalId"] || props(t, got)["createdAt"] != p["createdAt"] {
				t.Errorf("show %v, created %v", got, m)
			}
		}},
		{"list", "GET", "/api/users", nil, 200, func(t *testing.T, r result) {
			if got := e.names(e.owner, "/api/users"); !slices.Equal(got, []string{"admin", "alice"}) {
				t.Errorf("users %v", got)
			}
		}},
		{"duplicate", "PUT", "/api/users/alice", `{"password":"another-password"}`, 409, nil},
		{"short password", "PUT", "/api/users/bob", `{"password":"short"}`, 400, nil},
		{"no password", "PUT", "/api/users/bob", `{}`, 400, nil},
		{"bad name", "PUT", "/api/users/bad%20name", `{"password":"long-enough"}`, 400, nil},
		{"unknown field", "PUT", "/api/users/bob", `{"password":"long-enough","role":"Owner"}`, 400, nil},
		{"show unknown", "GET", "/api/users/nobody", nil, 404, nil},
		{"reset an unknown user", "POST", "/api/users/nobody/resetPassword", `{"password":"long-enough"}`, 404, nil},
		{"reset to a short password", "POST", "/api/users/alice/resetPassword", `{"password":"short"}`, 400, nil},
		{"delete unknown", "DELETE", "/api/users/nobody", nil, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(e.owner, c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.status >= 400 {
				want := map[int]string{400: "InvalidRequest", 404: "NotFound", 409: "Conflict"}[c.status]
				if code := r.errorCode(t); code != want {
					t.Errorf("code %s, want %s", code, want)
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
	if got := e.names(e.owner, "/api/users"); !slices.Equal(got, []string{"admin", "alice"}) {
		t.Errorf("users after refused calls %v", got)
	}
	e.login("alice", "alice-password") // the refused reset changed nothing

	t.Run("reset password", func(t *testing.T) {
		e.must(204, e.owner, "POST", "/api/users/alice/resetPassword", `{"password":"alice-new-password"}`)
		if status, _ := e.identityToken(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}}); status != 401 {
			t.Errorf("old password: %d, want 401", status)
		}
		e.login("alice", "alice-new-password")
	})
	t.Run("delete", func(t *testing.T) {
		e.must(204, e.owner, "DELETE", "/api/users/alice", nil)
		if r := e.call(e.owner, "GET", "/api/users/alice", nil); r.status != 404 {
			t.Errorf("show after delete: %d", r.status)
		}
		if status, _ := e.identityToken(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-new-password"}}); status != 401 {
			t.Errorf("deleted user's password: %d", status)
		}
	})
}

func TestServicePrincipals(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/cireg", nil)
	before := time.Now()
	sp := e.must(201, e.owner, "POST", "/api/servicePrincipals", `{"name":"ci","years":2,"role":"AcrPush","scopes":["/registries/cireg","/registries/default"]}`)
	wantKeys(t, "service principal credentials", sp, "appId", "displayName", "password", "tenant", "principalId", "expiresAt")
	appID, secret := sp["appId"].(string), sp["password"].(string)
	if sp["displayName"] != "ci" || sp["tenant"] != "berth" || len(appID) != 36 || len(secret) < 32 {
		t.Errorf("credentials %v", sp)
	}
	exp, err := time.Parse(time.RFC3339, sp["expiresAt"].(string))
	if err != nil || exp.Before(before.AddDate(2, 0, -1)) || exp.After(before.AddDate(2, 0, 1)) {
		t.Errorf("expiresAt %v, want two years from now", sp["expiresAt"])
	}
	as := e.must(200, e.owner, "GET", "/api/roleAssignments?assignee="+appID, nil)["value"].([]any)
	var scopes []string
	for _, a := range as {
		p := props(t, a.(map[string]any))
		if p["roleDefinitionName"] != "AcrPush" || p["principalType"] != "ServicePrincipal" || p["principalName"] != "ci" {
			t.Errorf("assignment %v", p)
		}
		scopes = append(scopes, p["scope"].(string))
	}
	if !slices.Equal(scopes, []string{"/registries/cireg", "/registries/default"}) {
		t.Errorf("assignment scopes %v", scopes)
	}
	// Its secret works on the identity endpoint and, with AcrPush, on the data plane.
	if status, _ := e.identityToken(url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}}); status != 200 {
		t.Errorf("client_credentials: %d", status)
	}
	if status := e.push(dp{user: appID, pass: secret}, "ci/app"); status != 201 {
		t.Errorf("service principal push: %d", status)
	}

	show := e.must(200, e.owner, "GET", "/api/servicePrincipals/"+appID, nil)
	wantKeys(t, "service principal", show, "id", "name", "type", "properties")
	wantKeys(t, "service principal properties", props(t, show), "appId", "principalId", "secretExpiresAt", "createdAt", "trustedService")
	if show["id"] != "/servicePrincipals/"+appID || show["name"] != "ci" || show["type"] != "servicePrincipals" ||
		props(t, show)["appId"] != appID || props(t, show)["principalId"] != sp["principalId"] || props(t, show)["secretExpiresAt"] != sp["expiresAt"] {
		t.Errorf("show %v", show)
	}
	if strings.Contains(string(e.call(e.owner, "GET", "/api/servicePrincipals", nil).body), secret) {
		t.Error("the list shows the secret")
	}
	if got := e.names(e.owner, "/api/servicePrincipals"); !slices.Equal(got, []string{"ci"}) {
		t.Errorf("list %v", got)
	}

	refusals := []struct {
		name   string
		body   any
		status int
	}{
		{"duplicate name", `{"name":"ci"}`, 409},
		{"no name", `{}`, 400},
		{"bad years", `{"name":"ci2","years":0}`, 400},
		{"bad role", `{"name":"ci2","role":"Admin","scopes":["/"]}`, 400},
		{"role without scopes", `{"name":"ci2","role":"AcrPull"}`, 400},
		{"bad scope", `{"name":"ci2","role":"AcrPull","scopes":["/registries/UPPER"]}`, 400},
		{"scope of an unknown registry", `{"name":"ci2","role":"AcrPull","scopes":["/registries/nosuchreg"]}`, 404},
		{"unknown field", `{"name":"ci2","password":"chosen"}`, 400},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(e.owner, "POST", "/api/servicePrincipals", c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if got := e.names(e.owner, "/api/servicePrincipals"); !slices.Equal(got, []string{"ci"}) {
				t.Errorf("service principals after a refused create: %v", got)
			}
		})
	}

	t.Run("reset credential", func(t *testing.T) {
		again := e.must(200, e.owner, "POST", "/api/servicePrincipals/"+appID+"/resetCredential", `{"years":1}`)
		if again["appId"] != appID || again["password"] == secret || again["password"] == "" {
			t.Fatalf("reset %v", again)
		}
		if status, _ := e.identityToken(url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}}); status != 401 {
			t.Errorf("old secret: %d, want 401", status)
		}
		if status := e.pull(dp{user: appID, pass: secret}, "ci/app"); status != 401 {
			t.Errorf("old secret on the data plane: %d, want 401", status)
		}
		if status := e.pull(dp{user: appID, pass: again["password"].(string)}, "ci/app"); status != 200 {
			t.Errorf("new secret on the data plane: %d", status)
		}
	})
	t.Run("reset with no body keeps one year", func(t *testing.T) {
		again := e.must(200, e.owner, "POST", "/api/servicePrincipals/"+appID+"/resetCredential", nil)
		exp, _ := time.Parse(time.RFC3339, again["expiresAt"].(string))
		if exp.Before(time.Now().AddDate(1, 0, -1)) || exp.After(time.Now().AddDate(1, 0, 1)) {
			t.Errorf("expiresAt %v", again["expiresAt"])
		}
	})
	t.Run("delete", func(t *testing.T) {
		e.must(204, e.owner, "DELETE", "/api/servicePrincipals/"+appID, nil)
		if r := e.call(e.owner, "GET", "/api/servicePrincipals/"+appID, nil); r.status != 404 || r.errorCode(t) != "NotFound" {
			t.Errorf("show after delete: %d %s", r.status, r.body)
		}
		if r := e.call(e.owner, "DELETE", "/api/servicePrincipals/"+appID, nil); r.status != 404 {
			t.Errorf("delete again: %d", r.status)
		}
		if got := e.names(e.owner, "/api/roleAssignments?role=AcrPush"); len(got) != 0 {
			t.Errorf("its assignments remain: %v", got)
		}
	})
}

func TestManagedIdentities(t *testing.T) {
	e := newEnv(t)
	m := e.must(201, e.owner, "PUT", "/api/identities/builder", `{}`)
	wantKeys(t, "identity", m, "id", "name", "type", "properties")
	p := props(t, m)
	wantKeys(t, "identity properties", p, "principalId", "clientId", "createdAt", "trustedService")
	if m["id"] != "/identities/builder" || m["name"] != "builder" || m["type"] != "identities" || len(p["clientId"].(string)) != 36 || p["clientId"] == p["principalId"] {
		t.Errorf("identity %v", m)
	}
	if got := e.must(200, e.owner, "GET", "/api/identities/builder", nil); props(t, got)["clientId"] != p["clientId"] {
		t.Errorf("show %v", got)
	}
	e.must(201, e.owner, "PUT", "/api/identities/deployer", nil)
	if got := e.names(e.owner, "/api/identities"); !slices.Equal(got, []string{"builder", "deployer"}) {
		t.Errorf("list %v", got)
	}
	if r := e.call(e.owner, "PUT", "/api/identities/builder", `{}`); r.status != 409 || r.errorCode(t) != "Conflict" {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	if r := e.call(e.owner, "PUT", "/api/identities/other", `{"type":"system"}`); r.status != 400 {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}
	// A role assignment can name an identity by name.
	a := e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"builder","role":"AcrPush","scope":"/registries/default"}`)
	if props(t, a)["principalId"] != p["principalId"] || props(t, a)["principalType"] != "ManagedIdentity" {
		t.Errorf("assignment %v", a)
	}
	e.must(204, e.owner, "DELETE", "/api/identities/builder", nil)
	if r := e.call(e.owner, "GET", "/api/identities/builder", nil); r.status != 404 {
		t.Errorf("show after delete: %d", r.status)
	}
	if got := e.names(e.owner, "/api/identities"); !slices.Equal(got, []string{"deployer"}) {
		t.Errorf("list after delete %v", got)
	}
	if got := e.names(e.owner, "/api/roleAssignments?role=AcrPush"); len(got) != 0 {
		t.Errorf("its assignment remains: %v", got)
	}
}
