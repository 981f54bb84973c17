package meta

// The reads of the /acr/v1 metadata API that the rest of the package does
// not offer: content counts, and listings that leave out what listEnabled
// hides and resume from a cursor that carries its own time, so that a page
// can follow one whose last entry has since been deleted or moved.

import (
	"context"
	"time"

	"github.com/berth-project/berth/internal/oci"
)

// Cursor is where a listing resumes: just after the entry named Name
// (a tag name, or a manifest digest). A listing by time also needs the
// entry's last update time, since the entry itself may be gone.
type Cursor struct {
	Name string
	Time time.Time
}

// ListQuery selects a page of a repository's tags or manifests.
type ListQuery struct {
	Order Order
	After Cursor // zero: from the start
	N     int    // <= 0: all
	// Digest keeps only the tags that name this manifest (tags only).
	Digest oci.Digest
}

// condition returns the SQL that places a row after the cursor, and the
// order of the listing; col is the name column ("name" or "m.digest"),
// updated the time column.
func (l ListQuery) condition(col, updated string) (cond, order string, args []any) {
	switch l.Order {
	case ByTimeDesc, ByTimeAsc:
		cmp, dir := "<", " DESC"
		if l.Order == ByTimeAsc {
			cmp, dir = ">", ""
		}
		order = updated + dir + ", " + col + dir
		if l.After == (Cursor{}) {
			return "1 = 1", order, nil
		}
		return "(" + updated + ", " + col + ") " + cmp + " (?, ?)", order, []any{nanos(l.After.Time), l.After.Name}
	default:
		return col + " > ?", col, []any{l.After.Name}
	}
}

// ListedTags lists a repository's tags whose listEnabled is true, by name
// or by time, after l.After, at most l.N.
func (q reads) ListedTags(ctx context.Context, repoID int64, l ListQuery) ([]Tag, error) {
	cond, order, args := l.condition("name", "updated_at")
	args = append([]any{repoID}, args...)
	if l.Digest != "" {
		cond += " AND digest = ?"
		args = append(args, string(l.Digest))
	}
	rows, err := q.c.query(ctx, `SELECT name, digest, created_at, updated_at, `+attrCols+` FROM tags
		WHERE repository_id = ? AND list_enabled AND `+cond+` ORDER BY `+order+` LIMIT ?`, append(args, limit(l.N))...)
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

// ListedManifests lists a repository's manifests whose listEnabled is true,
// by digest or by time, after l.After, at most l.N, with their content and
// every tag that names them: a tag hidden from listings still names its
// manifest, and a client deciding whether a manifest is untagged must see it.
func (q reads) ListedManifests(ctx context.Context, repoID int64, l ListQuery) ([]Manifest, error) {
	cond, order, args := l.condition("m.digest", "m.updated_at")
	args = append([]any{repoID}, args...)
	rows, err := q.c.query(ctx, `SELECT `+manifestCols+`, m.content FROM manifests m
		WHERE m.repository_id = ? AND m.list_enabled AND `+cond+` ORDER BY `+order+` LIMIT ?`, append(args, limit(l.N))...)
	if err != nil {
		return nil, err
	}
	return q.manifestsWithTags(ctx, repoID, rows, true)
}

// ContentCounts returns how many manifests and tags a repository holds,
// listed or not.
func (q reads) ContentCounts(ctx context.Context, repoID int64) (manifests, tags int, err error) {
	err = q.c.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM manifests WHERE repository_id = ?),
		(SELECT COUNT(*) FROM tags WHERE repository_id = ?)`, repoID, repoID).Scan(&manifests, &tags)
	return manifests, tags, err
}

// ManifestWithTags looks a manifest up by repository id, with its content
// and every tag that names it.
func (q reads) ManifestWithTags(ctx context.Context, repoID int64, d oci.Digest) (Manifest, error) {
	row := q.c.queryRow(ctx, `SELECT `+manifestCols+`, m.content FROM manifests m
		WHERE m.repository_id = ? AND m.digest = ?`, repoID, string(d))
	m, err := scanManifest(row, true)
	if err != nil {
		return m, err
	}
	m.Tags, err = q.tagNames(ctx, repoID, d)
	return m, err
}

// ManifestLocks lists every manifest of a repository by digest, with its
// locks only: no content, no tags.
func (q reads) ManifestLocks(ctx context.Context, repoID int64) ([]Manifest, error) {
	rows, err := q.c.query(ctx, `SELECT `+manifestCols+` FROM manifests m WHERE m.repository_id = ? ORDER BY m.digest`, repoID)
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
