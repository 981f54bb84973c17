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

// Users: every call needs Owner at "/", reads included, since a user list
// is who can sign in.

type userProps struct {
	PrincipalID string    `json:"principalId"`
	CreatedAt   time.Time `json:"createdAt"`
}

func userResource(p meta.Principal) resource {
	return resource{ID: "/users/" + p.Name, Name: p.Name, Type: "users",
		Properties: userProps{PrincipalID: p.ID, CreatedAt: p.CreatedAt}}
}

func (a *API) user(ctx context.Context, name string) (meta.Principal, error) {
	p, err := a.db.PrincipalByName(ctx, meta.KindUser, name)
	if errors.Is(err, meta.ErrNotFound) {
		return p, notFound("user %q not found", name)
	}
	return p, err
}

type passwordBody struct {
	Password string `json:"password"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.AssignRoles); err != nil {
		return err
	}
	var body passwordBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if len(body.Password) < 8 {
		return invalid("password: a password needs at least 8 characters")
	}
	p, err := a.ids.CreateUser(ctx, r.PathValue("name"), body.Password)
	if err != nil {
		return err
	}
	return created(w, userResource(p))
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	var out []resource
	if yes, err := a.can(ctx, c, tenant, rbac.AssignRoles); err != nil {
		return err
	} else if yes {
		ps, err := a.ids.Principals(ctx, meta.KindUser)
		if err != nil {
			return err
		}
		for _, p := range ps {
			out = append(out, userResource(p))
		}
	}
	return ok(w, newList(out))
}

func (a *API) showUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.AssignRoles); err != nil {
		return err
	}
	p, err := a.user(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, userResource(p))
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.AssignRoles); err != nil {
		return err
	}
	var body passwordBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if len(body.Password) < 8 {
		return invalid("password: a password needs at least 8 characters")
	}
	if err := a.ids.ResetPassword(ctx, r.PathValue("name"), body.Password); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.AssignRoles); err != nil {
		return err
	}
	p, err := a.user(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := a.principalKeepsAnOwner(ctx, p); err != nil {
		return err
	}
	if err := a.ids.DeletePrincipal(ctx, p); err != nil {
		return err
	}
	return noContent(w)
}

// Service principals and managed identities are tenant-wide: reads need
// manage read at "/", changes manage write at "/".

type spProps struct {
	AppID           string     `json:"appId"`
	PrincipalID     string     `json:"principalId"`
	SecretExpiresAt *time.Time `json:"secretExpiresAt"`
	CreatedAt       time.Time  `json:"createdAt"`
	// TrustedService says whether its tokens pass the network rules of
	// registries that allow trusted services (see trusted.go).
	TrustedService bool `json:"trustedService"`
}

func (a *API) spResource(ctx context.Context, p meta.Principal) (resource, error) {
	secrets, err := a.db.Secrets(ctx, p.ID)
	if err != nil {
		return resource{}, err
	}
	props := spProps{AppID: p.AppID, PrincipalID: p.ID, CreatedAt: p.CreatedAt, TrustedService: p.Trusted}
	for _, s := range secrets {
		if props.SecretExpiresAt == nil || s.ExpiresAt.After(*props.SecretExpiresAt) {
			props.SecretExpiresAt = &s.ExpiresAt
		}
	}
	return resource{ID: "/servicePrincipals/" + p.AppID, Name: p.Name, Type: "servicePrincipals", Properties: props}, nil
}

// years reads a secret's lifetime: 1 when not given.
func years(n *int) (int, error) {
	if n == nil {
		return identity.DefaultSecretYears, nil
	}
	if *n < 1 || *n > 100 {
		return 0, invalid("years: want 1 to 100, not %d", *n)
	}
	return *n, nil
}

func (a *API) createServicePrincipal(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.ManageWrite); err != nil {
		return err
	}
	var body struct {
		Name   string   `json:"name"`
		Years  *int     `json:"years"`
		Role   string   `json:"role"`
		Scopes []string `json:"scopes"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	n, err := years(body.Years)
	if err != nil {
		return err
	}
	if body.Name == "" {
		return invalid("name: give the service principal a name")
	}
	// Check every assignment before creating anything.
	var as []meta.RoleAssignment
	if body.Role != "" || len(body.Scopes) > 0 {
		if body.Role == "" || len(body.Scopes) == 0 {
			return invalid("role and scopes: give both, or neither")
		}
		role, err := rbac.ParseRole(body.Role)
		if err != nil {
			return invalid("role: %v", err)
		}
		for _, s := range body.Scopes {
			scope, err := a.assignableScope(ctx, c, s)
			if err != nil {
				return err
			}
			as = append(as, meta.RoleAssignment{Role: string(role), Scope: scope.String()})
		}
	}
	p, creds, err := a.ids.CreateServicePrincipal(ctx, body.Name, n)
	if err != nil {
		return err
	}
	if len(as) > 0 {
		err := a.db.Update(ctx, func(tx *meta.Tx) error {
			for i := range as {
				as[i].PrincipalID = p.ID
				if err := tx.CreateRoleAssignment(ctx, &as[i]); err != nil && !errors.Is(err, meta.ErrConflict) {
					return err // the same scope twice is one assignment
				}
			}
			return nil
		})
		a.ids.Changed()
		if err != nil {
			if derr := a.ids.DeletePrincipal(context.WithoutCancel(ctx), p); derr != nil {
				a.log.ErrorContext(ctx, "service principal left without its role assignments", "appId", p.AppID, "err", derr)
			}
			return err
		}
	}
	return created(w, creds)
}

func (a *API) listServicePrincipals(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.listPrincipals(w, r, c, meta.KindServicePrincipal, func(p meta.Principal) (resource, error) {
		return a.spResource(r.Context(), p)
	})
}

// listPrincipals lists a kind of tenant-wide principal, or nothing to a
// caller who may not read them.
func (a *API) listPrincipals(w http.ResponseWriter, r *http.Request, c *caller, kind string, show func(meta.Principal) (resource, error)) error {
	ctx := r.Context()
	var out []resource
	if yes, err := a.can(ctx, c, tenant, rbac.ManageRead); err != nil {
		return err
	} else if yes {
		ps, err := a.ids.Principals(ctx, kind)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Owner != "" {
				continue // a system-assigned identity belongs to its task
			}
			res, err := show(p)
			if err != nil {
				return err
			}
			out = append(out, res)
		}
	}
	return ok(w, newList(out))
}

func (a *API) servicePrincipal(r *http.Request, c *caller, perm rbac.Permission) (meta.Principal, error) {
	if err := a.authorize(r.Context(), c, tenant, perm); err != nil {
		return meta.Principal{}, err
	}
	return a.ids.ServicePrincipal(r.Context(), r.PathValue("appId"))
}

func (a *API) showServicePrincipal(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := a.servicePrincipal(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	res, err := a.spResource(r.Context(), p)
	if err != nil {
		return err
	}
	return ok(w, res)
}

func (a *API) resetCredential(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := a.servicePrincipal(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Years *int `json:"years"`
	}
	if err := decode(r, &body, true); err != nil {
		return err
	}
	n, err := years(body.Years)
	if err != nil {
		return err
	}
	creds, err := a.ids.ResetServicePrincipalCredential(r.Context(), p.AppID, n)
	if err != nil {
		return err
	}
	return ok(w, creds)
}

func (a *API) deleteServicePrincipal(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := a.servicePrincipal(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	if err := a.principalKeepsAnOwner(r.Context(), p); err != nil {
		return err
	}
	if err := a.ids.DeletePrincipal(r.Context(), p); err != nil {
		return err
	}
	return noContent(w)
}

// Managed identities (user-assigned).

type identityProps struct {
	PrincipalID    string    `json:"principalId"`
	ClientID       string    `json:"clientId"`
	CreatedAt      time.Time `json:"createdAt"`
	TrustedService bool      `json:"trustedService"`
}

func identityResource(p meta.Principal) resource {
	return resource{ID: "/identities/" + p.Name, Name: p.Name, Type: "identities",
		Properties: identityProps{PrincipalID: p.ID, ClientID: p.AppID, CreatedAt: p.CreatedAt, TrustedService: p.Trusted}}
}

func (a *API) managedIdentity(r *http.Request, c *caller, perm rbac.Permission) (meta.Principal, error) {
	if err := a.authorize(r.Context(), c, tenant, perm); err != nil {
		return meta.Principal{}, err
	}
	name := r.PathValue("name")
	p, err := a.ids.ManagedIdentity(r.Context(), name)
	if err == nil && p.Owner != "" {
		return p, notFound("identity %q not found", name) // system-assigned: its task owns it
	}
	return p, err
}

func (a *API) createIdentity(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.ManageWrite); err != nil {
		return err
	}
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	p, err := a.ids.CreateManagedIdentity(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	return created(w, identityResource(p))
}

func (a *API) listIdentities(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.listPrincipals(w, r, c, meta.KindManagedIdentity, func(p meta.Principal) (resource, error) {
		return identityResource(p), nil
	})
}

func (a *API) showIdentity(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := a.managedIdentity(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	return ok(w, identityResource(p))
}

func (a *API) deleteIdentity(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := a.managedIdentity(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	if err := a.principalKeepsAnOwner(r.Context(), p); err != nil {
		return err
	}
	if err := a.ids.DeletePrincipal(r.Context(), p); err != nil {
		return err
	}
	return noContent(w)
}
