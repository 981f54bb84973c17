package rbac_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/rbac"
)

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    rbac.Role
		wantErr string
	}{
		{in: "AcrPull", want: rbac.AcrPull},
		{in: "acrpull", want: rbac.AcrPull},
		{in: "ACRPUSH", want: rbac.AcrPush},
		{in: "acrDelete", want: rbac.AcrDelete},
		{in: "acrimagesigner", want: rbac.AcrImageSigner},
		{in: "reader", want: rbac.Reader},
		{in: "CONTRIBUTOR", want: rbac.Contributor},
		{in: "owner", want: rbac.Owner},
		{in: "", wantErr: `unknown role "": valid roles are AcrPull, AcrPush, AcrDelete, AcrImageSigner, Reader, Contributor, Owner`},
		{in: "Admin", wantErr: `unknown role "Admin": valid roles are AcrPull,`},
		{in: " Owner", wantErr: `unknown role " Owner"`},
		{in: "AcrPull2", wantErr: `unknown role "AcrPull2"`},
	} {
		got, err := rbac.ParseRole(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, rbac.ErrInvalid) {
				t.Errorf("ParseRole(%q) = %q, %v; want an ErrInvalid containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestRolePermissions is the role table, column by column.
func TestRolePermissions(t *testing.T) {
	const (
		y = true
		n = false
	)
	for _, tc := range []struct {
		role                     rbac.Role
		pull, push, delete, sign bool
		manage                   string // "", "read", "read+write"
		assign                   bool
	}{
		{rbac.AcrPull, y, n, n, n, "", n},
		{rbac.AcrPush, y, y, n, n, "", n},
		{rbac.AcrDelete, n, n, y, n, "", n},
		{rbac.AcrImageSigner, n, n, n, y, "", n},
		{rbac.Reader, y, n, n, n, "read", n},
		{rbac.Contributor, y, y, y, n, "read+write", n},
		{rbac.Owner, y, y, y, n, "read+write", y},
	} {
		p := tc.role.Permissions()
		check := func(col string, perm rbac.Permission, want bool) {
			if p.Has(perm) != want {
				t.Errorf("%s %s = %v, the role table says %v (permissions %s)", tc.role, col, p.Has(perm), want, p)
			}
		}
		check("pull", rbac.Pull, tc.pull)
		check("push", rbac.Push, tc.push)
		check("delete", rbac.Delete, tc.delete)
		check("sign", rbac.Sign, tc.sign)
		check("manage read", rbac.ManageRead, tc.manage != "")
		check("manage write", rbac.ManageWrite, tc.manage == "read+write")
		check("assign roles", rbac.AssignRoles, tc.assign)
	}
	if got := rbac.Role("Superuser").Permissions(); got != 0 {
		t.Errorf("an unknown role has permissions %s, want none", got)
	}
	if got := rbac.Role("acrpull").Permissions(); got != 0 {
		t.Errorf("a non-canonical role name has permissions %s, want none: parse it first", got)
	}
}

func TestRoles(t *testing.T) {
	want := []rbac.Role{rbac.AcrPull, rbac.AcrPush, rbac.AcrDelete, rbac.AcrImageSigner, rbac.Reader, rbac.Contributor, rbac.Owner}
	got := rbac.Roles()
	if !slices.Equal(got, want) {
		t.Fatalf("Roles() = %v, want %v", got, want)
	}
	got[0] = "Changed"
	if rbac.Roles()[0] != rbac.AcrPull {
		t.Error("changing the slice Roles returned changed the role table")
	}
}

func TestPermissionString(t *testing.T) {
	for p, want := range map[rbac.Permission]string{
		0:                                  "none",
		rbac.Pull:                          "pull",
		rbac.Pull | rbac.Push:              "pull|push",
		rbac.ManageRead | rbac.AssignRoles: "manageRead|assignRoles",
		rbac.Owner.Permissions():           "pull|push|delete|manageRead|manageWrite|assignRoles",
		1 << 7:                             "unknown",
	} {
		if got := p.String(); got != want {
			t.Errorf("Permission(%d).String() = %q, want %q", uint8(p), got, want)
		}
	}
}
