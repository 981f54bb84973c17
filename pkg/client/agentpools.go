package client

import (
	"context"
	"time"
)

// AgentPool is a dedicated agent pool of a registry: agents that run that
// registry's runs alone, from egress addresses of their own, reaching it
// through one of its private endpoints when the pool names one.
type AgentPool struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Type       string              `json:"type"`
	Properties AgentPoolProperties `json:"properties"`
}

// AgentPoolProperties are a pool's properties.
type AgentPoolProperties struct {
	Kind  string `json:"kind"`  // "dedicated"
	Count int    `json:"count"` // agents the server runs for the pool
	// PrivateEndpoint names the registry's private endpoint connection the
	// pool's agents reach it through; "" when they reach its login server.
	PrivateEndpoint string    `json:"privateEndpoint"`
	Location        string    `json:"location"`
	EgressPrefixes  []string  `json:"egressPrefixes"` // where its agents' traffic comes from
	CreatedAt       time.Time `json:"createdAt,omitzero"`
}

// AgentPoolUpdate is what AgentPools.Update sends: nil fields are left as
// they are; an empty PrivateEndpoint detaches the pool from its endpoint.
type AgentPoolUpdate struct {
	Count           *int    `json:"count,omitempty"`
	PrivateEndpoint *string `json:"privateEndpoint,omitempty"`
}

// AgentPools calls /api/registries/{r}/agentPools.
type AgentPools struct {
	c        *Client
	registry string
}

// AgentPools returns the agent pool calls of registry.
func (c *Client) AgentPools(registry string) AgentPools { return AgentPools{c, registry} }

func (p AgentPools) path(name string) string {
	s := registryPath(p.registry) + "/agentPools"
	if name != "" {
		s += "/" + seg(name)
	}
	return s
}

// Create creates dedicated pool name with count agents (PUT), reaching the
// registry through private endpoint connection privateEndpoint when it is
// not empty; a name that is taken is a Conflict.
func (p AgentPools) Create(ctx context.Context, name string, count int, privateEndpoint string) (AgentPool, error) {
	type props struct {
		Count           int    `json:"count"`
		PrivateEndpoint string `json:"privateEndpoint,omitempty"`
	}
	body := struct {
		Properties props `json:"properties"`
	}{props{count, privateEndpoint}}
	var out AgentPool
	err := p.c.Do(ctx, "PUT", p.path(name), body, &out)
	return out, err
}

// Get returns pool name.
func (p AgentPools) Get(ctx context.Context, name string) (AgentPool, error) {
	var out AgentPool
	err := p.c.Do(ctx, "GET", p.path(name), nil, &out)
	return out, err
}

// List returns the registry's dedicated pools.
func (p AgentPools) List(ctx context.Context) ([]AgentPool, error) {
	return getList[AgentPool](ctx, p.c, p.path(""))
}

// Update changes pool name (PATCH).
func (p AgentPools) Update(ctx context.Context, name string, in AgentPoolUpdate) (AgentPool, error) {
	body := struct {
		Properties AgentPoolUpdate `json:"properties"`
	}{in}
	var out AgentPool
	err := p.c.Do(ctx, "PATCH", p.path(name), body, &out)
	return out, err
}

// Delete deletes pool name; the server stops its agents.
func (p AgentPools) Delete(ctx context.Context, name string) error {
	return p.c.Do(ctx, "DELETE", p.path(name), nil, nil)
}
