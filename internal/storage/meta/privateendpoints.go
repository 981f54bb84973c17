package meta

import (
	"context"
	"database/sql"
	"time"
)

// Connection states of a private endpoint.
const (
	EndpointPending      = "Pending"
	EndpointApproved     = "Approved"
	EndpointRejected     = "Rejected"
	EndpointDisconnected = "Disconnected"
)

// PrivateEndpoint is a listener bound to one registry: traffic that arrives
// on it while it is approved reaches only that registry, as private-link
// traffic.
type PrivateEndpoint struct {
	ID          int64
	RegistryID  int64
	Registry    string // the registry's name, filled in by reads
	Name        string
	Address     string // host:port the listener binds
	State       string // Endpoint*
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const endpointCols = `e.id, e.registry_id, r.name, e.name, e.address, e.state, e.description, e.created_at, e.updated_at`

func scanEndpoint(sc interface{ Scan(...any) error }) (PrivateEndpoint, error) {
	var e PrivateEndpoint
	var c, u int64
	err := sc.Scan(&e.ID, &e.RegistryID, &e.Registry, &e.Name, &e.Address, &e.State, &e.Description, &c, &u)
	e.CreatedAt, e.UpdatedAt = fromNanos(c), fromNanos(u)
	return e, err
}

// PrivateEndpoints lists every private endpoint of every registry.
func (q reads) PrivateEndpoints(ctx context.Context) ([]PrivateEndpoint, error) {
	return q.endpoints(ctx, `1 = 1`)
}

// RegistryPrivateEndpoints lists a registry's private endpoints by name.
func (q reads) RegistryPrivateEndpoints(ctx context.Context, registryID int64) ([]PrivateEndpoint, error) {
	return q.endpoints(ctx, `e.registry_id = ?`, registryID)
}

func (q reads) endpoints(ctx context.Context, where string, args ...any) ([]PrivateEndpoint, error) {
	rows, err := q.c.query(ctx, `SELECT `+endpointCols+` FROM private_endpoints e
		JOIN registries r ON r.id = e.registry_id WHERE `+where+` ORDER BY r.name, e.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PrivateEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PrivateEndpoint looks one of a registry's private endpoints up by name.
func (q reads) PrivateEndpoint(ctx context.Context, registryID int64, name string) (PrivateEndpoint, error) {
	e, err := scanEndpoint(q.c.queryRow(ctx, `SELECT `+endpointCols+` FROM private_endpoints e
		JOIN registries r ON r.id = e.registry_id WHERE e.registry_id = ? AND e.name = ?`, registryID, name))
	return e, notFound(err)
}

// CreatePrivateEndpoint adds a private endpoint; its ID and times are
// filled in. A name the registry already has, or an address any endpoint
// already has, is ErrConflict.
func (tx *Tx) CreatePrivateEndpoint(ctx context.Context, e *PrivateEndpoint) error {
	e.CreatedAt, e.UpdatedAt = tx.now.UTC(), tx.now.UTC()
	err := tx.c.queryRow(ctx, `INSERT INTO private_endpoints (registry_id, name, address, state, description, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		e.RegistryID, e.Name, e.Address, e.State, e.Description, nanos(e.CreatedAt), nanos(e.UpdatedAt)).Scan(&e.ID)
	if err == sql.ErrNoRows {
		return ErrConflict
	}
	if err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// SetPrivateEndpointState changes the connection state of an endpoint.
func (tx *Tx) SetPrivateEndpointState(ctx context.Context, id int64, state, description string) error {
	if err := tx.changeOne(ctx, `UPDATE private_endpoints SET state = ?, description = ?, updated_at = ? WHERE id = ?`,
		state, description, nanos(tx.now), id); err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// DeletePrivateEndpoint removes an endpoint.
func (tx *Tx) DeletePrivateEndpoint(ctx context.Context, id int64) error {
	if err := tx.changeOne(ctx, `DELETE FROM private_endpoints WHERE id = ?`, id); err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}
