package distribution

import (
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

var d256 = "sha256:" + strings.Repeat("ab", 32)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want route
	}{
		{"/v2/", route{kind: kindBase}},
		{"/v2", route{kind: kindBase}},
		{"/v2/_catalog", route{kind: kindCatalog}},
		{"/v2/a/tags/list", route{kind: kindTags, name: "a"}},
		{"/v2/a/b/c/tags/list", route{kind: kindTags, name: "a/b/c"}},
		{"/v2/a/manifests/latest", route{kind: kindManifest, name: "a", ref: "latest"}},
		{"/v2/a/b/manifests/" + d256, route{kind: kindManifest, name: "a/b", ref: d256}},
		{"/v2/a/blobs/" + d256, route{kind: kindBlob, name: "a", ref: d256}},
		{"/v2/a/referrers/" + d256, route{kind: kindReferrers, name: "a", ref: d256}},
		{"/v2/a/blobs/uploads/", route{kind: kindUploadStart, name: "a"}},
		{"/v2/a/blobs/uploads", route{kind: kindUploadStart, name: "a"}},
		{"/v2/a/blobs/uploads/abc", route{kind: kindUpload, name: "a", ref: "abc"}},
		// Names may hold the words the routes use: read from the right.
		{"/v2/blobs/blobs/uploads/abc", route{kind: kindUpload, name: "blobs", ref: "abc"}},
		{"/v2/x/blobs/blobs/uploads/", route{kind: kindUploadStart, name: "x/blobs"}},
		{"/v2/manifests/manifests/v1", route{kind: kindManifest, name: "manifests", ref: "v1"}},
		{"/v2/tags/list/tags/list", route{kind: kindTags, name: "tags/list"}},
		{"/v2/a/uploads/blobs/" + d256, route{kind: kindBlob, name: "a/uploads", ref: d256}},
		{"/v2/a/manifests/", route{kind: kindManifest, name: "a", ref: ""}},
		// Names the handler will refuse still parse, so it can say why.
		{"/v2/A/manifests/v1", route{kind: kindManifest, name: "A", ref: "v1"}},
		{"/v2//manifests/v1", route{kind: kindManifest, name: "", ref: "v1"}},
		{"/v2/a//b/manifests/v1", route{kind: kindManifest, name: "a//b", ref: "v1"}},

		{"", route{}},
		{"/", route{}},
		{"/v1/", route{}},
		{"/v2x", route{}},
		{"/v2/a", route{}},
		{"/v2/a/b", route{}},
		{"/v2/manifests/v1", route{}},
		{"/v2/a/things/v1", route{}},
		{"/v2/a/uploads/abc", route{}},
		{"/v2/a/tags/lists", route{}},
	} {
		if got := parsePath(tc.path); got != tc.want {
			t.Errorf("parsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

// suffixes are the routes under a repository, by kind; %s is the reference.
var suffixes = []struct {
	kind   kind
	suffix string
}{
	{kindTags, "/tags/list"},
	{kindManifest, "/manifests/%s"},
	{kindBlob, "/blobs/%s"},
	{kindReferrers, "/referrers/%s"},
	{kindUploadStart, "/blobs/uploads/"},
	{kindUpload, "/blobs/uploads/%s"},
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []struct {
		path, name string
		sel        uint8
		ref        string
	}{
		{"/v2/", "library/ubuntu", 1, "latest"},
		{"/v2/a/blobs/uploads/x", "blobs", 5, "0123abcd"},
		{"/v2/_catalog", "x/blobs", 4, ""},
		{"/v2/tags/list/tags/list", "tags/list", 0, ""},
		{"/v2/a/manifests/" + d256, "a/manifests/b", 2, d256},
		{"/v2//", "referrers/uploads", 3, d256},
		{"/v2/a/b/c/d/e/f", "manifests", 1, "sha256-" + strings.Repeat("a", 64)},
	} {
		f.Add(s.path, s.name, s.sel, s.ref)
	}
	f.Fuzz(func(t *testing.T, path, name string, sel uint8, ref string) {
		// Any path: no panic, and a kind that has a name.
		r := parsePath(path)
		_ = r.kind.String()
		if r.kind == kindNone && (r.name != "" || r.ref != "") {
			t.Fatalf("parsePath(%q) = %+v: no route, but a name or reference", path, r)
		}

		// A path built from a valid name and a reference the route can
		// hold parses back into them.
		s := suffixes[int(sel)%len(suffixes)]
		if !oci.ValidName(name) {
			return
		}
		switch s.kind {
		case kindManifest:
			if _, err := oci.ParseDigest(ref); err != nil && !oci.ValidTag(ref) {
				return
			}
		case kindBlob, kindReferrers:
			if _, err := oci.ParseDigest(ref); err != nil {
				return
			}
		case kindUpload:
			if ref == "" || strings.Contains(ref, "/") {
				return
			}
		default:
			ref = ""
		}
		p := "/v2/" + name + strings.Replace(s.suffix, "%s", ref, 1)
		want := route{kind: s.kind, name: name, ref: ref}
		if got := parsePath(p); got != want {
			t.Fatalf("parsePath(%q) = %+v, want %+v", p, got, want)
		}
	})
}
