package rbac_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/rbac"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    rbac.Scope
		wantErr string
	}{
		{in: "/", want: rbac.Scope{}},
		{in: "/registries/myreg", want: rbac.Scope{Registry: "myreg"}},
		{in: "/registries/" + strings.Repeat("a", 50), want: rbac.Scope{Registry: strings.Repeat("a", 50)}},
		{in: "/registries/reg01/repositories/hello", want: rbac.Scope{Registry: "reg01", Repository: "hello"}},
		{in: "/registries/reg01/repositories/samples/hello-world", want: rbac.Scope{Registry: "reg01", Repository: "samples/hello-world"}},
		{in: "", wantErr: `invalid scope "": want "/", "/registries/<registry>" or`},
		{in: "//", wantErr: `invalid scope "//": want "/"`},
		{in: "registries/myreg", wantErr: `invalid scope "registries/myreg": want`},
		{in: "/subscriptions/x", wantErr: `invalid scope "/subscriptions/x": want`},
		{in: "/registries/", wantErr: `registry name "" must be 5 to 50 lowercase letters and digits`},
		{in: "/registries/abcd", wantErr: `registry name "abcd" must be 5 to 50 lowercase letters and digits`},
		{in: "/registries/" + strings.Repeat("a", 51), wantErr: `must be 5 to 50 lowercase letters and digits`},
		{in: "/registries/MyReg1", wantErr: `registry name "MyReg1" must be`},
		{in: "/registries/my-reg", wantErr: `registry name "my-reg" must be`},
		{in: "/registries/myreg/", wantErr: `invalid scope "/registries/myreg/": want`},
		{in: "/registries/myreg/repos/x", wantErr: `invalid scope "/registries/myreg/repos/x": want`},
		{in: "/registries/myreg/repositories/", wantErr: `repository name "" does not follow the OCI name grammar`},
		{in: "/registries/myreg/repositories/Hello", wantErr: `repository name "Hello" does not follow the OCI name grammar`},
		{in: "/registries/myreg/repositories/a//b", wantErr: `repository name "a//b" does not follow`},
		{in: "/registries/myreg/repositories/a/", wantErr: `repository name "a/" does not follow`},
		{in: "/registries/myreg/repositories/samples/*", wantErr: `repository name "samples/*" does not follow`},
	} {
		got, err := rbac.ParseScope(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rbac.ErrInvalid) {
				t.Errorf("ParseScope(%q) = %+v, %v; want an ErrInvalid containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseScope(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.in {
			t.Errorf("ParseScope(%q).String() = %q: does not round-trip", tc.in, got.String())
		}
	}
}

func TestScopeJSON(t *testing.T) {
	in := rbac.Assignment{PrincipalID: "p1", Role: rbac.AcrPush, Scope: rbac.Scope{Registry: "myreg", Repository: "a/b"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"principalId":"p1","role":"AcrPush","scope":"/registries/myreg/repositories/a/b"}`
	if string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var out rbac.Assignment
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("Unmarshal(%s) = %+v, %v; want %+v", b, out, err, in)
	}
	err = json.Unmarshal([]byte(`{"scope":"/registries/AB"}`), &out)
	if !errors.Is(err, rbac.ErrInvalid) {
		t.Fatalf("Unmarshal of a bad scope: %v, want ErrInvalid", err)
	}
}

func TestScopeCovers(t *testing.T) {
	root := rbac.Scope{}
	reg := rbac.Scope{Registry: "myreg"}
	repo := rbac.Scope{Registry: "myreg", Repository: "a/b"}
	for _, tc := range []struct {
		scope          rbac.Scope
		registry, repo string
		want           bool
	}{
		{root, "", "", true},
		{root, "myreg", "", true},
		{root, "other", "x", true},
		{reg, "myreg", "", true},
		{reg, "myreg", "a/b", true},
		{reg, "myreg", "anything/else", true},
		{reg, "other", "", false},
		{reg, "other", "a/b", false},
		{reg, "", "", false}, // the tenant is not within a registry
		{reg, "myregx", "", false},
		{repo, "myreg", "a/b", true},
		{repo, "myreg", "", false}, // never the registry as a whole
		{repo, "", "", false},
		{repo, "other", "a/b", false},
		{repo, "myreg", "a/bc", false},
		{repo, "myreg", "a/b/c", false},
		{repo, "myreg", "a", false},
		{repo, "myreg", "x/a/b", false},
	} {
		if got := tc.scope.Covers(tc.registry, tc.repo); got != tc.want {
			t.Errorf("%s.Covers(%q, %q) = %v, want %v", tc.scope, tc.registry, tc.repo, got, tc.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	as := []rbac.Assignment{
		{PrincipalID: "u", Role: rbac.Reader, Scope: rbac.Scope{Registry: "regone"}},
		{PrincipalID: "u", Role: rbac.AcrPush, Scope: rbac.Scope{Registry: "regone", Repository: "team/app"}},
		{PrincipalID: "u", Role: rbac.Owner, Scope: rbac.Scope{Registry: "regtwo", Repository: "mine"}},
		{PrincipalID: "u", Role: rbac.AcrDelete, Scope: rbac.Scope{Registry: "regtwo"}},
	}
	owner := []rbac.Assignment{{PrincipalID: "o", Role: rbac.Owner, Scope: rbac.Scope{}}}
	for _, tc := range []struct {
		name           string
		as             []rbac.Assignment
		registry, repo string
		want           rbac.Permission
		ok             bool
	}{
		{"reader pulls any repository", as, "regone", "x", rbac.Pull, true},
		{"reader reads the registry", as, "regone", "", rbac.ManageRead, true},
		{"reader does not change the registry", as, "regone", "", rbac.ManageWrite, false},
		{"push on the assigned repository", as, "regone", "team/app", rbac.Push, true},
		{"pull and push together on it", as, "regone", "team/app", rbac.Pull | rbac.Push, true},
		{"push not on a sibling", as, "regone", "team/apps", rbac.Push, false},
		{"push not on the registry", as, "regone", "", rbac.Push, false},
		{"no pull elsewhere", as, "regthree", "x", rbac.Pull, false},
		{"permissions of two assignments do not add up", as, "regtwo", "other", rbac.Pull | rbac.Delete, false},
		{"delete anywhere in regtwo", as, "regtwo", "other", rbac.Delete, true},
		{"repository owner assigns roles on it", as, "regtwo", "mine", rbac.AssignRoles, true},
		{"repository owner does not assign on the registry", as, "regtwo", "", rbac.AssignRoles, false},
		{"nobody signs", as, "regone", "team/app", rbac.Sign, false},
		{"asking for nothing is no", as, "regone", "x", 0, false},
		{"no assignments", nil, "regone", "x", rbac.Pull, false},
		{"root owner creates registries", owner, "", "", rbac.ManageWrite, true},
		{"root owner assigns at the root", owner, "", "", rbac.AssignRoles, true},
		{"registry reader cannot create registries", as, "", "", rbac.ManageRead, false},
	} {
		if got := rbac.Allowed(tc.as, tc.registry, tc.repo, tc.want); got != tc.ok {
			t.Errorf("%s: Allowed(%q, %q, %s) = %v, want %v", tc.name, tc.registry, tc.repo, tc.want, got, tc.ok)
		}
	}
}
