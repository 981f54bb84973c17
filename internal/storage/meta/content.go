package meta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-project/berth/internal/oci"
)

// CreateRegistry adds a registry; its ID and CreatedAt are filled in.
// A name already taken is ErrConflict.
func (tx *Tx) CreateRegistry(ctx context.Context, r *Registry) error {
	r.CreatedAt = tx.now.UTC()
	err := tx.c.queryRow(ctx, `INSERT INTO registries (name, login_server, location, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
		r.Name, r.LoginServer, r.Location, nanos(r.CreatedAt)).Scan(&r.ID)
	if err == sql.ErrNoRows {
		return ErrConflict
	}
	if err != nil {
		return err
	}
	return BumpRegistries(ctx, tx)
}

// Registries lists every registry by name.
func (q reads) Registries(ctx context.Context) ([]Registry, error) {
	rows, err := q.c.query(ctx, `SELECT id, name, login_server, location, anonymous_pull, `+networkCols+`, created_at
		FROM registries ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Registry
	for rows.Next() {
		var r Registry
		var t int64
		var rules string
		if err := rows.Scan(append(append([]any{&r.ID, &r.Name, &r.LoginServer, &r.Location, &r.AnonymousPull},
			networkDest(&r.Network, &rules)...), &t)...); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(rules), &r.Network.IPRules)
		r.CreatedAt = fromNanos(t)
		out = append(out, r)
	}
	return out, rows.Err()
}

const attrCols = `delete_enabled, write_enabled, list_enabled, read_enabled`

func attrDest(a *Attributes) []any {
	return []any{&a.DeleteEnabled, &a.WriteEnabled, &a.ListEnabled, &a.ReadEnabled}
}

// EnsureRepository returns the id of a repository, creating it if needed.
func (tx *Tx) EnsureRepository(ctx context.Context, registryID int64, name string) (int64, error) {
	var id int64
	err := tx.c.queryRow(ctx, `INSERT INTO repositories (registry_id, name, created_at, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (registry_id, name) DO UPDATE SET name = excluded.name RETURNING id`,
		registryID, name, nanos(tx.now), nanos(tx.now)).Scan(&id)
	return id, err
}

// UpsertRepository returns a repository, creating it if needed, and records
// that its content changed now.
func (tx *Tx) UpsertRepository(ctx context.Context, registryID int64, name string) (Repository, error) {
	r := Repository{RegistryID: registryID, Name: name}
	var c, u int64
	err := tx.c.queryRow(ctx, `INSERT INTO repositories (registry_id, name, created_at, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (registry_id, name) DO UPDATE SET updated_at = excluded.updated_at
		RETURNING id, created_at, updated_at, `+attrCols, registryID, name, nanos(tx.now), nanos(tx.now)).
		Scan(append([]any{&r.ID, &c, &u}, attrDest(&r.Attributes)...)...)
	r.CreatedAt, r.UpdatedAt = fromNanos(c), fromNanos(u)
	return r, err
}

// TouchRepository records that a repository's content changed.
func (tx *Tx) TouchRepository(ctx context.Context, repoID int64) error {
	_, err := tx.c.exec(ctx, `UPDATE repositories SET updated_at = ? WHERE id = ?`, nanos(tx.now), repoID)
	return err
}

// Repository looks a repository up by name.
func (q reads) Repository(ctx context.Context, registryID int64, name string) (Repository, error) {
	r := Repository{RegistryID: registryID, Name: name}
	var c, u int64
	err := q.c.queryRow(ctx, `SELECT id, created_at, updated_at, `+attrCols+`
		FROM repositories WHERE registry_id = ? AND name = ?`, registryID, name).
		Scan(append([]any{&r.ID, &c, &u}, attrDest(&r.Attributes)...)...)
	r.CreatedAt, r.UpdatedAt = fromNanos(c), fromNanos(u)
	return r, notFound(err)
}

// Repositories lists a registry's repositories by name, after p.Last, at
// most p.N, for the catalogs. Repositories with no manifest, and those whose
// listEnabled is false, are left out.
func (q reads) Repositories(ctx context.Context, registryID int64, p Page) ([]Repository, error) {
	rows, err := q.c.query(ctx, `SELECT r.id, r.name, r.created_at, r.updated_at, r.`+
		strings.ReplaceAll(attrCols, ", ", ", r.")+`
		FROM repositories r WHERE r.registry_id = ? AND r.name > ? AND r.list_enabled
		AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
		ORDER BY r.name LIMIT ?`, registryID, p.Last, limit(p.N))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Repository
	for rows.Next() {
		r := Repository{RegistryID: registryID}
		var c, u int64
		if err := rows.Scan(append([]any{&r.ID, &r.Name, &c, &u}, attrDest(&r.Attributes)...)...); err != nil {
			return nil, err
		}
		r.CreatedAt, r.UpdatedAt = fromNanos(c), fromNanos(u)
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateRepositoryAttributes sets a repository's locks.
func (tx *Tx) UpdateRepositoryAttributes(ctx context.Context, repoID int64, a Attributes) error {
	_, err := tx.c.exec(ctx, `UPDATE repositories SET delete_enabled = ?, write_enabled = ?, list_enabled = ?, read_enabled = ?
		WHERE id = ?`, a.DeleteEnabled, a.WriteEnabled, a.ListEnabled, a.ReadEnabled, repoID)
	return err
}

// DeleteRepository removes a repository with its manifests, tags and blob links.
func (tx *Tx) DeleteRepository(ctx context.Context, repoID int64) error {
	_, err := tx.c.exec(ctx, `DELETE FROM repositories WHERE id = ?`, repoID)
	return err
}

func limit(n int) int {
	if n <= 0 {
		return 1<<31 - 1 // portable "no limit"
	}
	return n
}

// PutBlob records committed content; recording it twice is not an error,
// and starts its garbage-collection grace period again. Content whose file
// a collector is deleting is ErrBlobDeleting (see ReserveBlob).
func (tx *Tx) PutBlob(ctx context.Context, d oci.Digest, size int64) error {
	if deleting, err := tx.blobDeleting(ctx, d); deleting {
		return ErrBlobDeleting
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	_, err := tx.c.exec(ctx, `INSERT INTO blobs (digest, size, created_at, touched_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET touched_at = excluded.touched_at`, string(d), size, nanos(tx.now), nanos(tx.now))
	return err
}

// LinkBlob makes a recorded blob visible in a repository, and starts its
// garbage-collection grace period again.
func (tx *Tx) LinkBlob(ctx context.Context, repoID int64, d oci.Digest) error {
	_, err := tx.c.exec(ctx, `INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)
		ON CONFLICT (repository_id, digest) DO NOTHING`, repoID, string(d), nanos(tx.now))
	if err != nil {
		return err
	}
	_, err = tx.c.exec(ctx, `UPDATE blobs SET touched_at = ? WHERE digest = ?`, nanos(tx.now), string(d))
	return err
}

// UnlinkBlob hides a blob from a repository; the content stays for others.
func (tx *Tx) UnlinkBlob(ctx context.Context, repoID int64, d oci.Digest) (bool, error) {
	res, err := tx.c.exec(ctx, `DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?`, repoID, string(d))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Blob looks a blob record up, whatever repository it is in.
func (q reads) Blob(ctx context.Context, d oci.Digest) (Blob, error) {
	b := Blob{Digest: d}
	var t int64
	err := q.c.queryRow(ctx, `SELECT size, created_at FROM blobs WHERE digest = ?`, string(d)).Scan(&b.Size, &t)
	b.CreatedAt = fromNanos(t)
	return b, notFound(err)
}

// RepositoryBlob looks up a blob linked to a repository.
func (q reads) RepositoryBlob(ctx context.Context, registryID int64, repo string, d oci.Digest) (Blob, error) {
	b := Blob{Digest: d}
	var t int64
	err := q.c.queryRow(ctx, `SELECT b.size, b.created_at FROM repositories r
		JOIN repository_blobs l ON l.repository_id = r.id
		JOIN blobs b ON b.digest = l.digest
		WHERE r.registry_id = ? AND r.name = ? AND l.digest = ?`, registryID, repo, string(d)).Scan(&b.Size, &t)
	b.CreatedAt = fromNanos(t)
	return b, notFound(err)
}

// RegistryBlob looks up a blob linked to any repository of a registry.
func (q reads) RegistryBlob(ctx context.Context, registryID int64, d oci.Digest) (Blob, error) {
	b := Blob{Digest: d}
	var t int64
	err := q.c.queryRow(ctx, `SELECT b.size, b.created_at FROM blobs b WHERE b.digest = ? AND EXISTS (
		SELECT 1 FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id
		WHERE l.digest = b.digest AND r.registry_id = ?)`, string(d), registryID).Scan(&b.Size, &t)
	b.CreatedAt = fromNanos(t)
	return b, notFound(err)
}

func encodeAnnotations(a map[string]string) string {
	if len(a) == 0 {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func decodeAnnotations(s string) map[string]string {
	if s == "" {
		return nil
	}
	var a map[string]string
	json.Unmarshal([]byte(s), &a)
	return a
}
