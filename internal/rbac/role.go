package rbac

import (
	"strings"
)

// Role is a built-in role that a role assignment gives a principal.
type Role string

// The built-in roles, named as the managed registry names them.
const (
	AcrPull        Role = "AcrPull"
	AcrPush        Role = "AcrPush"
	AcrDelete      Role = "AcrDelete"
	AcrImageSigner Role = "AcrImageSigner"
	Reader         Role = "Reader"
	Contributor    Role = "Contributor"
	Owner          Role = "Owner"
)

// roles is the role table of ARCHITECTURE.md §5, in its order.
var roles = []struct {
	role  Role
	perms Permission
}{
	{AcrPull, Pull},
	{AcrPush, Pull | Push},
	{AcrDelete, Delete},
	{AcrImageSigner, Sign},
	{Reader, Pull | ManageRead},
	{Contributor, Pull | Push | Delete | ManageRead | ManageWrite},
	{Owner, Pull | Push | Delete | ManageRead | ManageWrite | AssignRoles},
}

// Roles returns the built-in roles in the order the role table lists them.
func Roles() []Role {
	out := make([]Role, len(roles))
	for i, r := range roles {
		out[i] = r.role
	}
	return out
}

// ParseRole returns the role named s, whatever its case ("acrpull" is
// AcrPull), in its canonical spelling.
func ParseRole(s string) (Role, error) {
	for _, r := range roles {
		if strings.EqualFold(s, string(r.role)) {
			return r.role, nil
		}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r.role)
	}
	return "", invalid("unknown role %q: valid roles are %s", s, strings.Join(names, ", "))
}

// Permissions returns what the role allows; an unknown role allows nothing.
func (r Role) Permissions() Permission {
	for _, x := range roles {
		if x.role == r {
			return x.perms
		}
	}
	return 0
}

// Permission is a set of things a role allows.
type Permission uint8

// The permissions of the role table. ManageRead and ManageWrite are the
// management plane's "manage registry" column: reads need Reader or above,
// changes need Contributor or Owner.
const (
	Pull Permission = 1 << iota
	Push
	Delete
	Sign
	ManageRead
	ManageWrite
	AssignRoles
)

var permissionNames = []string{"pull", "push", "delete", "sign", "manageRead", "manageWrite", "assignRoles"}

// Has reports whether p holds every permission of want.
func (p Permission) Has(want Permission) bool { return p&want == want }

// String lists the permissions joined by "|", for logs and test failures.
func (p Permission) String() string {
	if p == 0 {
		return "none"
	}
	var names []string
	for i, n := range permissionNames {
		if p&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := p &^ (1<<len(permissionNames) - 1); rest != 0 {
		names = append(names, "unknown")
	}
	return strings.Join(names, "|")
}
