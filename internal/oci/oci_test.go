package oci_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

func TestParseDigest(t *testing.T) {
	hex64, hex128 := strings.Repeat("0123456789abcdef", 4), strings.Repeat("0123456789abcdef", 8)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"sha256:" + hex64, true},
		{"sha512:" + hex128, true},
		{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true},
		{"sha256:" + strings.ToUpper(hex64), false}, // the image spec wants lower-case hex
		{"sha256:" + hex64[:63], false},
		{"sha256:" + hex64 + "0", false},
		{"sha512:" + hex64, false},
		{"sha256:" + hex128, false},
		{"sha384:" + hex64 + hex64[:32], false}, // a registered algorithm berth does not support
		{"SHA256:" + hex64, false},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", false},
		{"sha256:" + hex64[:62] + "g0", false},
		{"sha256" + hex64, false},
		{":" + hex64, false},
		{"sha256:", false},
		{"", false},
		{"sha256:" + hex64 + "\n", false},
		{" sha256:" + hex64, false},
		{"sha256:sha256:" + hex64[:57], false},
		{"sha256:../../../../etc/passwd" + hex64[:36], false},
	} {
		d, err := oci.ParseDigest(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseDigest(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if err != nil && !errors.Is(err, oci.ErrDigestInvalid) {
			t.Errorf("ParseDigest(%q) error %v, want ErrDigestInvalid", tc.in, err)
		}
		if tc.ok && string(d) != tc.in {
			t.Errorf("ParseDigest(%q) = %q", tc.in, d)
		}
	}
}

func TestDigestOfContent(t *testing.T) {
	for _, tc := range []struct{ alg, want string }{
		{"sha256", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"sha512", "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	} {
		d := oci.FromBytesAlg(tc.alg, nil)
		if string(d) != tc.want {
			t.Errorf("FromBytesAlg(%s, nothing) = %s, want %s", tc.alg, d, tc.want)
		}
		if d.Algorithm() != tc.alg || d.Hex() != tc.want[len(tc.alg)+1:] {
			t.Errorf("%s splits into %q and %q", d, d.Algorithm(), d.Hex())
		}
		if _, err := oci.ParseDigest(string(d)); err != nil {
			t.Errorf("a computed digest does not parse: %v", err)
		}
	}
	if got, want := oci.FromBytes([]byte("{}")), oci.Digest("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"); got != want {
		t.Errorf("the empty JSON blob's digest is %s, want %s", got, want)
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"a", true},
		{"library/ubuntu", true},
		{"a0/b1/c2", true},
		{"my.repo", true},
		{"my_repo", true},
		{"my__repo", true},
		{"my-repo", true},
		{"my---repo", true},
		{"a.b_c__d-e/f.g", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a/", 127) + "a", true},
		{strings.Repeat("a", 256), false}, // must be less than 256 with slashes
		{"", false},
		{"A", false},
		{"Library/ubuntu", false},
		{"a/", false},
		{"/a", false},
		{"a//b", false},
		{"a/./b", false},
		{"a/../b", false},
		{"a..b", false},
		{"a___b", false},
		{"a_.b", false},
		{"a.-b", false},
		{".a", false},
		{"a.", false},
		{"-a", false},
		{"_a", false},
		{"a:b", false},
		{"a@sha256", false},
		{"a b", false},
		{"ä", false},
		{"a\n", false},
	} {
		if got := oci.ValidName(tc.in); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestValidTag(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"latest", true},
		{"v1.0.0", true},
		{"V1-rc_2", true},
		{"_", true},
		{"0", true},
		{"sha256-" + strings.Repeat("a", 64), true}, // a referrers tag
		{strings.Repeat("t", 128), true},
		{strings.Repeat("t", 129), false},
		{"", false},
		{".hidden", false},
		{"-dash", false},
		{"a+b", false},
		{"a/b", false},
		{"a:b", false},
		{"a b", false},
		{"é", false},
	} {
		if got := oci.ValidTag(tc.in); got != tc.ok {
			t.Errorf("ValidTag(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestParseManifest(t *testing.T) {
	dg := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	cfg := `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dg("a") + `","size":2}`
	layer := func(mt, c string) string { return `{"mediaType":"` + mt + `","digest":"` + dg(c) + `","size":3}` }
	subject := `"subject":{"mediaType":"` + oci.MediaTypeImageManifest + `","digest":"` + dg("f") + `","size":5}`
	const ociM, ociI = oci.MediaTypeImageManifest, oci.MediaTypeImageIndex
	for _, tc := range []struct {
		name, ct, body string
		// On success: the media type, artifact type and blob count.
		mt, at string
		blobs  int
		// On failure: a substring of the error, or schema1.
		err     string
		schema1 bool
	}{
		{name: "OCI image manifest", ct: ociM,
			body: `{"schemaVersion":2,"mediaType":"` + ociM + `",` + cfg + `,"layers":[` + layer("application/vnd.oci.image.layer.v1.tar+gzip", "b") + `]}`,
			mt:   ociM, at: "application/vnd.oci.image.config.v1+json", blobs: 2},
		{name: "artifactType wins over the config type", ct: ociM,
			body: `{"schemaVersion":2,"artifactType":"application/x.example",` + cfg + `,"layers":[],` + subject + `}`,
			mt:   ociM, at: "application/x.example", blobs: 1},
		{name: "non-distributable layers are not required", ct: ociM,
			body: `{"schemaVersion":2,` + cfg + `,"layers":[` + layer("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "b") + `,` +
				layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "c") + `]}`,
			mt: ociM, at: "application/vnd.oci.image.config.v1+json", blobs: 1},
		{name: "OCI index", ct: ociI,
			body: `{"schemaVersion":2,"mediaType":"` + ociI + `","manifests":[` + layer(ociM, "c") + `]}`, mt: ociI},
		{name: "Docker schema2", ct: oci.MediaTypeDockerManifest,
			body: `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeDockerManifest + `",` + cfg + `,"layers":[]}`,
			mt:   oci.MediaTypeDockerManifest, at: "application/vnd.oci.image.config.v1+json", blobs: 1},
		{name: "Docker list", ct: oci.MediaTypeDockerList,
			body: `{"schemaVersion":2,"manifests":[]}`, mt: oci.MediaTypeDockerList},
		{name: "no Content-Type: the body's mediaType", body: `{"schemaVersion":2,"mediaType":"` + oci.MediaTypeDockerList + `","manifests":[]}`,
			mt: oci.MediaTypeDockerList},
		{name: "no type at all, with manifests: an index", ct: "application/json", body: `{"schemaVersion":2,"manifests":[]}`, mt: ociI},
		{name: "no type at all: an image manifest", body: `{"schemaVersion":2,` + cfg + `}`, mt: ociM, at: "application/vnd.oci.image.config.v1+json", blobs: 1},
		{name: "parameters are ignored", ct: ociM + "; charset=utf-8", body: `{"schemaVersion":2,` + cfg + `}`, mt: ociM, at: "application/vnd.oci.image.config.v1+json", blobs: 1},

		{name: "malformed JSON", ct: ociM, body: `{"schemaVersion":2`, err: "JSON"},
		{name: "not an object", ct: ociM, body: `"manifest"`, err: "JSON"},
		{name: "schemaVersion 1", ct: ociM, body: `{"schemaVersion":1,` + cfg + `}`, err: "schemaVersion"},
		{name: "no schemaVersion", ct: ociM, body: `{` + cfg + `}`, err: "schemaVersion"},
		{name: "schemaVersion as a string", ct: ociM, body: `{"schemaVersion":"2",` + cfg + `}`, err: "JSON"},
		{name: "an unsupported type", ct: "application/vnd.oci.artifact.manifest.v1+json", body: `{"schemaVersion":2}`,
			err: `"application/vnd.oci.artifact.manifest.v1+json"`},
		{name: "an unsupported body type", body: `{"schemaVersion":2,"mediaType":"application/x.nope"}`, err: `"application/x.nope"`},
		{name: "Content-Type and body disagree", ct: ociI, body: `{"schemaVersion":2,"mediaType":"` + ociM + `","manifests":[]}`, err: "does not match"},
		{name: "an index with layers", ct: ociI, body: `{"schemaVersion":2,"manifests":[],"layers":[]}`, err: "no config or layers"},
		{name: "an image with manifests", ct: ociM, body: `{"schemaVersion":2,` + cfg + `,"manifests":[]}`, err: "no manifests"},
		{name: "no config", ct: ociM, body: `{"schemaVersion":2,"layers":[]}`, err: "config is required"},
		{name: "a bad layer digest", ct: ociM, body: `{"schemaVersion":2,` + cfg + `,"layers":[{"mediaType":"a/b","digest":"sha256:1","size":1}]}`, err: "layers[0]"},
		{name: "a bad child digest", ct: ociI, body: `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"md5:00","size":1}]}`, err: "manifests[0]"},
		{name: "a child without media type", ct: ociI, body: `{"schemaVersion":2,"manifests":[{"digest":"` + dg("1") + `","size":1}]}`, err: "mediaType is required"},
		{name: "a media type with a space", ct: ociM, body: `{"schemaVersion":2,"config":{"mediaType":"a /b","digest":"` + dg("1") + `","size":1}}`, err: "malformed mediaType"},
		{name: "a negative size", ct: ociM, body: `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + dg("1") + `","size":-1}}`, err: "negative size"},
		{name: "a bad subject", ct: ociM, body: `{"schemaVersion":2,` + cfg + `,"subject":{"mediaType":"a/b","digest":"x","size":1}}`, err: "subject"},

		{name: "schema1 by Content-Type", ct: oci.MediaTypeDockerSchema1, body: `{}`, schema1: true},
		{name: "signed schema1 by Content-Type", ct: oci.MediaTypeDockerSchema1Signed + "; charset=utf-8", body: `{}`, schema1: true},
		{name: "schema1 by its fsLayers", body: `{"schemaVersion":1,"fsLayers":[]}`, schema1: true},
		{name: "schema1 by the body's mediaType", ct: "application/json", body: `{"schemaVersion":1,"mediaType":"` + oci.MediaTypeDockerSchema1 + `"}`, schema1: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := oci.ParseManifest(tc.ct, []byte(tc.body))
			switch {
			case tc.schema1:
				if !errors.Is(err, oci.ErrSchema1) {
					t.Fatalf("error %v, want ErrSchema1", err)
				}
			case tc.err != "":
				var bad *oci.ManifestError
				if !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want a ManifestError mentioning %q", err, tc.err)
				}
			case err != nil:
				t.Fatalf("refused: %v", err)
			default:
				if m.MediaType != tc.mt || m.ArtifactType != tc.at || len(m.Blobs) != tc.blobs {
					t.Errorf("got media type %q, artifact type %q, %d blobs; want %q, %q, %d",
						m.MediaType, m.ArtifactType, len(m.Blobs), tc.mt, tc.at, tc.blobs)
				}
			}
		})
	}
}

func TestSplitTag(t *testing.T) {
	for _, c := range []struct {
		in, repo, tag string
		ok            bool
	}{
		{"app:v1", "app", "v1", true},
		{"team/app:1.0", "team/app", "1.0", true},
		{"host:5000/app", "host:5000/app", "", false},
		{"host:5000/app:v2", "host:5000/app", "v2", true},
		{"app", "app", "", false},
	} {
		repo, tag, ok := oci.SplitTag(c.in)
		if repo != c.repo || tag != c.tag || ok != c.ok {
			t.Errorf("SplitTag(%q) = %q, %q, %v; want %q, %q, %v", c.in, repo, tag, ok, c.repo, c.tag, c.ok)
		}
	}
}
