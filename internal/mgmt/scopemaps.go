package mgmt

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Scope maps of a registry: reads need manage read on the registry,
// changes manage write. The three system maps are listed with the
// registry's own, and can be neither changed nor deleted.

type scopeMapProps struct {
	Description string    `json:"description"`
	Actions     []string  `json:"actions"`
	Type        string    `json:"type"`
	CreatedAt   time.Time `json:"createdAt"`
}

const (
	userDefined   = "UserDefined"
	systemDefined = "SystemDefined"
)

var systemDescriptions = map[string]string{
	rbac.ScopeMapPull:  "Can pull any repository of the registry",
	rbac.ScopeMapPush:  "Can push to any repository of the registry",
	rbac.ScopeMapAdmin: "Can perform all read, write and delete operations on the registry",
}

func scopeMapResource(reg meta.Registry, name, typ, description string, actions []string, at time.Time) resource {
	if actions == nil {
		actions = []string{}
	}
	return resource{ID: "/registries/" + reg.Name + "/scopeMaps/" + name, Name: name, Type: "scopeMaps",
		Properties: scopeMapProps{Description: description, Actions: actions, Type: typ, CreatedAt: at}}
}

func userMapResource(reg meta.Registry, m meta.ScopeMap) resource {
	return scopeMapResource(reg, m.Name, userDefined, m.Description, m.Actions, m.CreatedAt)
}

// systemMaps are the system maps of a registry, by name.
func systemMaps(reg meta.Registry) []resource {
	sys := rbac.SystemScopeMaps()
	var out []resource
	for _, name := range []string{rbac.ScopeMapAdmin, rbac.ScopeMapPull, rbac.ScopeMapPush} {
		var acts []string
		for _, a := range sys[name] {
			acts = append(acts, a.String())
		}
		out = append(out, scopeMapResource(reg, name, systemDefined, systemDescriptions[name], acts, reg.CreatedAt))
	}
	return out
}

func isSystemMap(name string) bool {
	_, ok := rbac.SystemScopeMaps()[name]
	return ok
}

var scopeMapName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$`)

// scopeMapActions validates a map's actions and returns them in the form
// they are stored in, each once.
func scopeMapActions(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, invalid("properties.actions: give at least one action, such as repositories/<repository>/content/read")
	}
	var out []string
	for i, s := range in {
		act, err := rbac.ParseScopeMapAction(s)
		if err != nil {
			return nil, invalid("properties.actions[%d]: %v", i, err)
		}
		if !slices.Contains(out, act.String()) {
			out = append(out, act.String())
		}
	}
	return out, nil
}

type scopeMapBody struct {
	Properties *struct {
		Description *string  `json:"description"`
		Actions     []string `json:"actions"`
	} `json:"properties"`
}

func (a *API) putScopeMap(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body scopeMapBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	name := r.PathValue("map")
	if isSystemMap(name) {
		return invalid("scope map %q is a system scope map and cannot be changed", name)
	}
	if !scopeMapName.MatchString(name) {
		return invalid("name %q: a scope map name is 1 to 50 letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	if body.Properties == nil {
		return invalid("properties: give the scope map's actions")
	}
	acts, err := scopeMapActions(body.Properties.Actions)
	if err != nil {
		return err
	}
	m := meta.ScopeMap{RegistryID: reg.ID, Name: name, Actions: acts}
	if body.Properties.Description != nil {
		m.Description = *body.Properties.Description
	}
	existed := false
	ctx := r.Context()
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		_, err := tx.ScopeMap(ctx, reg.ID, name)
		existed = err == nil
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return err
		}
		return tx.PutScopeMap(ctx, &m)
	})
	if err != nil {
		return err
	}
	a.ids.Changed()
	if existed {
		return ok(w, userMapResource(reg, m))
	}
	return created(w, userMapResource(reg, m))
}

func (a *API) listScopeMaps(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	ms, err := a.db.ScopeMaps(r.Context(), reg.ID)
	if err != nil {
		return err
	}
	out := systemMaps(reg)
	for _, m := range ms {
		out = append(out, userMapResource(reg, m))
	}
	return ok(w, newList(out))
}

// scopeMap looks up a registry's user-defined map.
func (a *API) scopeMap(r *http.Request, reg meta.Registry) (meta.ScopeMap, error) {
	name := r.PathValue("map")
	m, err := a.db.ScopeMap(r.Context(), reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return m, notFound("scope map %q not found in registry %s", name, reg.Name)
	}
	return m, err
}

func (a *API) showScopeMap(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	name := r.PathValue("map")
	if isSystemMap(name) {
		for _, m := range systemMaps(reg) {
			if m.Name == name {
				return ok(w, m)
			}
		}
	}
	m, err := a.scopeMap(r, reg)
	if err != nil {
		return err
	}
	return ok(w, userMapResource(reg, m))
}

func (a *API) updateScopeMap(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body scopeMapBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	name := r.PathValue("map")
	if isSystemMap(name) {
		return invalid("scope map %q is a system scope map and cannot be changed", name)
	}
	var acts []string
	if p := body.Properties; p != nil && p.Actions != nil {
		if acts, err = scopeMapActions(p.Actions); err != nil {
			return err
		}
	}
	ctx := r.Context()
	var m meta.ScopeMap
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		m, err = tx.ScopeMap(ctx, reg.ID, name)
		if errors.Is(err, meta.ErrNotFound) {
			return notFound("scope map %q not found in registry %s", name, reg.Name)
		} else if err != nil {
			return err
		}
		if p := body.Properties; p != nil {
			if p.Description != nil {
				m.Description = *p.Description
			}
			if acts != nil {
				m.Actions = acts
			}
		}
		return tx.PutScopeMap(ctx, &m)
	})
	if err != nil {
		return err
	}
	a.ids.Changed()
	return ok(w, userMapResource(reg, m))
}

func (a *API) deleteScopeMap(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	name := r.PathValue("map")
	if isSystemMap(name) {
		return invalid("scope map %q is a system scope map and cannot be deleted", name)
	}
	ctx := r.Context()
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		tokens, err := tx.RegistryTokens(ctx, reg.ID)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if t.ScopeMap == name {
				return conflict("scope map %q is used by the token %q; delete the token or give it another scope map first", name, t.Name)
			}
		}
		err = tx.DeleteScopeMap(ctx, reg.ID, name)
		if errors.Is(err, meta.ErrNotFound) {
			return notFound("scope map %q not found in registry %s", name, reg.Name)
		}
		return err
	})
	if err != nil {
		return err
	}
	a.ids.Changed()
	return noContent(w)
}
