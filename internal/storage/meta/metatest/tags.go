package metatest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

func testPutTag(t *testing.T, db *meta.DB) {
	setClock(db)
	f := newFixture(t, db)
	_, err := db.Tag(t.Context(), f.repoID, "latest")
	wantErr(t, "Tag before PutTag", err, meta.ErrNotFound)
	m := putManifest(t, db, f.repoID, "content")
	putTag(t, db, f.repoID, "latest", m.Digest)
	tg, err := db.Tag(t.Context(), f.repoID, "latest")
	if err != nil {
		t.Fatalf("Tag: %v", err)
	}
	if tg.Name != "latest" || tg.Digest != m.Digest || tg.Attributes != meta.Unlocked {
		t.Errorf("Tag = %+v, want latest -> %s, unlocked", tg, m.Digest)
	}
	wantTime(t, "CreatedAt", tg.CreatedAt, t0)
	wantTime(t, "UpdatedAt", tg.UpdatedAt, t0)
	_, err = db.Tag(t.Context(), f.repoID+1000, "latest")
	wantErr(t, "Tag in another repository", err, meta.ErrNotFound)
}

func testMoveTag(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	m1 := putManifest(t, db, f.repoID, "one")
	m2 := putManifest(t, db, f.repoID, "two")
	putTag(t, db, f.repoID, "latest", m1.Digest)
	a := meta.Attributes{DeleteEnabled: false, WriteEnabled: true, ListEnabled: false, ReadEnabled: true}
	update(t, db, func(tx *meta.Tx) error { return tx.UpdateTagAttributes(t.Context(), f.repoID, "latest", a) })
	moved := c.advance(time.Hour)
	putTag(t, db, f.repoID, "latest", m2.Digest)
	tg, err := db.Tag(t.Context(), f.repoID, "latest")
	if err != nil {
		t.Fatalf("Tag: %v", err)
	}
	if tg.Digest != m2.Digest {
		t.Errorf("moved tag names %s, want %s", tg.Digest, m2.Digest)
	}
	if tg.Attributes != a {
		t.Errorf("moved tag's attributes = %+v, want the locks %+v kept", tg.Attributes, a)
	}
	wantTime(t, "CreatedAt of a moved tag", tg.CreatedAt, t0)
	wantTime(t, "UpdatedAt of a moved tag", tg.UpdatedAt, moved)

	m, _ := db.ManifestByDigest(t.Context(), f.repoID, m1.Digest)
	if len(m.Tags) != 0 {
		t.Errorf("old manifest's tags after the move = %q, want none", m.Tags)
	}
	if n, tags, _ := db.ContentCounts(t.Context(), f.repoID); n != 2 || tags != 1 {
		t.Errorf("ContentCounts after a move = %d, %d; want 2, 1", n, tags)
	}
}

func testDeleteTag(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	putTag(t, db, f.repoID, "a", m.Digest)
	putTag(t, db, f.repoID, "b", m.Digest)
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteTag(t.Context(), f.repoID, "a") })
	_, err := db.Tag(t.Context(), f.repoID, "a")
	wantErr(t, "Tag after DeleteTag", err, meta.ErrNotFound)
	if _, err := db.Tag(t.Context(), f.repoID, "b"); err != nil {
		t.Errorf("the other tag: %v", err)
	}
	if _, err := db.ManifestByDigest(t.Context(), f.repoID, m.Digest); err != nil {
		t.Errorf("manifest after DeleteTag: %v, want it kept", err)
	}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeleteTag(t.Context(), f.repoID, "a") })
	wantErr(t, "DeleteTag again", err, meta.ErrNotFound)
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeleteTag(t.Context(), f.repoID+1000, "b") })
	wantErr(t, "DeleteTag in another repository", err, meta.ErrNotFound)
	if _, err := db.Tag(t.Context(), f.repoID, "b"); err != nil {
		t.Errorf("tag b after a DeleteTag elsewhere: %v", err)
	}
}

func testTagAttributes(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	putTag(t, db, f.repoID, "a", m.Digest)
	putTag(t, db, f.repoID, "b", m.Digest)
	for _, a := range []meta.Attributes{locked, {}, {DeleteEnabled: true}, meta.Unlocked} {
		update(t, db, func(tx *meta.Tx) error { return tx.UpdateTagAttributes(t.Context(), f.repoID, "a", a) })
		tg, err := db.Tag(t.Context(), f.repoID, "a")
		if err != nil {
			t.Fatalf("Tag: %v", err)
		}
		if tg.Attributes != a {
			t.Errorf("after UpdateTagAttributes(%+v), attributes = %+v", a, tg.Attributes)
		}
		if b, _ := db.Tag(t.Context(), f.repoID, "b"); b.Attributes != meta.Unlocked {
			t.Errorf("another tag's attributes changed to %+v", b.Attributes)
		}
	}
}

func testTagNames(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	update(t, db, func(tx *meta.Tx) error {
		for _, n := range []string{"v2", "latest", "v10", "V1", "hidden", "v1"} {
			if err := tx.PutTag(t.Context(), f.repoID, n, m.Digest); err != nil {
				return err
			}
		}
		return tx.UpdateTagAttributes(t.Context(), f.repoID, "hidden", locked)
	})
	// Lexical (byte) order, hidden left out.
	all := []string{"V1", "latest", "v1", "v10", "v2"}
	tests := []struct {
		last string
		n    int
		want []string
	}{
		{"", 0, all},
		{"", -1, all},
		{"", 2, all[:2]},
		{"latest", 2, all[2:4]},
		{"v10", 2, all[4:]},
		{"v2", 2, []string{}},
		{"hidden", 1, []string{"latest"}}, // after a hidden tag
		{"u", 0, all[2:]},                 // last need not exist
	}
	for _, tt := range tests {
		got, err := db.TagNames(t.Context(), f.reg, f.repo, tt.last, tt.n)
		if err != nil {
			t.Fatalf("TagNames(%q, %d): %v", tt.last, tt.n, err)
		}
		wantList(t, "TagNames", got, tt.want)
	}
	if got, err := db.TagNames(t.Context(), f.reg, "lib/nope", "", 0); err != nil || len(got) != 0 {
		t.Errorf("TagNames(unknown repository) = %q, %v; want none", got, err)
	}
}

func testTagsByName(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	m1 := putManifest(t, db, f.repoID, "one")
	m2 := putManifest(t, db, f.repoID, "two")
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		c.advance(time.Second)
		d := m1.Digest
		if n == "d" {
			d = m2.Digest
		}
		putTag(t, db, f.repoID, n, d)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.UpdateTagAttributes(t.Context(), f.repoID, "e", locked) })
	tests := []struct {
		p    meta.Page
		want []string
	}{
		{meta.Page{}, []string{"a", "b", "c", "d", "e"}}, // Tags lists hidden tags too
		{meta.Page{N: 2}, []string{"a", "b"}},
		{meta.Page{Last: "b", N: 2}, []string{"c", "d"}},
		{meta.Page{Last: "d", N: 2}, []string{"e"}},
		{meta.Page{Last: "e"}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.Tags(t.Context(), f.repoID, tt.p)
		if err != nil {
			t.Fatalf("Tags(%+v): %v", tt.p, err)
		}
		wantList(t, "Tags by name", tagNames(got), tt.want)
	}
	got, _ := db.Tags(t.Context(), f.repoID, meta.Page{Last: "c", N: 2})
	if len(got) == 2 {
		if got[0].Digest != m2.Digest || got[1].Digest != m1.Digest || got[1].Attributes != locked {
			t.Errorf("Tags d, e = %+v, want d -> %s and e -> %s locked", got, m2.Digest, m1.Digest)
		}
		wantTime(t, "CreatedAt of d", got[0].CreatedAt, t0.Add(5*time.Second))
	}
}

func testTagsByTime(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	m1 := putManifest(t, db, f.repoID, "one")
	m2 := putManifest(t, db, f.repoID, "two")
	// Created c, a, e, b, d one second apart; then moving a makes it the newest.
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		c.advance(time.Second)
		putTag(t, db, f.repoID, n, m1.Digest)
	}
	c.advance(time.Second)
	putTag(t, db, f.repoID, "a", m2.Digest)
	// x and w share one instant: name breaks the tie.
	c.advance(time.Second)
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.PutTag(t.Context(), f.repoID, "x", m1.Digest); err != nil {
			return err
		}
		return tx.PutTag(t.Context(), f.repoID, "w", m1.Digest)
	})
	asc := []string{"c", "e", "b", "d", "a", "w", "x"}
	desc := []string{"x", "w", "a", "d", "b", "e", "c"}
	tests := []struct {
		p    meta.Page
		want []string
	}{
		{meta.Page{Order: meta.ByTimeAsc}, asc},
		{meta.Page{Order: meta.ByTimeAsc, N: 3}, asc[:3]},
		{meta.Page{Order: meta.ByTimeAsc, Last: "b", N: 3}, asc[3:6]},
		{meta.Page{Order: meta.ByTimeAsc, Last: "w", N: 3}, asc[6:]},
		{meta.Page{Order: meta.ByTimeAsc, Last: "x"}, []string{}},
		{meta.Page{Order: meta.ByTimeDesc}, desc},
		{meta.Page{Order: meta.ByTimeDesc, N: 1}, desc[:1]},
		{meta.Page{Order: meta.ByTimeDesc, Last: "x", N: 2}, desc[1:3]},
		{meta.Page{Order: meta.ByTimeDesc, Last: "a", N: 2}, desc[3:5]},
		{meta.Page{Order: meta.ByTimeDesc, Last: "e"}, desc[6:]},
	}
	for _, tt := range tests {
		got, err := db.Tags(t.Context(), f.repoID, tt.p)
		if err != nil {
			t.Fatalf("Tags(%+v): %v", tt.p, err)
		}
		wantList(t, "Tags by time", tagNames(got), tt.want)
	}
	_, err := db.Tags(t.Context(), f.repoID, meta.Page{Order: meta.ByTimeDesc, Last: "gone"})
	wantErr(t, "Tags by time after an unknown tag", err, meta.ErrNotFound)
}

func testUpload(t *testing.T, db *meta.DB) {
	setClock(db)
	f := newFixture(t, db)
	_, err := db.Upload(t.Context(), "u1")
	wantErr(t, "Upload before CreateUpload", err, meta.ErrNotFound)
	u := meta.Upload{ID: "u1", RegistryID: f.reg, Repository: f.repo, HashState: []byte{0, 1, 2, 0xff}, Algorithm: "sha256"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateUpload(t.Context(), &u) })
	wantTime(t, "CreatedAt", u.CreatedAt, t0)
	wantTime(t, "UpdatedAt", u.UpdatedAt, t0)
	got, err := db.Upload(t.Context(), "u1")
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got.ID != "u1" || got.RegistryID != f.reg || got.Repository != f.repo || got.Size != 0 ||
		!bytes.Equal(got.HashState, u.HashState) || got.Algorithm != "sha256" {
		t.Errorf("Upload = %+v, want %+v", got, u)
	}
	wantTime(t, "stored CreatedAt", got.CreatedAt, t0)
}

// newUpload creates upload id with size 0.
func newUpload(t *testing.T, db *meta.DB, reg int64, id string) meta.Upload {
	t.Helper()
	u := meta.Upload{ID: id, RegistryID: reg, Repository: "lib/app", HashState: []byte("state 0"), Algorithm: "sha256"}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateUpload(t.Context(), &u) })
	return u
}

func testAdvanceUpload(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	u := newUpload(t, db, f.reg, "u1")
	newUpload(t, db, f.reg, "u2")
	for i, size := range []int64{100, 250, 5 << 30} {
		at := c.advance(time.Second)
		from := u.Size
		u.Size, u.HashState = size, []byte{byte(i), 'x'}
		update(t, db, func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &u, from) })
		wantTime(t, "UpdatedAt", u.UpdatedAt, at)
		got, err := db.Upload(t.Context(), "u1")
		if err != nil {
			t.Fatalf("Upload: %v", err)
		}
		if got.Size != size || !bytes.Equal(got.HashState, u.HashState) {
			t.Errorf("after AdvanceUpload to %d: size %d, state %q; want %q", size, got.Size, got.HashState, u.HashState)
		}
		wantTime(t, "stored UpdatedAt", got.UpdatedAt, at)
		wantTime(t, "stored CreatedAt", got.CreatedAt, t0)
	}
	if other, _ := db.Upload(t.Context(), "u2"); other.Size != 0 || string(other.HashState) != "state 0" {
		t.Errorf("another upload changed: %+v", other)
	}
}

func testAdvanceUploadConflict(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	u := newUpload(t, db, f.reg, "u1")
	u.Size, u.HashState = 10, []byte("state 10")
	update(t, db, func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &u, 0) })

	// A second writer that also started from 0 lost the race.
	stale := meta.Upload{ID: "u1", Size: 20, HashState: []byte("stale")}
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &stale, 0) })
	wantErr(t, "AdvanceUpload from a stale size", err, meta.ErrConflict)
	got, err := db.Upload(t.Context(), "u1")
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got.Size != 10 || string(got.HashState) != "state 10" {
		t.Errorf("after a lost race: size %d, state %q; want 10, %q", got.Size, got.HashState, "state 10")
	}
	// From ahead of the stored size is a conflict too.
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &stale, 15) })
	wantErr(t, "AdvanceUpload from beyond the stored size", err, meta.ErrConflict)
}

func testAdvanceUnknownUpload(t *testing.T, db *meta.DB) {
	u := meta.Upload{ID: "nope", Size: 10, HashState: []byte("x")}
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &u, 0) })
	wantErr(t, "AdvanceUpload(unknown)", err, meta.ErrNotFound)
}

func testCreateUploadConflict(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	u := newUpload(t, db, f.reg, "u1")
	u.Size = 10
	update(t, db, func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &u, 0) })
	dup := meta.Upload{ID: "u1", RegistryID: f.reg, Repository: "lib/other", HashState: []byte("dup"), Algorithm: "sha512"}
	// A uniqueness rule broken is ErrConflict, and the fn may go on.
	update(t, db, func(tx *meta.Tx) error {
		err := tx.CreateUpload(t.Context(), &dup)
		if !errors.Is(err, meta.ErrConflict) {
			t.Errorf("CreateUpload(existing id): error = %v, want ErrConflict", err)
		}
		return tx.PutBlob(t.Context(), digest("after the conflict"), 1)
	})
	if _, err := db.Blob(t.Context(), digest("after the conflict")); err != nil {
		t.Errorf("a write after a handled CreateUpload conflict: %v, want it committed", err)
	}
	got, _ := db.Upload(t.Context(), "u1")
	if got.Size != 10 || got.Repository != "lib/app" || got.Algorithm != "sha256" {
		t.Errorf("upload after a conflicting CreateUpload = %+v, want the first kept", got)
	}
}

func testDeleteUpload(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	newUpload(t, db, f.reg, "u1")
	newUpload(t, db, f.reg, "u2")
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteUpload(t.Context(), "u1") })
	_, err := db.Upload(t.Context(), "u1")
	wantErr(t, "Upload after DeleteUpload", err, meta.ErrNotFound)
	if _, err := db.Upload(t.Context(), "u2"); err != nil {
		t.Errorf("the other upload: %v", err)
	}
	// Forgetting an upload twice is not an error: abandoned sessions are swept.
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteUpload(t.Context(), "u1") })
	u := meta.Upload{ID: "u1", Size: 5}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.AdvanceUpload(t.Context(), &u, 0) })
	wantErr(t, "AdvanceUpload after DeleteUpload", err, meta.ErrNotFound)
}

func testPutUser(t *testing.T, db *meta.DB) {
	c := setClock(db)
	u := meta.User{Name: "alice", PasswordHash: "hash1", Role: "admin"}
	update(t, db, func(tx *meta.Tx) error { return tx.PutUser(t.Context(), &u) })
	if u.ID == 0 {
		t.Errorf("PutUser left ID 0")
	}
	wantTime(t, "CreatedAt", u.CreatedAt, t0)
	bob := meta.User{Name: "bob", PasswordHash: "hashb", Role: "reader"}
	update(t, db, func(tx *meta.Tx) error { return tx.PutUser(t.Context(), &bob) })
	if bob.ID == u.ID {
		t.Errorf("two users share id %d", bob.ID)
	}

	c.advance(time.Hour)
	again := meta.User{Name: "alice", PasswordHash: "hash2", Role: "reader"}
	update(t, db, func(tx *meta.Tx) error { return tx.PutUser(t.Context(), &again) })
	if again.ID != u.ID {
		t.Errorf("PutUser of an existing name: ID %d, want %d", again.ID, u.ID)
	}
	// Replacing is not creating: the user keeps its creation time.
	wantTime(t, "CreatedAt returned by a replacing PutUser", again.CreatedAt, t0)
	got, err := db.User(t.Context(), "alice")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if got.ID != u.ID || got.Name != "alice" || got.PasswordHash != "hash2" || got.Role != "reader" {
		t.Errorf("User after replace = %+v, want hash2, reader", got)
	}
	wantTime(t, "stored CreatedAt after replace", got.CreatedAt, t0)
	if b, err := db.User(t.Context(), "bob"); err != nil || b.PasswordHash != "hashb" || b.Role != "reader" {
		t.Errorf("User(bob) = %+v, %v", b, err)
	}
}

func testUserNotFound(t *testing.T, db *meta.DB) {
	update(t, db, func(tx *meta.Tx) error {
		return tx.PutUser(t.Context(), &meta.User{Name: "alice", PasswordHash: "h", Role: "admin"})
	})
	for _, name := range []string{"bob", "Alice", ""} {
		_, err := db.User(t.Context(), name)
		wantErr(t, "User("+name+")", err, meta.ErrNotFound)
	}
}
