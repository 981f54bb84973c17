package mgmt_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/config"
)

func TestRegistryLifecycle(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	m := e.must(201, e.owner, "PUT", "/api/registries/blogbuildtest",
		`{"location": "westeu", "properties": {"loginServer": "127.0.3.1:5000", "adminUserEnabled": false}}`)
	wantKeys(t, "registry", m, "id", "name", "type", "location", "properties")
	if m["id"] != "/registries/blogbuildtest" || m["name"] != "blogbuildtest" || m["type"] != "registries" || m["location"] != "westeu" {
		t.Errorf("registry %v", m)
	}
	p := props(t, m)
	wantKeys(t, "registry properties", p, "loginServer", "adminUserEnabled", "anonymousPullEnabled", "createdAt", "provisioningState", "publicNetworkAccess", "networkRuleSet", "networkRuleBypassOptions", "networkRuleBypassAllowedForTasks", "privateEndpointConnections")
	if p["loginServer"] != "127.0.3.1:5000" || p["adminUserEnabled"] != false || p["provisioningState"] != "Succeeded" {
		t.Errorf("properties %v", p)
	}
	created, err := time.Parse(time.RFC3339, p["createdAt"].(string))
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("createdAt %v: %v", p["createdAt"], err)
	}

	cases := []struct {
		name, method, path string
		body               any
		status             int
		check              func(t *testing.T, m map[string]any)
	}{
		{"show", "GET", "/api/registries/blogbuildtest", nil, 200, func(t *testing.T, got map[string]any) {
			if got["id"] != m["id"] || props(t, got)["createdAt"] != p["createdAt"] || props(t, got)["loginServer"] != "127.0.3.1:5000" {
				t.Errorf("show %v, created %v", got, m)
			}
		}},
		{"create without a body takes the region and no login server", "PUT", "/api/registries/plainregistry", nil, 201, func(t *testing.T, got map[string]any) {
			if got["location"] != "local" || props(t, got)["loginServer"] != "" || props(t, got)["adminUserEnabled"] != false {
				t.Errorf("defaults %v", got)
			}
		}},
		{"create with the admin user on", "PUT", "/api/registries/adminonreg", `{"properties":{"adminUserEnabled":true}}`, 201, func(t *testing.T, got map[string]any) {
			if props(t, got)["adminUserEnabled"] != true {
				t.Errorf("admin %v", got)
			}
		}},
		{"list", "GET", "/api/registries", nil, 200, func(t *testing.T, got map[string]any) {
			var names []string
			for _, v := range got["value"].([]any) {
				names = append(names, v.(map[string]any)["name"].(string))
				wantKeys(t, "listed registry", v.(map[string]any), "id", "name", "type", "location", "properties")
			}
			if !slices.Equal(names, []string{"adminonreg", "blogbuildtest", "default", "plainregistry"}) {
				t.Errorf("list %v", names)
			}
		}},
		{"patch the admin user on", "PATCH", "/api/registries/blogbuildtest", `{"properties":{"adminUserEnabled":true}}`, 200, func(t *testing.T, got map[string]any) {
			if props(t, got)["adminUserEnabled"] != true || props(t, got)["loginServer"] != "127.0.3.1:5000" {
				t.Errorf("patched %v", got)
			}
		}},
		{"patch is seen by show", "GET", "/api/registries/blogbuildtest", nil, 200, func(t *testing.T, got map[string]any) {
			if props(t, got)["adminUserEnabled"] != true {
				t.Errorf("show after patch %v", got)
			}
		}},
		{"patch with no properties changes nothing", "PATCH", "/api/registries/blogbuildtest", `{}`, 200, func(t *testing.T, got map[string]any) {
			if props(t, got)["adminUserEnabled"] != true {
				t.Errorf("empty patch %v", got)
			}
		}},
		{"delete", "DELETE", "/api/registries/plainregistry", nil, 204, nil},
		{"show after delete", "GET", "/api/registries/plainregistry", nil, 404, nil},
		{"delete again", "DELETE", "/api/registries/plainregistry", nil, 404, nil},
		{"patch an unknown registry", "PATCH", "/api/registries/nosuchreg", `{"properties":{"adminUserEnabled":true}}`, 404, nil},
		{"the default registry cannot be deleted", "DELETE", "/api/registries/default", nil, 400, nil},
		{"list credentials of an unknown registry", "POST", "/api/registries/nosuchreg/listCredentials", nil, 404, nil},
		{"list credentials while the admin user is off", "POST", "/api/registries/default/listCredentials", nil, 400, nil},
		{"regenerate while the admin user is off", "POST", "/api/registries/default/regenerateCredential", `{"name":"password"}`, 400, nil},
		{"regenerate an unknown password name", "POST", "/api/registries/blogbuildtest/regenerateCredential", `{"name":"password3"}`, 400, nil},
		{"an unknown operation", "GET", "/api/registries/blogbuildtest/nothing", nil, 404, nil},
		{"a method without an operation", "POST", "/api/registries/blogbuildtest", `{}`, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(e.owner, c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.status >= 400 {
				code := r.errorCode(t)
				if want := map[int]string{400: "InvalidRequest", 404: "NotFound"}[c.status]; code != want {
					t.Errorf("code %s, want %s", code, want)
				}
			}
			if c.check != nil {
				c.check(t, r.json(t))
			}
		})
	}
	if got := e.names(e.owner, "/api/registries"); !slices.Equal(got, []string{"adminonreg", "blogbuildtest", "default"}) {
		t.Errorf("registries at the end %v", got)
	}
}

// Refused creates and changes leave the store as it was.
func TestRegistryRefusals(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/firstreg", `{"properties":{"loginServer":"first.example:5000"}}`)
	want := e.names(e.owner, "/api/registries")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, mention      string
	}{
		{"name too short", "PUT", "/api/registries/ab", nil, 400, "InvalidRequest", `"ab"`},
		{"name with upper case", "PUT", "/api/registries/MyRegistry", nil, 400, "InvalidRequest", "lowercase"},
		{"name with a dash", "PUT", "/api/registries/my-registry", nil, 400, "InvalidRequest", "lowercase"},
		{"name too long", "PUT", "/api/registries/" + strings.Repeat("a", 51), nil, 400, "InvalidRequest", "5 to 50"},
		{"unknown property", "PUT", "/api/registries/goodname1", `{"properties":{"sku":"Basic"}}`, 400, "InvalidRequest", `"sku"`},
		{"unknown top-level field", "PUT", "/api/registries/goodname1", `{"tags":{}}`, 400, "InvalidRequest", `"tags"`},
		{"malformed JSON", "PUT", "/api/registries/goodname1", `{"location":`, 400, "InvalidRequest", "JSON"},
		{"wrong type", "PUT", "/api/registries/goodname1", `{"location": 5}`, 400, "InvalidRequest", "location"},
		{"two JSON values", "PUT", "/api/registries/goodname1", `{} {}`, 400, "InvalidRequest", "one JSON object"},
		{"bad login server", "PUT", "/api/registries/goodname1", `{"properties":{"loginServer":"http://x/"}}`, 400, "InvalidRequest", "loginServer"},
		{"bad location", "PUT", "/api/registries/goodname1", `{"location":"west europe"}`, 400, "InvalidRequest", "location"},
		{"duplicate name", "PUT", "/api/registries/firstreg", nil, 409, "Conflict", "firstreg"},
		{"duplicate login server", "PUT", "/api/registries/secondreg", `{"properties":{"loginServer":"FIRST.example:5000"}}`, 409, "Conflict", "login server"},
		{"patch an unknown property", "PATCH", "/api/registries/firstreg", `{"properties":{"loginServer":"other:1"}}`, 400, "InvalidRequest", "loginServer"},
		{"patch with a wrong type", "PATCH", "/api/registries/firstreg", `{"properties":{"adminUserEnabled":"yes"}}`, 400, "InvalidRequest", "adminUserEnabled"},
		{"patch with no body", "PATCH", "/api/registries/firstreg", nil, 400, "InvalidRequest", "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(e.owner, c.method, c.path, c.body)
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if msg := r.message(t); !strings.Contains(msg, c.mention) {
				t.Errorf("message %q does not mention %q", msg, c.mention)
			}
			if got := e.names(e.owner, "/api/registries"); !slices.Equal(got, want) {
				t.Errorf("registries %v after a refused call, want %v", got, want)
			}
			show := e.must(200, e.owner, "GET", "/api/registries/firstreg", nil)
			if p := props(t, show); p["loginServer"] != "first.example:5000" || p["adminUserEnabled"] != false {
				t.Errorf("firstreg changed: %v", p)
			}
		})
	}
}

// With a domain, a registry's login server defaults to <name>.<domain>,
// which no other registry may then take.
func TestRegistryDomainLoginServer(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.Domain = "berth.example" })
	m := e.must(201, e.owner, "PUT", "/api/registries/teamone", nil)
	if got := props(t, m)["loginServer"]; got != "teamone.berth.example" {
		t.Errorf("loginServer %v", got)
	}
	r := e.call(e.owner, "PUT", "/api/registries/teamtwo", `{"properties":{"loginServer":"teamone.berth.example"}}`)
	if r.status != 409 || r.errorCode(t) != "Conflict" {
		t.Fatalf("taking another registry's default login server: %d %s", r.status, r.body)
	}
	// The new registry answers on its name at once.
	if status := e.push(dp{host: "teamone.berth.example", user: "admin", pass: ownerPassword}, "app"); status != 201 {
		t.Fatalf("push to the new registry: %d", status)
	}
	if status := e.pull(dp{user: "admin", pass: ownerPassword}, "app"); status != 404 {
		t.Errorf("the image landed in the default registry too: %d", status)
	}
}

// Deleting a registry deletes its content, tokens, scope maps and the role
// assignments at its scope, and its login server stops routing to it.
func TestRegistryDeleteRemovesContent(t *testing.T) {
	e := newEnv(t)
	owner := dp{host: "gone.example:5000", user: "admin", pass: ownerPassword}
	e.must(201, e.owner, "PUT", "/api/registries/goneregistry", `{"properties":{"loginServer":"gone.example:5000","adminUserEnabled":true}}`)
	if status := e.push(owner, "team/app"); status != 201 {
		t.Fatalf("push right after creation: %d", status)
	}
	if status := e.pull(owner, "team/app"); status != 200 {
		t.Fatalf("pull: %d", status)
	}
	e.must(201, e.owner, "PUT", "/api/registries/goneregistry/scopeMaps/readers", `{"properties":{"actions":["repositories/team/app/content/read"]}}`)
	tok := e.must(201, e.owner, "PUT", "/api/registries/goneregistry/tokens/reader", `{"properties":{"scopeMapId":"readers"}}`)
	tokPass := props(t, tok)["credentials"].(map[string]any)["passwords"].([]any)[0].(map[string]any)["value"].(string)
	if status := e.pull(dp{host: owner.host, user: "reader", pass: tokPass}, "team/app"); status != 200 {
		t.Fatalf("token pull: %d", status)
	}
	e.newUser("carol", "AcrPull", "/registries/goneregistry/repositories/team/app")
	if status := e.pull(dp{host: owner.host, user: "carol", pass: "carol-password"}, "team/app"); status != 200 {
		t.Fatalf("carol's pull: %d", status)
	}

	e.must(204, e.owner, "DELETE", "/api/registries/goneregistry", nil)
	if status := e.pull(owner, "team/app"); status != 404 {
		t.Errorf("pull on the deleted registry's login server: %d, want 404 (the default registry has no such image)", status)
	}
	if status := e.pull(dp{host: owner.host, user: "reader", pass: tokPass}, "team/app"); status != 401 {
		t.Errorf("the deleted registry's token: %d, want 401", status)
	}
	if got := e.names(e.owner, "/api/roleAssignments?assignee=carol"); len(got) != 0 {
		t.Errorf("carol keeps assignments on the deleted registry: %v", got)
	}
	if r := e.call(e.owner, "GET", "/api/registries/goneregistry/tokens", nil); r.status != 404 {
		t.Errorf("tokens of the deleted registry: %d", r.status)
	}

	// A registry of the same name starts empty: nothing came back.
	e.must(201, e.owner, "PUT", "/api/registries/goneregistry", `{"properties":{"loginServer":"gone.example:5000"}}`)
	if status := e.pull(owner, "team/app"); status != 404 {
		t.Errorf("the old image is back in the new registry: %d", status)
	}
	if got := e.names(e.owner, "/api/registries/goneregistry/tokens"); len(got) != 0 {
		t.Errorf("tokens of the new registry: %v", got)
	}
	if got := e.names(e.owner, "/api/registries/goneregistry/scopeMaps"); len(got) != 3 {
		t.Errorf("scope maps of the new registry: %v", got)
	}
	if show := e.must(200, e.owner, "GET", "/api/registries/goneregistry", nil); props(t, show)["adminUserEnabled"] != false {
		t.Errorf("the new registry's admin user: %v", show)
	}
	if status := e.pull(dp{host: owner.host, user: "carol", pass: "carol-password"}, "team/app"); status != 403 {
		t.Errorf("carol's old role came back: %d", status)
	}
}

// The admin user: enable, read both passwords, regenerate one; the old
// value is refused on the data plane at once, the other kept.
func TestAdminCredentialsFlow(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.owner, "PATCH", "/api/registries/default", `{"properties":{"adminUserEnabled":true}}`)
	creds := e.must(200, e.owner, "POST", "/api/registries/default/listCredentials", nil)
	wantKeys(t, "credentials", creds, "username", "passwords")
	if creds["username"] != "default" {
		t.Errorf("username %v", creds["username"])
	}
	pw := map[string]string{}
	for _, p := range creds["passwords"].([]any) {
		p := p.(map[string]any)
		wantKeys(t, "password", p, "name", "value")
		pw[p["name"].(string)] = p["value"].(string)
	}
	if len(pw) != 2 || pw["password"] == "" || pw["password2"] == "" || pw["password"] == pw["password2"] {
		t.Fatalf("passwords %v", pw)
	}
	for name, v := range pw {
		if status, _ := e.data(dp{path: "/v2/", user: "default", pass: v}); status != 200 {
			t.Fatalf("/v2/ with %s: %d", name, status)
		}
	}
	again := e.must(200, e.owner, "POST", "/api/registries/default/regenerateCredential", `{"name":"password2"}`)
	var newPw2, pw1 string
	for _, p := range again["passwords"].([]any) {
		p := p.(map[string]any)
		switch p["name"] {
		case "password2":
			newPw2 = p["value"].(string)
		case "password":
			pw1 = p["value"].(string)
		}
	}
	if newPw2 == "" || newPw2 == pw["password2"] || pw1 != pw["password"] {
		t.Fatalf("after regeneration: password2 %q (was %q), password %q (was %q)", newPw2, pw["password2"], pw1, pw["password"])
	}
	if status, _ := e.data(dp{path: "/v2/", user: "default", pass: pw["password2"]}); status != 401 {
		t.Errorf("old password2: %d, want 401", status)
	}
	if status, _ := e.data(dp{path: "/v2/", user: "default", pass: newPw2}); status != 200 {
		t.Errorf("new password2: %d", status)
	}
	if status, _ := e.data(dp{path: "/v2/", user: "default", pass: pw1}); status != 200 {
		t.Errorf("password, untouched: %d", status)
	}
	// Disabled: the passwords stop working and are not shown.
	e.must(200, e.owner, "PATCH", "/api/registries/default", `{"properties":{"adminUserEnabled":false}}`)
	if status, _ := e.data(dp{path: "/v2/", user: "default", pass: pw1}); status != 401 {
		t.Errorf("admin user while disabled: %d", status)
	}
	if r := e.call(e.owner, "POST", "/api/registries/default/listCredentials", nil); r.status != 400 || r.errorCode(t) != "InvalidRequest" {
		t.Errorf("listCredentials while disabled: %d %s", r.status, r.body)
	}
}
