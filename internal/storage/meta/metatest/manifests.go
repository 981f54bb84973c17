package metatest

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

func testInsertManifest(t *testing.T, db *meta.DB) {
	setClock(db)
	f := newFixture(t, db)
	subject := digest("subject")
	config, layer := digest("config"), digest("layer")
	content := `{"schemaVersion":2,"layers":[]}` + "\x00\xff binary is kept"
	m := meta.Manifest{
		RepositoryID: f.repoID,
		Digest:       digest(content),
		MediaType:    oci.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example+json",
		Size:         int64(len(content)),
		Content:      []byte(content),
		Subject:      subject,
		Annotations:  map[string]string{"org.opencontainers.image.created": "2024-05-06", "k": "v=1,\"quoted\""},
		Blobs:        []oci.Digest{config, layer, layer}, // a repeated layer is one reference
		Children:     []oci.Digest{digest("child 1"), digest("child 2"), digest("child 1")},
	}
	var isNew bool
	update(t, db, func(tx *meta.Tx) error {
		for _, b := range []oci.Digest{config, layer} {
			if err := tx.PutBlob(t.Context(), b, 1); err != nil {
				return err
			}
		}
		var err error
		isNew, err = tx.InsertManifest(t.Context(), &m)
		return err
	})
	if !isNew {
		t.Errorf("InsertManifest of a new manifest = false")
	}
	if m.ID == 0 {
		t.Errorf("InsertManifest left ID 0")
	}
	wantTime(t, "CreatedAt", m.CreatedAt, t0)
	wantTime(t, "UpdatedAt", m.UpdatedAt, t0)

	got, err := db.Manifest(t.Context(), f.reg, f.repo, m.Digest)
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	if got.ID != m.ID || got.RepositoryID != f.repoID || got.Digest != m.Digest || got.MediaType != m.MediaType ||
		got.ArtifactType != m.ArtifactType || got.Size != m.Size || got.Subject != subject {
		t.Errorf("Manifest = %+v, want %+v", got, m)
	}
	if !bytes.Equal(got.Content, m.Content) {
		t.Errorf("Manifest content = %q, want %q", got.Content, m.Content)
	}
	if !maps.Equal(got.Annotations, m.Annotations) {
		t.Errorf("Manifest annotations = %v, want %v", got.Annotations, m.Annotations)
	}
	if got.Attributes != meta.Unlocked {
		t.Errorf("new manifest's attributes = %+v, want Unlocked", got.Attributes)
	}
	wantTime(t, "stored CreatedAt", got.CreatedAt, t0)
	wantTime(t, "stored UpdatedAt", got.UpdatedAt, t0)

	// No annotations read back as none, and an index is stored like an image.
	index := newManifest(f.repoID, `{"manifests":[]}`)
	index.MediaType = oci.MediaTypeImageIndex
	update(t, db, func(tx *meta.Tx) error { _, err := tx.InsertManifest(t.Context(), &index); return err })
	got, err = db.Manifest(t.Context(), f.reg, f.repo, index.Digest)
	if err != nil {
		t.Fatalf("Manifest(index): %v", err)
	}
	if len(got.Annotations) != 0 || got.Subject != "" || got.ArtifactType != "" || got.MediaType != oci.MediaTypeImageIndex {
		t.Errorf("Manifest(index) = %+v, want no annotations, subject or artifact type", got)
	}
}

func testInsertManifestExisting(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	first := putManifest(t, db, f.repoID, "manifest")
	c.advance(time.Hour)
	again := newManifest(f.repoID, "manifest")
	again.MediaType = "application/vnd.docker.distribution.manifest.v2+json" // ignored: content is named by digest
	var isNew bool
	update(t, db, func(tx *meta.Tx) error {
		var err error
		isNew, err = tx.InsertManifest(t.Context(), &again)
		return err
	})
	if isNew {
		t.Errorf("InsertManifest of a stored digest = true, want false")
	}
	if again.ID != first.ID {
		t.Errorf("InsertManifest of a stored digest: ID %d, want the stored %d", again.ID, first.ID)
	}
	wantTime(t, "CreatedAt of a stored manifest", again.CreatedAt, t0)
	wantTime(t, "UpdatedAt of a stored manifest", again.UpdatedAt, t0)
	got, err := db.ManifestByDigest(t.Context(), f.repoID, first.Digest)
	if err != nil {
		t.Fatalf("ManifestByDigest: %v", err)
	}
	if got.MediaType != first.MediaType {
		t.Errorf("media type after a second insert = %q, want the first %q", got.MediaType, first.MediaType)
	}
	if ms, _ := db.Manifests(t.Context(), f.repoID, meta.Page{}); len(ms) != 1 {
		t.Errorf("Manifests after inserting one digest twice = %d entries, want 1", len(ms))
	}

	// The same digest in another repository is a different manifest.
	var other int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		other, err = tx.EnsureRepository(t.Context(), f.reg, "lib/other")
		return err
	})
	m := putManifest(t, db, other, "manifest")
	if m.ID == first.ID {
		t.Errorf("one digest in two repositories shares manifest id %d", m.ID)
	}
}

func testManifestNotFound(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	putManifest(t, db, f.repoID, "stored")
	d := digest("never stored")
	_, err := db.Manifest(t.Context(), f.reg, f.repo, d)
	wantErr(t, "Manifest(unknown digest)", err, meta.ErrNotFound)
	_, err = db.Manifest(t.Context(), f.reg, "lib/nope", digest("stored"))
	wantErr(t, "Manifest(unknown repository)", err, meta.ErrNotFound)
	_, err = db.ManifestByDigest(t.Context(), f.repoID, d)
	wantErr(t, "ManifestByDigest(unknown)", err, meta.ErrNotFound)
	_, _, err = db.ResolveTag(t.Context(), f.reg, f.repo, "latest")
	wantErr(t, "ResolveTag(unknown tag)", err, meta.ErrNotFound)
	// A tag naming a manifest the repository does not hold resolves to nothing.
	putTag(t, db, f.repoID, "dangling", d)
	_, _, err = db.ResolveTag(t.Context(), f.reg, f.repo, "dangling")
	wantErr(t, "ResolveTag(tag of a missing manifest)", err, meta.ErrNotFound)
}

func testResolveTag(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "tagged content")
	tagged := c.advance(time.Minute)
	putTag(t, db, f.repoID, "v1", m.Digest)
	tagAttrs := meta.Attributes{DeleteEnabled: false, WriteEnabled: false, ListEnabled: true, ReadEnabled: true}
	manAttrs := meta.Attributes{DeleteEnabled: true, WriteEnabled: true, ListEnabled: false, ReadEnabled: false}
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.UpdateTagAttributes(t.Context(), f.repoID, "v1", tagAttrs); err != nil {
			return err
		}
		return tx.UpdateManifestAttributes(t.Context(), m.ID, manAttrs)
	})
	gm, gt, err := db.ResolveTag(t.Context(), f.reg, f.repo, "v1")
	if err != nil {
		t.Fatalf("ResolveTag: %v", err)
	}
	if gm.ID != m.ID || gm.Digest != m.Digest || string(gm.Content) != "tagged content" || gm.MediaType != m.MediaType {
		t.Errorf("ResolveTag manifest = %+v, want %+v with its content", gm, m)
	}
	if gm.Attributes != manAttrs {
		t.Errorf("ResolveTag manifest attributes = %+v, want %+v", gm.Attributes, manAttrs)
	}
	if gt.Name != "v1" || gt.Digest != m.Digest || gt.Attributes != tagAttrs {
		t.Errorf("ResolveTag tag = %+v, want v1 -> %s with %+v", gt, m.Digest, tagAttrs)
	}
	wantTime(t, "tag CreatedAt", gt.CreatedAt, tagged)
	wantTime(t, "manifest CreatedAt", gm.CreatedAt, t0)

	// Another repository's tag of the same name is not this one.
	var other int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		other, err = tx.EnsureRepository(t.Context(), f.reg, "lib/other")
		return err
	})
	m2 := putManifest(t, db, other, "other content")
	putTag(t, db, other, "v1", m2.Digest)
	if gm, _, err := db.ResolveTag(t.Context(), f.reg, f.repo, "v1"); err != nil || gm.Digest != m.Digest {
		t.Errorf("ResolveTag after another repository's v1 = %s, %v; want %s", gm.Digest, err, m.Digest)
	}
}

func testDeleteManifest(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "doomed", digest("layer"))
	keep := putManifest(t, db, f.repoID, "kept")
	var other int64
	update(t, db, func(tx *meta.Tx) error {
		var err error
		if other, err = tx.EnsureRepository(t.Context(), f.reg, "lib/other"); err != nil {
			return err
		}
		for _, tag := range []string{"a", "b"} {
			if err := tx.PutTag(t.Context(), f.repoID, tag, m.Digest); err != nil {
				return err
			}
		}
		if err := tx.PutTag(t.Context(), f.repoID, "c", keep.Digest); err != nil {
			return err
		}
		return tx.PutTag(t.Context(), other, "a", m.Digest)
	})
	putManifest(t, db, other, "doomed")

	update(t, db, func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), f.repoID, m.Digest) })
	_, err := db.Manifest(t.Context(), f.reg, f.repo, m.Digest)
	wantErr(t, "Manifest after DeleteManifest", err, meta.ErrNotFound)
	for _, tag := range []string{"a", "b"} {
		_, err := db.Tag(t.Context(), f.repoID, tag)
		wantErr(t, "Tag "+tag+" of a deleted manifest", err, meta.ErrNotFound)
	}
	if tg, err := db.Tag(t.Context(), f.repoID, "c"); err != nil || tg.Digest != keep.Digest {
		t.Errorf("Tag c of another manifest = %+v, %v; want it kept", tg, err)
	}
	if _, _, err := db.ResolveTag(t.Context(), f.reg, "lib/other", "a"); err != nil {
		t.Errorf("the same digest in another repository: ResolveTag: %v", err)
	}
	if _, err := db.Blob(t.Context(), digest("layer")); err != nil {
		t.Errorf("Blob of a deleted manifest's layer: %v, want the record kept", err)
	}

	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), f.repoID, m.Digest) })
	wantErr(t, "DeleteManifest again", err, meta.ErrNotFound)
	err = db.Update(t.Context(), func(tx *meta.Tx) error {
		return tx.DeleteManifest(t.Context(), f.repoID, digest("never stored"))
	})
	wantErr(t, "DeleteManifest(unknown)", err, meta.ErrNotFound)

	// The digest can be pushed again, untagged.
	putManifest(t, db, f.repoID, "doomed")
	if got, err := db.ManifestByDigest(t.Context(), f.repoID, m.Digest); err != nil || len(got.Tags) != 0 {
		t.Errorf("re-pushed manifest = tags %q, %v; want untagged", got.Tags, err)
	}
}

func testReferrers(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	subject := putManifest(t, db, f.repoID, "subject")
	refer := func(content, artifactType string, subj oci.Digest) meta.Manifest {
		m := newManifest(f.repoID, content)
		m.ArtifactType, m.Subject = artifactType, subj
		m.Annotations = map[string]string{"content": content}
		update(t, db, func(tx *meta.Tx) error { _, err := tx.InsertManifest(t.Context(), &m); return err })
		return m
	}
	c.advance(time.Second)
	sig := refer("signature", "application/vnd.example.sig", subject.Digest)
	c.advance(time.Second)
	sbom := refer("sbom", "application/spdx+json", subject.Digest)
	c.advance(time.Second)
	refer("unrelated", "application/spdx+json", digest("some other subject"))
	// Two in the same instant come in digest order.
	c.advance(time.Second)
	var same []meta.Manifest
	update(t, db, func(tx *meta.Tx) error {
		for _, s := range []string{"same time 1", "same time 2", "same time 3"} {
			m := newManifest(f.repoID, s)
			m.Subject = subject.Digest
			if _, err := tx.InsertManifest(t.Context(), &m); err != nil {
				return err
			}
			same = append(same, m)
		}
		return nil
	})
	want := []string{string(sig.Digest), string(sbom.Digest)}
	var sameDigests []string
	for _, m := range same {
		sameDigests = append(sameDigests, string(m.Digest))
	}
	want = append(want, sorted(sameDigests)...)

	got, err := db.Referrers(t.Context(), f.reg, f.repo, subject.Digest)
	if err != nil {
		t.Fatalf("Referrers: %v", err)
	}
	wantList(t, "Referrers", manifestDigests(got), want)
	if len(got) >= 2 {
		g := got[1]
		if g.ArtifactType != "application/spdx+json" || g.Subject != subject.Digest || g.Annotations["content"] != "sbom" ||
			g.Size != sbom.Size || g.MediaType != sbom.MediaType || g.ID != sbom.ID {
			t.Errorf("Referrers()[1] = %+v, want the sbom with its artifact type, subject and annotations", g)
		}
	}
	if got, err := db.Referrers(t.Context(), f.reg, f.repo, digest("no referrers")); err != nil || len(got) != 0 {
		t.Errorf("Referrers(no referrers) = %d, %v; want none", len(got), err)
	}
	if got, err := db.Referrers(t.Context(), f.reg, "lib/nope", subject.Digest); err != nil || len(got) != 0 {
		t.Errorf("Referrers(unknown repository) = %d, %v; want none", len(got), err)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), f.repoID, sig.Digest) })
	got, _ = db.Referrers(t.Context(), f.reg, f.repo, subject.Digest)
	wantList(t, "Referrers after deleting one", manifestDigests(got), want[1:])
}

// manifestsFixture stores manifests m0..m4 at t0+0s..4s (so time order is
// their index), tagged m1:{a,b} m3:{c}; it returns their digests by index.
func manifestsFixture(t *testing.T, db *meta.DB, c *clock, repoID int64) []string {
	t.Helper()
	var ds []string
	for i := range 5 {
		if i > 0 {
			c.advance(time.Second)
		}
		ds = append(ds, string(putManifest(t, db, repoID, string(rune('0'+i))+" manifest").Digest))
	}
	update(t, db, func(tx *meta.Tx) error {
		for _, tt := range []struct {
			tag string
			i   int
		}{{"a", 1}, {"b", 1}, {"c", 3}} {
			if err := tx.PutTag(t.Context(), repoID, tt.tag, oci.Digest(ds[tt.i])); err != nil {
				return err
			}
		}
		return nil
	})
	return ds
}

func testManifestsByName(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ds := manifestsFixture(t, db, c, f.repoID)
	byName := sorted(ds)
	tests := []struct {
		p    meta.Page
		want []string
	}{
		{meta.Page{}, byName},
		{meta.Page{N: 2}, byName[:2]},
		{meta.Page{Last: byName[1], N: 2}, byName[2:4]},
		{meta.Page{Last: byName[3], N: 2}, byName[4:]},
		{meta.Page{Last: byName[4]}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.Manifests(t.Context(), f.repoID, tt.p)
		if err != nil {
			t.Fatalf("Manifests(%+v): %v", tt.p, err)
		}
		wantList(t, "Manifests by name", manifestDigests(got), tt.want)
	}
	got, _ := db.Manifests(t.Context(), f.repoID, meta.Page{})
	for _, m := range got {
		if len(m.Content) != 0 {
			t.Errorf("Manifests lists %s with content, want none", m.Digest)
		}
		want := map[string][]string{ds[1]: {"a", "b"}, ds[3]: {"c"}}[string(m.Digest)]
		wantList(t, "Tags of "+string(m.Digest), m.Tags, want)
	}
}

func testManifestsByTime(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ds := manifestsFixture(t, db, c, f.repoID)
	asc := ds
	desc := []string{ds[4], ds[3], ds[2], ds[1], ds[0]}
	tests := []struct {
		p    meta.Page
		want []string
	}{
		{meta.Page{Order: meta.ByTimeAsc}, asc},
		{meta.Page{Order: meta.ByTimeAsc, N: 2}, asc[:2]},
		{meta.Page{Order: meta.ByTimeAsc, Last: ds[1], N: 2}, asc[2:4]},
		{meta.Page{Order: meta.ByTimeAsc, Last: ds[4]}, []string{}},
		{meta.Page{Order: meta.ByTimeDesc}, desc},
		{meta.Page{Order: meta.ByTimeDesc, N: 3}, desc[:3]},
		{meta.Page{Order: meta.ByTimeDesc, Last: ds[2], N: 3}, desc[3:]},
		{meta.Page{Order: meta.ByTimeDesc, Last: ds[0]}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.Manifests(t.Context(), f.repoID, tt.p)
		if err != nil {
			t.Fatalf("Manifests(%+v): %v", tt.p, err)
		}
		wantList(t, "Manifests by time", manifestDigests(got), tt.want)
	}
	got, _ := db.Manifests(t.Context(), f.repoID, meta.Page{Order: meta.ByTimeDesc, N: 2})
	if len(got) == 2 {
		wantList(t, "Tags of the newest but one", got[1].Tags, []string{"c"})
		wantTime(t, "UpdatedAt of the newest", got[0].UpdatedAt, t0.Add(4*time.Second))
	}
	_, err := db.Manifests(t.Context(), f.repoID, meta.Page{Order: meta.ByTimeDesc, Last: string(digest("gone"))})
	wantErr(t, "Manifests by time after an unknown digest", err, meta.ErrNotFound)
}

func testManifestByDigest(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	got, err := db.ManifestByDigest(t.Context(), f.repoID, m.Digest)
	if err != nil {
		t.Fatalf("ManifestByDigest: %v", err)
	}
	if got.ID != m.ID || got.Digest != m.Digest || got.Size != m.Size || len(got.Content) != 0 || len(got.Tags) != 0 {
		t.Errorf("ManifestByDigest = %+v, want %s without content or tags", got, m.Digest)
	}
	putTag(t, db, f.repoID, "z", m.Digest)
	putTag(t, db, f.repoID, "a", m.Digest)
	got, _ = db.ManifestByDigest(t.Context(), f.repoID, m.Digest)
	wantList(t, "ManifestByDigest tags", got.Tags, []string{"a", "z"})
}

func testMissingManifests(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	a := putManifest(t, db, f.repoID, "a").Digest
	b := putManifest(t, db, f.repoID, "b").Digest
	x, y := digest("x"), digest("y")
	got, err := db.MissingManifests(t.Context(), f.repoID, []oci.Digest{y, a, x, b})
	if err != nil {
		t.Fatalf("MissingManifests: %v", err)
	}
	wantList(t, "MissingManifests", digestStrings(got), digestStrings([]oci.Digest{y, x}))
	if got, err := db.MissingManifests(t.Context(), f.repoID, []oci.Digest{a, b}); err != nil || len(got) != 0 {
		t.Errorf("MissingManifests(all held) = %v, %v; want none", got, err)
	}
	got, _ = db.MissingManifests(t.Context(), f.repoID+1000, []oci.Digest{a})
	wantList(t, "MissingManifests in another repository", digestStrings(got), digestStrings([]oci.Digest{a}))
}

func testManifestAttributes(t *testing.T, db *meta.DB) {
	f := newFixture(t, db)
	m := putManifest(t, db, f.repoID, "content")
	other := putManifest(t, db, f.repoID, "other")
	for _, a := range []meta.Attributes{locked, {}, {WriteEnabled: true}, meta.Unlocked} {
		update(t, db, func(tx *meta.Tx) error { return tx.UpdateManifestAttributes(t.Context(), m.ID, a) })
		got, err := db.ManifestByDigest(t.Context(), f.repoID, m.Digest)
		if err != nil {
			t.Fatalf("ManifestByDigest: %v", err)
		}
		if got.Attributes != a {
			t.Errorf("after UpdateManifestAttributes(%+v), attributes = %+v", a, got.Attributes)
		}
		if o, _ := db.ManifestByDigest(t.Context(), f.repoID, other.Digest); o.Attributes != meta.Unlocked {
			t.Errorf("another manifest's attributes changed to %+v", o.Attributes)
		}
	}
}

func sorted(ss []string) []string { return slices.Sorted(slices.Values(ss)) }
