package client

import (
	"context"
	"time"
)

// ServicePrincipal is a service principal as listed; its secret is only
// ever in a ServicePrincipalSecret.
type ServicePrincipal struct {
	ID         string                     `json:"id"`
	Name       string                     `json:"name"`
	Type       string                     `json:"type"`
	Properties ServicePrincipalProperties `json:"properties"`
}

// ServicePrincipalProperties are a service principal's properties.
type ServicePrincipalProperties struct {
	AppID           string    `json:"appId"`
	PrincipalID     string    `json:"principalId"`
	SecretExpiresAt time.Time `json:"secretExpiresAt,omitzero"`
	CreatedAt       time.Time `json:"createdAt,omitzero"`
	// TrustedService says whether the tokens issued to it pass the network
	// rules of registries that allow trusted services.
	TrustedService bool `json:"trustedService"`
}

// ServicePrincipalUpdate is what ServicePrincipals.Update merges; nil
// fields are left as they are.
type ServicePrincipalUpdate struct {
	// TrustedService marks it as a trusted service, or not; only an Owner
	// at "/" may. Tokens issued before the change keep what they carry.
	TrustedService *bool `json:"trustedService,omitempty"`
}

// ServicePrincipalCreate is what ServicePrincipals.Create sends.
type ServicePrincipalCreate struct {
	Name   string   `json:"name"`
	Years  int      `json:"years,omitempty"`  // 0 lets the server choose (1 year)
	Role   string   `json:"role,omitempty"`   // with Scopes: one role assignment per scope
	Scopes []string `json:"scopes,omitempty"` // scope IDs: "/", "/registries/R", …
}

// ServicePrincipalSecret is the answer to a create or a credential reset:
// the only time the secret (Password) is shown.
type ServicePrincipalSecret struct {
	AppID       string    `json:"appId"`
	DisplayName string    `json:"displayName"`
	Password    string    `json:"password"`
	Tenant      string    `json:"tenant"`
	PrincipalID string    `json:"principalId"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
}

// ServicePrincipals calls /api/servicePrincipals.
type ServicePrincipals struct{ c *Client }

// ServicePrincipals returns the service principal calls.
func (c *Client) ServicePrincipals() ServicePrincipals { return ServicePrincipals{c} }

func spPath(appID string) string { return "/api/servicePrincipals/" + seg(appID) }

// Create creates a service principal, and role assignments when in has a
// role and scopes.
func (s ServicePrincipals) Create(ctx context.Context, in ServicePrincipalCreate) (ServicePrincipalSecret, error) {
	var out ServicePrincipalSecret
	err := s.c.Do(ctx, "POST", "/api/servicePrincipals", in, &out)
	return out, err
}

// Get returns the service principal of appID.
func (s ServicePrincipals) Get(ctx context.Context, appID string) (ServicePrincipal, error) {
	var out ServicePrincipal
	err := s.c.Do(ctx, "GET", spPath(appID), nil, &out)
	return out, err
}

// List returns the service principals.
func (s ServicePrincipals) List(ctx context.Context) ([]ServicePrincipal, error) {
	return getList[ServicePrincipal](ctx, s.c, "/api/servicePrincipals")
}

// Update merges in into the properties of the service principal of appID
// (PATCH).
func (s ServicePrincipals) Update(ctx context.Context, appID string, in ServicePrincipalUpdate) (ServicePrincipal, error) {
	body := struct {
		Properties ServicePrincipalUpdate `json:"properties"`
	}{in}
	var out ServicePrincipal
	err := s.c.Do(ctx, "PATCH", spPath(appID), body, &out)
	return out, err
}

// ResetCredential replaces the secrets of appID with a new one valid for
// years (0: the server's default); the old ones stop working at once.
func (s ServicePrincipals) ResetCredential(ctx context.Context, appID string, years int) (ServicePrincipalSecret, error) {
	body := struct {
		Years int `json:"years,omitempty"`
	}{years}
	var out ServicePrincipalSecret
	err := s.c.Do(ctx, "POST", spPath(appID)+"/resetCredential", body, &out)
	return out, err
}

// Delete deletes the service principal of appID.
func (s ServicePrincipals) Delete(ctx context.Context, appID string) error {
	return s.c.Do(ctx, "DELETE", spPath(appID), nil, nil)
}
