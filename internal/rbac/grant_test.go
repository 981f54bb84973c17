package rbac_test

import (
	"reflect"
	"testing"

	"github.com/berth-project/berth/internal/rbac"
)

var dataPlaneActions = []string{rbac.ActionPull, rbac.ActionPush, rbac.ActionDelete, rbac.ActionMetadataRead, rbac.ActionMetadataWrite}

// TestRoleGrantActions is the data-plane reading of the role table, with
// the metadata rule: metadata_read needs a pull-capable role,
// metadata_write a push-capable one.
func TestRoleGrantActions(t *testing.T) {
	want := map[rbac.Role][]string{
		rbac.AcrPull:        {"pull", "metadata_read"},
		rbac.AcrPush:        {"pull", "push", "metadata_read", "metadata_write"},
		rbac.AcrDelete:      {"delete"},
		rbac.AcrImageSigner: nil,
		rbac.Reader:         {"pull", "metadata_read"},
		rbac.Contributor:    {"pull", "push", "delete", "metadata_read", "metadata_write"},
		rbac.Owner:          {"pull", "push", "delete", "metadata_read", "metadata_write"},
	}
	for _, role := range rbac.Roles() {
		g := rbac.RoleGrant{Assignments: []rbac.Assignment{{Role: role, Scope: rbac.Scope{Registry: "myreg"}}}}
		var got []string
		for _, a := range append(dataPlaneActions, "*", "sign", "") {
			if g.Can("myreg", "app", a) {
				got = append(got, a)
			}
			if g.Can("other", "app", a) {
				t.Errorf("%s on myreg can %s on another registry", role, a)
			}
		}
		if !reflect.DeepEqual(got, want[role]) {
			t.Errorf("%s can %q, want %q", role, got, want[role])
		}
	}
}

func TestRoleGrantScopes(t *testing.T) {
	g := rbac.RoleGrant{Assignments: []rbac.Assignment{
		{Role: rbac.AcrPull, Scope: rbac.Scope{Registry: "regone"}},
		{Role: rbac.AcrPush, Scope: rbac.Scope{Registry: "regtwo", Repository: "team/app"}},
	}}
	for _, tc := range []struct {
		registry, repo, action string
		want                   bool
	}{
		{"regone", "x", "pull", true},
		{"regone", "x", "push", false},
		{"regtwo", "team/app", "push", true},
		{"regtwo", "team/app", "metadata_write", true},
		{"regtwo", "team/apps", "pull", false},
		{"regtwo", "team", "pull", false},
		{"regone", "", "pull", false},
		{"", "x", "pull", false},
	} {
		if got := g.Can(tc.registry, tc.repo, tc.action); got != tc.want {
			t.Errorf("Can(%q, %q, %q) = %v, want %v", tc.registry, tc.repo, tc.action, got, tc.want)
		}
	}
	for reg, want := range map[string]bool{"regone": true, "regtwo": false, "regthree": false, "": false} {
		if got := g.CanCatalog(reg); got != want {
			t.Errorf("CanCatalog(%q) = %v, want %v", reg, got, want)
		}
	}
	root := rbac.RoleGrant{Assignments: []rbac.Assignment{{Role: rbac.Reader, Scope: rbac.Scope{}}}}
	if !root.CanCatalog("anyreg") || !root.Can("anyreg", "x", "pull") {
		t.Error("a Reader at / must pull and list the catalog of every registry")
	}
	deleter := rbac.RoleGrant{Assignments: []rbac.Assignment{{Role: rbac.AcrDelete, Scope: rbac.Scope{Registry: "regone"}}}}
	if deleter.CanCatalog("regone") {
		t.Error("AcrDelete cannot pull, so it must not list the catalog")
	}
}

func TestScopeMapGrant(t *testing.T) {
	m, err := rbac.RepositoryActions("samples/*", rbac.ContentRead, rbac.MetadataRead, rbac.MetadataWrite)
	if err != nil {
		t.Fatal(err)
	}
	more, err := rbac.RepositoryActions("solo", rbac.ContentWrite, rbac.ContentDelete)
	if err != nil {
		t.Fatal(err)
	}
	g := rbac.ScopeMapGrant{Registry: "myreg", Actions: append(m, more...)}
	for _, tc := range []struct {
		registry, repo, action string
		want                   bool
	}{
		{"myreg", "samples/a", "pull", true},
		{"myreg", "samples/a", "metadata_read", true},
		{"myreg", "samples/a", "metadata_write", true},
		{"myreg", "samples/a", "push", false},
		{"myreg", "samples", "pull", false},
		{"myreg", "samplesx", "pull", false},
		{"myreg", "solo", "push", true},
		{"myreg", "solo", "delete", true},
		{"myreg", "solo", "pull", false}, // write does not imply read
		{"other", "samples/a", "pull", false},
		{"myreg", "samples/a", "*", false},
		{"myreg", "samples/a", "content/read", false}, // scope map spelling is not a data-plane action
	} {
		if got := g.Can(tc.registry, tc.repo, tc.action); got != tc.want {
			t.Errorf("Can(%q, %q, %q) = %v, want %v", tc.registry, tc.repo, tc.action, got, tc.want)
		}
	}
	if g.CanCatalog("myreg") {
		t.Error("a map without * must not list the catalog")
	}
	admin := rbac.ScopeMapGrant{Registry: "myreg", Actions: rbac.SystemScopeMaps()[rbac.ScopeMapAdmin]}
	if !admin.CanCatalog("myreg") || admin.CanCatalog("other") {
		t.Error("_repositories_admin must list its own registry's catalog and no other")
	}
	for _, a := range dataPlaneActions {
		if !admin.Can("myreg", "any/repo", a) {
			t.Errorf("_repositories_admin cannot %s", a)
		}
	}
	var zero rbac.ScopeMapGrant
	zero.Actions = rbac.SystemScopeMaps()[rbac.ScopeMapAdmin]
	if zero.Can("", "x", "pull") || zero.CanCatalog("") {
		t.Error("a scope map grant with no registry must grant nothing")
	}
}

// TestTokenFlow runs what the token service and the data plane will do:
// parse the request, intersect with a Grant, check the claims.
func TestTokenFlow(t *testing.T) {
	requested, err := rbac.ParseScopes([]string{
		"repository:samples/hello:pull,push repository:other:*",
		"registry:catalog:*",
		"repository:samples/hello:delete,metadata_read",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		grant rbac.Grant
		want  []rbac.Access
	}{
		{"pull scope map", rbac.ScopeMapGrant{Registry: "myreg", Actions: rbac.SystemScopeMaps()[rbac.ScopeMapPull]}, []rbac.Access{
			repo("samples/hello", "pull", "metadata_read"), repo("other", "pull"), catalog,
		}},
		{"token of another registry", rbac.ScopeMapGrant{Registry: "yourreg", Actions: rbac.SystemScopeMaps()[rbac.ScopeMapAdmin]}, []rbac.Access{}},
		{"repository-scoped AcrPush", rbac.RoleGrant{Assignments: []rbac.Assignment{
			{Role: rbac.AcrPush, Scope: rbac.Scope{Registry: "myreg", Repository: "samples/hello"}},
		}}, []rbac.Access{repo("samples/hello", "pull", "push", "metadata_read")}},
		{"Contributor on the registry", rbac.RoleGrant{Assignments: []rbac.Assignment{
			{Role: rbac.Contributor, Scope: rbac.Scope{Registry: "myreg"}},
		}}, []rbac.Access{repo("samples/hello", "pull", "push", "delete", "metadata_read"), repo("other", "pull", "push", "delete"), catalog}},
		{"no rights", rbac.RoleGrant{}, []rbac.Access{}},
	} {
		got := rbac.Intersect(requested, rbac.GrantedBy(tc.grant, "myreg"))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: token carries %+v, want %+v", tc.name, got, tc.want)
			continue
		}
		// Whatever the token carries, the data plane must accept, and
		// nothing the grant refuses.
		for _, r := range []string{"samples/hello", "other"} {
			for _, a := range dataPlaneActions {
				if covered, can := rbac.Covers(got, r, a), tc.grant.Can("myreg", r, a); covered && !can {
					t.Errorf("%s: token covers %s on %s, which the grant refuses", tc.name, a, r)
				}
			}
		}
		if rbac.CoversCatalog(got) && !tc.grant.CanCatalog("myreg") {
			t.Errorf("%s: token lists the catalog, which the grant refuses", tc.name)
		}
	}
}
