package client

import (
	"context"
	"time"
)

// Registry is a registry as the management API gives it.
type Registry struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Location   string             `json:"location,omitempty"`
	Properties RegistryProperties `json:"properties"`
}

// RegistryProperties are a registry's properties.
type RegistryProperties struct {
	LoginServer       string    `json:"loginServer,omitempty"` // "" when the registry is reached only as the server's default
	AdminUserEnabled  bool      `json:"adminUserEnabled"`
	AnonymousPull     bool      `json:"anonymousPullEnabled"`
	CreatedAt         time.Time `json:"createdAt,omitzero"`
	ProvisioningState string    `json:"provisioningState,omitempty"`

	// The network perimeter (see docs/network.md); an older server that
	// sends none leaves them empty.
	PublicNetworkAccess              string          `json:"publicNetworkAccess,omitempty"` // "Enabled" or "Disabled"
	NetworkRuleSet                   *NetworkRuleSet `json:"networkRuleSet,omitempty"`
	NetworkRuleBypassOptions         string          `json:"networkRuleBypassOptions,omitempty"` // "AzureServices" or "None"
	NetworkRuleBypassAllowedForTasks bool            `json:"networkRuleBypassAllowedForTasks"`

	// PrivateEndpointConnections are the registry's private endpoints.
	PrivateEndpointConnections []PrivateEndpointConnection `json:"privateEndpointConnections,omitempty"`
}

// NetworkRuleSet is what a registry lets through when its public network
// access is enabled: the IP rules, and the default action for addresses no
// rule names.
type NetworkRuleSet struct {
	DefaultAction string   `json:"defaultAction"` // "Allow" or "Deny"
	IPRules       []IPRule `json:"ipRules"`
}

// IPRule lets an IPv4 address or CIDR through; the server normalises Value.
type IPRule struct {
	Action string `json:"action"` // "Allow"
	Value  string `json:"value"`
}

// Values of the network properties.
const (
	PublicNetworkEnabled  = "Enabled"
	PublicNetworkDisabled = "Disabled"
	ActionAllow           = "Allow"
	ActionDeny            = "Deny"
	BypassAzureServices   = "AzureServices"
	BypassNone            = "None"
)

// RegistryCreate is what Registries.Create sends.
type RegistryCreate struct {
	Location         string // "" lets the server choose
	LoginServer      string // "" lets the server choose (<name>.<domain>, or none)
	AdminUserEnabled bool
}

// RegistryUpdate is what Registries.Update merges; nil fields are left as
// they are.
type RegistryUpdate struct {
	AdminUserEnabled *bool `json:"adminUserEnabled,omitempty"`
	AnonymousPull    *bool `json:"anonymousPullEnabled,omitempty"`

	PublicNetworkAccess              string                `json:"publicNetworkAccess,omitempty"` // "" leaves it
	NetworkRuleSet                   *NetworkRuleSetUpdate `json:"networkRuleSet,omitempty"`
	NetworkRuleBypassOptions         string                `json:"networkRuleBypassOptions,omitempty"` // "" leaves it
	NetworkRuleBypassAllowedForTasks *bool                 `json:"networkRuleBypassAllowedForTasks,omitempty"`
}

// NetworkRuleSetUpdate is the networkRuleSet of a RegistryUpdate: ""
// leaves the default action as it is, nil IPRules leaves the rules, and a
// non-nil IPRules (even empty) replaces the whole list.
type NetworkRuleSetUpdate struct {
	DefaultAction string   `json:"defaultAction,omitempty"`
	IPRules       []IPRule `json:"ipRules,omitzero"`
}

// AdminCredentials are a registry's admin user and its two passwords.
type AdminCredentials struct {
	Username  string     `json:"username"`
	Passwords []Password `json:"passwords"`
}

// Registries calls /api/registries.
type Registries struct{ c *Client }

// Registries returns the registry calls.
func (c *Client) Registries() Registries { return Registries{c} }

func registryPath(name string) string { return "/api/registries/" + seg(name) }

// Create creates registry name (PUT); an existing name is a Conflict.
func (r Registries) Create(ctx context.Context, name string, in RegistryCreate) (Registry, error) {
	type props struct {
		LoginServer      string `json:"loginServer,omitempty"`
		AdminUserEnabled bool   `json:"adminUserEnabled"`
	}
	body := struct {
		Location   string `json:"location,omitempty"`
		Properties props  `json:"properties"`
	}{in.Location, props{in.LoginServer, in.AdminUserEnabled}}
	var out Registry
	err := r.c.Do(ctx, "PUT", registryPath(name), body, &out)
	return out, err
}

// Get returns registry name.
func (r Registries) Get(ctx context.Context, name string) (Registry, error) {
	var out Registry
	err := r.c.Do(ctx, "GET", registryPath(name), nil, &out)
	return out, err
}

// List returns the registries the caller may read.
func (r Registries) List(ctx context.Context) ([]Registry, error) {
	return getList[Registry](ctx, r.c, "/api/registries")
}

// Update merges in into registry name's properties (PATCH).
func (r Registries) Update(ctx context.Context, name string, in RegistryUpdate) (Registry, error) {
	body := struct {
		Properties RegistryUpdate `json:"properties"`
	}{in}
	var out Registry
	err := r.c.Do(ctx, "PATCH", registryPath(name), body, &out)
	return out, err
}

// Delete deletes registry name with all its content.
func (r Registries) Delete(ctx context.Context, name string) error {
	return r.c.Do(ctx, "DELETE", registryPath(name), nil, nil)
}

// ListCredentials returns the admin user's credentials; the server refuses
// while the admin user is disabled.
func (r Registries) ListCredentials(ctx context.Context, name string) (AdminCredentials, error) {
	var out AdminCredentials
	err := r.c.Do(ctx, "POST", registryPath(name)+"/listCredentials", nil, &out)
	return out, err
}

// RegenerateCredential makes a new value for the admin password
// passwordName ("password" or "password2") and returns the credentials.
func (r Registries) RegenerateCredential(ctx context.Context, name, passwordName string) (AdminCredentials, error) {
	var out AdminCredentials
	err := r.c.Do(ctx, "POST", registryPath(name)+"/regenerateCredential", map[string]string{"name": passwordName}, &out)
	return out, err
}
