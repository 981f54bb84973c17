package meta_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/storage/meta/metatest"
)

func openSQLite(t *testing.T, path string) *meta.DB {
	t.Helper()
	db, err := meta.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%s): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLite(t *testing.T) {
	metatest.Run(t, func(t *testing.T) *meta.DB {
		return openSQLite(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}

// rawSQL opens the store's file beside it, for what the API does not show.
func rawSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func count(t *testing.T, raw *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func update(t *testing.T, db *meta.DB, fn func(tx *meta.Tx) error) {
	t.Helper()
	if err := db.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "meta.db") // the directories are made
	db, err := meta.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	var reg, repo int64
	d := oci.FromBytes([]byte("content"))
	update(t, db, func(tx *meta.Tx) error {
		r := meta.Registry{Name: "reg"}
		if err := tx.CreateRegistry(t.Context(), &r); err != nil {
			return err
		}
		reg = r.ID
		var err error
		if repo, err = tx.EnsureRepository(t.Context(), reg, "lib/app"); err != nil {
			return err
		}
		m := meta.Manifest{RepositoryID: repo, Digest: d, MediaType: oci.MediaTypeImageManifest, Size: 7, Content: []byte("content")}
		if _, err := tx.InsertManifest(t.Context(), &m); err != nil {
			return err
		}
		return tx.PutTag(t.Context(), repo, "v1", d)
	})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = openSQLite(t, path)
	m, tg, err := db.ResolveTag(t.Context(), reg, "lib/app", "v1")
	if err != nil {
		t.Fatalf("ResolveTag after reopening: %v", err)
	}
	if m.Digest != d || string(m.Content) != "content" || tg.Name != "v1" {
		t.Errorf("after reopening: %s %q tag %q; want %s", m.Digest, m.Content, tg.Name, d)
	}
	// And it takes writes.
	update(t, db, func(tx *meta.Tx) error { return tx.PutTag(t.Context(), repo, "v2", d) })
	if names, _ := db.TagNames(t.Context(), reg, "lib/app", "", 0); len(names) != 2 {
		t.Errorf("TagNames after reopening and writing = %q, want v1 v2", names)
	}
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	return count(t, rawSQL(t, path), `SELECT version FROM schema_version`)
}

func TestSQLiteSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := meta.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	db.Close()
	v := schemaVersion(t, path)
	if v < 1 {
		t.Fatalf("schema_version = %d, want the migrations recorded", v)
	}
	if n := count(t, rawSQL(t, path), `SELECT COUNT(*) FROM schema_version`); n != 1 {
		t.Errorf("schema_version has %d rows, want 1", n)
	}
	// Opening again runs nothing and records the same version.
	db, err = meta.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite again: %v", err)
	}
	db.Close()
	if got := schemaVersion(t, path); got != v {
		t.Errorf("schema_version after reopening = %d, want %d", got, v)
	}

	// A store written by a newer berth is refused, and left as it is.
	raw := rawSQL(t, path)
	if _, err := raw.ExecContext(t.Context(), `UPDATE schema_version SET version = ?`, v+1); err != nil {
		t.Fatalf("raising schema_version: %v", err)
	}
	raw.Close()
	db, err = meta.OpenSQLite(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatalf("OpenSQLite of a schema newer than the code succeeded")
	}
	if !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenSQLite of a newer schema: error %q, want it to say the store is newer, and which", err)
	}
	if got := schemaVersion(t, path); got != v+1 {
		t.Errorf("schema_version after a refused open = %d, want %d untouched", got, v+1)
	}
}

func TestSQLiteCloseThenUpdate(t *testing.T) {
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	done := make(chan error, 1)
	ran := false
	go func() {
		done <- db.Update(context.Background(), func(tx *meta.Tx) error { ran = true; return nil })
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Update after Close succeeded")
		}
		if ran {
			t.Errorf("Update after Close ran its fn")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Update after Close hangs")
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Errorf("Ping after Close succeeded")
	}
}

// TestSQLiteCloseDuringUpdates closes the store while writers are busy: each
// Update returns, either committed and visible after reopening, or with an error.
func TestSQLiteCloseDuringUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := meta.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(context.Background(), func(tx *meta.Tx) error {
				return tx.PutUser(context.Background(), &meta.User{Name: fmt.Sprintf("u%03d", i), Role: "r"})
			})
		}()
	}
	time.Sleep(time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for _, ch := range []<-chan struct{}{finished, chanOf(closed)} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("Close during Updates hangs")
		}
	}
	db = openSQLite(t, path)
	for i, err := range errs {
		name := fmt.Sprintf("u%03d", i)
		_, uerr := db.User(t.Context(), name)
		if err == nil && uerr != nil {
			t.Errorf("Update %d succeeded before Close, but its user is gone: %v", i, uerr)
		}
		if err != nil && !errors.Is(uerr, meta.ErrNotFound) {
			t.Errorf("Update %d failed (%v), but its user is there (%v)", i, err, uerr)
		}
	}
}

func chanOf(c <-chan error) <-chan struct{} {
	out := make(chan struct{})
	go func() { <-c; close(out) }()
	return out
}

// TestSQLiteManifestReferences checks the rows the API does not read back:
// a manifest's blob and child references, and that deletes take them along.
func TestSQLiteManifestReferences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db := openSQLite(t, path)
	raw := rawSQL(t, path)
	config, layer := oci.FromBytes([]byte("config")), oci.FromBytes([]byte("layer"))
	var reg, repo int64
	var m meta.Manifest
	update(t, db, func(tx *meta.Tx) error {
		r := meta.Registry{Name: "reg"}
		if err := tx.CreateRegistry(t.Context(), &r); err != nil {
			return err
		}
		reg = r.ID
		var err error
		if repo, err = tx.EnsureRepository(t.Context(), reg, "lib/app"); err != nil {
			return err
		}
		for _, d := range []oci.Digest{config, layer} {
			if err := tx.PutBlob(t.Context(), d, 1); err != nil {
				return err
			}
			if err := tx.LinkBlob(t.Context(), repo, d); err != nil {
				return err
			}
		}
		m = meta.Manifest{RepositoryID: repo, Digest: oci.FromBytes([]byte("m")), MediaType: oci.MediaTypeImageIndex,
			Size: 1, Content: []byte("m"), Blobs: []oci.Digest{config, layer, layer},
			Children: []oci.Digest{oci.FromBytes([]byte("c1")), oci.FromBytes([]byte("c2"))}}
		_, err = tx.InsertManifest(t.Context(), &m)
		return err
	})
	if n := count(t, raw, `SELECT COUNT(*) FROM manifest_blobs WHERE manifest_id = ?`, m.ID); n != 2 {
		t.Errorf("manifest_blobs rows = %d, want 2 (config, layer)", n)
	}
	if n := count(t, raw, `SELECT COUNT(*) FROM manifest_children WHERE manifest_id = ?`, m.ID); n != 2 {
		t.Errorf("manifest_children rows = %d, want 2", n)
	}

	// A reference to a blob never recorded is refused, and undoes the insert.
	err := db.Update(t.Context(), func(tx *meta.Tx) error {
		bad := meta.Manifest{RepositoryID: repo, Digest: oci.FromBytes([]byte("bad")), MediaType: oci.MediaTypeImageManifest,
			Size: 3, Content: []byte("bad"), Blobs: []oci.Digest{oci.FromBytes([]byte("never recorded"))}}
		_, err := tx.InsertManifest(t.Context(), &bad)
		return err
	})
	if err == nil {
		t.Errorf("InsertManifest referencing an unrecorded blob succeeded")
	}
	if _, err := db.ManifestByDigest(t.Context(), repo, oci.FromBytes([]byte("bad"))); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("the refused manifest: error = %v, want ErrNotFound", err)
	}

	update(t, db, func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), repo, m.Digest) })
	for _, q := range []string{`SELECT COUNT(*) FROM manifest_blobs`, `SELECT COUNT(*) FROM manifest_children`} {
		if n := count(t, raw, q); n != 0 {
			t.Errorf("%s after DeleteManifest = %d, want 0", q, n)
		}
	}
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRepository(t.Context(), repo) })
	if n := count(t, raw, `SELECT COUNT(*) FROM repository_blobs`); n != 0 {
		t.Errorf("repository_blobs after DeleteRepository = %d, want 0", n)
	}
	if n := count(t, raw, `SELECT COUNT(*) FROM blobs`); n != 2 {
		t.Errorf("blobs after DeleteRepository = %d, want the 2 records kept", n)
	}
}
