package mgmt

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/token"
)

// caller is who sent a management request.
type caller struct {
	principal meta.Principal
	// assignments are the caller's role assignments, read once per request
	// (nil until then), so that a change applies to the next request.
	assignments []rbac.Assignment
	loaded      bool
}

// authenticate checks the request's identity token and that its principal
// still exists: a deleted principal's tokens stop working at once.
func (a *API) authenticate(r *http.Request) (*caller, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return nil, unauthorized("send an identity token from POST /identity/oauth2/token as Authorization: Bearer <token>")
	}
	claims, err := a.tokens.Verify(strings.TrimSpace(tok), token.KindIdentity, token.ManagementAudience)
	if err != nil {
		return nil, unauthorized("the identity token is not valid: %s", tokenProblem(err))
	}
	p, err := a.db.Principal(r.Context(), claims.Subject)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, unauthorized("the identity of the token no longer exists")
	} else if err != nil {
		return nil, err
	}
	return &caller{principal: p}, nil
}

// tokenProblem says what is wrong with a token without echoing it.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, token.ErrExpired):
		return "it has expired"
	case errors.Is(err, token.ErrAudience), errors.Is(err, token.ErrKind):
		return "it is not an identity token for the management API"
	case errors.Is(err, token.ErrNotYetValid):
		return "it is not valid yet"
	}
	return "it is malformed or not signed by this server"
}

// roleNeeded names the roles that hold a permission, for error messages.
func roleNeeded(perm rbac.Permission) string {
	var names []string
	for _, r := range rbac.Roles() {
		if r.Permissions().Has(perm) {
			names = append(names, string(r))
		}
	}
	switch len(names) {
	case 0:
		return "a role no built-in role is"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

var permissionWords = map[rbac.Permission]string{
	rbac.ManageRead:  "read",
	rbac.ManageWrite: "change",
	rbac.AssignRoles: "manage role assignments and users",
}

// authorize is the one place that decides whether the caller may do what
// perm names at scope, from its role assignments.
func (a *API) authorize(ctx context.Context, c *caller, scope rbac.Scope, perm rbac.Permission) error {
	if err := a.loadAssignments(ctx, c); err != nil {
		return err
	}
	if rbac.Allowed(c.assignments, scope.Registry, scope.Repository, perm) {
		return nil
	}
	return forbidden("%s %q may not %s at scope %s: that needs the role %s there",
		kindWord(c.principal.Kind), c.principal.Name, permissionWords[perm], scope, roleNeeded(perm))
}

// sees reports whether the caller holds any role on a registry or inside
// it. That is enough to read the registry resource itself (its login
// server, which `berth registry login` needs), not its scope maps or tokens.
func (a *API) sees(ctx context.Context, c *caller, registry string) (bool, error) {
	if err := a.loadAssignments(ctx, c); err != nil {
		return false, err
	}
	for _, x := range c.assignments {
		if x.Scope.Registry == "" || x.Scope.Registry == registry {
			return true, nil
		}
	}
	return false, nil
}

func (a *API) loadAssignments(ctx context.Context, c *caller) error {
	if !c.loaded {
		as, err := a.db.RoleAssignments(ctx, c.principal.ID)
		if err != nil {
			return err
		}
		for _, x := range as {
			role, err1 := rbac.ParseRole(x.Role)
			sc, err2 := rbac.ParseScope(x.Scope)
			if err1 == nil && err2 == nil {
				c.assignments = append(c.assignments, rbac.Assignment{PrincipalID: x.PrincipalID, Role: role, Scope: sc})
			}
		}
		c.loaded = true
	}
	return nil
}

// can is authorize as a yes or no, for filtering lists; a store error is
// still an error.
func (a *API) can(ctx context.Context, c *caller, scope rbac.Scope, perm rbac.Permission) (bool, error) {
	err := a.authorize(ctx, c, scope, perm)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == codeAuthorizationFailed {
		return false, nil
	}
	return err == nil, err
}

// tenant is the scope "/"; registryScope the scope of one registry.
var tenant = rbac.Scope{}

func registryScope(name string) rbac.Scope { return rbac.Scope{Registry: name} }

func kindWord(kind string) string {
	switch kind {
	case meta.KindServicePrincipal:
		return "service principal"
	case meta.KindManagedIdentity:
		return "managed identity"
	case meta.KindTrustedService:
		return "trusted service"
	}
	return kind
}
