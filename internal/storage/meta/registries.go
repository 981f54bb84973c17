package meta

import (
	"context"
	"encoding/json"
)

// The reads and writes of a registry's lifecycle that the content and
// identity files do not offer: looking one up by name, and deleting one
// with everything in it.

// Registry looks a registry up by name.
func (q reads) Registry(ctx context.Context, name string) (Registry, error) {
	r := Registry{Name: name}
	var t int64
	var rules string
	err := q.c.queryRow(ctx, `SELECT id, login_server, location, anonymous_pull, `+networkCols+`, created_at
		FROM registries WHERE name = ?`, name).
		Scan(append(append([]any{&r.ID, &r.LoginServer, &r.Location, &r.AnonymousPull}, networkDest(&r.Network, &rules)...), &t)...)
	r.CreatedAt = fromNanos(t)
	json.Unmarshal([]byte(rules), &r.Network.IPRules)
	return r, notFound(err)
}

const networkCols = `public_network_access, default_action, ip_rules, bypass_trusted_services, bypass_for_tasks`

func networkDest(n *Network, rules *string) []any {
	return []any{&n.PublicNetworkAccess, &n.DefaultAction, rules, &n.BypassTrustedServices, &n.BypassForTasks}
}

// SetNetwork replaces a registry's network perimeter.
func (tx *Tx) SetNetwork(ctx context.Context, registryID int64, n Network) error {
	if n.IPRules == nil {
		n.IPRules = []string{}
	}
	rules, _ := json.Marshal(n.IPRules)
	if err := tx.changeOne(ctx, `UPDATE registries SET public_network_access = ?, default_action = ?, ip_rules = ?,
		bypass_trusted_services = ?, bypass_for_tasks = ? WHERE id = ?`,
		n.PublicNetworkAccess, n.DefaultAction, string(rules), n.BypassTrustedServices, n.BypassForTasks, registryID); err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// RegistriesVersion is a counter that every change to what the data plane
// routes and gates on increases: registries created or deleted, their
// network settings, their private endpoints. Replicas poll it and reload.
func (q reads) RegistriesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := q.c.queryRow(ctx, `SELECT version FROM registries_version`).Scan(&v)
	return v, err
}

// BumpRegistries increases the registries version in tx.
func BumpRegistries(ctx context.Context, tx *Tx) error {
	_, err := tx.c.exec(ctx, `UPDATE registries_version SET version = version + 1`)
	return err
}

// SetAnonymousPull turns anonymous pull of a registry on or off.
func (tx *Tx) SetAnonymousPull(ctx context.Context, registryID int64, on bool) error {
	if err := tx.changeOne(ctx, `UPDATE registries SET anonymous_pull = ? WHERE id = ?`, on, registryID); err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// RegistryUploads lists the ids of a registry's upload sessions, whose
// files the blob store holds.
func (q reads) RegistryUploads(ctx context.Context, registryID int64) ([]string, error) {
	rows, err := q.c.query(ctx, `SELECT id FROM uploads WHERE registry_id = ? ORDER BY id`, registryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteRegistry removes a registry with everything in it: repositories,
// manifests, tags, blob links, upload sessions, scope maps, tokens and its
// admin user go with it (the foreign keys cascade), and so do the role
// assignments at its scope or below ("/registries/<name>", and
// "/registries/<name>/…"), which name it by a path rather than a key: left
// behind, they would give their rights back to whoever later creates a
// registry of the same name. Blob records stay for garbage collection.
func (tx *Tx) DeleteRegistry(ctx context.Context, id int64) error {
	var name string
	if err := tx.c.queryRow(ctx, `SELECT name FROM registries WHERE id = ?`, id).Scan(&name); err != nil {
		return notFound(err)
	}
	scope := "/registries/" + name
	if _, err := tx.c.exec(ctx, `DELETE FROM role_assignments WHERE scope = ? OR substr(scope, 1, ?) = ?`,
		scope, len(scope)+1, scope+"/"); err != nil {
		return err
	}
	if err := tx.changeOne(ctx, `DELETE FROM registries WHERE id = ?`, id); err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}
