package mgmt

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/meta"
)

type registryProps struct {
	networkProps
	LoginServer       string    `json:"loginServer"`
	AdminUserEnabled  bool      `json:"adminUserEnabled"`
	AnonymousPull     bool      `json:"anonymousPullEnabled"`
	CreatedAt         time.Time `json:"createdAt"`
	ProvisioningState string    `json:"provisioningState"`
	// PrivateEndpointConnections are never null: [] when there are none.
	PrivateEndpointConnections []resource `json:"privateEndpointConnections"`
}

// registryResource reads what a registry's answer shows beyond its record.
func (a *API) registryResource(ctx context.Context, reg meta.Registry) (resource, error) {
	admin, err := a.db.AdminCredentials(ctx, reg.ID)
	if err != nil {
		return resource{}, err
	}
	eps, err := a.endpointResources(ctx, reg)
	if err != nil {
		return resource{}, err
	}
	return resource{ID: "/registries/" + reg.Name, Name: reg.Name, Type: "registries", Location: reg.Location,
		Properties: registryProps{LoginServer: registry.LoginServer(reg, a.domain), AdminUserEnabled: admin.Enabled,
			networkProps: showNetwork(reg.Network), AnonymousPull: reg.AnonymousPull, CreatedAt: reg.CreatedAt, ProvisioningState: "Succeeded",
			PrivateEndpointConnections: eps}}, nil
}

// registry looks up the registry a path names.
func (a *API) registry(ctx context.Context, name string) (meta.Registry, error) {
	reg, err := a.db.Registry(ctx, name)
	if errors.Is(err, meta.ErrNotFound) {
		return reg, notFound("registry %q not found", name)
	}
	return reg, err
}

// authorizedRegistry authorizes perm on the registry a path names, then
// looks it up: a caller without rights learns nothing of whether it exists.
func (a *API) authorizedRegistry(r *http.Request, c *caller, perm rbac.Permission) (meta.Registry, error) {
	name := r.PathValue("name")
	if err := a.authorize(r.Context(), c, registryScope(name), perm); err != nil {
		return meta.Registry{}, err
	}
	return a.registry(r.Context(), name)
}

var locationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

func (a *API) createRegistry(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if err := a.authorize(ctx, c, tenant, rbac.ManageWrite); err != nil {
		return err
	}
	var body struct {
		Location   string `json:"location"`
		Properties *struct {
			LoginServer      string `json:"loginServer"`
			AdminUserEnabled bool   `json:"adminUserEnabled"`
		} `json:"properties"`
	}
	if err := decode(r, &body, true); err != nil {
		return err
	}
	name := r.PathValue("name")
	if !config.ValidRegistryName(name) {
		return invalid("name %q: a registry name is 5 to 50 lowercase letters and digits", name)
	}
	reg := meta.Registry{Name: name, Location: body.Location}
	if reg.Location == "" {
		reg.Location = a.region
	} else if !locationName.MatchString(reg.Location) {
		return invalid("location %q: use letters, digits and '-'", reg.Location)
	}
	admin := false
	if p := body.Properties; p != nil {
		if p.LoginServer != "" && !validLoginServer(p.LoginServer) {
			return invalid("properties.loginServer %q: want a host name or address, with an optional port", p.LoginServer)
		}
		reg.LoginServer, admin = p.LoginServer, p.AdminUserEnabled
	}
	reg, err := a.regs.CreateRegistry(ctx, reg, a.domain)
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	if admin {
		if err := a.ids.SetAdminEnabled(ctx, reg, true); err != nil {
			return err
		}
	}
	res, err := a.registryResource(ctx, reg)
	if err != nil {
		return err
	}
	return created(w, res)
}

var loginServerShape = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?(:[0-9]{1,5})?$`)

func validLoginServer(s string) bool { return loginServerShape.MatchString(s) }

func (a *API) listRegistries(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	regs, err := a.regs.Registries(ctx)
	if err != nil {
		return err
	}
	var out []resource
	for _, reg := range regs {
		if yes, err := a.sees(ctx, c, reg.Name); err != nil {
			return err
		} else if !yes {
			continue
		}
		res, err := a.registryResource(ctx, reg)
		if err != nil {
			return err
		}
		out = append(out, res)
	}
	return ok(w, newList(out))
}

func (a *API) showRegistry(w http.ResponseWriter, r *http.Request, c *caller) error {
	name := r.PathValue("name")
	if yes, err := a.sees(r.Context(), c, name); err != nil {
		return err
	} else if !yes {
		return a.authorize(r.Context(), c, registryScope(name), rbac.ManageRead) // says which role is needed
	}
	reg, err := a.registry(r.Context(), name)
	if err != nil {
		return err
	}
	res, err := a.registryResource(r.Context(), reg)
	if err != nil {
		return err
	}
	return ok(w, res)
}

func (a *API) updateRegistry(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Properties *struct {
			networkPatch
			AdminUserEnabled *bool `json:"adminUserEnabled"`
			AnonymousPull    *bool `json:"anonymousPullEnabled"`
		} `json:"properties"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	ctx := r.Context()
	if p := body.Properties; p != nil && p.networkPatch.given() {
		// Validated and stored before anything else is: a bad value changes nothing.
		n, err := a.patchNetwork(ctx, c, reg, &p.networkPatch)
		if err != nil {
			return err
		}
		reg.Network = n
	}
	if p := body.Properties; p != nil && p.AdminUserEnabled != nil {
		if err := a.ids.SetAdminEnabled(ctx, reg, *p.AdminUserEnabled); err != nil {
			return err
		}
	}
	if p := body.Properties; p != nil && p.AnonymousPull != nil {
		err := a.db.Update(ctx, func(tx *meta.Tx) error { return tx.SetAnonymousPull(ctx, reg.ID, *p.AnonymousPull) })
		if err != nil {
			return err
		}
		if err := a.registriesChanged(ctx); err != nil {
			return err
		}
		reg.AnonymousPull = *p.AnonymousPull
	}
	res, err := a.registryResource(ctx, reg)
	if err != nil {
		return err
	}
	return ok(w, res)
}

func (a *API) deleteRegistry(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	if reg.Name == a.defName {
		return invalid("registry %q is the server's default registry and cannot be deleted", reg.Name)
	}
	ctx := r.Context()
	if a.tasks != nil {
		// Its tasks' system-assigned identities go with them.
		if err := a.tasks.DeleteAll(ctx, reg); err != nil {
			return err
		}
	}
	if err := a.regs.DeleteRegistry(ctx, reg.ID); err != nil {
		return err
	}
	a.ids.Changed() // its tokens, admin user and role assignments are gone
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return noContent(w)
}

// credentials is the answer of listCredentials and regenerateCredential.
type credentials struct {
	Username  string                   `json:"username"`
	Passwords []identity.NamedPassword `json:"passwords"`
}

func (a *API) adminCredentials(ctx context.Context, reg meta.Registry) (credentials, error) {
	creds, err := a.ids.AdminCredentials(ctx, reg)
	if err != nil {
		return credentials{}, err
	}
	if !creds.Enabled {
		return credentials{}, invalid("the admin user of %s is disabled; enable it with PATCH {\"properties\":{\"adminUserEnabled\":true}}", reg.Name)
	}
	out := credentials{Username: creds.Username, Passwords: creds.Passwords}
	if out.Passwords == nil {
		out.Passwords = []identity.NamedPassword{}
	}
	return out, nil
}

// listCredentials shows the admin passwords: a secret, so it needs the
// right to change the registry, not only to read it.
func (a *API) listCredentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	creds, err := a.adminCredentials(r.Context(), reg)
	if err != nil {
		return err
	}
	return ok(w, creds)
}

func (a *API) regenerateCredential(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Name != "password" && body.Name != "password2" {
		return invalid("name %q: want password or password2", body.Name)
	}
	ctx := r.Context()
	if _, err := a.adminCredentials(ctx, reg); err != nil {
		return err
	}
	if err := a.ids.RenewAdminPassword(ctx, reg, body.Name); err != nil {
		return err
	}
	creds, err := a.adminCredentials(ctx, reg)
	if err != nil {
		return err
	}
	return ok(w, creds)
}
