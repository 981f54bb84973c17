package mgmt_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRoleAssignments(t *testing.T) {
	e := newEnv(t)
	e.must(201, e.owner, "PUT", "/api/registries/rolesreg", nil)
	e.newUser("bob", "", "")
	bob := e.must(200, e.owner, "GET", "/api/users/bob", nil)
	bobID := props(t, bob)["principalId"].(string)

	before := time.Now().Add(-time.Second)
	m := e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"bob","role":"acrpull","scope":"/registries/rolesreg"}`)
	wantKeys(t, "role assignment", m, "id", "name", "type", "properties")
	p := props(t, m)
	wantKeys(t, "role assignment properties", p, "principalId", "principalName", "principalType", "roleDefinitionName", "scope", "createdAt")
	id := m["name"].(string)
	if m["id"] != "/roleAssignments/"+id || m["type"] != "roleAssignments" || len(id) != 36 {
		t.Errorf("assignment %v", m)
	}
	if p["principalId"] != bobID || p["principalName"] != "bob" || p["principalType"] != "User" || p["roleDefinitionName"] != "AcrPull" || p["scope"] != "/registries/rolesreg" {
		t.Errorf("properties %v", p)
	}
	if at, err := time.Parse(time.RFC3339, p["createdAt"].(string)); err != nil || at.Before(before) {
		t.Errorf("createdAt %v", p["createdAt"])
	}
	// By principalId too, and at a repository scope.
	e.must(201, e.owner, "POST", "/api/roleAssignments", map[string]string{"assignee": bobID, "role": "AcrPush", "scope": "/registries/rolesreg/repositories/team/app"})
	e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"bob","role":"Reader","scope":"/"}`)

	all := func() []string { return e.names(e.owner, "/api/roleAssignments") }
	want := all()
	if len(want) != 4 { // the bootstrap owner's and bob's three
		t.Fatalf("assignments %v", want)
	}
	refusals := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"duplicate", `{"assignee":"bob","role":"AcrPull","scope":"/registries/rolesreg"}`, 409, "Conflict"},
		{"duplicate in another spelling", `{"assignee":"` + bobID + `","role":"ACRPULL","scope":"/registries/rolesreg"}`, 409, "Conflict"},
		{"bad role", `{"assignee":"bob","role":"SuperUser","scope":"/"}`, 400, "InvalidRequest"},
		{"no role", `{"assignee":"bob","scope":"/"}`, 400, "InvalidRequest"},
		{"bad scope", `{"assignee":"bob","role":"AcrPull","scope":"/registry/rolesreg"}`, 400, "InvalidRequest"},
		{"bad registry name in the scope", `{"assignee":"bob","role":"AcrPull","scope":"/registries/ab"}`, 400, "InvalidRequest"},
		{"no scope", `{"assignee":"bob","role":"AcrPull"}`, 400, "InvalidRequest"},
		{"unknown registry in the scope", `{"assignee":"bob","role":"AcrPull","scope":"/registries/nosuchreg"}`, 404, "NotFound"},
		{"unknown assignee", `{"assignee":"zed","role":"AcrPull","scope":"/"}`, 404, "NotFound"},
		{"no assignee", `{"role":"AcrPull","scope":"/"}`, 400, "InvalidRequest"},
		{"unknown field", `{"assignee":"bob","role":"AcrPull","scope":"/","condition":"x"}`, 400, "InvalidRequest"},
		{"not an object", `["bob"]`, 400, "InvalidRequest"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(e.owner, "POST", "/api/roleAssignments", c.body)
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if got := all(); !slices.Equal(got, want) {
				t.Errorf("assignments %v after a refused create, want %v", got, want)
			}
		})
	}

	filters := []struct {
		query  string
		status int
		n      int
	}{
		{"", 200, 4},
		{"?assignee=bob", 200, 3},
		{"?assignee=" + bobID, 200, 3},
		{"?assignee=admin", 200, 1},
		{"?assignee=zed", 200, 0},
		{"?role=AcrPull", 200, 1},
		{"?role=reader&assignee=bob", 200, 1},
		{"?scope=/registries/rolesreg", 200, 1},
		{"?scope=/", 200, 2},
		{"?scope=/registries/rolesreg/repositories/team/app&role=AcrPush", 200, 1},
		{"?scope=/registries/rolesreg&role=AcrPush", 200, 0},
		{"?role=Nope", 400, 0},
		{"?scope=nope", 400, 0},
	}
	for _, f := range filters {
		t.Run("list"+f.query, func(t *testing.T) {
			r := e.call(e.owner, "GET", "/api/roleAssignments"+f.query, nil)
			if r.status != f.status {
				t.Fatalf("%d, want %d: %s", r.status, f.status, r.body)
			}
			if f.status == 200 {
				if n := len(r.json(t)["value"].([]any)); n != f.n {
					t.Errorf("%d assignments, want %d: %s", n, f.n, r.body)
				}
			} else if r.errorCode(t) != "InvalidRequest" {
				t.Errorf("code %s", r.errorCode(t))
			}
		})
	}

	t.Run("delete", func(t *testing.T) {
		e.must(204, e.owner, "DELETE", "/api/roleAssignments/"+id, nil)
		if got := all(); len(got) != 3 || slices.Contains(got, id) {
			t.Errorf("assignments after delete %v", got)
		}
		r := e.call(e.owner, "DELETE", "/api/roleAssignments/"+id, nil)
		if r.status != 404 || r.errorCode(t) != "NotFound" || !strings.Contains(r.message(t), id) {
			t.Errorf("delete again: %d %s", r.status, r.body)
		}
	})
	t.Run("delete by someone not Owner there", func(t *testing.T) {
		reader := e.login("bob", "bob-password") // Reader at /
		ids := e.names(e.owner, "/api/roleAssignments?assignee=admin")
		r := e.call(reader, "DELETE", "/api/roleAssignments/"+ids[0], nil)
		if r.status != 403 || r.errorCode(t) != "AuthorizationFailed" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if got := e.names(e.owner, "/api/roleAssignments?assignee=admin"); len(got) != 1 {
			t.Errorf("the owner's assignment is gone: %v", got)
		}
	})
}

// A role assignment changes the assignee's data-plane access at once, by
// Basic credentials and in the access tokens it gets.
func TestRoleAssignmentChangesAccessAtOnce(t *testing.T) {
	e := newEnv(t)
	if status := e.push(dp{user: "admin", pass: ownerPassword}, "team/app"); status != 201 {
		t.Fatalf("owner push: %d", status)
	}
	e.newUser("bob", "", "")
	basic := dp{user: "bob", pass: "bob-password"}
	if status := e.pull(basic, "team/app"); status != 403 {
		t.Fatalf("pull without a role: %d, want 403", status)
	}
	a := e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"bob","role":"AcrPull","scope":"/registries/default"}`)
	if status := e.pull(basic, "team/app"); status != 200 {
		t.Errorf("pull right after AcrPull was assigned: %d", status)
	}
	if status := e.push(basic, "team/app"); status != 403 {
		t.Errorf("push with AcrPull: %d, want 403", status)
	}
	tok := e.accessToken("bob", "bob-password", "repository:team/app:pull")
	if status := e.pull(dp{bearer: tok}, "team/app"); status != 200 {
		t.Errorf("pull with a bearer token: %d", status)
	}
	push := e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"bob","role":"AcrPush","scope":"/registries/default/repositories/team/app"}`)
	if status := e.push(basic, "team/app"); status != 201 {
		t.Errorf("push right after AcrPush was assigned: %d", status)
	}
	if status := e.push(basic, "team/other"); status != 403 {
		t.Errorf("push to a repository the assignment does not cover: %d", status)
	}
	e.must(204, e.owner, "DELETE", "/api/roleAssignments/"+push["name"].(string), nil)
	e.must(204, e.owner, "DELETE", "/api/roleAssignments/"+a["name"].(string), nil)
	if status := e.pull(basic, "team/app"); status != 403 {
		t.Errorf("pull right after the role was removed: %d, want 403", status)
	}
	// A token asked for now carries nothing.
	tok = e.accessToken("bob", "bob-password", "repository:team/app:pull")
	if status := e.pull(dp{bearer: tok}, "team/app"); status != 401 {
		t.Errorf("pull with a token minted after the removal: %d, want 401", status)
	}
}

// Deleting a user revokes its Basic credentials, its identity token and
// its registry access tokens at once.
func TestDeletingAUserRevokesAtOnce(t *testing.T) {
	e := newEnv(t)
	if status := e.push(dp{user: "admin", pass: ownerPassword}, "team/app"); status != 201 {
		t.Fatalf("owner push: %d", status)
	}
	idTok := e.newUser("bob", "AcrPull", "/registries/default")
	e.must(201, e.owner, "POST", "/api/roleAssignments", `{"assignee":"bob","role":"Reader","scope":"/registries/default"}`)
	access := e.accessToken("bob", "bob-password", "repository:team/app:pull")
	basic := dp{user: "bob", pass: "bob-password"}
	if status := e.pull(basic, "team/app"); status != 200 {
		t.Fatalf("pull before: %d", status)
	}
	if status := e.pull(dp{bearer: access}, "team/app"); status != 200 {
		t.Fatalf("bearer pull before: %d", status)
	}
	e.must(200, idTok, "GET", "/api/registries/default", nil)

	e.must(204, e.owner, "DELETE", "/api/users/bob", nil)
	if status := e.pull(basic, "team/app"); status != 401 {
		t.Errorf("Basic pull after delete: %d, want 401", status)
	}
	if status := e.pull(dp{bearer: access}, "team/app"); status != 401 {
		t.Errorf("Bearer pull after delete: %d, want 401", status)
	}
	if r := e.call(idTok, "GET", "/api/registries/default", nil); r.status != 401 {
		t.Errorf("identity token after delete: %d, want 401", r.status)
	}
	if got := e.names(e.owner, "/api/roleAssignments?role=AcrPull"); len(got) != 0 {
		t.Errorf("the user's assignments remain: %v", got)
	}
}
