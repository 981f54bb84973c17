package meta

import (
	"cmp"
	"context"

	"github.com/berth-project/berth/internal/oci"
)

// Tag looks a tag up by name.
func (q reads) Tag(ctx context.Context, repoID int64, name string) (Tag, error) {
	t := Tag{Name: name}
	var d string
	var c, u int64
	err := q.c.queryRow(ctx, `SELECT digest, created_at, updated_at, `+attrCols+` FROM tags
		WHERE repository_id = ? AND name = ?`, repoID, name).
		Scan(append([]any{&d, &c, &u}, attrDest(&t.Attributes)...)...)
	t.Digest, t.CreatedAt, t.UpdatedAt = oci.Digest(d), fromNanos(c), fromNanos(u)
	return t, notFound(err)
}

// PutTag points a tag at a manifest, creating it or moving it. Moving a tag
// keeps its creation time and its locks; pointing it where it already
// points changes nothing, not even its update time.
func (tx *Tx) PutTag(ctx context.Context, repoID int64, name string, d oci.Digest) error {
	now := nanos(tx.now)
	_, err := tx.c.exec(ctx, `INSERT INTO tags (repository_id, name, digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at
		WHERE tags.digest <> excluded.digest`,
		repoID, name, string(d), now, now)
	return err
}

// DeleteTag removes a tag; the manifest stays.
func (tx *Tx) DeleteTag(ctx context.Context, repoID int64, name string) error {
	res, err := tx.c.exec(ctx, `DELETE FROM tags WHERE repository_id = ? AND name = ?`, repoID, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdateTagAttributes sets a tag's locks.
func (tx *Tx) UpdateTagAttributes(ctx context.Context, repoID int64, name string, a Attributes) error {
	_, err := tx.c.exec(ctx, `UPDATE tags SET delete_enabled = ?, write_enabled = ?, list_enabled = ?, read_enabled = ?
		WHERE repository_id = ? AND name = ?`, a.DeleteEnabled, a.WriteEnabled, a.ListEnabled, a.ReadEnabled, repoID, name)
	return err
}

// TagNames lists tag names in lexical order after last, at most n, leaving
// out tags whose listEnabled is false. It reads names only: the tags/list
// endpoint needs nothing more.
func (q reads) TagNames(ctx context.Context, registryID int64, repo string, last string, n int) ([]string, error) {
	rows, err := q.c.query(ctx, `SELECT t.name FROM repositories r JOIN tags t ON t.repository_id = r.id
		WHERE r.registry_id = ? AND r.name = ? AND t.name > ? AND t.list_enabled
		ORDER BY t.name LIMIT ?`, registryID, repo, last, limit(n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]string, 0, 64)
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Tags lists a repository's tags in full, by name or by time, after the tag
// named p.Last, at most p.N.
func (q reads) Tags(ctx context.Context, repoID int64, p Page) ([]Tag, error) {
	order, cond, args := "name", "name > ?", []any{repoID, p.Last}
	if p.Order != ByName {
		order, cond = "updated_at DESC, name DESC", "(updated_at, name) < (?, ?)"
		if p.Order == ByTimeAsc {
			order, cond = "updated_at, name", "(updated_at, name) > (?, ?)"
		}
		args = []any{repoID}
		if p.Last == "" {
			cond = "1 = 1"
		} else {
			t, err := q.Tag(ctx, repoID, p.Last)
			if err != nil {
				return nil, err
			}
			args = append(args, nanos(t.UpdatedAt), p.Last)
		}
	}
	rows, err := q.c.query(ctx, `SELECT name, digest, created_at, updated_at, `+attrCols+` FROM tags
		WHERE repository_id = ? AND `+cond+` ORDER BY `+order+` LIMIT ?`, append(args, limit(p.N))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var t Tag
		var d string
		var c, u int64
		if err := rows.Scan(append([]any{&t.Name, &d, &c, &u}, attrDest(&t.Attributes)...)...); err != nil {
			return nil, err
		}
		t.Digest, t.CreatedAt, t.UpdatedAt = oci.Digest(d), fromNanos(c), fromNanos(u)
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateUpload records a new upload session. An ID already taken is
// ErrConflict. (DO NOTHING rather than a failed insert: on PostgreSQL a
// failed statement would abort the whole transaction.)
func (tx *Tx) CreateUpload(ctx context.Context, u *Upload) error {
	u.CreatedAt, u.UpdatedAt = tx.now.UTC(), tx.now.UTC()
	res, err := tx.c.exec(ctx, `INSERT INTO uploads (id, registry_id, repository, size, hash_state, algorithm, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, u.ID, u.RegistryID, u.Repository, u.Size, u.HashState, u.Algorithm,
		nanos(u.CreatedAt), nanos(u.UpdatedAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmp.Or(err, ErrConflict)
	}
	return nil
}

// Upload looks an upload session up.
func (q reads) Upload(ctx context.Context, id string) (Upload, error) {
	u := Upload{ID: id}
	var c, up int64
	err := q.c.queryRow(ctx, `SELECT registry_id, repository, size, hash_state, algorithm, created_at, updated_at
		FROM uploads WHERE id = ?`, id).Scan(&u.RegistryID, &u.Repository, &u.Size, &u.HashState, &u.Algorithm, &c, &up)
	u.CreatedAt, u.UpdatedAt = fromNanos(c), fromNanos(up)
	return u, notFound(err)
}

// AdvanceUpload records that an upload grew from size from to u.Size with
// hash state u.HashState. If someone else moved it first, it is ErrConflict.
func (tx *Tx) AdvanceUpload(ctx context.Context, u *Upload, from int64) error {
	u.UpdatedAt = tx.now.UTC()
	res, err := tx.c.exec(ctx, `UPDATE uploads SET size = ?, hash_state = ?, updated_at = ? WHERE id = ? AND size = ?`,
		u.Size, u.HashState, nanos(u.UpdatedAt), u.ID, from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.Upload(ctx, u.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// DeleteUpload forgets an upload session.
func (tx *Tx) DeleteUpload(ctx context.Context, id string) error {
	_, err := tx.c.exec(ctx, `DELETE FROM uploads WHERE id = ?`, id)
	return err
}
