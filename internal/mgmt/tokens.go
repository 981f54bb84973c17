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

// Tokens of a registry: reads need manage read on the registry, changes
// manage write. A password's value is shown once, when it is made.

type tokenProps struct {
	ScopeMapID  string           `json:"scopeMapId"`
	Status      string           `json:"status"`
	CreatedAt   time.Time        `json:"createdAt"`
	Credentials tokenCredentials `json:"credentials"`
}

// tokenCredentials are a token's passwords; Username and the values only
// in the answer that made them.
type tokenCredentials struct {
	Username  string          `json:"username,omitempty"`
	Passwords []tokenPassword `json:"passwords"`
}

type tokenPassword struct {
	Name         string     `json:"name"`
	Value        string     `json:"value,omitempty"`
	CreationTime time.Time  `json:"creationTime"`
	Expiry       *time.Time `json:"expiry,omitempty"`
}

func status(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// parseStatus reads "enabled" or "disabled".
func parseStatus(s string) (bool, error) {
	switch s {
	case "enabled":
		return true, nil
	case "disabled":
		return false, nil
	}
	return false, invalid("properties.status %q: want enabled or disabled", s)
}

func tokenResource(reg meta.Registry, t meta.RegistryToken) resource {
	props := tokenProps{ScopeMapID: t.ScopeMap, Status: status(t.Enabled), CreatedAt: t.CreatedAt,
		Credentials: tokenCredentials{Passwords: []tokenPassword{}}}
	for i, p := range t.Passwords {
		if p.Hash == "" {
			continue
		}
		tp := tokenPassword{Name: passwordName(i + 1), CreationTime: p.CreatedAt}
		if !p.ExpiresAt.IsZero() {
			tp.Expiry = &p.ExpiresAt
		}
		props.Credentials.Passwords = append(props.Credentials.Passwords, tp)
	}
	return resource{ID: "/registries/" + reg.Name + "/tokens/" + t.Name, Name: t.Name, Type: "tokens", Properties: props}
}

func passwordName(which int) string {
	if which == 2 {
		return "password2"
	}
	return "password1"
}

// checkScopeMap refuses a scope map the registry does not have.
func (a *API) checkScopeMap(ctx context.Context, reg meta.Registry, name string) error {
	if name == "" {
		return invalid("properties.scopeMapId: give the name of a scope map of %s", reg.Name)
	}
	if isSystemMap(name) {
		return nil
	}
	_, err := a.db.ScopeMap(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("properties.scopeMapId: scope map %q not found in registry %s", name, reg.Name)
	}
	return err
}

func (a *API) token(r *http.Request, reg meta.Registry) (meta.RegistryToken, error) {
	name := r.PathValue("token")
	t, err := a.db.RegistryToken(r.Context(), reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return t, notFound("token %q not found in registry %s", name, reg.Name)
	}
	return t, err
}

type tokenBody struct {
	Properties *struct {
		ScopeMapID *string `json:"scopeMapId"`
		Status     *string `json:"status"`
	} `json:"properties"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body tokenBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Properties == nil || body.Properties.ScopeMapID == nil {
		return invalid("properties.scopeMapId: give the name of a scope map of %s", reg.Name)
	}
	enabled := true
	if body.Properties.Status != nil {
		if enabled, err = parseStatus(*body.Properties.Status); err != nil {
			return err
		}
	}
	ctx := r.Context()
	scopeMap := *body.Properties.ScopeMapID
	if err := a.checkScopeMap(ctx, reg, scopeMap); err != nil {
		return err
	}
	name := r.PathValue("token")
	creds, err := a.ids.CreateToken(ctx, reg, name, scopeMap)
	if err != nil {
		return err
	}
	if !enabled {
		if err := a.ids.SetTokenEnabled(ctx, reg, name, false); err != nil {
			return err
		}
	}
	t, err := a.db.RegistryToken(ctx, reg.ID, name)
	if err != nil {
		return err
	}
	res := tokenResource(reg, t)
	props := res.Properties.(tokenProps)
	props.Credentials.Username = creds.Username
	for i, p := range creds.Passwords {
		props.Credentials.Passwords[i].Value = p.Value
	}
	res.Properties = props
	return created(w, res)
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	ts, err := a.db.RegistryTokens(r.Context(), reg.ID)
	if err != nil {
		return err
	}
	var out []resource
	for _, t := range ts {
		out = append(out, tokenResource(reg, t))
	}
	return ok(w, newList(out))
}

func (a *API) showToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	t, err := a.token(r, reg)
	if err != nil {
		return err
	}
	return ok(w, tokenResource(reg, t))
}

func (a *API) updateToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body tokenBody
	if err := decode(r, &body, false); err != nil {
		return err
	}
	t, err := a.token(r, reg)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if p := body.Properties; p != nil {
		enabled := t.Enabled
		if p.Status != nil {
			if enabled, err = parseStatus(*p.Status); err != nil {
				return err
			}
		}
		if p.ScopeMapID != nil {
			if err := a.checkScopeMap(ctx, reg, *p.ScopeMapID); err != nil {
				return err
			}
			if err := a.ids.SetTokenScopeMap(ctx, reg, t.Name, *p.ScopeMapID); err != nil {
				return err
			}
		}
		if enabled != t.Enabled {
			if err := a.ids.SetTokenEnabled(ctx, reg, t.Name, enabled); err != nil {
				return err
			}
		}
	}
	if t, err = a.token(r, reg); err != nil {
		return err
	}
	return ok(w, tokenResource(reg, t))
}

func (a *API) generateCredentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Name             string  `json:"name"`
		Expiry           *string `json:"expiry"`
		ExpirationInDays *int    `json:"expirationInDays"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	which := 0
	switch body.Name {
	case "password1":
		which = 1
	case "password2":
		which = 2
	default:
		return invalid("name %q: want password1 or password2", body.Name)
	}
	if body.Expiry != nil && body.ExpirationInDays != nil {
		return invalid("expiry and expirationInDays: give one, not both")
	}
	t, err := a.token(r, reg)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var creds identity.TokenCredentials
	switch {
	case body.Expiry != nil:
		at, err := time.Parse(time.RFC3339, *body.Expiry)
		if err != nil {
			return invalid("expiry %q: want an RFC 3339 time, such as 2030-01-02T15:04:05Z", *body.Expiry)
		}
		if !at.After(a.now()) {
			return invalid("expiry %q: the time is past", *body.Expiry)
		}
		creds, err = a.ids.GenerateTokenPasswordUntil(ctx, reg, t.Name, which, at)
		if err != nil {
			return err
		}
	default:
		days := 0
		if body.ExpirationInDays != nil {
			if days = *body.ExpirationInDays; days < 0 {
				return invalid("expirationInDays: want 0 (never) or more, not %d", days)
			}
		}
		if creds, err = a.ids.GenerateTokenPassword(ctx, reg, t.Name, which, days); err != nil {
			return err
		}
	}
	return ok(w, creds)
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	ctx := r.Context()
	name := r.PathValue("token")
	err = a.db.Update(ctx, func(tx *meta.Tx) error { return tx.DeleteRegistryToken(ctx, reg.ID, name) })
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("token %q not found in registry %s", name, reg.Name)
	} else if err != nil {
		return err
	}
	a.ids.Changed()
	return noContent(w)
}
