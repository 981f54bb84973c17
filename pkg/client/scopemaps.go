package client

import (
	"context"
	"time"
)

// ScopeMap is a registry's list of repository actions a token may be given.
type ScopeMap struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Properties ScopeMapProperties `json:"properties"`
}

// ScopeMapProperties are a scope map's properties.
type ScopeMapProperties struct {
	Description string    `json:"description,omitempty"`
	Actions     []string  `json:"actions"`        // "repositories/<repo>/<action>"
	Type        string    `json:"type,omitempty"` // "UserDefined" or "SystemDefined"
	CreatedAt   time.Time `json:"createdAt,omitzero"`
}

// ScopeMapUpdate is what ScopeMaps.Update sends: nil Description and nil
// Actions are left as they are; Actions, when given, replaces the list.
type ScopeMapUpdate struct {
	Description *string  `json:"description,omitempty"`
	Actions     []string `json:"actions,omitzero"`
}

// ScopeMaps calls /api/registries/{r}/scopeMaps.
type ScopeMaps struct {
	c        *Client
	registry string
}

// ScopeMaps returns the scope map calls of registry.
func (c *Client) ScopeMaps(registry string) ScopeMaps { return ScopeMaps{c, registry} }

func (s ScopeMaps) path(name string) string {
	p := registryPath(s.registry) + "/scopeMaps"
	if name != "" {
		p += "/" + seg(name)
	}
	return p
}

// Create creates scope map name (PUT), or replaces it when it exists.
func (s ScopeMaps) Create(ctx context.Context, name, description string, actions []string) (ScopeMap, error) {
	body := struct {
		Properties struct {
			Description string   `json:"description,omitempty"`
			Actions     []string `json:"actions"`
		} `json:"properties"`
	}{}
	body.Properties.Description, body.Properties.Actions = description, actions
	var out ScopeMap
	err := s.c.Do(ctx, "PUT", s.path(name), body, &out)
	return out, err
}

// Get returns scope map name.
func (s ScopeMaps) Get(ctx context.Context, name string) (ScopeMap, error) {
	var out ScopeMap
	err := s.c.Do(ctx, "GET", s.path(name), nil, &out)
	return out, err
}

// List returns the registry's scope maps, system maps included.
func (s ScopeMaps) List(ctx context.Context) ([]ScopeMap, error) {
	return getList[ScopeMap](ctx, s.c, s.path(""))
}

// Update changes scope map name (PATCH).
func (s ScopeMaps) Update(ctx context.Context, name string, in ScopeMapUpdate) (ScopeMap, error) {
	body := struct {
		Properties ScopeMapUpdate `json:"properties"`
	}{in}
	var out ScopeMap
	err := s.c.Do(ctx, "PATCH", s.path(name), body, &out)
	return out, err
}

// Delete deletes scope map name; system maps and maps in use are refused.
func (s ScopeMaps) Delete(ctx context.Context, name string) error {
	return s.c.Do(ctx, "DELETE", s.path(name), nil, nil)
}
