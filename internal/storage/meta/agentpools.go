package meta

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// AgentPool is a dedicated agent pool: agents that run one registry's
// runs only, from an egress address of their own, and reach the registry
// through one of its private endpoints when the pool names one. (Public
// pools are the server's configuration, not records.)
type AgentPool struct {
	ID         int64
	RegistryID int64
	Registry   string // the registry's name, filled in by reads
	Name       string
	Count      int // how many agents the server runs for the pool
	// PrivateEndpointID is the endpoint its agents connect through; 0:
	// none, they reach the registry's login server. PrivateEndpoint and
	// EndpointAddress and EndpointState are that endpoint's, filled in by
	// reads.
	PrivateEndpointID int64
	PrivateEndpoint   string
	EndpointAddress   string
	EndpointState     string
	// Egress is the address allotted to the pool when it was created,
	// which its agents leave from when it has no private endpoint.
	Egress string
	// TokenHash finds the pool from the token its agents present; Token
	// is the token sealed by the caller, for the server's own agents.
	TokenHash string
	Token     []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

const agentPoolCols = `p.id, p.registry_id, r.name, p.name, p.agent_count, COALESCE(p.private_endpoint_id, 0),
	COALESCE(e.name, ''), COALESCE(e.address, ''), COALESCE(e.state, ''), p.egress, p.token_hash, p.token,
	p.created_at, p.updated_at`

const agentPoolFrom = ` FROM agent_pools p JOIN registries r ON r.id = p.registry_id
	LEFT JOIN private_endpoints e ON e.id = p.private_endpoint_id`

func scanAgentPool(sc interface{ Scan(...any) error }) (AgentPool, error) {
	var p AgentPool
	var c, u int64
	err := sc.Scan(&p.ID, &p.RegistryID, &p.Registry, &p.Name, &p.Count, &p.PrivateEndpointID, &p.PrivateEndpoint,
		&p.EndpointAddress, &p.EndpointState, &p.Egress, &p.TokenHash, &p.Token, &c, &u)
	p.CreatedAt, p.UpdatedAt = fromNanos(c), fromNanos(u)
	return p, err
}

// AgentPools lists every dedicated agent pool of every registry.
func (q reads) AgentPools(ctx context.Context) ([]AgentPool, error) {
	return q.agentPools(ctx, `1 = 1`)
}

// RegistryAgentPools lists a registry's dedicated agent pools by name.
func (q reads) RegistryAgentPools(ctx context.Context, registryID int64) ([]AgentPool, error) {
	return q.agentPools(ctx, `p.registry_id = ?`, registryID)
}

// EndpointAgentPools lists the pools that connect through an endpoint.
func (q reads) EndpointAgentPools(ctx context.Context, endpointID int64) ([]AgentPool, error) {
	return q.agentPools(ctx, `p.private_endpoint_id = ?`, endpointID)
}

func (q reads) agentPools(ctx context.Context, where string, args ...any) ([]AgentPool, error) {
	rows, err := q.c.query(ctx, `SELECT `+agentPoolCols+agentPoolFrom+` WHERE `+where+` ORDER BY r.name, p.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AgentPool
	for rows.Next() {
		p, err := scanAgentPool(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AgentPool looks one of a registry's dedicated pools up by name.
func (q reads) AgentPool(ctx context.Context, registryID int64, name string) (AgentPool, error) {
	p, err := scanAgentPool(q.c.queryRow(ctx, `SELECT `+agentPoolCols+agentPoolFrom+` WHERE p.registry_id = ? AND p.name = ?`,
		registryID, name))
	return p, notFound(err)
}

// AgentPoolByTokenHash finds the pool whose token hashes to hash.
func (q reads) AgentPoolByTokenHash(ctx context.Context, hash string) (AgentPool, error) {
	p, err := scanAgentPool(q.c.queryRow(ctx, `SELECT `+agentPoolCols+agentPoolFrom+` WHERE p.token_hash = ?`, hash))
	return p, notFound(err)
}

// CreateAgentPool adds a dedicated pool; its ID and times are filled in.
// A name the registry already has, or an egress address or token hash
// another pool has, is ErrConflict.
func (tx *Tx) CreateAgentPool(ctx context.Context, p *AgentPool) error {
	p.CreatedAt, p.UpdatedAt = tx.now.UTC(), tx.now.UTC()
	err := tx.c.queryRow(ctx, `INSERT INTO agent_pools (registry_id, name, agent_count, private_endpoint_id, egress,
		token_hash, token, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		p.RegistryID, p.Name, p.Count, endpointRef(p.PrivateEndpointID), p.Egress, p.TokenHash, p.Token,
		nanos(p.CreatedAt), nanos(p.UpdatedAt)).Scan(&p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrConflict
	}
	if err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// UpdateAgentPool sets a pool's agent count and private endpoint (0: none).
func (tx *Tx) UpdateAgentPool(ctx context.Context, id int64, count int, endpointID int64) error {
	res, err := tx.c.exec(ctx, `UPDATE agent_pools SET agent_count = ?, private_endpoint_id = ?, updated_at = ? WHERE id = ?`,
		count, endpointRef(endpointID), nanos(tx.now), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return BumpRegistries(ctx, tx)
}

// DeleteAgentPool removes a pool.
func (tx *Tx) DeleteAgentPool(ctx context.Context, id int64) error {
	res, err := tx.c.exec(ctx, `DELETE FROM agent_pools WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return BumpRegistries(ctx, tx)
}

// LiveRunsOfPool lists up to n runs of pool (as runs name it) that have
// not ended, oldest first.
func (q reads) LiveRunsOfPool(ctx context.Context, pool string, n int) ([]Run, error) {
	return q.runs(ctx, `u.agent_pool = ? AND u.status IN (?, ?, ?) ORDER BY u.id LIMIT ?`,
		pool, RunQueued, RunStarted, RunRunning, limit(n))
}

// endpointRef is an endpoint key as the column holds it: NULL for none.
func endpointRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
