package metatest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

func testPing(t *testing.T, db *meta.DB) {
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// writeEverything writes one record of every kind, all named after name;
// it is the fn of the transaction tests.
func writeEverything(ctx context.Context, tx *meta.Tx, name string) error {
	r := meta.Registry{Name: name}
	if err := tx.CreateRegistry(ctx, &r); err != nil {
		return fmt.Errorf("CreateRegistry: %w", err)
	}
	repo, err := tx.EnsureRepository(ctx, r.ID, "repo")
	if err != nil {
		return fmt.Errorf("EnsureRepository: %w", err)
	}
	layer := digest(name + " layer")
	if err := tx.PutBlob(ctx, layer, 1); err != nil {
		return fmt.Errorf("PutBlob: %w", err)
	}
	if err := tx.LinkBlob(ctx, repo, layer); err != nil {
		return fmt.Errorf("LinkBlob: %w", err)
	}
	m := newManifest(repo, name+" manifest")
	m.Blobs = []oci.Digest{layer}
	if _, err := tx.InsertManifest(ctx, &m); err != nil {
		return fmt.Errorf("InsertManifest: %w", err)
	}
	if err := tx.PutTag(ctx, repo, "latest", m.Digest); err != nil {
		return fmt.Errorf("PutTag: %w", err)
	}
	if err := tx.CreateUpload(ctx, &meta.Upload{ID: name + " upload", RegistryID: r.ID, Repository: "repo",
		HashState: []byte("s"), Algorithm: "sha256"}); err != nil {
		return fmt.Errorf("CreateUpload: %w", err)
	}
	if err := tx.PutUser(ctx, &meta.User{Name: name + " user", PasswordHash: "h", Role: "admin"}); err != nil {
		return fmt.Errorf("PutUser: %w", err)
	}
	return nil
}

// wantNothingOf checks that nothing writeEverything(name) writes is visible.
func wantNothingOf(t *testing.T, db *meta.DB, name string) {
	t.Helper()
	regs, err := db.Registries(t.Context())
	if err != nil {
		t.Fatalf("Registries: %v", err)
	}
	for _, r := range regs {
		if r.Name == name {
			t.Errorf("registry %q is visible", name)
		}
	}
	if _, err := db.Blob(t.Context(), digest(name+" layer")); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("blob of %q: error = %v, want ErrNotFound", name, err)
	}
	if _, err := db.Upload(t.Context(), name+" upload"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("upload of %q: error = %v, want ErrNotFound", name, err)
	}
	if _, err := db.User(t.Context(), name+" user"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("user of %q: error = %v, want ErrNotFound", name, err)
	}
}

// wantAllOf checks that everything writeEverything(name) writes is visible.
func wantAllOf(t *testing.T, db *meta.DB, name string) {
	t.Helper()
	var reg int64
	regs, _ := db.Registries(t.Context())
	for _, r := range regs {
		if r.Name == name {
			reg = r.ID
		}
	}
	if reg == 0 {
		t.Fatalf("registry %q is not visible", name)
	}
	if _, _, err := db.ResolveTag(t.Context(), reg, "repo", "latest"); err != nil {
		t.Errorf("ResolveTag in %q: %v", name, err)
	}
	if _, err := db.RepositoryBlob(t.Context(), reg, "repo", digest(name+" layer")); err != nil {
		t.Errorf("RepositoryBlob in %q: %v", name, err)
	}
	if _, err := db.Upload(t.Context(), name+" upload"); err != nil {
		t.Errorf("upload of %q: %v", name, err)
	}
	if _, err := db.User(t.Context(), name+" user"); err != nil {
		t.Errorf("user of %q: %v", name, err)
	}
}

func testUpdateErrorUndoesAll(t *testing.T, db *meta.DB) {
	err := db.Update(t.Context(), func(tx *meta.Tx) error {
		if err := writeEverything(t.Context(), tx, "failed"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "Update whose fn fails", err, errBoom)
	wantNothingOf(t, db, "failed")

	// An fn that fails half-way, on a store error, undoes its first half.
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &meta.Registry{Name: "taken"}) })
	err = db.Update(t.Context(), func(tx *meta.Tx) error {
		if err := tx.PutUser(t.Context(), &meta.User{Name: "half user", Role: "admin"}); err != nil {
			return err
		}
		return tx.CreateRegistry(t.Context(), &meta.Registry{Name: "taken"})
	})
	wantErr(t, "Update failing on a conflict", err, meta.ErrConflict)
	if _, err := db.User(t.Context(), "half user"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("user written before the conflict: error = %v, want ErrNotFound", err)
	}
}

func testUpdateAfterError(t *testing.T, db *meta.DB) {
	// Errors and successes alternate on one store; each failure is undone
	// cleanly and the next transaction works.
	for i := range 6 {
		name := fmt.Sprintf("r%d", i)
		err := db.Update(t.Context(), func(tx *meta.Tx) error {
			if err := writeEverything(t.Context(), tx, name); err != nil {
				return err
			}
			if i%2 == 0 {
				return errBoom
			}
			return nil
		})
		if i%2 == 0 {
			wantErr(t, "Update "+name, err, errBoom)
			wantNothingOf(t, db, name)
		} else {
			if err != nil {
				t.Fatalf("Update %s after a failed one: %v", name, err)
			}
			wantAllOf(t, db, name)
		}
	}
	// The store's own errors come back as they are.
	f := newFixture(t, db)
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeleteTag(t.Context(), f.repoID, "nope") })
	wantErr(t, "Update returning DeleteTag's error", err, meta.ErrNotFound)
}

func testUpdateCancelled(t *testing.T, db *meta.DB) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.Update(ctx, func(tx *meta.Tx) error { return writeEverything(t.Context(), tx, "cancelled") })
	wantErr(t, "Update with a cancelled context", err, context.Canceled)
	wantNothingOf(t, db, "cancelled")
	// The store is none the worse.
	update(t, db, func(tx *meta.Tx) error { return writeEverything(t.Context(), tx, "after") })
	wantAllOf(t, db, "after")
}

// hold starts an Update whose fn blocks until release is called, so that
// the Updates started meanwhile queue up and (on a group-committing store)
// share the next transaction.
func hold(t *testing.T, db *meta.DB) (release func()) {
	t.Helper()
	entered, gate, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(tx *meta.Tx) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Errorf("holding Update: %v", err)
		}
	}
}

func testConcurrentUpdates(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	const n = 50
	release := hold(t, db)
	var started, wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			errs[i] = db.Update(context.Background(), func(tx *meta.Tx) error {
				name := fmt.Sprintf("t%02d", i)
				if err := tx.PutTag(context.Background(), f.repoID, name, m.Digest); err != nil {
					return err
				}
				b := digest(name)
				if err := tx.PutBlob(context.Background(), b, int64(i)); err != nil {
					return err
				}
				if err := tx.LinkBlob(context.Background(), f.repoID, b); err != nil {
					return err
				}
				// The fn reads its own writes, whatever else shares its transaction.
				if tg, err := tx.Tag(context.Background(), f.repoID, name); err != nil || tg.Digest != m.Digest {
					return fmt.Errorf("reading its own tag: %+v, %v", tg, err)
				}
				if i%5 == 0 {
					return fmt.Errorf("update %d: %w", i, errBoom)
				}
				return nil
			})
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them queue behind the held Update
	release()
	wg.Wait()

	var want []string
	for i, err := range errs {
		if i%5 == 0 {
			wantErr(t, fmt.Sprintf("update %d", i), err, errBoom)
		} else if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
		name := fmt.Sprintf("t%02d", i)
		_, berr := db.RepositoryBlob(t.Context(), f.reg, f.repo, digest(name))
		if i%5 == 0 {
			wantErr(t, "blob of failed update "+name, berr, meta.ErrNotFound)
		} else {
			want = append(want, name)
			if berr != nil {
				t.Errorf("blob of update %s: %v", name, berr)
			}
		}
	}
	got, err := db.TagNames(t.Context(), f.reg, f.repo, "", 0)
	if err != nil {
		t.Fatalf("TagNames: %v", err)
	}
	wantList(t, "tags after concurrent updates", got, want)
}

// testCancelInsideGroup checks that a caller giving up while its fn is
// writing neither undoes nor misreports the writes of the callers whose
// changes share its transaction. Each Update's result must match what it
// left: nil and all of its writes, or an error and none of them.
func testCancelInsideGroup(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	for round := range 2 {
		// A repository big enough that deleting it takes milliseconds, so
		// that the cancellation lands while the statement runs.
		var big int64
		update(t, db, func(tx *meta.Tx) error {
			var err error
			if big, err = tx.EnsureRepository(t.Context(), f.reg, fmt.Sprintf("big%d", round)); err != nil {
				return err
			}
			for i := range 3000 {
				if err := tx.PutTag(t.Context(), big, fmt.Sprintf("tag%05d", i), digest("x")); err != nil {
					return err
				}
			}
			return nil
		})
		before := fmt.Sprintf("before%d", round)
		after := fmt.Sprintf("after%d", round)
		release := hold(t, db)
		var wg sync.WaitGroup
		var errBefore, errCancelled, errAfter error
		run := func(dst *error, ctx context.Context, fn func(tx *meta.Tx) error) {
			wg.Add(1)
			go func() { defer wg.Done(); *dst = db.Update(ctx, fn) }()
			time.Sleep(20 * time.Millisecond) // queue in order
		}
		run(&errBefore, context.Background(), func(tx *meta.Tx) error {
			return tx.PutTag(context.Background(), f.repoID, before, digest("x"))
		})
		ctx, cancel := context.WithCancel(context.Background())
		delay := time.Duration(round+1) * time.Millisecond
		run(&errCancelled, ctx, func(tx *meta.Tx) error {
			time.AfterFunc(delay, cancel)
			return tx.DeleteRepository(ctx, big)
		})
		run(&errAfter, context.Background(), func(tx *meta.Tx) error {
			return tx.PutTag(context.Background(), f.repoID, after, digest("x"))
		})
		release()
		wg.Wait()
		cancel()

		for _, c := range []struct {
			name string
			err  error
		}{{before, errBefore}, {after, errAfter}} {
			_, terr := db.Tag(t.Context(), f.repoID, c.name)
			switch {
			case c.err == nil && terr != nil:
				t.Errorf("round %d: Update writing tag %s succeeded, but the tag is gone: %v", round, c.name, terr)
			case c.err != nil && terr == nil:
				t.Errorf("round %d: Update writing tag %s failed (%v), but the tag was written", round, c.name, c.err)
			case c.err != nil:
				t.Errorf("round %d: Update writing tag %s failed for another's cancellation: %v", round, c.name, c.err)
			}
		}
		_, rerr := db.Repository(t.Context(), f.reg, fmt.Sprintf("big%d", round))
		switch {
		case errCancelled == nil && rerr == nil:
			t.Errorf("round %d: cancelled DeleteRepository succeeded, but the repository is there", round)
		case errCancelled != nil && rerr != nil:
			t.Errorf("round %d: cancelled DeleteRepository failed (%v), but the repository is gone", round, errCancelled)
		}
	}
}

func testReadOwnWrites(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	update(t, db, func(tx *meta.Tx) error {
		ctx := t.Context()
		m := newManifest(f.repoID, "fresh")
		if _, err := tx.InsertManifest(ctx, &m); err != nil {
			return err
		}
		if err := tx.PutTag(ctx, f.repoID, "fresh", m.Digest); err != nil {
			return err
		}
		if gm, gt, err := tx.ResolveTag(ctx, f.reg, f.repo, "fresh"); err != nil || gm.ID != m.ID || gt.Digest != m.Digest {
			t.Errorf("ResolveTag inside the tx = %d, %s, %v; want %d", gm.ID, gt.Digest, err, m.ID)
		}
		if names, err := tx.TagNames(ctx, f.reg, f.repo, "", 0); err != nil || len(names) != 1 {
			t.Errorf("TagNames inside the tx = %q, %v; want [fresh]", names, err)
		}
		if repos, err := tx.Repositories(ctx, f.reg, meta.Page{}); err != nil || len(repos) != 1 {
			t.Errorf("Repositories inside the tx = %d, %v; want lib/app", len(repos), err)
		}
		if n, tags, err := tx.ContentCounts(ctx, f.repoID); err != nil || n != 1 || tags != 1 {
			t.Errorf("ContentCounts inside the tx = %d, %d, %v; want 1, 1", n, tags, err)
		}
		// Reads outside the transaction do not see it before it commits.
		if _, err := db.Tag(ctx, f.repoID, "fresh"); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Tag outside the uncommitted tx: error = %v, want ErrNotFound", err)
		}
		if err := tx.DeleteTag(ctx, f.repoID, "fresh"); err != nil {
			return err
		}
		if _, err := tx.Tag(ctx, f.repoID, "fresh"); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Tag inside the tx after DeleteTag: error = %v, want ErrNotFound", err)
		}
		return tx.PutTag(ctx, f.repoID, "kept", m.Digest)
	})
	if _, err := db.Tag(t.Context(), f.repoID, "kept"); err != nil {
		t.Errorf("Tag after commit: %v", err)
	}
}

func testClock(t *testing.T, db *meta.DB) {
	c := setClock(db)
	at := c.advance(24 * time.Hour)
	var reg meta.Registry
	var repo meta.Repository
	var m meta.Manifest
	var u meta.Upload
	var user meta.User
	update(t, db, func(tx *meta.Tx) error {
		ctx := t.Context()
		reg = meta.Registry{Name: "reg"}
		if err := tx.CreateRegistry(ctx, &reg); err != nil {
			return err
		}
		var err error
		if repo, err = tx.UpsertRepository(ctx, reg.ID, "repo"); err != nil {
			return err
		}
		if err := tx.PutBlob(ctx, digest("b"), 1); err != nil {
			return err
		}
		m = newManifest(repo.ID, "m")
		if _, err := tx.InsertManifest(ctx, &m); err != nil {
			return err
		}
		if err := tx.PutTag(ctx, repo.ID, "v1", m.Digest); err != nil {
			return err
		}
		u = meta.Upload{ID: "u", RegistryID: reg.ID, Repository: "repo", HashState: []byte{}, Algorithm: "sha256"}
		if err := tx.CreateUpload(ctx, &u); err != nil {
			return err
		}
		user = meta.User{Name: "alice", PasswordHash: "h", Role: "admin"}
		return tx.PutUser(ctx, &user)
	})
	for _, s := range []struct {
		what string
		got  time.Time
	}{
		{"Registry.CreatedAt", reg.CreatedAt},
		{"Repository.CreatedAt", repo.CreatedAt},
		{"Repository.UpdatedAt", repo.UpdatedAt},
		{"Manifest.CreatedAt", m.CreatedAt},
		{"Manifest.UpdatedAt", m.UpdatedAt},
		{"Upload.CreatedAt", u.CreatedAt},
		{"Upload.UpdatedAt", u.UpdatedAt},
		{"User.CreatedAt", user.CreatedAt},
	} {
		wantTime(t, "returned "+s.what, s.got, at)
	}
	b, _ := db.Blob(t.Context(), digest("b"))
	tg, _ := db.Tag(t.Context(), repo.ID, "v1")
	gu, _ := db.User(t.Context(), "alice")
	regs, _ := db.Registries(t.Context())
	if len(regs) != 1 {
		t.Fatalf("Registries = %+v", regs)
	}
	for _, s := range []struct {
		what string
		got  time.Time
	}{
		{"Registry.CreatedAt", regs[0].CreatedAt},
		{"Blob.CreatedAt", b.CreatedAt},
		{"Tag.CreatedAt", tg.CreatedAt},
		{"Tag.UpdatedAt", tg.UpdatedAt},
		{"User.CreatedAt", gu.CreatedAt},
	} {
		wantTime(t, "stored "+s.what, s.got, at)
	}
	// Times come back in UTC whatever the clock's zone, to the nanosecond.
	east := time.FixedZone("east", 5*3600)
	c.mu.Lock()
	c.now = time.Date(2030, 1, 2, 3, 4, 5, 999999999, east)
	c.mu.Unlock()
	update(t, db, func(tx *meta.Tx) error { return tx.PutTag(t.Context(), repo.ID, "v2", m.Digest) })
	tg, _ = db.Tag(t.Context(), repo.ID, "v2")
	wantTime(t, "Tag.CreatedAt from a zoned clock", tg.CreatedAt, time.Date(2030, 1, 1, 22, 4, 5, 999999999, time.UTC))
	if tg.CreatedAt.Location() != time.UTC {
		t.Errorf("Tag.CreatedAt location = %v, want UTC", tg.CreatedAt.Location())
	}
}
