package metatest

import (
	"slices"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// claim runs ClaimGarbageBlobs for blobs untouched for grace and returns
// the digests claimed, sorted.
func claim(t *testing.T, db *meta.DB, c *clock, grace time.Duration) []string {
	t.Helper()
	var got []meta.Blob
	update(t, db, func(tx *meta.Tx) error {
		var err error
		got, err = tx.ClaimGarbageBlobs(t.Context(), c.Now().Add(-grace), 0)
		return err
	})
	var ds []string
	for _, b := range got {
		ds = append(ds, string(b.Digest))
	}
	slices.Sort(ds)
	return ds
}

func testGarbageBlobs(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	used, linked, loose, bctx := digest("used"), digest("linked"), digest("loose"), digest("context")
	putManifest(t, db, f.repoID, "manifest", used)
	update(t, db, func(tx *meta.Tx) error {
		for _, d := range []oci.Digest{linked, loose, bctx} {
			if err := tx.PutBlob(t.Context(), d, 5); err != nil {
				return err
			}
		}
		if err := tx.LinkBlob(t.Context(), f.repoID, linked); err != nil {
			return err
		}
		return tx.PutBuildContext(t.Context(), f.reg, bctx, 5)
	})
	// Within the grace period nothing is garbage.
	c.advance(30 * time.Minute)
	if got := claim(t, db, c, time.Hour); len(got) != 0 {
		t.Fatalf("claimed within the grace period: %v", got)
	}
	// A link starts the grace period again.
	update(t, db, func(tx *meta.Tx) error { return tx.LinkBlob(t.Context(), f.repoID, linked) })
	c.advance(45 * time.Minute)
	wantList(t, "claimed after the grace period", claim(t, db, c, time.Hour), []string{string(loose)})
	c.advance(time.Hour)
	wantList(t, "claimed once the link is old", claim(t, db, c, time.Hour), []string{string(linked)})
	if _, err := db.RepositoryBlob(t.Context(), f.reg, f.repo, linked); err == nil {
		t.Errorf("a claimed blob is still linked to its repository")
	}
	if _, err := db.Blob(t.Context(), used); err != nil {
		t.Errorf("a blob a manifest names was claimed: %v", err)
	}
	if _, err := db.Blob(t.Context(), bctx); err != nil {
		t.Errorf("a build context was claimed: %v", err)
	}

	// While its file is being deleted, content cannot be recorded again.
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.ReserveBlob(t.Context(), loose) })
	wantErr(t, "ReserveBlob while deleting", err, meta.ErrBlobDeleting)
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), loose, 5) })
	wantErr(t, "PutBlob while deleting", err, meta.ErrBlobDeleting)
	stale, err := db.StaleBlobDeletions(t.Context(), c.Now().Add(time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "StaleBlobDeletions", sorted(digestStrings(stale)), sorted([]string{string(loose), string(linked)}))
	if stale, _ := db.StaleBlobDeletions(t.Context(), c.Now().Add(-2*time.Hour), 0); len(stale) != 0 {
		t.Errorf("StaleBlobDeletions before the claims = %v", stale)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.BlobsDeleted(t.Context(), stale) })
	update(t, db, func(tx *meta.Tx) error { return tx.ReserveBlob(t.Context(), loose) })
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), loose, 5) })
	if got := claim(t, db, c, time.Hour); len(got) != 0 {
		t.Errorf("claimed content pushed again just now: %v", got)
	}

	// Deleting the repository makes what only it used garbage.
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRepository(t.Context(), f.repoID) })
	c.advance(2 * time.Hour)
	wantList(t, "claimed after the repository went", claim(t, db, c, time.Hour), sorted([]string{string(used), string(loose)}))
}

// testReserveRefreshes checks that ReserveBlob starts a recorded blob's
// grace period again, so that a commit in progress is not collected.
func testReserveRefreshes(t *testing.T, db *meta.DB) {
	c := setClock(db)
	d := digest("old")
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), d, 1) })
	c.advance(2 * time.Hour)
	update(t, db, func(tx *meta.Tx) error { return tx.ReserveBlob(t.Context(), d) })
	if got := claim(t, db, c, time.Hour); len(got) != 0 {
		t.Errorf("claimed a reserved blob: %v", got)
	}
	// Reserving content never recorded is fine and records nothing.
	update(t, db, func(tx *meta.Tx) error { return tx.ReserveBlob(t.Context(), digest("new")) })
	if _, err := db.Blob(t.Context(), digest("new")); err == nil {
		t.Errorf("ReserveBlob recorded a blob")
	}
}

func testRegistryUsage(t *testing.T, db *meta.DB) {
	setClock(db)
	f := newFixture(t, db)
	var other int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		other, err = tx.EnsureRepository(t.Context(), f.reg, "lib/other")
		return err
	})
	shared, own := digest("shared"), digest("own")
	m1 := putManifest(t, db, f.repoID, "m1", shared, own) // blobs of 10 bytes each
	m2 := putManifest(t, db, other, "m1", shared)         // the same manifest in another repository
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.PutBlob(t.Context(), digest("pushed"), 7); err != nil {
			return err
		}
		return tx.LinkBlob(t.Context(), other, digest("pushed"))
	})
	u, err := db.RegistryUsage(t.Context(), f.reg)
	if err != nil {
		t.Fatal(err)
	}
	want := meta.Usage{Bytes: 10 + 10 + 7 + m1.Size, Repositories: 2, Manifests: 2, Blobs: 3}
	if m2.Digest != m1.Digest || u != want {
		t.Errorf("RegistryUsage = %+v, want %+v", u, want)
	}
	if u, err := db.RegistryUsage(t.Context(), 9999); err != nil || u != (meta.Usage{}) {
		t.Errorf("RegistryUsage(unknown) = %+v, %v", u, err)
	}
}

// testGarbageKeepsRunLogs checks that a run's archived log is never
// garbage, even when a push recorded the same content as a blob.
func testGarbageKeepsRunLogs(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	r := queueRun(t, db, a.ID, "local")
	if _, err := lease(t, db, "local", "agent", "L", time.Minute); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *meta.Tx) error {
		_, err := tx.CompleteRun(t.Context(), r.ID, "L", meta.RunResult{Status: meta.RunSucceeded})
		return err
	})
	log := digest("the log")
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.PutBlob(t.Context(), log, 7); err != nil {
			return err
		}
		return tx.ArchiveRunLog(t.Context(), r.ID, log)
	})
	c.advance(2 * time.Hour)
	if got := claim(t, db, c, time.Hour); len(got) != 0 {
		t.Errorf("claimed a run's log: %v", got)
	}
}
