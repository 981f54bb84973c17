package oci_test

import (
	"errors"
	"mime"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

// The grammars as the distribution spec writes them. berth's parsers are
// hand-written for speed; the fuzz targets check they agree with these.
var (
	specName   = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	specTag    = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	specDigest = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
)

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		"sha256:" + strings.Repeat("a", 64), "sha512:" + strings.Repeat("0", 128),
		"sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("a", 63), "sha384:" + strings.Repeat("a", 96),
		"sha256:", ":", "", "sha256", "sha256:" + strings.Repeat("g", 64), "sha256:" + strings.Repeat("a", 64) + "\n",
		"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := oci.ParseDigest(s)
		if ok := specDigest.MatchString(s); ok != (err == nil) {
			t.Fatalf("ParseDigest(%q) error %v, but the grammar says valid=%v", s, err, ok)
		}
		if err != nil {
			if !errors.Is(err, oci.ErrDigestInvalid) {
				t.Fatalf("ParseDigest(%q): %v, want ErrDigestInvalid", s, err)
			}
			return
		}
		if d.String() != s || d.Algorithm()+":"+d.Hex() != s {
			t.Fatalf("ParseDigest(%q) = %q (%s, %s): does not round-trip", s, d, d.Algorithm(), d.Hex())
		}
		if got := oci.FromHash(d.Algorithm(), d.NewHash()); got.Algorithm() != d.Algorithm() || len(got) != len(d) {
			t.Fatalf("the hash for %q makes digests like %q", s, got)
		}
	})
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{
		"a", "library/ubuntu", "a.b_c__d---e/f", "a/b/c/d/e", "0", strings.Repeat("a", 255), strings.Repeat("a", 256),
		"", "A", "a/", "/a", "a//b", "a..b", "a___b", "a_.b", "-a", "a-", "a/_b", "a:b", "a@b", "ü", "a/b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The spec's grammar has no length; berth bounds a name to 255
		// characters, as clients bound host + "/" + name.
		want := len(s) <= oci.MaxNameLength && specName.MatchString(s)
		if got := oci.ValidName(s); got != want {
			t.Fatalf("ValidName(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}

func FuzzValidTag(f *testing.F) {
	for _, s := range []string{
		"latest", "v1.0.0-rc.1", "_", "A", strings.Repeat("t", 128), strings.Repeat("t", 129),
		"", ".a", "-a", "a+b", "a/b", "a:b", "sha256-abc", "a\x00", "é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := oci.ValidTag(s), specTag.MatchString(s); got != want {
			t.Fatalf("ValidTag(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	d := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	for _, seed := range []struct{ ct, body string }{
		{oci.MediaTypeImageManifest, `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeImageManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + d('a') + `","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d('b') + `","size":3}]}`},
		{oci.MediaTypeImageIndex, `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeImageIndex + `","manifests":[{"mediaType":"` + oci.MediaTypeImageManifest + `","digest":"` + d('c') + `","size":9,"platform":{"architecture":"amd64","os":"linux"}}]}`},
		{oci.MediaTypeDockerManifest, `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeDockerManifest + `","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"` + d('a') + `","size":2},"layers":[]}`},
		{oci.MediaTypeDockerList, `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeDockerList + `","manifests":[]}`},
		{"", `{"schemaVersion":2,"artifactType":"application/vnd.example","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + d('4') + `","size":2},"layers":[],"subject":{"mediaType":"` + oci.MediaTypeImageManifest + `","digest":"` + d('5') + `","size":1}}`},
		{"application/json", `{"schemaVersion":2,"manifests":[]}`},
		{oci.MediaTypeImageManifest + "; charset=utf-8", `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + d('a') + `","size":0},"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"` + d('6') + `","size":1}]}`},
		{oci.MediaTypeDockerSchema1, `{"schemaVersion":1,"fsLayers":[]}`},
		{"text/plain", `{"schemaVersion":2}`},
		{"", `{"schemaVersion":2,"manifests":[],"config":{}}`},
		{"", `{"schemaVersion":2,"config":{"mediaType":"a b","digest":"sha256:0","size":-1}}`},
		{"", `null`}, {"", `[]`}, {"", `{`}, {"", ``}, {";;", `{}`},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		m, err := oci.ParseManifest(contentType, body)
		if err != nil {
			var bad *oci.ManifestError
			if !errors.As(err, &bad) && !errors.Is(err, oci.ErrSchema1) {
				t.Fatalf("ParseManifest: %T %v, want a *ManifestError or ErrSchema1", err, err)
			}
			return
		}
		if !oci.IsManifestType(m.MediaType) {
			t.Fatalf("accepted a manifest of media type %q", m.MediaType)
		}
		if ct, _, perr := mime.ParseMediaType(contentType); perr == nil && oci.IsManifestType(ct) && ct != m.MediaType {
			t.Fatalf("sent as %q, accepted as %q", ct, m.MediaType)
		}
		if oci.IsIndex(m.MediaType) && len(m.Blobs) > 0 {
			t.Fatalf("an index with blobs %v", m.Blobs)
		}
		if !oci.IsIndex(m.MediaType) && (len(m.Children) > 0 || len(m.Blobs) == 0) {
			t.Fatalf("an image manifest with children %v and blobs %v (it needs a config)", m.Children, m.Blobs)
		}
		descs := append(append([]oci.Descriptor{}, m.Blobs...), m.Children...)
		if m.Subject != nil {
			descs = append(descs, *m.Subject)
		}
		for _, d := range descs {
			if _, err := oci.ParseDigest(string(d.Digest)); err != nil {
				t.Fatalf("accepted a descriptor with digest %q", d.Digest)
			}
			if d.Size < 0 || d.MediaType == "" {
				t.Fatalf("accepted a descriptor with size %d and media type %q", d.Size, d.MediaType)
			}
		}
	})
}
