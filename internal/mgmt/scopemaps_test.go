package mgmt_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScopeMaps(t *testing.T) {
	e := newEnv(t)
	base := "/api/registries/default/scopeMaps"

	// The system maps are there from the start.
	list := e.must(200, e.owner, "GET", base, nil)["value"].([]any)
	system := map[string][]string{
		"_repositories_admin": {"content/read", "content/write", "content/delete", "metadata/read", "metadata/write"},
		"_repositories_pull":  {"content/read", "metadata/read"},
		"_repositories_push":  {"content/read", "content/write", "metadata/read", "metadata/write"},
	}
	if len(list) != 3 {
		t.Fatalf("scope maps of a new registry: %v", list)
	}
	for _, v := range list {
		m := v.(map[string]any)
		p := props(t, m)
		wantKeys(t, "system map properties", p, "description", "actions", "type", "createdAt")
		acts, ok := system[m["name"].(string)]
		if !ok || p["type"] != "SystemDefined" || m["id"] != "/registries/default/scopeMaps/"+m["name"].(string) || m["type"] != "scopeMaps" || p["description"] == "" {
			t.Errorf("system map %v", m)
			continue
		}
		var got []string
		for _, a := range p["actions"].([]any) {
			got = append(got, a.(string))
		}
		var want []string
		for _, a := range acts {
			want = append(want, "repositories/*/"+a)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s actions %v, want %v", m["name"], got, want)
		}
	}

	before := time.Now().Add(-time.Second)
	m := e.must(201, e.owner, "PUT", base+"/samples-read",
		`{"properties": {"description": "read samples", "actions": ["repositories/samples/*/content/read", "repositories/samples/*/metadata/read", "repositories/samples/*/content/read"]}}`)
	wantKeys(t, "scope map", m, "id", "name", "type", "properties")
	p := props(t, m)
	wantKeys(t, "scope map properties", p, "description", "actions", "type", "createdAt")
	if m["id"] != "/registries/default/scopeMaps/samples-read" || m["name"] != "samples-read" || m["type"] != "scopeMaps" ||
		p["description"] != "read samples" || p["type"] != "UserDefined" ||
		fmt.Sprint(p["actions"]) != "[repositories/samples/*/content/read repositories/samples/*/metadata/read]" {
		t.Errorf("scope map %v", m)
	}
	if at, err := time.Parse(time.RFC3339, p["createdAt"].(string)); err != nil || at.Before(before) {
		t.Errorf("createdAt %v", p["createdAt"])
	}
	e.must(201, e.owner, "PUT", "/api/registries/default/tokens/sampler", `{"properties":{"scopeMapId":"samples-read"}}`)

	show := func() map[string]any { return props(t, e.must(200, e.owner, "GET", base+"/samples-read", nil)) }
	cases := []struct {
		name, method, path string
		body               any
		status             int
		check              func(t *testing.T, r result)
	}{
		{"show", "GET", base + "/samples-read", nil, 200, func(t *testing.T, r result) {
			if got := props(t, r.json(t)); got["createdAt"] != p["createdAt"] || got["description"] != "read samples" {
				t.Errorf("show %v", got)
			}
		}},
		{"show a system map", "GET", base + "/_repositories_pull", nil, 200, func(t *testing.T, r result) {
			if got := props(t, r.json(t)); got["type"] != "SystemDefined" {
				t.Errorf("show %v", got)
			}
		}},
		{"list", "GET", base, nil, 200, func(t *testing.T, r result) {
			if got := e.names(e.owner, base); !slices.Equal(got, []string{"_repositories_admin", "_repositories_pull", "_repositories_push", "samples-read"}) {
				t.Errorf("list %v", got)
			}
		}},
		{"patch the description keeps the actions", "PATCH", base + "/samples-read", `{"properties":{"description":"samples, read only"}}`, 200, func(t *testing.T, r result) {
			got := props(t, r.json(t))
			if got["description"] != "samples, read only" || len(got["actions"].([]any)) != 2 {
				t.Errorf("patched %v", got)
			}
		}},
		{"patch the actions replaces them", "PATCH", base + "/samples-read", `{"properties":{"actions":["repositories/samples/*/content/read"]}}`, 200, func(t *testing.T, r result) {
			got := props(t, r.json(t))
			if got["description"] != "samples, read only" || fmt.Sprint(got["actions"]) != "[repositories/samples/*/content/read]" {
				t.Errorf("patched %v", got)
			}
		}},
		{"put again replaces it", "PUT", base + "/samples-read", `{"properties":{"actions":["repositories/samples/*/content/read","repositories/*/metadata/read"]}}`, 200, func(t *testing.T, r result) {
			got := props(t, r.json(t))
			if got["description"] != "" || len(got["actions"].([]any)) != 2 || got["createdAt"] != p["createdAt"] {
				t.Errorf("replaced %v", got)
			}
		}},
		{"bad action", "PUT", base + "/badmap", `{"properties":{"actions":["repositories/samples/content/fly"]}}`, 400, nil},
		{"action without the repositories prefix", "PUT", base + "/badmap", `{"properties":{"actions":["samples/content/read"]}}`, 400, nil},
		{"no actions", "PUT", base + "/badmap", `{"properties":{"actions":[]}}`, 400, nil},
		{"no properties", "PUT", base + "/badmap", `{}`, 400, nil},
		{"bad name", "PUT", base + "/bad.map", `{"properties":{"actions":["repositories/*/content/read"]}}`, 400, nil},
		{"unknown property", "PUT", base + "/badmap", `{"properties":{"actions":["repositories/*/content/read"],"scope":"x"}}`, 400, nil},
		{"patch with a bad action", "PATCH", base + "/samples-read", `{"properties":{"actions":["repositories/samples/*/pull"]}}`, 400, nil},
		{"put a system map", "PUT", base + "/_repositories_pull", `{"properties":{"actions":["repositories/*/content/read"]}}`, 400, nil},
		{"patch a system map", "PATCH", base + "/_repositories_push", `{"properties":{"description":"mine"}}`, 400, nil},
		{"delete a system map", "DELETE", base + "/_repositories_admin", nil, 400, nil},
		{"delete a map in use", "DELETE", base + "/samples-read", nil, 409, nil},
		{"show unknown", "GET", base + "/nosuchmap", nil, 404, nil},
		{"patch unknown", "PATCH", base + "/nosuchmap", `{"properties":{"description":"x"}}`, 404, nil},
		{"delete unknown", "DELETE", base + "/nosuchmap", nil, 404, nil},
		{"in an unknown registry", "GET", "/api/registries/nosuchreg/scopeMaps", nil, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			was := show()
			r := e.call(e.owner, c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.check != nil {
				c.check(t, r)
			}
			if c.status < 400 {
				return
			}
			want := map[int]string{400: "InvalidRequest", 404: "NotFound", 409: "Conflict"}[c.status]
			if code := r.errorCode(t); code != want {
				t.Errorf("code %s, want %s", code, want)
			}
			if got := show(); fmt.Sprint(got) != fmt.Sprint(was) {
				t.Errorf("a refused call changed the map: %v, was %v", got, was)
			}
			if got := e.names(e.owner, base); len(got) != 4 {
				t.Errorf("maps after a refused call %v", got)
			}
		})
	}
	t.Run("the conflict names the token", func(t *testing.T) {
		r := e.call(e.owner, "DELETE", base+"/samples-read", nil)
		if !strings.Contains(r.message(t), "sampler") {
			t.Errorf("message %q", r.message(t))
		}
	})
	t.Run("delete once unused", func(t *testing.T) {
		e.must(204, e.owner, "DELETE", "/api/registries/default/tokens/sampler", nil)
		e.must(204, e.owner, "DELETE", base+"/samples-read", nil)
		if got := e.names(e.owner, base); len(got) != 3 {
			t.Errorf("maps after delete %v", got)
		}
	})
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	if status := e.push(dp{user: "admin", pass: ownerPassword}, "samples/app"); status != 201 {
		t.Fatalf("owner push: %d", status)
	}
	base := "/api/registries/default/tokens"
	before := time.Now().Add(-time.Second)
	m := e.must(201, e.owner, "PUT", base+"/ci-pull", `{"properties":{"scopeMapId":"_repositories_pull","status":"enabled"}}`)
	wantKeys(t, "token", m, "id", "name", "type", "properties")
	p := props(t, m)
	wantKeys(t, "token properties", p, "scopeMapId", "status", "createdAt", "credentials")
	if m["id"] != "/registries/default/tokens/ci-pull" || m["name"] != "ci-pull" || m["type"] != "tokens" || p["scopeMapId"] != "_repositories_pull" || p["status"] != "enabled" {
		t.Errorf("token %v", m)
	}
	creds := p["credentials"].(map[string]any)
	wantKeys(t, "token credentials", creds, "username", "passwords")
	pw := map[string]string{}
	for _, v := range creds["passwords"].([]any) {
		v := v.(map[string]any)
		wantKeys(t, "new token password", v, "name", "value", "creationTime")
		if at, err := time.Parse(time.RFC3339, v["creationTime"].(string)); err != nil || at.Before(before) {
			t.Errorf("creationTime %v", v["creationTime"])
		}
		pw[v["name"].(string)] = v["value"].(string)
	}
	if creds["username"] != "ci-pull" || len(pw) != 2 || pw["password1"] == "" || pw["password2"] == "" || pw["password1"] == pw["password2"] {
		t.Fatalf("credentials %v", creds)
	}

	t.Run("show never has a value", func(t *testing.T) {
		r := e.call(e.owner, "GET", base+"/ci-pull", nil)
		for _, v := range pw {
			if strings.Contains(string(r.body), v) {
				t.Fatalf("a password value in %s", r.body)
			}
		}
		got := props(t, r.json(t))
		wantKeys(t, "shown credentials", got["credentials"].(map[string]any), "passwords")
		for _, v := range got["credentials"].(map[string]any)["passwords"].([]any) {
			wantKeys(t, "shown password", v.(map[string]any), "name", "creationTime")
		}
		if got["createdAt"] != p["createdAt"] || got["status"] != "enabled" {
			t.Errorf("show %v", got)
		}
	})
	t.Run("Basic pull works, push is refused", func(t *testing.T) {
		if status := e.pull(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 200 {
			t.Errorf("pull with password1: %d", status)
		}
		if status := e.pull(dp{user: "ci-pull", pass: pw["password2"]}, "samples/app"); status != 200 {
			t.Errorf("pull with password2: %d", status)
		}
		if status := e.push(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 403 {
			t.Errorf("push with a pull token: %d, want 403", status)
		}
	})
	t.Run("disabled is refused at once", func(t *testing.T) {
		got := e.must(200, e.owner, "PATCH", base+"/ci-pull", `{"properties":{"status":"disabled"}}`)
		if props(t, got)["status"] != "disabled" || props(t, got)["scopeMapId"] != "_repositories_pull" {
			t.Errorf("patched %v", got)
		}
		if status := e.pull(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 401 {
			t.Errorf("pull with a disabled token: %d, want 401", status)
		}
		e.must(200, e.owner, "PATCH", base+"/ci-pull", `{"properties":{"status":"enabled"}}`)
		if status := e.pull(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 200 {
			t.Errorf("pull once enabled again: %d", status)
		}
	})
	t.Run("another scope map applies at once", func(t *testing.T) {
		e.must(200, e.owner, "PATCH", base+"/ci-pull", `{"properties":{"scopeMapId":"_repositories_push"}}`)
		if status := e.push(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 201 {
			t.Errorf("push with the push map: %d", status)
		}
		e.must(200, e.owner, "PATCH", base+"/ci-pull", `{"properties":{"scopeMapId":"_repositories_pull"}}`)
		if status := e.push(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 403 {
			t.Errorf("push after going back to the pull map: %d", status)
		}
	})
	t.Run("generate password1 with an expiry", func(t *testing.T) {
		expiry := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		got := e.must(200, e.owner, "POST", base+"/ci-pull/generateCredentials", map[string]string{"name": "password1", "expiry": expiry})
		wantKeys(t, "generated", got, "username", "passwords")
		ps := got["passwords"].([]any)
		if got["username"] != "ci-pull" || len(ps) != 1 {
			t.Fatalf("generated %v", got)
		}
		np := ps[0].(map[string]any)
		wantKeys(t, "generated password", np, "name", "value", "expiry")
		if np["name"] != "password1" || np["expiry"] != expiry || np["value"] == pw["password1"] {
			t.Errorf("generated %v", np)
		}
		if status := e.pull(dp{user: "ci-pull", pass: pw["password1"]}, "samples/app"); status != 401 {
			t.Errorf("old password1: %d, want 401", status)
		}
		if status := e.pull(dp{user: "ci-pull", pass: np["value"].(string)}, "samples/app"); status != 200 {
			t.Errorf("new password1: %d", status)
		}
		if status := e.pull(dp{user: "ci-pull", pass: pw["password2"]}, "samples/app"); status != 200 {
			t.Errorf("password2, untouched: %d", status)
		}
		shown := props(t, e.must(200, e.owner, "GET", base+"/ci-pull", nil))["credentials"].(map[string]any)["passwords"].([]any)
		if shown[0].(map[string]any)["expiry"] != expiry {
			t.Errorf("shown expiry %v, want %s", shown[0], expiry)
		}
	})
	t.Run("generate password2 by days", func(t *testing.T) {
		got := e.must(200, e.owner, "POST", base+"/ci-pull/generateCredentials", `{"name":"password2","expirationInDays":30}`)
		np := got["passwords"].([]any)[0].(map[string]any)
		exp, err := time.Parse(time.RFC3339, np["expiry"].(string))
		if np["name"] != "password2" || err != nil || exp.Before(time.Now().AddDate(0, 0, 29)) || exp.After(time.Now().AddDate(0, 0, 31)) {
			t.Errorf("generated %v", np)
		}
		if status := e.pull(dp{user: "ci-pull", pass: pw["password2"]}, "samples/app"); status != 401 {
			t.Errorf("old password2: %d, want 401", status)
		}
	})

	e.must(201, e.owner, "PUT", "/api/registries/default/scopeMaps/samples", `{"properties":{"actions":["repositories/samples/*/content/read"]}}`)
	e.must(201, e.owner, "PUT", base+"/sampler", `{"properties":{"scopeMapId":"samples","status":"disabled"}}`)
	if got := props(t, e.must(200, e.owner, "GET", base+"/sampler", nil)); got["status"] != "disabled" || got["scopeMapId"] != "samples" {
		t.Errorf("sampler %v", got)
	}
	want := []string{"ci-pull", "sampler"}
	if got := e.names(e.owner, base); !slices.Equal(got, want) {
		t.Fatalf("tokens %v", got)
	}
	refusals := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"duplicate", "PUT", base + "/ci-pull", `{"properties":{"scopeMapId":"_repositories_pull"}}`, 409},
		{"unknown scope map", "PUT", base + "/other", `{"properties":{"scopeMapId":"nosuchmap"}}`, 404},
		{"no scope map", "PUT", base + "/other", `{"properties":{}}`, 400},
		{"bad status", "PUT", base + "/other", `{"properties":{"scopeMapId":"samples","status":"on"}}`, 400},
		{"bad name", "PUT", base + "/bad%20name", `{"properties":{"scopeMapId":"samples"}}`, 400},
		{"unknown field", "PUT", base + "/other", `{"properties":{"scopeMapId":"samples","credentials":{}}}`, 400},
		{"patch to an unknown scope map", "PATCH", base + "/sampler", `{"properties":{"scopeMapId":"nosuchmap"}}`, 404},
		{"patch a bad status", "PATCH", base + "/sampler", `{"properties":{"status":"Enabled "}}`, 400},
		{"patch an unknown token", "PATCH", base + "/nosuchtoken", `{"properties":{"status":"enabled"}}`, 404},
		{"generate an unknown password", "POST", base + "/sampler/generateCredentials", `{"name":"password3"}`, 400},
		{"generate with both expiries", "POST", base + "/sampler/generateCredentials", `{"name":"password1","expiry":"2099-01-01T00:00:00Z","expirationInDays":3}`, 400},
		{"generate with a past expiry", "POST", base + "/sampler/generateCredentials", `{"name":"password1","expiry":"2001-01-01T00:00:00Z"}`, 400},
		{"generate with a malformed expiry", "POST", base + "/sampler/generateCredentials", `{"name":"password1","expiry":"tomorrow"}`, 400},
		{"generate with negative days", "POST", base + "/sampler/generateCredentials", `{"name":"password1","expirationInDays":-1}`, 400},
		{"generate for an unknown token", "POST", base + "/nosuchtoken/generateCredentials", `{"name":"password1"}`, 404},
		{"show unknown", "GET", base + "/nosuchtoken", nil, 404},
		{"delete unknown", "DELETE", base + "/nosuchtoken", nil, 404},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			was := string(e.must(200, e.owner, "GET", base, nil)["value"].([]any)[1].(map[string]any)["properties"].(map[string]any)["status"].(string))
			r := e.call(e.owner, c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			want := map[int]string{400: "InvalidRequest", 404: "NotFound", 409: "Conflict"}[c.status]
			if code := r.errorCode(t); code != want {
				t.Errorf("code %s, want %s", code, want)
			}
			if got := e.names(e.owner, base); !slices.Equal(got, []string{"ci-pull", "sampler"}) {
				t.Errorf("tokens after a refused call %v", got)
			}
			got := props(t, e.must(200, e.owner, "GET", base+"/sampler", nil))
			if got["status"] != was || got["scopeMapId"] != "samples" {
				t.Errorf("sampler changed: %v", got)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		e.must(204, e.owner, "DELETE", base+"/ci-pull", nil)
		if r := e.call(e.owner, "GET", base+"/ci-pull", nil); r.status != 404 {
			t.Errorf("show after delete: %d", r.status)
		}
		if got := e.names(e.owner, base); !slices.Equal(got, []string{"sampler"}) {
			t.Errorf("tokens after delete %v", got)
		}
	})
}
