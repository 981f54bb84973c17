package auth_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/auth"
	"github.com/berth-project/berth/internal/storage/meta"
)

// The data-plane actions of the matrix, each a request that changes nothing
// whether allowed or not, with the status it gets when allowed.
var matrixActions = []struct {
	name   string
	method string
	path   string
	body   string
	ok     int
}{
	{"pull", "GET", "/v2/team/app/manifests/v1", "", 200},
	{"push", "POST", "/v2/team/app/blobs/uploads/", "", 202},
	{"delete", "DELETE", "/v2/team/app/manifests/nosuchtag", "", 404},
	{"catalog", "GET", "/v2/_catalog", "", 200},
	{"tags", "GET", "/v2/team/app/tags/list", "", 200},
	{"acr-read", "GET", "/acr/v1/team/app/_tags", "", 200},
	{"acr-write", "PATCH", "/acr/v1/team/app/_tags/v1", "{}", 200},
}

// roleTable is the role table for the data plane, written out here
// on purpose rather than taken from package rbac.
var roleTable = map[string][]string{
	"AcrPull":        {"pull"},
	"AcrPush":        {"pull", "push"},
	"AcrDelete":      {"delete"},
	"AcrImageSigner": {},
	"Reader":         {"pull"},
	"Contributor":    {"pull", "push", "delete"},
	"Owner":          {"pull", "push", "delete"},
}

// expectRole says what a role at a scope may do to team/app in "default".
func expectRole(role, scope, action string) bool {
	covers := scope == "/" || scope == "/registries/default" || scope == "/registries/default/repositories/team/app"
	if !covers {
		return false
	}
	has := func(p string) bool {
		for _, x := range roleTable[role] {
			if x == p {
				return true
			}
		}
		return false
	}
	switch action {
	case "catalog": // registry-wide read
		return has("pull") && scope != "/registries/default/repositories/team/app"
	case "tags", "acr-read":
		return has("pull")
	case "acr-write":
		return has("push")
	}
	return has(action)
}

// scopeMapTable is what each system scope map allows, and a custom map on
// team/* with read actions.
var scopeMapTable = map[string][]string{
	"_repositories_pull":  {"pull", "catalog", "tags", "acr-read"},
	"_repositories_push":  {"pull", "push", "catalog", "tags", "acr-read", "acr-write"},
	"_repositories_admin": {"pull", "push", "delete", "catalog", "tags", "acr-read", "acr-write"},
	"teamread":            {"pull", "tags", "acr-read"},
}

type matrixPrincipal struct {
	name       string
	user, pass string
	allowed    func(action string) bool
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := e.srv.Identity()
	if got := e.pushAs(req{user: "admin", pass: "ownerpass"}, "team/app"); got != 201 {
		t.Fatal(got)
	}
	// Role assignments are written straight to the store, as the
	// management API will.
	db, err := meta.OpenSQLite(ctx, filepath.Join(e.srv.DataDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	assign := func(principalID, role, scope string) {
		a := meta.RoleAssignment{PrincipalID: principalID, Role: role, Scope: scope}
		if err := db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateRoleAssignment(ctx, &a) }); err != nil {
			t.Fatal(err)
		}
	}
	var ps []matrixPrincipal
	ps = append(ps, matrixPrincipal{name: "anonymous", allowed: func(string) bool { return false }})
	scopes := []string{"/", "/registries/default", "/registries/default/repositories/team/app", "/registries/otherregistry"}
	i := 0
	for role := range roleTable {
		for _, scope := range scopes {
			i++
			name := fmt.Sprintf("user%d", i)
			p, err := ids.CreateUser(ctx, name, name+"-password")
			if err != nil {
				t.Fatal(err)
			}
			assign(p.ID, role, scope)
			role, scope := role, scope
			ps = append(ps, matrixPrincipal{name: "user " + role + " at " + scope, user: name, pass: name + "-password",
				allowed: func(a string) bool { return expectRole(role, scope, a) }})
		}
	}
	for _, c := range []struct{ role, scope string }{{"AcrPush", "/registries/default"}, {"AcrPull", "/registries/default/repositories/team/app"}} {
		p, creds, err := ids.CreateServicePrincipal(ctx, "sp-"+strings.ToLower(c.role), 1)
		if err != nil {
			t.Fatal(err)
		}
		assign(p.ID, c.role, c.scope)
		c := c
		ps = append(ps, matrixPrincipal{name: "service principal " + c.role + " at " + c.scope, user: creds.AppID, pass: creds.Password,
			allowed: func(a string) bool { return expectRole(c.role, c.scope, a) }})
	}
	if err := ids.SetAdminEnabled(ctx, e.reg, true); err != nil {
		t.Fatal(err)
	}
	adm, _ := ids.AdminCredentials(ctx, e.reg)
	ps = append(ps, matrixPrincipal{name: "admin user", user: e.reg.Name, pass: adm.Passwords[0].Value, allowed: func(string) bool { return true }})
	custom := meta.ScopeMap{RegistryID: e.reg.ID, Name: "teamread", Actions: []string{"repositories/team/*/content/read", "repositories/team/*/metadata/read"}}
	if err := db.Update(ctx, func(tx *meta.Tx) error { return tx.PutScopeMap(ctx, &custom) }); err != nil {
		t.Fatal(err)
	}
	for m, acts := range scopeMapTable {
		creds, err := ids.CreateToken(ctx, e.reg, "token"+strings.Trim(m, "_"), m)
		if err != nil {
			t.Fatal(err)
		}
		acts := acts
		ps = append(ps, matrixPrincipal{name: "token with " + m, user: creds.Username, pass: creds.Passwords[0].Value,
			allowed: func(a string) bool {
				for _, x := range acts {
					if x == a {
						return true
					}
				}
				return false
			}})
	}
	// A null-GUID refresh token of a user with AcrPush on the registry.
	if _, err := ids.CreateUser(ctx, "pusher", "pusher-password"); err != nil {
		t.Fatal(err)
	}
	pusher, _ := ids.Resolve(ctx, "pusher")
	assign(pusher.ID, "AcrPush", "/registries/default")
	_, id := e.token(req{method: "POST", path: "/identity/oauth2/token", form: url.Values{"grant_type": {"password"}, "username": {"pusher"}, "password": {"pusher-password"}}})
	_, b := e.do(req{method: "POST", path: "/oauth2/exchange", form: url.Values{"grant_type": {"access_token"}, "access_token": {id.AccessToken}}})
	refresh := between(string(b), `"refresh_token":"`, `"`)
	if refresh == "" {
		t.Fatalf("no refresh token: %s", b)
	}
	ps = append(ps, matrixPrincipal{name: "null-GUID refresh token of AcrPush at registry", user: auth.NullUser, pass: refresh,
		allowed: func(a string) bool { return expectRole("AcrPush", "/registries/default", a) }})

	cases := 0
	for _, p := range ps {
		for _, a := range matrixActions {
			cases++
			want := 403
			switch {
			case p.user == "":
				want = 401
			case p.allowed(a.name):
				want = a.ok
			}
			r := req{method: a.method, path: a.path, user: p.user, pass: p.pass}
			if a.body != "" {
				r.body, r.ctype = []byte(a.body), "application/json"
			}
			resp, body := e.do(r)
			if resp.StatusCode != want {
				t.Errorf("%s, %s: %d, want %d (%s)", p.name, a.name, resp.StatusCode, want, body)
			}
			if want == 403 && !strings.Contains(string(body), `"DENIED"`) {
				t.Errorf("%s, %s: a refusal without the DENIED code: %s", p.name, a.name, body)
			}
		}
	}
	if cases < 200 {
		t.Fatalf("the matrix has %d cases, want at least 200", cases)
	}
	t.Logf("%d principals × %d actions = %d cases", len(ps), len(matrixActions), cases)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}
