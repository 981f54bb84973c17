package metatest

import (
	"errors"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

func testCreateRegistry(t *testing.T, db *meta.DB) {
	setClock(db)
	r := meta.Registry{Name: "reg", LoginServer: "reg.example.com", Location: "eu-west"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &r) })
	if r.ID == 0 {
		t.Errorf("CreateRegistry left ID 0")
	}
	wantTime(t, "CreatedAt", r.CreatedAt, t0)
	got, err := db.Registries(t.Context())
	if err != nil {
		t.Fatalf("Registries: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("Registries = %+v, want one", got)
	}
	g := got[0]
	if g.ID != r.ID || g.Name != r.Name || g.LoginServer != r.LoginServer || g.Location != r.Location {
		t.Errorf("Registries()[0] = %+v, want %+v", g, r)
	}
	wantTime(t, "stored CreatedAt", g.CreatedAt, t0)
}

func testRegistryConflict(t *testing.T, db *meta.DB) {
	first := meta.Registry{Name: "reg", LoginServer: "first"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &first) })
	err := db.Update(t.Context(), func(tx *meta.Tx) error {
		return tx.CreateRegistry(t.Context(), &meta.Registry{Name: "reg", LoginServer: "second"})
	})
	wantErr(t, "CreateRegistry(duplicate name)", err, meta.ErrConflict)
	got, err := db.Registries(t.Context())
	if err != nil {
		t.Fatalf("Registries: %v", err)
	}
	if len(got) != 1 || got[0].ID != first.ID || got[0].LoginServer != "first" {
		t.Errorf("Registries = %+v, want only the first", got)
	}
	// The conflict is the fn's to handle: the rest of its transaction commits.
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.CreateRegistry(t.Context(), &meta.Registry{Name: "reg"}); !errors.Is(err, meta.ErrConflict) {
			t.Errorf("CreateRegistry(duplicate name) in a tx: error = %v, want ErrConflict", err)
		}
		return tx.CreateRegistry(t.Context(), &meta.Registry{Name: "other"})
	})
	got, _ = db.Registries(t.Context())
	if len(got) != 2 {
		t.Errorf("after a handled conflict, Registries = %+v, want reg and other", got)
	}
}

func testRegistriesByName(t *testing.T, db *meta.DB) {
	if got, err := db.Registries(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("Registries of an empty store = %+v, %v; want none", got, err)
	}
	for _, name := range []string{"m", "b", "z", "a"} {
		update(t, db, func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &meta.Registry{Name: name}) })
	}
	got, err := db.Registries(t.Context())
	if err != nil {
		t.Fatalf("Registries: %v", err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	wantList(t, "Registries", names, []string{"a", "b", "m", "z"})
}

func testEnsureRepository(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	c.advance(time.Hour)
	var again, other int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		if again, err = tx.EnsureRepository(t.Context(), f.reg, f.repo); err != nil {
			return err
		}
		other, err = tx.EnsureRepository(t.Context(), f.reg, "lib/other")
		return err
	})
	if again != f.repoID {
		t.Errorf("EnsureRepository twice: id %d then %d", f.repoID, again)
	}
	if other == f.repoID || other == 0 {
		t.Errorf("EnsureRepository(lib/other) = %d, want a new id (lib/app is %d)", other, f.repoID)
	}
	r, err := db.Repository(t.Context(), f.reg, f.repo)
	if err != nil {
		t.Fatalf("Repository: %v", err)
	}
	if r.ID != f.repoID || r.RegistryID != f.reg || r.Name != f.repo {
		t.Errorf("Repository = %+v, want id %d in registry %d", r, f.repoID, f.reg)
	}
	if r.Attributes != meta.Unlocked {
		t.Errorf("new repository's attributes = %+v, want Unlocked", r.Attributes)
	}
	// Ensuring is not a change to the content.
	wantTime(t, "CreatedAt", r.CreatedAt, t0)
	wantTime(t, "UpdatedAt after a second EnsureRepository", r.UpdatedAt, t0)
}

func testUpsertRepository(t *testing.T, db *meta.DB) {
	c := setClock(db)
	reg := newFixture(t, db).reg
	var first, second meta.Repository
	update(t, db, func(tx *meta.Tx) error {
		var err error
		first, err = tx.UpsertRepository(t.Context(), reg, "lib/new")
		return err
	})
	if first.ID == 0 || first.Name != "lib/new" || first.RegistryID != reg || first.Attributes != meta.Unlocked {
		t.Errorf("UpsertRepository (new) = %+v", first)
	}
	wantTime(t, "new CreatedAt", first.CreatedAt, t0)
	wantTime(t, "new UpdatedAt", first.UpdatedAt, t0)

	update(t, db, func(tx *meta.Tx) error {
		return tx.UpdateRepositoryAttributes(t.Context(), first.ID, locked)
	})
	later := c.advance(time.Minute)
	update(t, db, func(tx *meta.Tx) error {
		var err error
		second, err = tx.UpsertRepository(t.Context(), reg, "lib/new")
		return err
	})
	if second.ID != first.ID {
		t.Errorf("UpsertRepository of an existing repository: id %d, want %d", second.ID, first.ID)
	}
	if second.Attributes != locked {
		t.Errorf("UpsertRepository attributes = %+v, want the stored %+v", second.Attributes, locked)
	}
	wantTime(t, "CreatedAt after upsert", second.CreatedAt, t0)
	wantTime(t, "UpdatedAt after upsert", second.UpdatedAt, later)
	r, err := db.Repository(t.Context(), reg, "lib/new")
	if err != nil {
		t.Fatalf("Repository: %v", err)
	}
	wantTime(t, "stored UpdatedAt", r.UpdatedAt, later)
	wantTime(t, "stored CreatedAt", r.CreatedAt, t0)
}

func testTouchRepository(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	later := c.advance(time.Second)
	update(t, db, func(tx *meta.Tx) error { return tx.TouchRepository(t.Context(), f.repoID) })
	r, err := db.Repository(t.Context(), f.reg, f.repo)
	if err != nil {
		t.Fatalf("Repository: %v", err)
	}
	wantTime(t, "UpdatedAt after TouchRepository", r.UpdatedAt, later)
	wantTime(t, "CreatedAt after TouchRepository", r.CreatedAt, t0)
}

func testRepositoryNotFound(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	_, err := db.Repository(t.Context(), f.reg, "lib/nope")
	wantErr(t, "Repository(unknown name)", err, meta.ErrNotFound)
	_, err = db.Repository(t.Context(), f.reg+1000, f.repo)
	wantErr(t, "Repository(unknown registry)", err, meta.ErrNotFound)
}

func testRepositoriesPaging(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	names := []string{"c/x", "a", "b/y", "e", "d"}
	for _, n := range names {
		var id int64
		update(t, db, func(tx *meta.Tx) error {
			var err error
			id, err = tx.EnsureRepository(t.Context(), f.reg, n)
			return err
		})
		putManifest(t, db, id, "manifest of "+n)
	}
	// f.repo ("lib/app") has no manifest: never listed.
	tests := []struct {
		p    meta.Page
		want []string
	}{
		{meta.Page{}, []string{"a", "b/y", "c/x", "d", "e"}},
		{meta.Page{N: 2}, []string{"a", "b/y"}},
		{meta.Page{Last: "b/y", N: 2}, []string{"c/x", "d"}},
		{meta.Page{Last: "d", N: 2}, []string{"e"}},
		{meta.Page{Last: "e", N: 2}, []string{}},
		{meta.Page{Last: "bz"}, []string{"c/x", "d", "e"}}, // Last need not exist
		{meta.Page{Last: "a", N: -1}, []string{"b/y", "c/x", "d", "e"}},
	}
	for _, tt := range tests {
		got, err := db.Repositories(t.Context(), f.reg, tt.p)
		if err != nil {
			t.Fatalf("Repositories(%+v): %v", tt.p, err)
		}
		wantList(t, "Repositories", repoNames(got), tt.want)
	}
	got, _ := db.Repositories(t.Context(), f.reg, meta.Page{N: 1})
	if len(got) == 1 && (got[0].ID == 0 || got[0].RegistryID != f.reg || got[0].Attributes != meta.Unlocked) {
		t.Errorf("Repositories()[0] = %+v, want its id, registry and attributes filled", got[0])
	}
}

func testRepositoriesHidden(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	var listed, hidden int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		if listed, err = tx.EnsureRepository(t.Context(), f.reg, "listed"); err != nil {
			return err
		}
		hidden, err = tx.EnsureRepository(t.Context(), f.reg, "hidden")
		return err
	})
	putManifest(t, db, listed, "listed manifest")
	putManifest(t, db, hidden, "hidden manifest")
	update(t, db, func(tx *meta.Tx) error { return tx.UpdateRepositoryAttributes(t.Context(), hidden, locked) })
	got, err := db.Repositories(t.Context(), f.reg, meta.Page{})
	if err != nil {
		t.Fatalf("Repositories: %v", err)
	}
	// lib/app has no manifest; hidden has listEnabled false.
	wantList(t, "Repositories", repoNames(got), []string{"listed"})

	// A repository whose last manifest is deleted leaves the catalog.
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), listed, digest("listed manifest")) })
	got, _ = db.Repositories(t.Context(), f.reg, meta.Page{})
	wantList(t, "Repositories after deleting the only manifest", repoNames(got), []string{})
}

func testRepositoriesPerRegistry(t *testing.T, db *meta.DB) {
	var regA, regB, repoA, repoB int64
	update(t, db, func(tx *meta.Tx) error {
		a, b := meta.Registry{Name: "a"}, meta.Registry{Name: "b"}
		if err := tx.CreateRegistry(t.Context(), &a); err != nil {
			return err
		}
		if err := tx.CreateRegistry(t.Context(), &b); err != nil {
			return err
		}
		regA, regB = a.ID, b.ID
		var err error
		if repoA, err = tx.EnsureRepository(t.Context(), regA, "same"); err != nil {
			return err
		}
		repoB, err = tx.EnsureRepository(t.Context(), regB, "same")
		return err
	})
	if repoA == repoB {
		t.Fatalf("one repository name in two registries shares id %d", repoA)
	}
	putManifest(t, db, repoA, "only in a")
	got, _ := db.Repositories(t.Context(), regB, meta.Page{})
	wantList(t, "Repositories of b", repoNames(got), []string{})
	got, _ = db.Repositories(t.Context(), regA, meta.Page{})
	wantList(t, "Repositories of a", repoNames(got), []string{"same"})
	_, err := db.Manifest(t.Context(), regB, "same", digest("only in a"))
	wantErr(t, "Manifest of a, read through b", err, meta.ErrNotFound)
	if _, err := db.Manifest(t.Context(), regA, "same", digest("only in a")); err != nil {
		t.Errorf("Manifest of a: %v", err)
	}
}

func testRepositoryAttributes(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	for _, a := range []meta.Attributes{
		locked,
		{},
		{ReadEnabled: true},
		meta.Unlocked,
	} {
		update(t, db, func(tx *meta.Tx) error { return tx.UpdateRepositoryAttributes(t.Context(), f.repoID, a) })
		r, err := db.Repository(t.Context(), f.reg, f.repo)
		if err != nil {
			t.Fatalf("Repository: %v", err)
		}
		if r.Attributes != a {
			t.Errorf("after UpdateRepositoryAttributes(%+v), attributes = %+v", a, r.Attributes)
		}
	}
}

func testDeleteRepository(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	var keep int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		keep, err = tx.EnsureRepository(t.Context(), f.reg, "lib/keep")
		return err
	})
	layer := digest("shared layer")
	m := putManifest(t, db, f.repoID, "doomed", layer)
	putManifest(t, db, keep, "doomed", layer) // the same digest in another repository
	update(t, db, func(tx *meta.Tx) error {
		for _, id := range []int64{f.repoID, keep} {
			if err := tx.LinkBlob(t.Context(), id, layer); err != nil {
				return err
			}
			if err := tx.PutTag(t.Context(), id, "v1", m.Digest); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRepository(t.Context(), f.repoID) })

	_, err := db.Repository(t.Context(), f.reg, f.repo)
	wantErr(t, "Repository after DeleteRepository", err, meta.ErrNotFound)
	_, err = db.Manifest(t.Context(), f.reg, f.repo, m.Digest)
	wantErr(t, "Manifest after DeleteRepository", err, meta.ErrNotFound)
	_, err = db.ManifestByDigest(t.Context(), f.repoID, m.Digest)
	wantErr(t, "ManifestByDigest after DeleteRepository", err, meta.ErrNotFound)
	_, err = db.Tag(t.Context(), f.repoID, "v1")
	wantErr(t, "Tag after DeleteRepository", err, meta.ErrNotFound)
	_, err = db.RepositoryBlob(t.Context(), f.reg, f.repo, layer)
	wantErr(t, "RepositoryBlob after DeleteRepository", err, meta.ErrNotFound)
	if n, tags, err := db.ContentCounts(t.Context(), f.repoID); err != nil || n != 0 || tags != 0 {
		t.Errorf("ContentCounts after DeleteRepository = %d, %d, %v; want 0, 0", n, tags, err)
	}

	// Another repository's content, and the blob record itself, stay.
	if _, err := db.Blob(t.Context(), layer); err != nil {
		t.Errorf("Blob after DeleteRepository: %v, want the record kept", err)
	}
	if _, err := db.RepositoryBlob(t.Context(), f.reg, "lib/keep", layer); err != nil {
		t.Errorf("RepositoryBlob of the other repository: %v", err)
	}
	if _, _, err := db.ResolveTag(t.Context(), f.reg, "lib/keep", "v1"); err != nil {
		t.Errorf("ResolveTag in the other repository: %v", err)
	}

	// The name can be used again, from scratch.
	var again int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		again, err = tx.EnsureRepository(t.Context(), f.reg, f.repo)
		return err
	})
	if ms, err := db.Manifests(t.Context(), again, meta.Page{}); err != nil || len(ms) != 0 {
		t.Errorf("Manifests of a recreated repository = %d entries, %v; want none", len(ms), err)
	}
}

func testPutBlob(t *testing.T, db *meta.DB) {
	c := setClock(db)
	d := digest("blob")
	_, err := db.Blob(t.Context(), d)
	wantErr(t, "Blob(unknown)", err, meta.ErrNotFound)
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), d, 42) })
	c.advance(time.Hour)
	// Recording it again is not an error and changes nothing.
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), d, 42) })
	b, err := db.Blob(t.Context(), d)
	if err != nil {
		t.Fatalf("Blob: %v", err)
	}
	if b.Digest != d || b.Size != 42 {
		t.Errorf("Blob = %+v, want digest %s size 42", b, d)
	}
	wantTime(t, "Blob CreatedAt", b.CreatedAt, t0)

	big := oci.FromBytesAlg("sha512", []byte("big"))
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), big, 5<<40) })
	if b, err := db.Blob(t.Context(), big); err != nil || b.Size != 5<<40 {
		t.Errorf("Blob(sha512, 5 TiB) = %+v, %v", b, err)
	}
}

func testLinkBlob(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	d := digest("layer")
	update(t, db, func(tx *meta.Tx) error { return tx.PutBlob(t.Context(), d, 7) })
	_, err := db.RepositoryBlob(t.Context(), f.reg, f.repo, d)
	wantErr(t, "RepositoryBlob before LinkBlob", err, meta.ErrNotFound)

	for range 2 { // linking twice is not an error
		update(t, db, func(tx *meta.Tx) error { return tx.LinkBlob(t.Context(), f.repoID, d) })
	}
	b, err := db.RepositoryBlob(t.Context(), f.reg, f.repo, d)
	if err != nil {
		t.Fatalf("RepositoryBlob: %v", err)
	}
	if b.Digest != d || b.Size != 7 {
		t.Errorf("RepositoryBlob = %+v, want size 7", b)
	}
	_, err = db.RepositoryBlob(t.Context(), f.reg, "lib/other", d)
	wantErr(t, "RepositoryBlob in an unknown repository", err, meta.ErrNotFound)

	var removed, again bool
	update(t, db, func(tx *meta.Tx) error {
		var err error
		if removed, err = tx.UnlinkBlob(t.Context(), f.repoID, d); err != nil {
			return err
		}
		again, err = tx.UnlinkBlob(t.Context(), f.repoID, d)
		return err
	})
	if !removed || again {
		t.Errorf("UnlinkBlob twice = %v, %v; want true, false", removed, again)
	}
	_, err = db.RepositoryBlob(t.Context(), f.reg, f.repo, d)
	wantErr(t, "RepositoryBlob after UnlinkBlob", err, meta.ErrNotFound)
	if _, err := db.Blob(t.Context(), d); err != nil {
		t.Errorf("Blob after UnlinkBlob: %v, want the record kept", err)
	}
}

func testMissingBlobs(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	a, b, c, unknown := digest("a"), digest("b"), digest("c"), digest("unknown")
	update(t, db, func(tx *meta.Tx) error {
		for _, d := range []oci.Digest{a, b, c} {
			if err := tx.PutBlob(t.Context(), d, 1); err != nil {
				return err
			}
		}
		// b is recorded but not linked: missing from the repository.
		for _, d := range []oci.Digest{a, c} {
			if err := tx.LinkBlob(t.Context(), f.repoID, d); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := db.MissingBlobs(t.Context(), f.repoID, []oci.Digest{unknown, a, b, c})
	if err != nil {
		t.Fatalf("MissingBlobs: %v", err)
	}
	wantList(t, "MissingBlobs", digestStrings(got), digestStrings([]oci.Digest{unknown, b}))
	if got, err := db.MissingBlobs(t.Context(), f.repoID, []oci.Digest{a, c}); err != nil || len(got) != 0 {
		t.Errorf("MissingBlobs(all linked) = %v, %v; want none", got, err)
	}
	if got, err := db.MissingBlobs(t.Context(), f.repoID, nil); err != nil || len(got) != 0 {
		t.Errorf("MissingBlobs(nil) = %v, %v; want none", got, err)
	}
}
