package clients

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver"
)

// TestCrane pushes, reads, copies, lists and deletes an image with crane.
func TestCrane(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crane")
	img := e.pushImage("demo/app", "v1")

	if got := strings.TrimSpace(e.run("crane", "digest", img.ref)); got != img.digest {
		t.Errorf("crane digest = %s, want %s", got, img.digest)
	}
	if got := e.run("crane", "manifest", img.ref); got != string(img.manifest) {
		t.Errorf("crane manifest differs from what the registry serves:\n%s\nwant\n%s", got, img.manifest)
	}

	// The config's diff_id is the digest of the uncompressed layer made
	// here, so this checks the config blob round-trips.
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal([]byte(e.run("crane", "config", img.ref)), &config); err != nil {
		t.Fatalf("crane config: %v", err)
	}
	if want := sha256Digest(img.layerTar); len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != want {
		t.Errorf("config diff_ids = %v, want [%s]", config.RootFS.DiffIDs, want)
	}

	// Pull into an OCI layout and unpack the layer: the bytes made here.
	layout := ociLayout(filepath.Join(t.TempDir(), "pulled"))
	e.run("crane", "pull", "--format", "oci", img.ref, string(layout))
	if got := layout.manifestFor(t, ""); got != img.digest {
		t.Errorf("crane pull wrote manifest %s, want %s", got, img.digest)
	}
	if got := gunzip(t, layout.blob(t, img.layer)); !bytes.Equal(got, img.layerTar) {
		t.Errorf("pulled layer differs from the pushed one (%d bytes, want %d)", len(got), len(img.layerTar))
	}

	e.run("crane", "tag", img.ref, "v2")
	if got := lines(e.run("crane", "ls", e.addr+"/demo/app")); !equalSets(got, []string{"v1", "v2"}) {
		t.Errorf("crane ls = %q, want v1 and v2", got)
	}
	if got := e.manifestDigest("demo/app", "v2"); got != img.digest {
		t.Errorf("tag v2 resolves to %s, want %s", got, img.digest)
	}

	// Copy to another repository: the blobs are already in the registry,
	// so crane mounts them across repositories (201) instead of uploading.
	mirror := e.addr + "/mirror/app:v1"
	_, log := e.runStderr("crane", "copy", "-v", img.ref, mirror)
	if mounts := mountedBlobs(log); len(mounts) != 2 {
		t.Errorf("crane copy mounted %d blobs with 201 Created, want 2 (config and layer); crane log:\n%s", len(mounts), log)
	}
	if got := e.manifestDigest("mirror/app", "v1"); got != img.digest {
		t.Errorf("copy has digest %s, want %s", got, img.digest)
	}
	if r := e.request(http.MethodGet, "/v2/mirror/app/blobs/"+img.layer); r.status != http.StatusOK || sha256Digest(r.body) != img.layer {
		t.Errorf("GET mounted layer = %d with digest %s, want 200 and %s", r.status, sha256Digest(r.body), img.layer)
	}

	catalog := lines(e.run("crane", "catalog", e.addr))
	for _, repo := range []string{"demo/app", "mirror/app"} {
		if !contains(catalog, repo) {
			t.Errorf("crane catalog = %q, missing %s", catalog, repo)
		}
	}

	// Deleting the copy's manifest removes it and its tag, and leaves the
	// original, which shares every blob, whole.
	e.run("crane", "delete", e.addr+"/mirror/app@"+img.digest)
	if r := e.request(http.MethodGet, "/v2/mirror/app/manifests/"+img.digest, manifestTypes...); r.status != http.StatusNotFound {
		t.Errorf("GET deleted manifest = %d, want 404", r.status)
	}
	if _, stderr, err := e.exec("", e.vars, "crane", "manifest", mirror); err == nil {
		t.Errorf("crane manifest %s still succeeds after its manifest was deleted", mirror)
	} else if !strings.Contains(stderr, "MANIFEST_UNKNOWN") && !strings.Contains(stderr, "NAME_UNKNOWN") {
		t.Errorf("crane manifest of a deleted tag failed with %v, want MANIFEST_UNKNOWN or NAME_UNKNOWN:\n%s", err, stderr)
	}
	if got := e.manifestDigest("demo/app", "v1"); got != img.digest {
		t.Errorf("original resolves to %s after deleting the copy, want %s", got, img.digest)
	}
	if r := e.request(http.MethodGet, "/v2/demo/app/blobs/"+img.layer); r.status != http.StatusOK || sha256Digest(r.body) != img.layer {
		t.Errorf("original's layer after deleting the copy = %d, want 200 with its bytes", r.status)
	}

	_, wrong := clientHome(t, "wrong")
	e.runEnv(wrong, "crane", "auth", "login", e.addr, "-u", testserver.AdminUser, "-p", e.srv.Password+"-wrong")
	e.refused(wrong, "crane", "ls", e.addr+"/demo/app")
	e.refused(wrong, "crane", "manifest", img.ref)
}

// mountedBlobs returns the digests that crane's verbose log shows mounted
// with 201 Created.
func mountedBlobs(log string) []string {
	var out []string
	re := regexp.MustCompile(`<-- 201 \S*/blobs/uploads/\?\S*mount=(sha256%3A[0-9a-f]{64})`)
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		if !contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// referrersTagRE matches the tags of the referrers tag schema, the fallback
// that clients use on registries without the referrers API.
var referrersTagRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// TestOras pushes and pulls an artifact, then attaches a signature to an
// image and finds it through the referrers API.
func TestOras(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crane", "oras")
	auth := []string{"--plain-http", "-u", testserver.AdminUser, "-p", e.srv.Password}
	oras := func(args ...string) []string { return append(args, auth...) }

	work := t.TempDir()
	payload := make([]byte, 300<<10)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "data.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}

	artifact := e.addr + "/demo/artifact:v1"
	var pushed struct {
		Digest       string `json:"digest"`
		ArtifactType string `json:"artifactType"`
	}
	out := e.runIn(work, "oras", oras("push", "--format", "json", "--artifact-type", "application/vnd.example.data",
		artifact, "data.bin:application/vnd.example.data.layer")...)
	if err := json.Unmarshal([]byte(out), &pushed); err != nil {
		t.Fatalf("oras push --format json: %v: %s", err, out)
	}
	if got := e.manifestDigest("demo/artifact", "v1"); got != pushed.Digest {
		t.Fatalf("registry resolves %s to %s, oras pushed %s", artifact, got, pushed.Digest)
	}
	m := parseManifest(t, e.request(http.MethodGet, "/v2/demo/artifact/manifests/v1", manifestTypes...).body)
	if m.ArtifactType != "application/vnd.example.data" || len(m.Layers) != 1 ||
		m.Layers[0].Digest != sha256Digest(payload) || m.Layers[0].MediaType != "application/vnd.example.data.layer" {
		t.Fatalf("stored artifact manifest: artifactType %q layers %+v; want the pushed file", m.ArtifactType, m.Layers)
	}

	pulled := filepath.Join(t.TempDir(), "out")
	e.run("oras", oras("pull", "-o", pulled, artifact)...)
	got, err := os.ReadFile(filepath.Join(pulled, "data.bin"))
	if err != nil {
		t.Fatalf("oras pull: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("oras pull returned %d bytes that differ from the %d pushed", len(got), len(payload))
	}

	// Attach a signature to an image, as a signing tool would.
	img := e.pushImage("demo/app", "v1")
	if err := os.WriteFile(filepath.Join(work, "sig.json"), []byte(`{"signed":"`+img.digest+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var attached struct {
		Digest string `json:"digest"`
	}
	out = e.runIn(work, "oras", oras("attach", "--format", "json", "--artifact-type", "application/vnd.example.sig",
		img.ref, "sig.json:application/vnd.example.sig.v1+json")...)
	if err := json.Unmarshal([]byte(out), &attached); err != nil || attached.Digest == "" {
		t.Fatalf("oras attach --format json: %v: %s", err, out)
	}
	sig := parseManifest(t, e.request(http.MethodGet, "/v2/demo/app/manifests/"+attached.Digest, manifestTypes...).body)
	if sig.Subject == nil || sig.Subject.Digest != img.digest {
		t.Fatalf("attached manifest's subject = %+v, want %s", sig.Subject, img.digest)
	}

	// The referrers API answers for the image...
	checkReferrers(t, e, "demo/app", img.digest, false, attached.Digest, "application/vnd.example.sig")
	// ...so oras must not have fallen back to the referrers tag schema.
	for _, tag := range e.tags("demo/app") {
		if referrersTagRE.MatchString(tag) {
			t.Errorf("tag %q exists: oras used the referrers tag fallback instead of the referrers API", tag)
		}
	}

	var discovered struct {
		Referrers []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"referrers"`
		Manifests []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	out = e.run("oras", oras("discover", "--format", "json", img.ref)...)
	if err := json.Unmarshal([]byte(out), &discovered); err != nil {
		t.Fatalf("oras discover --format json: %v: %s", err, out)
	}
	found := append(discovered.Referrers, discovered.Manifests...)
	if len(found) != 1 || found[0].Digest != attached.Digest || found[0].ArtifactType != "application/vnd.example.sig" {
		t.Errorf("oras discover found %+v, want %s (application/vnd.example.sig)", found, attached.Digest)
	}

	// A second referrer of another type: filtering by artifact type, on the
	// server (the referrers API's artifactType parameter) and in oras.
	if err := os.WriteFile(filepath.Join(work, "sbom.json"), []byte(`{"packages":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var sbom struct {
		Digest string `json:"digest"`
	}
	out = e.runIn(work, "oras", oras("attach", "--format", "json", "--artifact-type", "application/vnd.example.sbom",
		img.ref, "sbom.json:application/vnd.example.sbom.v1+json")...)
	if err := json.Unmarshal([]byte(out), &sbom); err != nil || sbom.Digest == "" {
		t.Fatalf("oras attach --format json: %v: %s", err, out)
	}
	checkReferrers(t, e, "demo/app", img.digest, true, sbom.Digest, "application/vnd.example.sbom")
	discovered.Referrers, discovered.Manifests = nil, nil
	out = e.run("oras", oras("discover", "--format", "json", "--artifact-type", "application/vnd.example.sbom", img.ref)...)
	if err := json.Unmarshal([]byte(out), &discovered); err != nil {
		t.Fatalf("oras discover --format json: %v: %s", err, out)
	}
	found = append(discovered.Referrers, discovered.Manifests...)
	if len(found) != 1 || found[0].Digest != sbom.Digest {
		t.Errorf("oras discover --artifact-type application/vnd.example.sbom found %+v, want only %s", found, sbom.Digest)
	}
	if n := len(e.tags("demo/app")); n != 1 {
		t.Errorf("demo/app has %d tags after two attachments, want 1 (v1)", n)
	}

	wrong := []string{"--plain-http", "-u", testserver.AdminUser, "-p", e.srv.Password + "-wrong"}
	e.refused(e.vars, "oras", append([]string{"repo", "tags", e.addr + "/demo/app"}, wrong...)...)
	e.refused(e.vars, "oras", append([]string{"pull", "-o", t.TempDir(), artifact}, wrong...)...)
}

// checkReferrers asks the referrers API of repo for subject's referrers and
// checks that it lists exactly want, with its artifact type. With filter
// set, it asks for that artifact type only; berth filters on the server
// (the spec allows leaving it to the client) and must say so.
func checkReferrers(t *testing.T, e *env, repo, subject string, filter bool, want, artifactType string) {
	t.Helper()
	path := "/v2/" + repo + "/referrers/" + subject
	if filter {
		path += "?artifactType=" + url.QueryEscape(artifactType)
	}
	r := e.request(http.MethodGet, path)
	if r.status != http.StatusOK {
		t.Errorf("GET %s = %d, want 200: %s", path, r.status, r.body)
		return
	}
	if got := r.header.Get("OCI-Filters-Applied"); filter && got != "artifactType" {
		t.Errorf("GET %s: OCI-Filters-Applied %q, want artifactType", path, got)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.oci.image.index.v1+json") {
		t.Errorf("referrers Content-Type = %q, want application/vnd.oci.image.index.v1+json", ct)
	}
	var index struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Manifests     []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(r.body, &index); err != nil {
		t.Errorf("referrers body: %v: %s", err, r.body)
		return
	}
	if index.SchemaVersion != 2 || index.MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("referrers index has schemaVersion %d, mediaType %q; want 2 and an OCI index", index.SchemaVersion, index.MediaType)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != want || index.Manifests[0].ArtifactType != artifactType {
		t.Errorf("referrers of %s = %s, want only %s with artifactType %s", subject, r.body, want, artifactType)
	}
}

// TestRegctl copies an image and reads its tags, manifest and blobs with regctl.
func TestRegctl(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crane", "regctl")
	img := e.pushImage("demo/app", "v1")

	// regctl also reads Docker's config, where crane has logged in: give it a
	// home of its own so that its own login is what is tested.
	_, rv := clientHome(t, "regctl")
	regctl := func(args ...string) string { return e.runEnv(rv, "regctl", args...) }
	// Without credentials the connectivity check would fail with 401.
	regctl("registry", "set", "--skip-check", "--tls", "disabled", e.addr)
	regctl("registry", "login", "-u", testserver.AdminUser, "-p", e.srv.Password, e.addr)

	dst := e.addr + "/regctl/copy:v1"
	regctl("image", "copy", img.ref, dst)
	if got := e.manifestDigest("regctl/copy", "v1"); got != img.digest {
		t.Errorf("regctl image copy made %s, want %s", got, img.digest)
	}
	if got := lines(regctl("tag", "ls", e.addr+"/regctl/copy")); !equalSets(got, []string{"v1"}) {
		t.Errorf("regctl tag ls = %q, want [v1]", got)
	}
	if raw := regctl("manifest", "get", "--format", "raw-body", dst); raw != string(img.manifest) {
		t.Errorf("regctl manifest get differs from the pushed manifest:\n%s\nwant\n%s", raw, img.manifest)
	}
	if got := strings.TrimSpace(regctl("image", "digest", dst)); got != img.digest {
		t.Errorf("regctl image digest = %s, want %s", got, img.digest)
	}
	blob := []byte(regctl("blob", "get", e.addr+"/regctl/copy", img.layer))
	if got := sha256Digest(blob); got != img.layer {
		t.Fatalf("regctl blob get returned a blob with digest %s, want %s", got, img.layer)
	}
	if !bytes.Equal(gunzip(t, blob), img.layerTar) {
		t.Errorf("regctl blob get: layer content differs from the pushed tar")
	}

	_, wrong := clientHome(t, "wrong")
	e.runEnv(wrong, "regctl", "registry", "set", "--skip-check", "--tls", "disabled", e.addr)
	e.refused(wrong, "regctl", "registry", "login", "-u", testserver.AdminUser, "-p", e.srv.Password+"-wrong", e.addr)
	e.refused(wrong, "regctl", "tag", "ls", e.addr+"/demo/app")
}

// TestSkopeo copies an image registry-to-registry and to an OCI layout, and
// inspects it, with skopeo.
func TestSkopeo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crane", "skopeo")
	img := e.pushImage("demo/app", "v1")
	creds := "admin:" + e.srv.Password

	e.run("skopeo", "--insecure-policy", "copy",
		"--src-creds", creds, "--dest-creds", creds,
		"--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+img.ref, "docker://"+e.addr+"/skopeo/copy:v1")
	if got := e.manifestDigest("skopeo/copy", "v1"); got != img.digest {
		t.Errorf("skopeo copy to the registry made %s, want %s", got, img.digest)
	}

	layout := ociLayout(filepath.Join(t.TempDir(), "layout"))
	e.run("skopeo", "--insecure-policy", "copy", "--src-creds", creds, "--src-tls-verify=false",
		"docker://"+e.addr+"/skopeo/copy:v1", "oci:"+string(layout)+":v1")
	if got := layout.manifestFor(t, "v1"); got != img.digest {
		t.Errorf("skopeo copy to an OCI layout wrote manifest %s, want %s", got, img.digest)
	}
	if got := gunzip(t, layout.blob(t, img.layer)); !bytes.Equal(got, img.layerTar) {
		t.Errorf("layer in the OCI layout differs from the pushed tar")
	}

	var info struct {
		Name     string   `json:"Name"`
		Digest   string   `json:"Digest"`
		RepoTags []string `json:"RepoTags"`
		Layers   []string `json:"Layers"`
	}
	out := e.run("skopeo", "inspect", "--creds", creds, "--tls-verify=false", "docker://"+e.addr+"/skopeo/copy:v1")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("skopeo inspect: %v: %s", err, out)
	}
	if info.Name != e.addr+"/skopeo/copy" || info.Digest != img.digest ||
		!equalSets(info.RepoTags, []string{"v1"}) || len(info.Layers) != 1 || info.Layers[0] != img.layer {
		t.Errorf("skopeo inspect = %+v; want %s/skopeo/copy, %s, tags [v1], layers [%s]", info, e.addr, img.digest, img.layer)
	}
	raw := e.run("skopeo", "inspect", "--raw", "--creds", creds, "--tls-verify=false", "docker://"+img.ref)
	if raw != string(img.manifest) {
		t.Errorf("skopeo inspect --raw differs from the pushed manifest:\n%s\nwant\n%s", raw, img.manifest)
	}

	e.refused(e.vars, "skopeo", "inspect", "--creds", "admin:"+e.srv.Password+"-wrong", "--tls-verify=false", "docker://"+img.ref)
	e.refused(e.vars, "skopeo", "--insecure-policy", "copy", "--src-creds", "admin:"+e.srv.Password+"-wrong",
		"--src-tls-verify=false", "docker://"+img.ref, "oci:"+filepath.Join(t.TempDir(), "denied")+":v1")
}

func equalSets(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !contains(got, w) {
			return false
		}
	}
	return true
}
