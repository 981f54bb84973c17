package client

import (
	"context"
	"time"
)

// PrivateEndpointConnection is a registry's private endpoint: an address
// the server listens on, for that registry alone, while it is approved.
type PrivateEndpointConnection struct {
	ID         string                              `json:"id"`
	Name       string                              `json:"name"`
	Type       string                              `json:"type"`
	Properties PrivateEndpointConnectionProperties `json:"properties"`
}

// PrivateEndpointConnectionProperties are a connection's properties.
type PrivateEndpointConnectionProperties struct {
	Address         string          `json:"address"` // HOST:PORT
	ConnectionState ConnectionState `json:"privateLinkServiceConnectionState"`
	CreatedAt       time.Time       `json:"createdAt,omitzero"`
}

// ConnectionState is where a connection stands, and why.
type ConnectionState struct {
	Status      string `json:"status"` // one of the Connection* values
	Description string `json:"description"`
}

// Values of ConnectionState.Status.
const (
	ConnectionPending      = "Pending"
	ConnectionApproved     = "Approved"
	ConnectionRejected     = "Rejected"
	ConnectionDisconnected = "Disconnected"
)

// PrivateEndpoints calls /api/registries/{r}/privateEndpointConnections.
type PrivateEndpoints struct {
	c        *Client
	registry string
}

// PrivateEndpoints returns the private endpoint calls of registry.
func (c *Client) PrivateEndpoints(registry string) PrivateEndpoints {
	return PrivateEndpoints{c, registry}
}

func (p PrivateEndpoints) path(name string) string {
	s := registryPath(p.registry) + "/privateEndpointConnections"
	if name != "" {
		s += "/" + seg(name)
	}
	return s
}

// Create creates connection name, Pending, at address (HOST:PORT); a name
// or address that is taken is a Conflict.
func (p PrivateEndpoints) Create(ctx context.Context, name, address, description string) (PrivateEndpointConnection, error) {
	type props struct {
		Address     string `json:"address"`
		Description string `json:"description,omitempty"`
	}
	body := struct {
		Properties props `json:"properties"`
	}{props{address, description}}
	var out PrivateEndpointConnection
	err := p.c.Do(ctx, "PUT", p.path(name), body, &out)
	return out, err
}

// Get returns connection name.
func (p PrivateEndpoints) Get(ctx context.Context, name string) (PrivateEndpointConnection, error) {
	var out PrivateEndpointConnection
	err := p.c.Do(ctx, "GET", p.path(name), nil, &out)
	return out, err
}

// List returns the registry's connections.
func (p PrivateEndpoints) List(ctx context.Context) ([]PrivateEndpointConnection, error) {
	return getList[PrivateEndpointConnection](ctx, p.c, p.path(""))
}

// Approve approves connection name: the server starts listening on its
// address. A nil description leaves the connection's as it is.
func (p PrivateEndpoints) Approve(ctx context.Context, name string, description *string) (PrivateEndpointConnection, error) {
	return p.decide(ctx, name, "approve", description)
}

// Reject rejects connection name: the server stops listening on its
// address and ends the connections open there.
func (p PrivateEndpoints) Reject(ctx context.Context, name string, description *string) (PrivateEndpointConnection, error) {
	return p.decide(ctx, name, "reject", description)
}

func (p PrivateEndpoints) decide(ctx context.Context, name, verb string, description *string) (PrivateEndpointConnection, error) {
	var body any
	if description != nil {
		body = struct {
			Description string `json:"description"`
		}{*description}
	}
	var out PrivateEndpointConnection
	err := p.c.Do(ctx, "POST", p.path(name)+"/"+verb, body, &out)
	return out, err
}

// Delete deletes connection name; the server stops listening on its address.
func (p PrivateEndpoints) Delete(ctx context.Context, name string) error {
	return p.c.Do(ctx, "DELETE", p.path(name), nil, nil)
}
