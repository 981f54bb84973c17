package mgmt

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Role assignments: every call, reads included, needs Owner (AssignRoles)
// at a scope covering the assignment. Every change drops the caches that
// remember rights, so that it applies to the next request.

type assignmentProps struct {
	PrincipalID        string    `json:"principalId"`
	PrincipalName      string    `json:"principalName"`
	PrincipalType      string    `json:"principalType"`
	RoleDefinitionName string    `json:"roleDefinitionName"`
	Scope              string    `json:"scope"`
	CreatedAt          time.Time `json:"createdAt"`
}

// principalTypes name the kinds of principal as role assignments show them.
var principalTypes = map[string]string{
	meta.KindUser:             "User",
	meta.KindServicePrincipal: "ServicePrincipal",
	meta.KindManagedIdentity:  "ManagedIdentity",
	meta.KindTrustedService:   "TrustedService",
}

func assignmentResource(x meta.RoleAssignment, p meta.Principal) resource {
	return resource{ID: "/roleAssignments/" + x.ID, Name: x.ID, Type: "roleAssignments",
		Properties: assignmentProps{PrincipalID: x.PrincipalID, PrincipalName: p.Name, PrincipalType: principalTypes[p.Kind],
			RoleDefinitionName: x.Role, Scope: x.Scope, CreatedAt: x.CreatedAt}}
}

// assignableScope parses a scope the caller wants to assign a role at:
// well formed, its registry existing, and the caller Owner there.
func (a *API) assignableScope(ctx context.Context, c *caller, s string) (rbac.Scope, error) {
	scope, err := rbac.ParseScope(s)
	if err != nil {
		return scope, invalid("scope: %v", err)
	}
	if err := a.authorize(ctx, c, scope, rbac.AssignRoles); err != nil {
		return scope, err
	}
	if scope.Registry != "" {
		if _, err := a.registry(ctx, scope.Registry); err != nil {
			return scope, err
		}
	}
	return scope, nil
}

func (a *API) createRoleAssignment(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	var body struct {
		Assignee string `json:"assignee"`
		Role     string `json:"role"`
		Scope    string `json:"scope"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	role, err := rbac.ParseRole(body.Role)
	if err != nil {
		return invalid("role: %v", err)
	}
	if body.Scope == "" {
		return invalid("scope: give the scope of the assignment, such as / or /registries/<registry>")
	}
	scope, err := a.assignableScope(ctx, c, body.Scope)
	if err != nil {
		return err
	}
	if body.Assignee == "" {
		return invalid("assignee: give a principalId, appId, user name or identity name")
	}
	p, err := a.ids.Resolve(ctx, body.Assignee)
	if errors.Is(err, identity.ErrNotFound) {
		return notFound("assignee %q: no user, service principal or identity has that principalId, appId or name", body.Assignee)
	} else if err != nil {
		return err
	}
	x := meta.RoleAssignment{PrincipalID: p.ID, Role: string(role), Scope: scope.String()}
	err = a.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateRoleAssignment(ctx, &x) })
	if errors.Is(err, meta.ErrConflict) {
		return conflict("%s %q already has the role %s at %s", kindWord(p.Kind), p.Name, role, scope)
	} else if err != nil {
		return err
	}
	a.ids.Changed()
	return created(w, assignmentResource(x, p))
}

func (a *API) listRoleAssignments(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	q := r.URL.Query()
	var role rbac.Role
	if s := q.Get("role"); s != "" {
		var err error
		if role, err = rbac.ParseRole(s); err != nil {
			return invalid("role: %v", err)
		}
	}
	scope := ""
	if s := q.Get("scope"); s != "" {
		sc, err := rbac.ParseScope(s)
		if err != nil {
			return invalid("scope: %v", err)
		}
		scope = sc.String()
	}
	principalID := ""
	if ref := q.Get("assignee"); ref != "" {
		p, err := a.ids.Resolve(ctx, ref)
		if errors.Is(err, identity.ErrNotFound) {
			return ok(w, newList[resource](nil)) // nobody of that name has a role
		} else if err != nil {
			return err
		}
		principalID = p.ID
	}
	as, err := a.db.RoleAssignments(ctx, principalID)
	if err != nil {
		return err
	}
	principals := map[string]meta.Principal{}
	var out []resource
	for _, x := range as {
		if role != "" && x.Role != string(role) || scope != "" && x.Scope != scope {
			continue
		}
		sc, err := rbac.ParseScope(x.Scope)
		if err != nil {
			continue // not written by this API
		}
		if yes, err := a.can(ctx, c, sc, rbac.AssignRoles); err != nil {
			return err
		} else if !yes {
			continue
		}
		p, seen := principals[x.PrincipalID]
		if !seen {
			if p, err = a.db.Principal(ctx, x.PrincipalID); err != nil && !errors.Is(err, meta.ErrNotFound) {
				return err
			}
			principals[x.PrincipalID] = p
		}
		out = append(out, assignmentResource(x, p))
	}
	return ok(w, newList(out))
}

func (a *API) deleteRoleAssignment(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	id := r.PathValue("id")
	as, err := a.db.RoleAssignments(ctx, "")
	if err != nil {
		return err
	}
	var found *meta.RoleAssignment
	for i := range as {
		if as[i].ID == id {
			found = &as[i]
		}
	}
	if found == nil {
		return notFound("role assignment %q not found", id)
	}
	scope, err := rbac.ParseScope(found.Scope)
	if err != nil {
		return err
	}
	if err := a.authorize(ctx, c, scope, rbac.AssignRoles); err != nil {
		return err
	}
	if err := keepsAnOwner(as, func(x meta.RoleAssignment) bool { return x.ID == id }); err != nil {
		return err
	}
	err = a.db.Update(ctx, func(tx *meta.Tx) error { return tx.DeleteRoleAssignment(ctx, id) })
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("role assignment %q not found", id)
	} else if err != nil {
		return err
	}
	a.ids.Changed()
	return noContent(w)
}

// keepsAnOwner refuses a change that would remove every Owner at "/":
// nobody could then manage users or roles again. removed says which
// assignments the change removes.
func keepsAnOwner(as []meta.RoleAssignment, removed func(meta.RoleAssignment) bool) error {
	before, after := 0, 0
	for _, x := range as {
		if x.Role != string(rbac.Owner) || x.Scope != "/" {
			continue
		}
		before++
		if !removed(x) {
			after++
		}
	}
	if before > 0 && after == 0 {
		return conflict("this would remove the last Owner at /; assign Owner at / to another principal first")
	}
	return nil
}

// principalKeepsAnOwner is keepsAnOwner for deleting a principal.
func (a *API) principalKeepsAnOwner(ctx context.Context, p meta.Principal) error {
	as, err := a.db.RoleAssignments(ctx, "")
	if err != nil {
		return err
	}
	return keepsAnOwner(as, func(x meta.RoleAssignment) bool { return x.PrincipalID == p.ID })
}
