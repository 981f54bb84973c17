package metatest

import (
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// listedFixture stores manifests m0..m2 and tags t1..t5, one update a second
// apart in the order m0 m1 m2 t1..t5; m1 and t3 are hidden (listEnabled
// false). t1, t2 and t3 name m0; t4 names m1; t5 names m2.
func listedFixture(t *testing.T, db *meta.DB, c *clock, repoID int64) []oci.Digest {
	t.Helper()
	var ms []oci.Digest
	for i := range 3 {
		c.advance(time.Second)
		ms = append(ms, putManifest(t, db, repoID, string(rune('0'+i))+" listed").Digest)
	}
	for i, d := range []oci.Digest{ms[0], ms[0], ms[0], ms[1], ms[2]} {
		c.advance(time.Second)
		putTag(t, db, repoID, "t"+string(rune('1'+i)), d)
	}
	update(t, db, func(tx *meta.Tx) error {
		m1, err := tx.ManifestByDigest(t.Context(), repoID, ms[1])
		if err != nil {
			return err
		}
		if err := tx.UpdateManifestAttributes(t.Context(), m1.ID, locked); err != nil {
			return err
		}
		return tx.UpdateTagAttributes(t.Context(), repoID, "t3", locked)
	})
	return ms
}

func testListedTags(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	listedFixture(t, db, c, f.repoID)
	tests := []struct {
		l    meta.ListQuery
		want []string
	}{
		{meta.ListQuery{}, []string{"t1", "t2", "t4", "t5"}},
		{meta.ListQuery{N: 2}, []string{"t1", "t2"}},
		{meta.ListQuery{After: meta.Cursor{Name: "t2"}, N: 2}, []string{"t4", "t5"}},
		{meta.ListQuery{After: meta.Cursor{Name: "t3"}}, []string{"t4", "t5"}}, // after a hidden tag
		{meta.ListQuery{After: meta.Cursor{Name: "t5"}}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.ListedTags(t.Context(), f.repoID, tt.l)
		if err != nil {
			t.Fatalf("ListedTags(%+v): %v", tt.l, err)
		}
		wantList(t, "ListedTags", tagNames(got), tt.want)
	}
	got, _ := db.ListedTags(t.Context(), f.repoID, meta.ListQuery{N: 1})
	if len(got) == 1 {
		wantTime(t, "t1 CreatedAt", got[0].CreatedAt, t0.Add(4*time.Second))
		if got[0].Attributes != meta.Unlocked || got[0].Digest == "" {
			t.Errorf("ListedTags()[0] = %+v, want its digest and attributes", got[0])
		}
	}
}

func testListedTagsByTime(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	listedFixture(t, db, c, f.repoID)
	at := func(name string, s int) meta.Cursor {
		return meta.Cursor{Name: name, Time: t0.Add(time.Duration(s) * time.Second)}
	}
	tests := []struct {
		l    meta.ListQuery
		want []string
	}{
		{meta.ListQuery{Order: meta.ByTimeAsc}, []string{"t1", "t2", "t4", "t5"}},
		{meta.ListQuery{Order: meta.ByTimeAsc, After: at("t2", 5), N: 1}, []string{"t4"}},
		{meta.ListQuery{Order: meta.ByTimeDesc}, []string{"t5", "t4", "t2", "t1"}},
		{meta.ListQuery{Order: meta.ByTimeDesc, N: 2}, []string{"t5", "t4"}},
		{meta.ListQuery{Order: meta.ByTimeDesc, After: at("t4", 7)}, []string{"t2", "t1"}},
		// The cursor carries its own time: it works after its tag is gone.
		{meta.ListQuery{Order: meta.ByTimeDesc, After: at("gone", 6)}, []string{"t2", "t1"}},
		{meta.ListQuery{Order: meta.ByTimeAsc, After: at("gone", 6)}, []string{"t4", "t5"}},
		// At one instant, name breaks the tie.
		{meta.ListQuery{Order: meta.ByTimeAsc, After: at("t0", 7)}, []string{"t4", "t5"}},
		{meta.ListQuery{Order: meta.ByTimeAsc, After: at("t9", 7)}, []string{"t5"}},
	}
	for _, tt := range tests {
		got, err := db.ListedTags(t.Context(), f.repoID, tt.l)
		if err != nil {
			t.Fatalf("ListedTags(%+v): %v", tt.l, err)
		}
		wantList(t, "ListedTags by time", tagNames(got), tt.want)
	}
}

func testListedTagsOfDigest(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ms := listedFixture(t, db, c, f.repoID)
	tests := []struct {
		l    meta.ListQuery
		want []string
	}{
		{meta.ListQuery{Digest: ms[0]}, []string{"t1", "t2"}}, // t3 is hidden
		{meta.ListQuery{Digest: ms[0], After: meta.Cursor{Name: "t1"}}, []string{"t2"}},
		{meta.ListQuery{Digest: ms[0], Order: meta.ByTimeDesc, N: 1}, []string{"t2"}},
		{meta.ListQuery{Digest: ms[2]}, []string{"t5"}},
		{meta.ListQuery{Digest: digest("untagged")}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.ListedTags(t.Context(), f.repoID, tt.l)
		if err != nil {
			t.Fatalf("ListedTags(%+v): %v", tt.l, err)
		}
		wantList(t, "ListedTags of a digest", tagNames(got), tt.want)
	}
}

func testListedManifests(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ms := listedFixture(t, db, c, f.repoID)
	listed := sorted(digestStrings([]oci.Digest{ms[0], ms[2]})) // m1 is hidden
	tests := []struct {
		l    meta.ListQuery
		want []string
	}{
		{meta.ListQuery{}, listed},
		{meta.ListQuery{N: 1}, listed[:1]},
		{meta.ListQuery{After: meta.Cursor{Name: listed[0]}}, listed[1:]},
		{meta.ListQuery{After: meta.Cursor{Name: listed[1]}}, []string{}},
	}
	for _, tt := range tests {
		got, err := db.ListedManifests(t.Context(), f.repoID, tt.l)
		if err != nil {
			t.Fatalf("ListedManifests(%+v): %v", tt.l, err)
		}
		wantList(t, "ListedManifests", manifestDigests(got), tt.want)
	}
	got, _ := db.ListedManifests(t.Context(), f.repoID, meta.ListQuery{})
	for _, m := range got {
		if string(m.Content) == "" {
			t.Errorf("ListedManifests lists %s without content", m.Digest)
		}
		if m.Digest == ms[0] {
			// A hidden tag still names its manifest.
			wantList(t, "tags of m0", m.Tags, []string{"t1", "t2", "t3"})
			if string(m.Content) != "0 listed" {
				t.Errorf("content of m0 = %q", m.Content)
			}
		}
	}
}

func testListedManifestsByTime(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ms := listedFixture(t, db, c, f.repoID)
	m0, m2 := string(ms[0]), string(ms[2])
	tests := []struct {
		l    meta.ListQuery
		want []string
	}{
		{meta.ListQuery{Order: meta.ByTimeAsc}, []string{m0, m2}},
		{meta.ListQuery{Order: meta.ByTimeDesc}, []string{m2, m0}},
		{meta.ListQuery{Order: meta.ByTimeDesc, N: 1}, []string{m2}},
		{meta.ListQuery{Order: meta.ByTimeDesc, After: meta.Cursor{Name: m2, Time: t0.Add(3 * time.Second)}}, []string{m0}},
		{meta.ListQuery{Order: meta.ByTimeAsc, After: meta.Cursor{Name: m0, Time: t0.Add(time.Second)}}, []string{m2}},
		// From a deleted manifest's cursor: everything older.
		{meta.ListQuery{Order: meta.ByTimeDesc, After: meta.Cursor{Name: "sha256:gone", Time: t0.Add(2 * time.Second)}}, []string{m0}},
	}
	for _, tt := range tests {
		got, err := db.ListedManifests(t.Context(), f.repoID, tt.l)
		if err != nil {
			t.Fatalf("ListedManifests(%+v): %v", tt.l, err)
		}
		wantList(t, "ListedManifests by time", manifestDigests(got), tt.want)
	}
}

func testContentCounts(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	if n, tags, err := db.ContentCounts(t.Context(), f.repoID); err != nil || n != 0 || tags != 0 {
		t.Errorf("ContentCounts of an empty repository = %d, %d, %v; want 0, 0", n, tags, err)
	}
	ms := listedFixture(t, db, c, f.repoID)
	// Hidden content counts.
	if n, tags, err := db.ContentCounts(t.Context(), f.repoID); err != nil || n != 3 || tags != 5 {
		t.Errorf("ContentCounts = %d, %d, %v; want 3, 5", n, tags, err)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteManifest(t.Context(), f.repoID, ms[0]) })
	if n, tags, err := db.ContentCounts(t.Context(), f.repoID); err != nil || n != 2 || tags != 2 {
		t.Errorf("ContentCounts after deleting m0 = %d, %d, %v; want 2, 2", n, tags, err)
	}
	if n, tags, err := db.ContentCounts(t.Context(), f.repoID+1000); err != nil || n != 0 || tags != 0 {
		t.Errorf("ContentCounts of an unknown repository = %d, %d, %v; want 0, 0", n, tags, err)
	}
}

func testManifestWithTags(t *testing.T, db *meta.DB) {
	c := setClock(db)
	f := newFixture(t, db)
	ms := listedFixture(t, db, c, f.repoID)
	m, err := db.ManifestWithTags(t.Context(), f.repoID, ms[0])
	if err != nil {
		t.Fatalf("ManifestWithTags: %v", err)
	}
	if m.Digest != ms[0] || string(m.Content) != "0 listed" {
		t.Errorf("ManifestWithTags = %s with %q, want %s with its content", m.Digest, m.Content, ms[0])
	}
	wantList(t, "ManifestWithTags tags", m.Tags, []string{"t1", "t2", "t3"})
	hidden, err := db.ManifestWithTags(t.Context(), f.repoID, ms[1])
	if err != nil || hidden.Attributes != locked {
		t.Errorf("ManifestWithTags(hidden) = %+v, %v; want it, with its locks", hidden.Attributes, err)
	}
	_, err = db.ManifestWithTags(t.Context(), f.repoID, digest("unknown"))
	wantErr(t, "ManifestWithTags(unknown)", err, meta.ErrNotFound)
}
