package mgmt

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/agentpool"
	"github.com/berth-project/berth/internal/netrules"
	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Dedicated agent pools of a registry: agents the server runs for that
// registry's runs alone, each pool with its own token and egress address,
// reaching the registry through one of its private endpoints when the
// pool names one. Reads need manage read on the registry, changes manage
// write. The server starts and stops the agents to follow the stored
// pools; this file only validates and stores. A pool's token is never
// shown: only the server's own agents hold it.

type agentPoolProps struct {
	Kind            string    `json:"kind"`
	Count           int       `json:"count"`
	PrivateEndpoint string    `json:"privateEndpoint"`
	Location        string    `json:"location"`
	EgressPrefixes  []string  `json:"egressPrefixes"`
	CreatedAt       time.Time `json:"createdAt"`
}

func agentPoolResource(reg meta.Registry, p meta.AgentPool) resource {
	return resource{ID: "/registries/" + reg.Name + "/agentPools/" + p.Name, Name: p.Name, Type: "agentPools",
		Properties: agentPoolProps{Kind: netrules.PoolDedicated, Count: p.Count, PrivateEndpoint: p.PrivateEndpoint,
			Location: reg.Location, EgressPrefixes: agentpool.EgressPrefixes(p), CreatedAt: p.CreatedAt}}
}

// agentPool looks up the pool a path names.
func (a *API) agentPool(ctx context.Context, reg meta.Registry, name string) (meta.AgentPool, error) {
	p, err := a.db.AgentPool(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return p, notFound("agent pool %q of registry %q not found", name, reg.Name)
	}
	return p, err
}

// poolEndpoint looks up the private endpoint connection a pool is to use.
func (a *API) poolEndpoint(ctx context.Context, reg meta.Registry, name string) (meta.PrivateEndpoint, error) {
	e, err := a.db.PrivateEndpoint(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return e, invalid("properties.privateEndpoint %q: registry %q has no private endpoint connection of that name; create it first (berth private-endpoint create)", name, reg.Name)
	}
	return e, err
}

func checkCount(n int) error {
	if n < 0 || n > agentpool.MaxCount {
		return invalid("properties.count %d: give 0 to %d agents", n, agentpool.MaxCount)
	}
	return nil
}

func (a *API) createAgentPool(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Properties *struct {
			Count           *int   `json:"count"`
			PrivateEndpoint string `json:"privateEndpoint"`
		} `json:"properties"`
	}
	if err := decode(r, &body, true); err != nil {
		return err
	}
	name := r.PathValue("pool")
	if !agentpool.ValidName(name) {
		return invalid("name %q: an agent pool name is 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	for _, p := range a.pools {
		if p.Name == name {
			return conflict("agent pool %q: the server has a public pool of that name; choose another name", name)
		}
	}
	ctx := r.Context()
	p := meta.AgentPool{RegistryID: reg.ID, Registry: reg.Name, Name: name, Count: 1}
	if body.Properties != nil {
		if body.Properties.Count != nil {
			p.Count = *body.Properties.Count
		}
		if pe := body.Properties.PrivateEndpoint; pe != "" {
			e, err := a.poolEndpoint(ctx, reg, pe)
			if err != nil {
				return err
			}
			p.PrivateEndpointID, p.PrivateEndpoint, p.EndpointAddress, p.EndpointState = e.ID, e.Name, e.Address, e.State
		}
	}
	if err := checkCount(p.Count); err != nil {
		return err
	}
	token, hash := agentpool.NewToken()
	p.TokenHash, p.Token = hash, a.ids.Sealer().Seal([]byte(token), agentpool.TokenLabel(reg.ID, name))
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		if _, err := tx.AgentPool(ctx, reg.ID, name); err == nil {
			return meta.ErrConflict
		}
		all, err := tx.AgentPools(ctx)
		if err != nil {
			return err
		}
		ip, ok := agentpool.Allocate(a.poolEgress, all)
		if !ok {
			return conflict("agent pool %q: every egress address of %s is taken by another pool", name, a.poolEgress)
		}
		p.Egress = ip.String()
		return tx.CreateAgentPool(ctx, &p)
	})
	if errors.Is(err, meta.ErrConflict) {
		return conflict("agent pool %q of registry %q already exists", name, reg.Name)
	}
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return created(w, agentPoolResource(reg, p))
}

func (a *API) listAgentPools(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	ps, err := a.db.RegistryAgentPools(r.Context(), reg.ID)
	if err != nil {
		return err
	}
	out := []resource{}
	for _, p := range ps {
		out = append(out, agentPoolResource(reg, p))
	}
	return ok(w, newList(out))
}

func (a *API) showAgentPool(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	p, err := a.agentPool(r.Context(), reg, r.PathValue("pool"))
	if err != nil {
		return err
	}
	return ok(w, agentPoolResource(reg, p))
}

// updateAgentPool changes the count, the endpoint, or both; an empty
// privateEndpoint detaches the pool from its endpoint.
func (a *API) updateAgentPool(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Properties *struct {
			Count           *int    `json:"count"`
			PrivateEndpoint *string `json:"privateEndpoint"`
		} `json:"properties"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Properties == nil {
		return invalid("properties: give count, privateEndpoint, or both")
	}
	ctx := r.Context()
	p, err := a.agentPool(ctx, reg, r.PathValue("pool"))
	if err != nil {
		return err
	}
	if n := body.Properties.Count; n != nil {
		if err := checkCount(*n); err != nil {
			return err
		}
		p.Count = *n
	}
	if pe := body.Properties.PrivateEndpoint; pe != nil {
		p.PrivateEndpointID, p.PrivateEndpoint, p.EndpointAddress, p.EndpointState = 0, "", "", ""
		if *pe != "" {
			e, err := a.poolEndpoint(ctx, reg, *pe)
			if err != nil {
				return err
			}
			p.PrivateEndpointID, p.PrivateEndpoint, p.EndpointAddress, p.EndpointState = e.ID, e.Name, e.Address, e.State
		}
	}
	err = a.db.Update(ctx, func(tx *meta.Tx) error { return tx.UpdateAgentPool(ctx, p.ID, p.Count, p.PrivateEndpointID) })
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("agent pool %q of registry %q not found", p.Name, reg.Name)
	}
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return ok(w, agentPoolResource(reg, p))
}

// deleteAgentPool deletes a pool that holds no run that has not ended:
// its agents stop, and such runs would wait for ever.
func (a *API) deleteAgentPool(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.authorizedRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p, err := a.agentPool(ctx, reg, r.PathValue("pool"))
	if err != nil {
		return err
	}
	err = a.db.Update(ctx, func(tx *meta.Tx) error {
		live, err := tx.LiveRunsOfPool(ctx, runs.DedicatedPoolKey(reg.Name, p.Name), 5)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			var ids []string
			for _, run := range live {
				ids = append(ids, run.RunID)
			}
			return conflict("agent pool %q of registry %q has runs that have not ended (%s): cancel them (berth task cancel-run) or wait for them to end",
				p.Name, reg.Name, strings.Join(ids, ", "))
		}
		return tx.DeleteAgentPool(ctx, p.ID)
	})
	if errors.Is(err, meta.ErrNotFound) {
		return notFound("agent pool %q of registry %q not found", p.Name, reg.Name)
	}
	if err != nil {
		return err
	}
	if err := a.registriesChanged(ctx); err != nil {
		return err
	}
	return noContent(w)
}

// poolsUsing names the pools that reach the registry through endpoint e,
// which must not be deleted while they do.
func poolsUsing(ctx context.Context, tx *meta.Tx, e meta.PrivateEndpoint) error {
	ps, err := tx.EndpointAgentPools(ctx, e.ID)
	if err != nil || len(ps) == 0 {
		return err
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return conflict("private endpoint connection %q of registry %q is used by the agent pool %s: detach it first (berth agentpool update --private-endpoint \"\")",
		e.Name, e.Registry, strings.Join(names, ", "))
}
