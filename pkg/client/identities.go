package client

import (
	"context"
	"time"
)

// ManagedIdentity is a user-assigned managed identity.
type ManagedIdentity struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name"`
	Type       string                    `json:"type"`
	Properties ManagedIdentityProperties `json:"properties"`
}

// ManagedIdentityProperties are a managed identity's properties.
type ManagedIdentityProperties struct {
	PrincipalID string    `json:"principalId"`
	ClientID    string    `json:"clientId"`
	CreatedAt   time.Time `json:"createdAt,omitzero"`
	// TrustedService says whether the tokens issued to it pass the network
	// rules of registries that allow trusted services.
	TrustedService bool `json:"trustedService"`
}

// ManagedIdentityUpdate is what Identities.Update merges; nil fields are
// left as they are.
type ManagedIdentityUpdate struct {
	// TrustedService marks it as a trusted service, or not; only an Owner
	// at "/" may. Tokens issued before the change keep what they carry.
	TrustedService *bool `json:"trustedService,omitempty"`
}

// Identities calls /api/identities.
type Identities struct{ c *Client }

// Identities returns the managed identity calls.
func (c *Client) Identities() Identities { return Identities{c} }

func identityPath(name string) string { return "/api/identities/" + seg(name) }

// Create creates identity name (PUT); an existing identity is a Conflict.
func (i Identities) Create(ctx context.Context, name string) (ManagedIdentity, error) {
	var out ManagedIdentity
	err := i.c.Do(ctx, "PUT", identityPath(name), struct{}{}, &out)
	return out, err
}

// Get returns identity name.
func (i Identities) Get(ctx context.Context, name string) (ManagedIdentity, error) {
	var out ManagedIdentity
	err := i.c.Do(ctx, "GET", identityPath(name), nil, &out)
	return out, err
}

// List returns the user-assigned identities.
func (i Identities) List(ctx context.Context) ([]ManagedIdentity, error) {
	return getList[ManagedIdentity](ctx, i.c, "/api/identities")
}

// Update merges in into identity name's properties (PATCH).
func (i Identities) Update(ctx context.Context, name string, in ManagedIdentityUpdate) (ManagedIdentity, error) {
	body := struct {
		Properties ManagedIdentityUpdate `json:"properties"`
	}{in}
	var out ManagedIdentity
	err := i.c.Do(ctx, "PATCH", identityPath(name), body, &out)
	return out, err
}

// Delete deletes identity name.
func (i Identities) Delete(ctx context.Context, name string) error {
	return i.c.Do(ctx, "DELETE", identityPath(name), nil, nil)
}
