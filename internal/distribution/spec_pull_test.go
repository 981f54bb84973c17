package distribution_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// TestSpecPull covers the pull workflow: manifests by tag and digest, GET
// and HEAD, Accept negotiation over the four manifest types berth stores,
// blobs with Range, and the errors for what is unknown or malformed.
func TestSpecPull(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "pull/app"
	img := s.pushImage(t, repo, "v1", "pull")

	dockerConfig := []byte(`{"architecture":"arm64","os":"linux"}`)
	s.pushBlob(t, repo, dockerConfig)
	docker := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtDockerManifest,
		"config": desc(mtDockerConfig, dockerConfig), "layers": []any{desc(mtDockerLayer, img.layer)},
	})
	dockerDigest := s.pushManifest(t, repo, "docker", mtDockerManifest, docker)

	index := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIIndex,
		"manifests": []any{desc(mtOCIManifest, img.manifest)},
	})
	indexDigest := s.pushManifest(t, repo, "index", mtOCIIndex, index)
	list := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtDockerList,
		"manifests": []any{desc(mtDockerManifest, docker)},
	})
	s.pushManifest(t, repo, "list", mtDockerList, list)

	blob := bytes.Repeat([]byte("0123456789"), 10) // 100 bytes
	blobDigest := s.pushBlob(t, repo, blob)
	big := bytes.Repeat([]byte("sha512 content "), 100)
	bigDigest := sha512Digest(big)
	if resp, body := s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+bigDigest, nil, big); resp.StatusCode != 201 {
		t.Fatalf("push a sha512 blob: %d %s", resp.StatusCode, body)
	}
	empty := sha256Digest(nil)
	s.pushBlob(t, repo, nil)

	m := "/v2/" + repo + "/manifests/"
	b := "/v2/" + repo + "/blobs/"
	unknown := sha256Digest([]byte("nothing stored has this digest"))
	manifestHeaders := func(ct, d string, n int) map[string]string {
		return map[string]string{"Content-Type": ct, "Docker-Content-Digest": d, "Content-Length": strconv.Itoa(n)}
	}
	acceptOCI := hdr("Accept", mtOCIManifest)

	s.run(t, []step{
		// Manifests by tag and by digest.
		{name: "GET manifest by tag", method: "GET", path: m + "v1", header: acceptOCI,
			status: 200, want: manifestHeaders(mtOCIManifest, img.digest, len(img.manifest)), wantBody: img.manifest},
		{name: "GET manifest by digest", method: "GET", path: m + img.digest, header: acceptOCI,
			status: 200, want: manifestHeaders(mtOCIManifest, img.digest, len(img.manifest)), wantBody: img.manifest},
		{name: "HEAD manifest by tag", method: "HEAD", path: m + "v1", header: acceptOCI,
			status: 200, want: manifestHeaders(mtOCIManifest, img.digest, len(img.manifest))},
		{name: "HEAD manifest by digest", method: "HEAD", path: m + img.digest, header: acceptOCI,
			status: 200, want: manifestHeaders(mtOCIManifest, img.digest, len(img.manifest))},
		{name: "GET manifest without Accept", method: "GET", path: m + "v1",
			status: 200, want: manifestHeaders(mtOCIManifest, img.digest, len(img.manifest)), wantBody: img.manifest},

		// Accept negotiation: berth serves what it stored, when asked for it.
		{name: "Docker schema2 manifest asked for as such", method: "GET", path: m + "docker", header: hdr("Accept", mtDockerManifest),
			status: 200, want: manifestHeaders(mtDockerManifest, dockerDigest, len(docker)), wantBody: docker},
		{name: "OCI index asked for as such", method: "GET", path: m + "index", header: hdr("Accept", mtOCIIndex),
			status: 200, want: manifestHeaders(mtOCIIndex, indexDigest, len(index)), wantBody: index},
		{name: "Docker manifest list asked for as such", method: "GET", path: m + "list", header: hdr("Accept", mtDockerList),
			status: 200, want: map[string]string{"Content-Type": mtDockerList, "Docker-Content-Digest": sha256Digest(list)}, wantBody: list},
		{name: "Accept as a comma-separated list", method: "GET", path: m + "index",
			header: hdr("Accept", mtDockerManifest+", "+mtDockerList+", "+mtOCIManifest+", "+mtOCIIndex),
			status: 200, want: map[string]string{"Content-Type": mtOCIIndex}},
		{name: "Accept repeated as several headers", method: "GET", path: m + "list",
			header: hdr("Accept", mtOCIManifest, "Accept", mtDockerList),
			status: 200, want: map[string]string{"Content-Type": mtDockerList}},
		{name: "Accept with parameters", method: "GET", path: m + "v1", header: hdr("Accept", mtOCIManifest+"; q=0.9"),
			status: 200, want: map[string]string{"Content-Type": mtOCIManifest}},
		{name: "Accept */*", method: "GET", path: m + "docker", header: hdr("Accept", "*/*"),
			status: 200, want: map[string]string{"Content-Type": mtDockerManifest}},
		{name: "an index is not served to a client that accepts only image manifests", method: "GET", path: m + "index",
			header: hdr("Accept", mtOCIManifest+", "+mtDockerManifest), status: 404, code: "MANIFEST_UNKNOWN", msg: mtOCIIndex},
		{name: "an OCI manifest is not served to a Docker-only client", method: "GET", path: m + "v1",
			header: hdr("Accept", mtDockerManifest+", "+mtDockerList), status: 404, code: "MANIFEST_UNKNOWN", msg: mtOCIManifest},
		{name: "HEAD with an Accept that does not match", method: "HEAD", path: m + "docker", header: acceptOCI, status: 404},

		// Unknown and malformed references.
		{name: "unknown tag", method: "GET", path: m + "nope", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "unknown digest", method: "GET", path: m + unknown, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "HEAD unknown tag", method: "HEAD", path: m + "nope", status: 404},
		{name: "a blob's digest is not a manifest", method: "GET", path: m + blobDigest, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "unknown repository", method: "GET", path: "/v2/pull/none/manifests/v1", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "digest with bad hex", method: "GET", path: m + "sha256:xyz", status: 400, code: "DIGEST_INVALID"},
		{name: "digest with upper-case hex", method: "GET", path: m + strings.ToUpper(unknown[:8]) + unknown[8:], status: 400, code: "DIGEST_INVALID"},
		{name: "digest too short", method: "GET", path: m + unknown[:70], status: 400, code: "DIGEST_INVALID"},
		{name: "unsupported digest algorithm", method: "GET", path: m + "md5:d41d8cd98f00b204e9800998ecf8427e", status: 400, code: "DIGEST_INVALID"},
		{name: "tag with a bad character", method: "GET", path: m + "v1!", status: 400, code: "TAG_INVALID"},
		{name: "tag starting with a dot", method: "GET", path: m + ".v1", status: 400, code: "TAG_INVALID"},
		{name: "tag of 129 characters", method: "GET", path: m + strings.Repeat("t", 129), status: 400, code: "TAG_INVALID"},
		{name: "upper-case name", method: "GET", path: "/v2/Pull/App/manifests/v1", status: 400, code: "NAME_INVALID"},
		{name: "name ending in a separator", method: "GET", path: "/v2/pull-/manifests/v1", status: 400, code: "NAME_INVALID"},
		{name: "name of 256 characters", method: "GET", path: "/v2/" + strings.Repeat("n", 256) + "/manifests/v1", status: 400, code: "NAME_INVALID"},
		{name: "name of 255 characters is valid", method: "GET", path: "/v2/" + strings.Repeat("n", 255) + "/manifests/v1", status: 404, code: "MANIFEST_UNKNOWN"},

		// Blobs.
		{name: "GET blob", method: "GET", path: b + blobDigest, status: 200, wantBody: blob,
			want: map[string]string{"Content-Type": mtOctet, "Docker-Content-Digest": blobDigest, "Content-Length": "100", "Accept-Ranges": "bytes"}},
		{name: "HEAD blob", method: "HEAD", path: b + blobDigest, status: 200,
			want: map[string]string{"Content-Type": mtOctet, "Docker-Content-Digest": blobDigest, "Content-Length": "100"}},
		{name: "GET the empty blob", method: "GET", path: b + empty, status: 200, wantBody: []byte{},
			want: map[string]string{"Docker-Content-Digest": empty, "Content-Length": "0"}},
		{name: "GET a sha512 blob", method: "GET", path: b + bigDigest, status: 200, wantBody: big,
			want: map[string]string{"Docker-Content-Digest": bigDigest, "Content-Length": strconv.Itoa(len(big))}},
		{name: "HEAD a sha512 blob", method: "HEAD", path: b + bigDigest, status: 200,
			want: map[string]string{"Docker-Content-Digest": bigDigest, "Content-Length": strconv.Itoa(len(big))}},
		{name: "Range of the first bytes", method: "GET", path: b + blobDigest, header: hdr("Range", "bytes=0-9"),
			status: 206, wantBody: blob[:10], want: map[string]string{"Content-Range": "bytes 0-9/100", "Content-Length": "10"}},
		{name: "Range from an offset to the end", method: "GET", path: b + blobDigest, header: hdr("Range", "bytes=95-"),
			status: 206, wantBody: blob[95:], want: map[string]string{"Content-Range": "bytes 95-99/100", "Content-Length": "5"}},
		{name: "Range of the last bytes", method: "GET", path: b + blobDigest, header: hdr("Range", "bytes=-3"),
			status: 206, wantBody: blob[97:], want: map[string]string{"Content-Range": "bytes 97-99/100"}},
		{name: "Range of one byte", method: "GET", path: b + blobDigest, header: hdr("Range", "bytes=42-42"),
			status: 206, wantBody: blob[42:43], want: map[string]string{"Content-Range": "bytes 42-42/100"}},
		{name: "Range past the end is 416", method: "GET", path: b + blobDigest, header: hdr("Range", "bytes=100-200"),
			status: 416, want: map[string]string{"Content-Range": "bytes */100"}},
		// RFC 9110 lets a server ignore Range; Go's ServeContent does for
		// an empty body rather than answer 416 to clients that always send it.
		{name: "Range on the empty blob is ignored", method: "GET", path: b + empty, header: hdr("Range", "bytes=0-0"),
			status: 200, wantBody: []byte{}},
		{name: "unknown blob", method: "GET", path: b + unknown, status: 404, code: "BLOB_UNKNOWN"},
		{name: "HEAD unknown blob", method: "HEAD", path: b + unknown, status: 404},
		{name: "a manifest is not a blob", method: "GET", path: b + img.digest, status: 404, code: "BLOB_UNKNOWN"},
		{name: "a blob of another repository", method: "GET", path: "/v2/pull/other/blobs/" + blobDigest, status: 404, code: "BLOB_UNKNOWN"},
		{name: "a blob of another registry", method: "GET", path: b + blobDigest, header: hdr("Host", secondLogin), status: 404, code: "BLOB_UNKNOWN"},
		{name: "malformed blob digest", method: "GET", path: b + "sha256:1234", status: 400, code: "DIGEST_INVALID"},
		{name: "a tag is not a blob digest", method: "GET", path: b + "latest", status: 400, code: "DIGEST_INVALID"},
		{name: "HEAD malformed blob digest", method: "HEAD", path: b + "sha256:1234", status: 400},
		{name: "blob of an invalid name", method: "GET", path: "/v2/-pull/blobs/" + blobDigest, status: 400, code: "NAME_INVALID"},
	})
}
