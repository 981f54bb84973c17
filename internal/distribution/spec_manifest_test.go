package distribution_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestSpecManifestPush covers pushing manifests: the four kinds berth
// stores, artifacts, subjects, tags and digests as references, and every
// refusal, each followed by a check that the store did not change.
func TestSpecManifestPush(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "mani/app"
	m := "/v2/" + repo + "/manifests/"

	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := []byte("a layer")
	emptyJSON := []byte("{}")
	sbom := []byte(`{"sbom":true}`)
	for _, b := range [][]byte{config, layer, emptyJSON, sbom} {
		s.pushBlob(t, repo, b)
	}
	missing := []byte("a blob never pushed")

	// A manifest with unusual whitespace: berth must store it byte for byte.
	image := []byte("{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" + mtOCIManifest + "\",\n" +
		"  \"config\": " + string(mustJSON(t, desc(mtOCIConfig, config))) + ",\n" +
		"  \"layers\": [ " + string(mustJSON(t, desc(mtOCILayer, layer))) + " ]\n}\n")
	imageDigest := sha256Digest(image)
	image2 := ociManifest(t, config)
	docker := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtDockerManifest,
		"config": desc(mtDockerConfig, config), "layers": []any{desc(mtDockerLayer, layer)},
	})
	index := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIIndex,
		"manifests": []any{map[string]any{"mediaType": mtOCIManifest, "digest": imageDigest, "size": len(image),
			"platform": map[string]any{"architecture": "amd64", "os": "linux"}}},
	})
	list := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtDockerList,
		"manifests": []any{desc(mtDockerManifest, docker)},
	})
	artifact := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": "application/vnd.example.sbom.v1",
		"config": desc(mtEmpty, emptyJSON), "layers": []any{desc("application/vnd.example.sbom.v1+json", sbom)},
	})
	bare := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": "application/vnd.example.note.v1",
		"config": desc(mtEmpty, emptyJSON), "layers": []any{desc(mtEmpty, emptyJSON)},
		"annotations": map[string]string{"org.example.note": "hello"},
	})
	withSubject := func(subject []byte, artifactType string) []byte {
		return mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": artifactType,
			"config": desc(mtEmpty, emptyJSON), "layers": []any{desc(mtEmpty, emptyJSON)},
			"subject": desc(mtOCIManifest, subject),
		})
	}
	signature := withSubject(image, "application/vnd.example.signature.v1")
	early := withSubject([]byte("a manifest pushed later, or never"), "application/vnd.example.signature.v1")
	nondist := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "config": desc(mtOCIConfig, config),
		"layers": []any{desc("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", missing), desc(mtOCILayer, layer)},
	})
	foreign := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtDockerManifest, "config": desc(mtDockerConfig, config),
		"layers": []any{desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", missing)},
	})
	unknownLayer := ociManifest(t, config, layer, missing)
	unknownConfig := ociManifest(t, missing, layer)
	unknownChild := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{desc(mtOCIManifest, missing)},
	})
	// A manifest of exactly 4 MiB, padded with an annotation, is accepted;
	// one byte more is not.
	pad := func(size int) []byte {
		base := mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "config": desc(mtOCIConfig, config),
			"layers": []any{}, "annotations": map[string]string{"pad": ""},
		})
		return bytes.Replace(base, []byte(`"pad":""`), []byte(`"pad":"`+strings.Repeat("x", size-len(base))+`"`), 1)
	}
	fourMiB, tooBig := pad(4<<20), pad(4<<20+1)

	created := func(d string) map[string]string {
		return map[string]string{"Location": m + d, "Docker-Content-Digest": d, "Content-Length": "0", "OCI-Subject": absent}
	}
	ct := func(mt string) http.Header { return hdr("Content-Type", mt) }
	invalid := func(name, ref, contentType string, body []byte, msg string) step {
		return step{name: name, method: "PUT", path: m + ref, header: ct(contentType), body: body, status: 400, code: "MANIFEST_INVALID", msg: msg}
	}
	unknownTag := func(tag string) step {
		return step{name: "nothing stored under " + tag, method: "GET", path: m + tag, status: 404, code: "MANIFEST_UNKNOWN"}
	}
	tag128 := strings.Repeat("T", 128)

	s.run(t, []step{
		// The four kinds, by tag and by digest.
		{name: "OCI image manifest by tag", method: "PUT", path: m + "v1", header: ct(mtOCIManifest), body: image,
			status: 201, want: created(imageDigest)},
		{name: "stored byte for byte", method: "GET", path: m + "v1", status: 200, wantBody: image,
			want: map[string]string{"Content-Type": mtOCIManifest, "Docker-Content-Digest": imageDigest}},
		{name: "OCI image manifest by digest", method: "PUT", path: m + imageDigest, header: ct(mtOCIManifest), body: image,
			status: 201, want: created(imageDigest)},
		{name: "by a sha512 digest", method: "PUT", path: m + sha512Digest(image), header: ct(mtOCIManifest), body: image,
			status: 201, want: created(sha512Digest(image))},
		{name: "GET by the sha512 digest", method: "GET", path: m + sha512Digest(image), status: 200, wantBody: image,
			want: map[string]string{"Docker-Content-Digest": sha512Digest(image)}},
		{name: "Docker schema2 manifest", method: "PUT", path: m + "docker", header: ct(mtDockerManifest), body: docker,
			status: 201, want: created(sha256Digest(docker))},
		{name: "OCI index", method: "PUT", path: m + "index", header: ct(mtOCIIndex), body: index,
			status: 201, want: created(sha256Digest(index))},
		{name: "Docker manifest list", method: "PUT", path: m + "list", header: ct(mtDockerList), body: list,
			status: 201, want: created(sha256Digest(list))},
		{name: "the list is served as pushed", method: "GET", path: m + "list", status: 200, wantBody: list,
			want: map[string]string{"Content-Type": mtDockerList}},
		{name: "Content-Type parameters are ignored", method: "PUT", path: m + "params", header: ct(mtOCIManifest + "; charset=utf-8"), body: image2,
			status: 201, want: created(sha256Digest(image2))},
		{name: "without Content-Type the body's mediaType decides", method: "PUT", path: m + "notype", body: docker,
			status: 201, want: created(sha256Digest(docker))},
		{name: "served with the body's mediaType", method: "GET", path: m + "notype", status: 200,
			want: map[string]string{"Content-Type": mtDockerManifest}},
		{name: "retag to another manifest", method: "PUT", path: m + "params", header: ct(mtOCIManifest), body: image,
			status: 201, want: created(imageDigest)},
		{name: "the tag moved", method: "GET", path: m + "params", status: 200, want: map[string]string{"Docker-Content-Digest": imageDigest}},

		// Artifacts and subjects.
		{name: "artifact with artifactType and an empty config", method: "PUT", path: m + "sbom", header: ct(mtOCIManifest), body: artifact,
			status: 201, want: created(sha256Digest(artifact))},
		{name: "artifact whose only layer is the empty blob", method: "PUT", path: m + "note", header: ct(mtOCIManifest), body: bare,
			status: 201, want: created(sha256Digest(bare))},
		{name: "manifest with a subject: OCI-Subject", method: "PUT", path: m + sha256Digest(signature), header: ct(mtOCIManifest), body: signature,
			status: 201, want: map[string]string{"OCI-Subject": imageDigest, "Docker-Content-Digest": sha256Digest(signature)}},
		{name: "a subject that does not exist yet is accepted", method: "PUT", path: m + sha256Digest(early), header: ct(mtOCIManifest), body: early,
			status: 201, want: map[string]string{"OCI-Subject": sha256Digest([]byte("a manifest pushed later, or never"))}},
		{name: "a non-distributable layer need not exist", method: "PUT", path: m + "nondist", header: ct(mtOCIManifest), body: nondist,
			status: 201, want: created(sha256Digest(nondist))},
		{name: "a Docker foreign layer need not exist", method: "PUT", path: m + "foreign", header: ct(mtDockerManifest), body: foreign,
			status: 201, want: created(sha256Digest(foreign))},

		// Tag grammar.
		{name: "a tag of 128 characters", method: "PUT", path: m + tag128, header: ct(mtOCIManifest), body: image, status: 201},
		{name: "a tag starting with an underscore", method: "PUT", path: m + "_x.Y-z", header: ct(mtOCIManifest), body: image, status: 201},
		{name: "a tag of 129 characters", method: "PUT", path: m + tag128 + "T", header: ct(mtOCIManifest), body: image2, status: 400, code: "TAG_INVALID"},
		{name: "a tag starting with a dash", method: "PUT", path: m + "-v2", header: ct(mtOCIManifest), body: image2, status: 400, code: "TAG_INVALID"},
		{name: "a tag with a plus", method: "PUT", path: m + "v2+1", header: ct(mtOCIManifest), body: image2, status: 400, code: "TAG_INVALID"},
		{name: "a reference that is neither", method: "PUT", path: m + "v2:1", header: ct(mtOCIManifest), body: image2, status: 400, code: "DIGEST_INVALID"},
		{name: "an invalid name", method: "PUT", path: "/v2/Mani/manifests/v1", header: ct(mtOCIManifest), body: image2, status: 400, code: "NAME_INVALID"},
		{name: "a digest that does not match the body", method: "PUT", path: m + sha256Digest(unknownConfig), header: ct(mtOCIManifest), body: image,
			status: 400, code: "DIGEST_INVALID"},
		unknownTag(sha256Digest(unknownConfig)),

		// Content the manifest refers to must be there.
		{name: "an unknown layer", method: "PUT", path: m + "bad1", header: ct(mtOCIManifest), body: unknownLayer,
			status: 400, code: "MANIFEST_BLOB_UNKNOWN", check: errorDetailHas(sha256Digest(missing))},
		{name: "an unknown config", method: "PUT", path: m + "bad2", header: ct(mtOCIManifest), body: unknownConfig,
			status: 400, code: "MANIFEST_BLOB_UNKNOWN", check: errorDetailHas(sha256Digest(missing))},
		{name: "an index of an unknown manifest", method: "PUT", path: m + "bad3", header: ct(mtOCIIndex), body: unknownChild,
			status: 400, code: "MANIFEST_BLOB_UNKNOWN", check: errorDetailHas(sha256Digest(missing))},
		{name: "by digest with an unknown layer", method: "PUT", path: m + sha256Digest(unknownLayer), header: ct(mtOCIManifest), body: unknownLayer,
			status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		unknownTag("bad1"), unknownTag("bad2"), unknownTag("bad3"), unknownTag(sha256Digest(unknownLayer)),
		{name: "a blob of another repository does not count", method: "PUT", path: "/v2/mani/other/manifests/v1", header: ct(mtOCIManifest), body: image,
			status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		{name: "the refused push made no repository", method: "GET", path: "/v2/mani/other/tags/list", status: 404, code: "NAME_UNKNOWN"},

		// Malformed manifests.
		invalid("malformed JSON", "bad4", mtOCIManifest, []byte(`{"schemaVersion": 2,`), "JSON"),
		invalid("an empty body", "bad4", mtOCIManifest, []byte{}, ""),
		invalid("a JSON array", "bad4", mtOCIManifest, []byte(`[]`), ""),
		invalid("JSON null", "bad4", mtOCIManifest, []byte(`null`), "schemaVersion"),
		invalid("schemaVersion 1 in an OCI manifest", "bad4", mtOCIManifest, replaced(t, image2, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":1`)), "schemaVersion"),
		invalid("no schemaVersion", "bad4", mtOCIManifest, replaced(t, image2, []byte(`,"schemaVersion":2`), nil), "schemaVersion"),
		invalid("an unsupported media type", "bad4", "application/vnd.oci.artifact.manifest.v1+json", image2, "application/vnd.oci.artifact.manifest.v1+json"),
		invalid("text/plain", "bad4", "text/plain", replaced(t, image2, []byte(`"mediaType":"`+mtOCIManifest+`",`), nil), "text/plain"),
		invalid("Content-Type and mediaType disagree", "bad4", mtDockerManifest, image2, mtOCIManifest),
		invalid("an index with a config", "bad4", mtOCIIndex, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{}, "config": desc(mtOCIConfig, config)}), "config"),
		invalid("an image manifest without config", "bad4", mtOCIManifest, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "layers": []any{}}), "config"),
		invalid("a layer with a malformed digest", "bad4", mtOCIManifest, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "config": desc(mtOCIConfig, config),
			"layers": []any{map[string]any{"mediaType": mtOCILayer, "digest": "sha256:abc", "size": 1}}}), "digest"),
		invalid("a layer without a media type", "bad4", mtOCIManifest, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "config": desc(mtOCIConfig, config),
			"layers": []any{map[string]any{"digest": sha256Digest(layer), "size": len(layer)}}}), "mediaType"),
		invalid("a negative size", "bad4", mtOCIManifest, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "config": map[string]any{"mediaType": mtOCIConfig, "digest": sha256Digest(config), "size": -1},
			"layers": []any{}}), "size"),
		invalid("a subject with a malformed digest", "bad4", mtOCIManifest, mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "config": desc(mtOCIConfig, config), "layers": []any{},
			"subject": map[string]any{"mediaType": mtOCIManifest, "digest": "sha256:zz", "size": 2}}), "subject"),
		invalid("Docker schema 1", "bad4", "application/vnd.docker.distribution.manifest.v1+json", []byte(`{"schemaVersion":1,"name":"mani/app","tag":"bad4","fsLayers":[]}`), "schema 1"),
		invalid("signed Docker schema 1", "bad4", "application/vnd.docker.distribution.manifest.v1+prettyjws", []byte(`{"schemaVersion":1,"fsLayers":[],"signatures":[]}`), "schema 1"),
		invalid("Docker schema 1 without a Content-Type", "bad4", "", []byte(`{"schemaVersion":1,"name":"mani/app","tag":"bad4","fsLayers":[]}`), "schema 1"),
		unknownTag("bad4"),

		// Size.
		{name: "a manifest of 4 MiB", method: "PUT", path: m + "big", header: ct(mtOCIManifest), body: fourMiB,
			status: 201, want: created(sha256Digest(fourMiB))},
		{name: "a manifest over 4 MiB", method: "PUT", path: m + "toobig", header: ct(mtOCIManifest), body: tooBig, status: 413, code: "SIZE_INVALID"},
		{name: "a streamed manifest over 4 MiB", method: "PUT", path: m + "toobig", header: ct(mtOCIManifest), body: tooBig, stream: true,
			status: 413, code: "SIZE_INVALID"},
		unknownTag("toobig"),
		{name: "HEAD of the 4 MiB manifest", method: "HEAD", path: m + "big", status: 200, want: map[string]string{"Content-Length": "4194304"}},

		// After all the refusals, the tags are those of the accepted pushes.
		{name: "tags after every push", method: "GET", path: "/v2/" + repo + "/tags/list", status: 200,
			check: tagsAre(repo, tag128, "_x.Y-z", "big", "docker", "foreign", "index", "list", "nondist", "note", "notype", "params", "sbom", "v1")},
	})
}

// TestSpecDelete covers deleting tags, manifests by digest, and blobs.
func TestSpecDelete(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "del/app"
	m := "/v2/" + repo + "/manifests/"
	b := "/v2/" + repo + "/blobs/"
	img := s.pushImage(t, repo, "a", "delete")
	s.pushManifest(t, repo, "b", mtOCIManifest, img.manifest)
	other := s.pushImage(t, repo, "c", "kept")
	long := ociManifest(t, img.config)
	resp, body := s.do(t, "PUT", m+sha512Digest(long), hdr("Content-Type", mtOCIManifest), long)
	if resp.StatusCode != 201 {
		t.Fatalf("push by sha512: %d %s", resp.StatusCode, body)
	}
	unknown := sha256Digest([]byte("never stored"))

	s.run(t, []step{
		{name: "delete a tag", method: "DELETE", path: m + "a", status: 202},
		{name: "the tag is gone", method: "GET", path: m + "a", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "the other tag stays", method: "GET", path: m + "b", status: 200, wantBody: img.manifest},
		{name: "the manifest stays", method: "HEAD", path: m + img.digest, status: 200},
		{name: "delete the tag again", method: "DELETE", path: m + "a", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "tags after deleting one", method: "GET", path: "/v2/" + repo + "/tags/list", status: 200, check: tagsAre(repo, "b", "c")},
		{name: "delete a manifest by digest", method: "DELETE", path: m + img.digest, status: 202},
		{name: "the manifest is gone", method: "GET", path: m + img.digest, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "and its tags with it", method: "GET", path: m + "b", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "tags after deleting the manifest", method: "GET", path: "/v2/" + repo + "/tags/list", status: 200, check: tagsAre(repo, "c")},
		{name: "other manifests stay", method: "GET", path: m + "c", status: 200, wantBody: other.manifest},
		{name: "delete the manifest again", method: "DELETE", path: m + img.digest, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "delete a manifest by sha512", method: "DELETE", path: m + sha512Digest(long), status: 202},
		{name: "the sha512 manifest is gone", method: "HEAD", path: m + sha512Digest(long), status: 404},
		{name: "delete an unknown digest", method: "DELETE", path: m + unknown, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "delete in an unknown repository", method: "DELETE", path: "/v2/del/none/manifests/" + img.digest, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "delete a malformed digest", method: "DELETE", path: m + "sha256:0", status: 400, code: "DIGEST_INVALID"},
		{name: "delete a malformed tag", method: "DELETE", path: m + "-a", status: 400, code: "TAG_INVALID"},
		{name: "delete in an invalid name", method: "DELETE", path: "/v2/Del/manifests/c", status: 400, code: "NAME_INVALID"},
		{name: "refused deletes kept the tag", method: "GET", path: m + "c", status: 200},

		{name: "delete a blob", method: "DELETE", path: b + sha256Digest(img.layer), status: 202},
		{name: "the blob is gone", method: "GET", path: b + sha256Digest(img.layer), status: 404, code: "BLOB_UNKNOWN"},
		{name: "HEAD of the deleted blob", method: "HEAD", path: b + sha256Digest(img.layer), status: 404},
		{name: "delete the blob again", method: "DELETE", path: b + sha256Digest(img.layer), status: 404, code: "BLOB_UNKNOWN"},
		{name: "a deleted blob cannot be mounted from", method: "POST", path: "/v2/del/dst/blobs/uploads/?mount=" + sha256Digest(img.layer) + "&from=" + repo,
			status: 202},
		{name: "other blobs stay", method: "GET", path: b + sha256Digest(other.layer), status: 200, wantBody: other.layer},
		{name: "delete an unknown blob", method: "DELETE", path: b + unknown, status: 404, code: "BLOB_UNKNOWN"},
		{name: "delete a blob in an unknown repository", method: "DELETE", path: "/v2/del/none/blobs/" + unknown, status: 404, code: "BLOB_UNKNOWN"},
		{name: "delete a malformed blob digest", method: "DELETE", path: b + "sha256:0", status: 400, code: "DIGEST_INVALID"},
		{name: "a blob can be pushed again after delete", method: "POST", path: "/v2/" + repo + "/blobs/uploads/?digest=" + sha256Digest(img.layer),
			body: img.layer, status: 201},
		{name: "and is there again", method: "GET", path: b + sha256Digest(img.layer), status: 200, wantBody: img.layer},
		{name: "and a deleted manifest can be pushed again", method: "PUT", path: m + "a", header: hdr("Content-Type", mtOCIManifest), body: img.manifest,
			status: 201, want: map[string]string{"Docker-Content-Digest": img.digest}},
		{name: "and is there again", method: "GET", path: m + img.digest, status: 200, wantBody: img.manifest},
	})
}

// replaced is b with old replaced by new, which must be there.
func replaced(t *testing.T, b, old, new []byte) []byte {
	t.Helper()
	if !bytes.Contains(b, old) {
		t.Fatalf("%s does not contain %s", b, old)
	}
	return bytes.Replace(b, old, new, 1)
}

// TestSpecDeleteTakesReferrers shows that deleting a manifest by digest
// deletes its referrers with it, and theirs, tags included, while the
// referrers of other manifests stay.
func TestSpecDeleteTakesReferrers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const repo = "del/signed"
	m := "/v2/" + repo + "/manifests/"
	emptyJSON := []byte("{}")
	s.pushBlob(t, repo, emptyJSON)
	img := s.pushImage(t, repo, "v1", "signed")
	other := s.pushImage(t, repo, "v2", "other")
	referrer := func(subject []byte, note string) []byte {
		return mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": "application/vnd.example.sig.v1",
			"config": desc(mtEmpty, emptyJSON), "layers": []any{desc(mtEmpty, emptyJSON)},
			"subject": desc(mtOCIManifest, subject), "annotations": map[string]string{"note": note},
		})
	}
	sig := referrer(img.manifest, "sig")
	sigsig := referrer(sig, "sig of sig")
	otherSig := referrer(other.manifest, "other")
	sigDigest := s.pushManifest(t, repo, sha256Digest(sig), mtOCIManifest, sig)
	s.pushManifest(t, repo, "sigsig-tag", mtOCIManifest, sigsig)
	otherDigest := s.pushManifest(t, repo, sha256Digest(otherSig), mtOCIManifest, otherSig)

	s.run(t, []step{
		{name: "delete the subject", method: "DELETE", path: m + img.digest, status: 202},
		{name: "the subject is gone", method: "HEAD", path: m + img.digest, status: 404},
		{name: "its referrer is gone", method: "HEAD", path: m + sigDigest, status: 404},
		{name: "the referrer's referrer is gone", method: "HEAD", path: m + sha256Digest(sigsig), status: 404},
		{name: "and its tag", method: "GET", path: m + "sigsig-tag", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "the referrers list is empty", method: "GET", path: "/v2/" + repo + "/referrers/" + img.digest, status: 200,
			check: func(t *testing.T, _ *http.Response, body []byte) {
				if strings.Contains(string(body), "sha256:") {
					t.Errorf("referrers of a deleted subject: %s", body)
				}
			}},
		{name: "another subject's referrer stays", method: "HEAD", path: m + otherDigest, status: 200},
		{name: "deleting a tag deletes no referrer", method: "DELETE", path: m + "v2", status: 202},
		{name: "so the referrer of the untagged manifest stays", method: "HEAD", path: m + otherDigest, status: 200},
	})
}
