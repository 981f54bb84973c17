package client

import (
	"context"
	"time"
)

// Token is a registry token: a user name (its name) and two passwords whose
// rights are its scope map's.
type Token struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Properties TokenProperties `json:"properties"`
}

// TokenProperties are a token's properties. Credentials lists its passwords
// (names, creation times and expiries; the user name and the values only in
// the answer to Create).
type TokenProperties struct {
	ScopeMapID  string            `json:"scopeMapId"`
	Status      string            `json:"status"` // "enabled" or "disabled"
	CreatedAt   time.Time         `json:"createdAt,omitzero"`
	Credentials *TokenCredentials `json:"credentials,omitempty"`
}

// TokenCredentials are a token's user name and passwords.
type TokenCredentials struct {
	Username  string     `json:"username,omitempty"`
	Passwords []Password `json:"passwords,omitempty"`
}

// TokenUpdate is what Tokens.Update merges; empty fields are left as they
// are.
type TokenUpdate struct {
	Status     string `json:"status,omitempty"`
	ScopeMapID string `json:"scopeMapId,omitempty"`
}

// TokenPasswordRequest asks for a new value of one token password.
type TokenPasswordRequest struct {
	Name             string    `json:"name"`                       // "password1" or "password2"
	Expiry           time.Time `json:"expiry,omitzero"`            // zero: no expiry (unless ExpirationInDays)
	ExpirationInDays int       `json:"expirationInDays,omitempty"` // 0: no expiry (unless Expiry)
}

// Tokens calls /api/registries/{r}/tokens.
type Tokens struct {
	c        *Client
	registry string
}

// Tokens returns the token calls of registry.
func (c *Client) Tokens(registry string) Tokens { return Tokens{c, registry} }

func (t Tokens) path(name string) string {
	p := registryPath(t.registry) + "/tokens"
	if name != "" {
		p += "/" + seg(name)
	}
	return p
}

// Create creates token name with scopeMap and status ("" lets the server
// choose, enabled); an existing token is a Conflict. The answer carries
// both passwords in Properties.Credentials, the only time they are shown.
func (t Tokens) Create(ctx context.Context, name, scopeMap, status string) (Token, error) {
	body := struct {
		Properties TokenUpdate `json:"properties"`
	}{TokenUpdate{ScopeMapID: scopeMap, Status: status}}
	var out Token
	err := t.c.Do(ctx, "PUT", t.path(name), body, &out)
	return out, err
}

// Get returns token name, without password values.
func (t Tokens) Get(ctx context.Context, name string) (Token, error) {
	var out Token
	err := t.c.Do(ctx, "GET", t.path(name), nil, &out)
	return out, err
}

// List returns the registry's tokens.
func (t Tokens) List(ctx context.Context) ([]Token, error) {
	return getList[Token](ctx, t.c, t.path(""))
}

// Update changes token name's status or scope map (PATCH).
func (t Tokens) Update(ctx context.Context, name string, in TokenUpdate) (Token, error) {
	body := struct {
		Properties TokenUpdate `json:"properties"`
	}{in}
	var out Token
	err := t.c.Do(ctx, "PATCH", t.path(name), body, &out)
	return out, err
}

// GenerateCredential makes a new value for one password of token name; the
// old value stops working at once.
func (t Tokens) GenerateCredential(ctx context.Context, name string, in TokenPasswordRequest) (TokenCredentials, error) {
	var out TokenCredentials
	err := t.c.Do(ctx, "POST", t.path(name)+"/generateCredentials", in, &out)
	return out, err
}

// Delete deletes token name.
func (t Tokens) Delete(ctx context.Context, name string) error {
	return t.c.Do(ctx, "DELETE", t.path(name), nil, nil)
}
