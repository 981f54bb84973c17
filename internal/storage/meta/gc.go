package meta

// The queries of online blob garbage collection and of a registry's usage.
//
// A blob is garbage when no manifest of any repository, no run log and no
// build context names it, and it was not pushed, committed or linked for
// a grace period (blobs.touched_at). Claiming garbage deletes its record
// and links and marks it in blob_deletions in one transaction; the caller
// then deletes the file and clears the mark. A writer about to commit
// content calls ReserveBlob first: it waits out a mark (the file is about to
// go) and refreshes touched_at, so that no collector claims the blob while
// the writer renames its file into place and records it.
//
// This is safe because SQLite runs write transactions one at a time: a
// claim and a push, mount or manifest of the same digest never interleave.
// A PostgreSQL backend must get the same from row locks: the claim selects
// FOR UPDATE SKIP LOCKED, and ReserveBlob, PutBlob, LinkBlob and
// InsertManifest lock the blob row they touch.

import (
	"context"
	"errors"
	"time"

	"github.com/berth-project/berth/internal/oci"
)

// ErrBlobDeleting is returned while a blob's file is being deleted by
// garbage collection; try again shortly.
var ErrBlobDeleting = errors.New("meta: blob is being deleted")

// blobDeleting reports whether d is marked for deletion.
func (q reads) blobDeleting(ctx context.Context, d oci.Digest) (bool, error) {
	var one int
	err := q.c.queryRow(ctx, `SELECT 1 FROM blob_deletions WHERE digest = ?`, string(d)).Scan(&one)
	if err == nil {
		return true, nil
	}
	return false, notFound(err)
}

// ReserveBlob is called before content d is committed to the blob store:
// it is ErrBlobDeleting while a collector deletes d's file, and otherwise
// refreshes the record of d, if any, so that d is not garbage for a grace
// period.
func (tx *Tx) ReserveBlob(ctx context.Context, d oci.Digest) error {
	deleting, err := tx.blobDeleting(ctx, d)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if deleting {
		return ErrBlobDeleting
	}
	_, err = tx.c.exec(ctx, `UPDATE blobs SET touched_at = ? WHERE digest = ?`, nanos(tx.now), string(d))
	return err
}

// ClaimGarbageBlobs finds up to n blobs that nothing references and that
// nobody touched since before, deletes their records and repository links,
// and marks them as being deleted; it returns them. The caller deletes
// their files, then calls BlobsDeleted.
func (tx *Tx) ClaimGarbageBlobs(ctx context.Context, before time.Time, n int) ([]Blob, error) {
	rows, err := tx.c.query(ctx, `SELECT b.digest, b.size, b.created_at FROM blobs b
		WHERE b.touched_at < ?
		AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.digest = b.digest)
		AND NOT EXISTS (SELECT 1 FROM build_contexts bc WHERE bc.digest = b.digest)
		AND NOT EXISTS (SELECT 1 FROM runs u WHERE u.log_digest = b.digest)
		ORDER BY b.touched_at LIMIT ?`, nanos(before), limit(n))
	if err != nil {
		return nil, err
	}
	var out []Blob
	for rows.Next() {
		var b Blob
		var d string
		var t int64
		if err := rows.Scan(&d, &b.Size, &t); err != nil {
			rows.Close()
			return nil, err
		}
		b.Digest, b.CreatedAt = oci.Digest(d), fromNanos(t)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, b := range out {
		if _, err := tx.c.exec(ctx, `DELETE FROM repository_blobs WHERE digest = ?`, string(b.Digest)); err != nil {
			return nil, err
		}
		if _, err := tx.c.exec(ctx, `DELETE FROM blobs WHERE digest = ?`, string(b.Digest)); err != nil {
			return nil, err
		}
		if _, err := tx.c.exec(ctx, `INSERT INTO blob_deletions (digest, started_at) VALUES (?, ?)
			ON CONFLICT (digest) DO NOTHING`, string(b.Digest), nanos(tx.now)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BlobsDeleted clears the deletion marks of blobs whose files are gone.
func (tx *Tx) BlobsDeleted(ctx context.Context, ds []oci.Digest) error {
	for _, d := range ds {
		if _, err := tx.c.exec(ctx, `DELETE FROM blob_deletions WHERE digest = ?`, string(d)); err != nil {
			return err
		}
	}
	return nil
}

// StaleBlobDeletions lists up to n blobs marked as being deleted before
// the given time: a collector stopped between its claim and the file's
// deletion, and the deletion must be finished for it.
func (q reads) StaleBlobDeletions(ctx context.Context, before time.Time, n int) ([]oci.Digest, error) {
	rows, err := q.c.query(ctx, `SELECT digest FROM blob_deletions WHERE started_at < ? ORDER BY started_at LIMIT ?`,
		nanos(before), limit(n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []oci.Digest
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, oci.Digest(d))
	}
	return out, rows.Err()
}

// Usage is what a registry stores: deduplicated bytes of its blobs and
// manifests, and counts.
type Usage struct {
	Bytes        int64
	Repositories int64
	Manifests    int64
	Blobs        int64
}

// RegistryUsage sums what registry id stores. Bytes counts each distinct
// blob once (linked to, or named by a manifest of, any of its
// repositories) plus each distinct manifest once.
func (q reads) RegistryUsage(ctx context.Context, registryID int64) (Usage, error) {
	var u Usage
	err := q.c.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN (
			SELECT l.digest FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id WHERE r.registry_id = ?
			UNION
			SELECT mb.digest FROM manifest_blobs mb JOIN manifests m ON m.id = mb.manifest_id
				JOIN repositories r ON r.id = m.repository_id WHERE r.registry_id = ?)`,
		registryID, registryID).Scan(&u.Blobs, &u.Bytes)
	if err != nil {
		return u, err
	}
	var manifestBytes int64
	err = q.c.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM (
			SELECT m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repository_id
			WHERE r.registry_id = ? GROUP BY m.digest) d`, registryID).Scan(new(int64), &manifestBytes)
	if err != nil {
		return u, err
	}
	u.Bytes += manifestBytes
	err = q.c.queryRow(ctx, `SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE r.registry_id = ?`, registryID).Scan(&u.Manifests)
	if err != nil {
		return u, err
	}
	err = q.c.queryRow(ctx, `SELECT COUNT(*) FROM repositories r WHERE r.registry_id = ?
		AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`, registryID).Scan(&u.Repositories)
	return u, err
}

// reserveWait bounds how long Reserve waits for a collector to finish
// deleting a file; collectors delete a file right after claiming it.
const reserveWait = 30 * time.Second

// Reserve runs Tx.ReserveBlob in its own transaction, waiting while a
// collector deletes d's file. Call it before committing content d to the
// blob store, and record d within the grace period.
func (db *DB) Reserve(ctx context.Context, d oci.Digest) error {
	deadline := time.Now().Add(reserveWait)
	wait := 5 * time.Millisecond
	for {
		err := db.Update(ctx, func(tx *Tx) error { return tx.ReserveBlob(ctx, d) })
		if !errors.Is(err, ErrBlobDeleting) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
