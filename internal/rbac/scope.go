package rbac

import (
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// Scope is where a role assignment applies: the whole tenant ("/"), one
// registry ("/registries/R") or one repository of a registry
// ("/registries/R/repositories/REPO"). The zero Scope is "/".
type Scope struct {
	Registry   string // "" for the tenant
	Repository string // "" for the registry as a whole
}

const scopeShape = `want "/", "/registries/<registry>" or "/registries/<registry>/repositories/<repository>"`

// ParseScope validates a scope path and returns it.
func ParseScope(s string) (Scope, error) {
	if s == "/" {
		return Scope{}, nil
	}
	rest, ok := strings.CutPrefix(s, "/registries/")
	if !ok {
		return Scope{}, invalid("invalid scope %q: %s", s, scopeShape)
	}
	reg, tail, hasRepo := strings.Cut(rest, "/")
	if !validRegistryName(reg) {
		return Scope{}, invalid("invalid scope %q: registry name %q must be 5 to 50 lowercase letters and digits", s, reg)
	}
	if !hasRepo {
		return Scope{Registry: reg}, nil
	}
	repo, ok := strings.CutPrefix(tail, "repositories/")
	if !ok {
		return Scope{}, invalid("invalid scope %q: %s", s, scopeShape)
	}
	if !oci.ValidName(repo) {
		return Scope{}, invalid("invalid scope %q: repository name %q does not follow the OCI name grammar", s, repo)
	}
	return Scope{Registry: reg, Repository: repo}, nil
}

// String returns the scope path ParseScope reads.
func (s Scope) String() string {
	switch {
	case s.Registry == "":
		return "/"
	case s.Repository == "":
		return "/registries/" + s.Registry
	default:
		return "/registries/" + s.Registry + "/repositories/" + s.Repository
	}
}

// MarshalText writes the scope path, so that a Scope is a string in JSON.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a scope path.
func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Covers reports whether the scope includes repository repo of registry
// registry. repo "" asks about the registry as a whole (its settings, its
// catalog) and registry "" about the tenant as a whole (creating a
// registry): only "/" covers the tenant, and a repository scope never
// covers its registry as a whole. A repository scope covers exactly one
// repository: "/registries/r/repositories/a" does not cover "a/b".
func (s Scope) Covers(registry, repo string) bool {
	switch {
	case s.Registry == "":
		return true
	case s.Registry != registry:
		return false
	case s.Repository == "":
		return true
	default:
		return repo != "" && s.Repository == repo
	}
}

// Assignment gives a principal a role at a scope.
type Assignment struct {
	PrincipalID string `json:"principalId"`
	Role        Role   `json:"role"`
	Scope       Scope  `json:"scope"`
}

// Allowed reports whether one of the assignments (those of one principal;
// PrincipalID is not looked at) covers repo of registry and has a role with
// every permission of want. Asking for no permission is answered false, so
// that a zero value never grants by accident.
//
// The management API asks with the target's coordinates: reading a
// registry's settings is Allowed(as, R, "", ManageRead), creating a
// registry Allowed(as, "", "", ManageWrite), assigning a role at scope S
// Allowed(as, S.Registry, S.Repository, AssignRoles).
func Allowed(as []Assignment, registry, repo string, want Permission) bool {
	if want == 0 {
		return false
	}
	for _, a := range as {
		if a.Scope.Covers(registry, repo) && a.Role.Permissions().Has(want) {
			return true
		}
	}
	return false
}

// validRegistryName reports whether s is 5 to 50 lowercase letters and
// digits. internal/config has the same rule; rbac does not import config,
// which reads files.
func validRegistryName(s string) bool {
	if len(s) < 5 || len(s) > 50 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
