package meta

import (
	"context"
	"database/sql"

	"github.com/berth-project/berth/internal/oci"
)

const manifestCols = `m.id, m.repository_id, m.digest, m.media_type, m.artifact_type, m.size, m.subject, m.annotations,
	m.created_at, m.updated_at, m.delete_enabled, m.write_enabled, m.list_enabled, m.read_enabled`

func scanManifest(sc interface{ Scan(...any) error }, withContent bool, extra ...any) (Manifest, error) {
	var m Manifest
	var d, subject, ann string
	var c, u int64
	dest := []any{&m.ID, &m.RepositoryID, &d, &m.MediaType, &m.ArtifactType, &m.Size, &subject, &ann, &c, &u}
	dest = append(dest, attrDest(&m.Attributes)...)
	if withContent {
		dest = append(dest, &m.Content)
	}
	dest = append(dest, extra...)
	if err := sc.Scan(dest...); err != nil {
		return m, notFound(err)
	}
	m.Digest, m.Subject = oci.Digest(d), oci.Digest(subject)
	m.Annotations = decodeAnnotations(ann)
	m.CreatedAt, m.UpdatedAt = fromNanos(c), fromNanos(u)
	return m, nil
}

// Manifest returns a manifest of a repository by digest, with its content.
func (q reads) Manifest(ctx context.Context, registryID int64, repo string, d oci.Digest) (Manifest, error) {
	row := q.c.queryRow(ctx, `SELECT `+manifestCols+`, m.content FROM repositories r
		JOIN manifests m ON m.repository_id = r.id
		WHERE r.registry_id = ? AND r.name = ? AND m.digest = ?`, registryID, repo, string(d))
	return scanManifest(row, true)
}

// ResolveTag returns the manifest a tag names, with its content, and the tag.
// This is the hottest read of the data plane: one statement.
func (q reads) ResolveTag(ctx context.Context, registryID int64, repo, tag string) (Manifest, Tag, error) {
	t := Tag{Name: tag}
	var tc, tu int64
	row := q.c.queryRow(ctx, `SELECT `+manifestCols+`, m.content, t.created_at, t.updated_at,
		t.delete_enabled, t.write_enabled, t.list_enabled, t.read_enabled
		FROM repositories r
		JOIN tags t ON t.repository_id = r.id
		JOIN manifests m ON m.repository_id = r.id AND m.digest = t.digest
		WHERE r.registry_id = ? AND r.name = ? AND t.name = ?`, registryID, repo, tag)
	m, err := scanManifest(row, true, append([]any{&tc, &tu}, attrDest(&t.Attributes)...)...)
	t.Digest, t.CreatedAt, t.UpdatedAt = m.Digest, fromNanos(tc), fromNanos(tu)
	return m, t, err
}

// InsertManifest stores a manifest in a repository with its blob and child
// references, unless the repository has it already. It reports whether it
// was new; m.ID, CreatedAt and UpdatedAt are filled in either way.
func (tx *Tx) InsertManifest(ctx context.Context, m *Manifest) (bool, error) {
	now := nanos(tx.now)
	err := tx.c.queryRow(ctx, `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content,
		subject, annotations, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (repository_id, digest) DO NOTHING RETURNING id`,
		m.RepositoryID, string(m.Digest), m.MediaType, m.ArtifactType, m.Size, m.Content,
		string(m.Subject), encodeAnnotations(m.Annotations), now, now).Scan(&m.ID)
	if err == sql.ErrNoRows {
		var c, u int64
		err = tx.c.queryRow(ctx, `SELECT id, created_at, updated_at FROM manifests WHERE repository_id = ? AND digest = ?`,
			m.RepositoryID, string(m.Digest)).Scan(&m.ID, &c, &u)
		m.CreatedAt, m.UpdatedAt = fromNanos(c), fromNanos(u)
		return false, err
	}
	if err != nil {
		return false, err
	}
	m.CreatedAt, m.UpdatedAt = tx.now.UTC(), tx.now.UTC()
	for _, b := range m.Blobs {
		if _, err := tx.c.exec(ctx, `INSERT INTO manifest_blobs (manifest_id, digest) VALUES (?, ?)
			ON CONFLICT (manifest_id, digest) DO NOTHING`, m.ID, string(b)); err != nil {
			return false, err
		}
	}
	for _, ch := range m.Children {
		if _, err := tx.c.exec(ctx, `INSERT INTO manifest_children (manifest_id, child_digest) VALUES (?, ?)
			ON CONFLICT (manifest_id, child_digest) DO NOTHING`, m.ID, string(ch)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// DeleteManifest removes a manifest and every tag that names it.
func (tx *Tx) DeleteManifest(ctx context.Context, repoID int64, d oci.Digest) error {
	if _, err := tx.c.exec(ctx, `DELETE FROM tags WHERE repository_id = ? AND digest = ?`, repoID, string(d)); err != nil {
		return err
	}
	res, err := tx.c.exec(ctx, `DELETE FROM manifests WHERE repository_id = ? AND digest = ?`, repoID, string(d))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdateManifestAttributes sets a manifest's locks.
func (tx *Tx) UpdateManifestAttributes(ctx context.Context, manifestID int64, a Attributes) error {
	_, err := tx.c.exec(ctx, `UPDATE manifests SET delete_enabled = ?, write_enabled = ?, list_enabled = ?, read_enabled = ?
		WHERE id = ?`, a.DeleteEnabled, a.WriteEnabled, a.ListEnabled, a.ReadEnabled, manifestID)
	return err
}

// Referrers lists the manifests of a repository whose subject is d, oldest first.
func (q reads) Referrers(ctx context.Context, registryID int64, repo string, d oci.Digest) ([]Manifest, error) {
	rows, err := q.c.query(ctx, `SELECT `+manifestCols+` FROM repositories r
		JOIN manifests m ON m.repository_id = r.id
		WHERE r.registry_id = ? AND r.name = ? AND m.subject = ? ORDER BY m.created_at, m.digest`,
		registryID, repo, string(d))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Manifest
	for rows.Next() {
		m, err := scanManifest(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Manifests lists a repository's manifests (without content) with their
// tags, by digest or by time, after the digest p.Last, at most p.N.
func (q reads) Manifests(ctx context.Context, repoID int64, p Page) ([]Manifest, error) {
	order, cond, args := "m.digest", "m.digest > ?", []any{repoID, p.Last}
	if p.Order != ByName {
		order, cond = "m.updated_at DESC, m.digest DESC", "(m.updated_at, m.digest) < (?, ?)"
		if p.Order == ByTimeAsc {
			order, cond = "m.updated_at, m.digest", "(m.updated_at, m.digest) > (?, ?)"
		}
		args = []any{repoID}
		if p.Last == "" {
			cond = "1 = 1"
		} else {
			var t int64
			err := q.c.queryRow(ctx, `SELECT updated_at FROM manifests WHERE repository_id = ? AND digest = ?`, repoID, p.Last).Scan(&t)
			if err != nil {
				return nil, notFound(err)
			}
			args = append(args, t, p.Last)
		}
	}
	rows, err := q.c.query(ctx, `SELECT `+manifestCols+` FROM manifests m
		WHERE m.repository_id = ? AND `+cond+` ORDER BY `+order+` LIMIT ?`, append(args, limit(p.N))...)
	if err != nil {
		return nil, err
	}
	return q.manifestsWithTags(ctx, repoID, rows, false)
}

// manifestsWithTags reads the manifests rows holds, closes it, then fills in
// each manifest's tags (after the rows are closed: SQLite would otherwise
// need a second connection inside a transaction).
func (q reads) manifestsWithTags(ctx context.Context, repoID int64, rows *sql.Rows, withContent bool) ([]Manifest, error) {
	var out []Manifest
	for rows.Next() {
		m, err := scanManifest(rows, withContent)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		var err error
		if out[i].Tags, err = q.tagNames(ctx, repoID, out[i].Digest); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (q reads) tagNames(ctx context.Context, repoID int64, d oci.Digest) ([]string, error) {
	rows, err := q.c.query(ctx, `SELECT name FROM tags WHERE repository_id = ? AND digest = ? ORDER BY name`, repoID, string(d))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ManifestByDigest looks a manifest up by repository id (no content).
func (q reads) ManifestByDigest(ctx context.Context, repoID int64, d oci.Digest) (Manifest, error) {
	row := q.c.queryRow(ctx, `SELECT `+manifestCols+` FROM manifests m WHERE m.repository_id = ? AND m.digest = ?`, repoID, string(d))
	m, err := scanManifest(row, false)
	if err != nil {
		return m, err
	}
	m.Tags, err = q.tagNames(ctx, repoID, d)
	return m, err
}

// MissingBlobs returns those of ds that are not linked to the repository.
func (q reads) MissingBlobs(ctx context.Context, repoID int64, ds []oci.Digest) ([]oci.Digest, error) {
	var missing []oci.Digest
	for _, d := range ds {
		var one int
		err := q.c.queryRow(ctx, `SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?`, repoID, string(d)).Scan(&one)
		if err == sql.ErrNoRows {
			missing = append(missing, d)
		} else if err != nil {
			return nil, err
		}
	}
	return missing, nil
}

// MissingManifests returns those of ds that the repository does not hold.
func (q reads) MissingManifests(ctx context.Context, repoID int64, ds []oci.Digest) ([]oci.Digest, error) {
	var missing []oci.Digest
	for _, d := range ds {
		var one int
		err := q.c.queryRow(ctx, `SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?`, repoID, string(d)).Scan(&one)
		if err == sql.ErrNoRows {
			missing = append(missing, d)
		} else if err != nil {
			return nil, err
		}
	}
	return missing, nil
}
