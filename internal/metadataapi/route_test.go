package metadataapi

import (
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want route
	}{
		{"/acr/v1/_catalog", route{kind: kindCatalog}},
		{"/acr/v1/app", route{kind: kindRepository, name: "app"}},
		{"/acr/v1/a/b/c", route{kind: kindRepository, name: "a/b/c"}},
		{"/acr/v1/a/b/_tags", route{kind: kindTags, name: "a/b"}},
		{"/acr/v1/a/b/_tags/v1", route{kind: kindTag, name: "a/b", ref: "v1"}},
		// A repository may be called "tags" or end in "manifests": only a
		// leading "_" makes a verb.
		{"/acr/v1/x/tags/_tags/_tags", route{kind: kindTag, name: "x/tags", ref: "_tags"}},
		{"/acr/v1/manifests/_manifests", route{kind: kindManifests, name: "manifests"}},
		{"/acr/v1/a/_manifests/sha256:ab", route{kind: kindManifest, name: "a", ref: "sha256:ab"}},
		{"/acr/v1/a/_tags/v1/_metadata", route{}},
		{"/acr/v1/a/_metadata", route{}},
		{"/acr/v1/_tags", route{}},
		{"/acr/v1/", route{}},
		{"/acr/v2/a/_tags", route{}},
	} {
		if got := parsePath(tc.path); got != tc.want {
			t.Errorf("parsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func TestCursor(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	p := page{order: meta.ByTimeDesc}
	c := p.cursor("v1.2", at)
	if got := parseCursor(c); got != (meta.Cursor{Name: "v1.2", Time: at}) {
		t.Errorf("parseCursor(%q) = %+v, want v1.2 at %v", c, got, at)
	}
	digest := "sha256:" + "ab"
	if got := parseCursor(p.cursor(digest, at)); got.Name != digest || !got.Time.Equal(at) {
		t.Errorf("digest cursor round trip: %+v", got)
	}
	for _, bare := range []string{"v1", "123", "sha256:ab", "x~y", ""} {
		if got := parseCursor(bare); got != (meta.Cursor{Name: bare}) {
			t.Errorf("parseCursor(%q) = %+v, want the bare name", bare, got)
		}
	}
	if got := (page{order: meta.ByName}).cursor("v1", at); got != "v1" {
		t.Errorf("name-order cursor %q, want the bare name", got)
	}
}
