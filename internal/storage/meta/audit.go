package meta

import (
	"context"
	"encoding/json"
	"time"
)

// The audit of the network perimeter: requests a registry's network rules
// refused, and who changed those rules. Both go with their registry.

// NetworkDenial is one data-plane request the network gate refused.
type NetworkDenial struct {
	ID         int64
	RegistryID int64
	Registry   string // the registry's name: written to check the id still names it, filled in by reads
	At         time.Time
	ClientIP   string
	Identity   string // who the request's token named, when it had one
	Method     string
	Path       string
	Reason     string
}

// NetworkChange is one change of a registry's network settings.
type NetworkChange struct {
	ID         int64
	RegistryID int64
	Registry   string // filled in by reads
	At         time.Time
	// Who made the change, as they were then: the name stays readable after
	// the principal is deleted.
	PrincipalID   string
	PrincipalName string
	PrincipalKind string
	// Change describes what changed, as a JSON object the caller composes.
	Change string
}

// AddNetworkDenials records denials. A denial whose registry was deleted
// since (its id no longer names a registry of its name) is skipped, so one
// stale record cannot lose the others of a batch.
func (tx *Tx) AddNetworkDenials(ctx context.Context, ds []NetworkDenial) error {
	for _, d := range ds {
		_, err := tx.c.exec(ctx, `INSERT INTO network_denials (registry_id, at, client_ip, identity, method, path, reason)
			SELECT id, ?, ?, ?, ?, ?, ? FROM registries WHERE id = ? AND name = ?`,
			nanos(d.At), d.ClientIP, d.Identity, d.Method, d.Path, d.Reason, d.RegistryID, d.Registry)
		if err != nil {
			return err
		}
	}
	return nil
}

// NetworkDenials lists a registry's denials at or after since, newest
// first, at most n of them (n <= 0: all).
func (q reads) NetworkDenials(ctx context.Context, registryID int64, since time.Time, n int) ([]NetworkDenial, error) {
	rows, err := q.c.query(ctx, `SELECT d.id, d.registry_id, r.name, d.at, d.client_ip, d.identity, d.method, d.path, d.reason
		FROM network_denials d JOIN registries r ON r.id = d.registry_id
		WHERE d.registry_id = ? AND d.at >= ? ORDER BY d.at DESC, d.id DESC LIMIT ?`,
		registryID, sinceNanos(since), limit(n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NetworkDenial
	for rows.Next() {
		var d NetworkDenial
		var at int64
		if err := rows.Scan(&d.ID, &d.RegistryID, &d.Registry, &at, &d.ClientIP, &d.Identity, &d.Method, &d.Path, &d.Reason); err != nil {
			return nil, err
		}
		d.At = fromNanos(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PruneNetworkDenials removes the denials older than before, then, of each
// registry, all but the keepPerRegistry newest (keepPerRegistry <= 0: no
// such bound). It returns how many it removed.
func (tx *Tx) PruneNetworkDenials(ctx context.Context, before time.Time, keepPerRegistry int) (int64, error) {
	res, err := tx.c.exec(ctx, `DELETE FROM network_denials WHERE at < ?`, nanos(before))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if keepPerRegistry <= 0 {
		return n, nil
	}
	res, err = tx.c.exec(ctx, `DELETE FROM network_denials WHERE id IN (
		SELECT id FROM (
			SELECT id, ROW_NUMBER() OVER (PARTITION BY registry_id ORDER BY at DESC, id DESC) AS rank
			FROM network_denials) ranked
		WHERE rank > ?)`, keepPerRegistry)
	if err != nil {
		return n, err
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// changePrincipal is how the principal column holds who made a change.
type changePrincipal struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// AddNetworkChange records a change of a registry's network settings, at
// the transaction's time; c.ID and c.At are filled in.
func (tx *Tx) AddNetworkChange(ctx context.Context, c *NetworkChange) error {
	c.At = tx.now.UTC()
	who, _ := json.Marshal(changePrincipal{ID: c.PrincipalID, Name: c.PrincipalName, Kind: c.PrincipalKind})
	return tx.c.queryRow(ctx, `INSERT INTO network_changes (registry_id, at, principal, change) VALUES (?, ?, ?, ?) RETURNING id`,
		c.RegistryID, nanos(c.At), string(who), c.Change).Scan(&c.ID)
}

// NetworkChanges lists the changes of a registry's network settings at or
// after since, newest first, at most n of them (n <= 0: all).
func (q reads) NetworkChanges(ctx context.Context, registryID int64, since time.Time, n int) ([]NetworkChange, error) {
	rows, err := q.c.query(ctx, `SELECT c.id, c.registry_id, r.name, c.at, c.principal, c.change
		FROM network_changes c JOIN registries r ON r.id = c.registry_id
		WHERE c.registry_id = ? AND c.at >= ? ORDER BY c.at DESC, c.id DESC LIMIT ?`,
		registryID, sinceNanos(since), limit(n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NetworkChange
	for rows.Next() {
		var c NetworkChange
		var at int64
		var who string
		if err := rows.Scan(&c.ID, &c.RegistryID, &c.Registry, &at, &who, &c.Change); err != nil {
			return nil, err
		}
		c.At = fromNanos(at)
		var p changePrincipal
		json.Unmarshal([]byte(who), &p) // a bad record still lists, without its author
		c.PrincipalID, c.PrincipalName, c.PrincipalKind = p.ID, p.Name, p.Kind
		out = append(out, c)
	}
	return out, rows.Err()
}

// sinceNanos is since as stored; the zero time is the beginning.
func sinceNanos(since time.Time) int64 {
	if since.IsZero() {
		return -1 << 63
	}
	return nanos(since)
}
