package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/config"
)

// importEnv is a server with two registries: the default one (the
// target) and "importsrc" on its own loopback address (the source).
type importEnv struct {
	t        *testing.T
	addr     string // the default registry
	src      string // importsrc's login server
	tok      string // the owner's identity token
	srcIndex string // digest of importsrc's multi:v1, an index of two images
	members  []string
}

func newImportEnv(t *testing.T) *importEnv {
	a, b := freePort(t, "127.0.0.1"), freePort(t, "127.0.3.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{a, b}
	cfg.Registries = []config.Registry{{Name: "importsrc", LoginServer: b}}
	startServer(t, cfg)
	e := &importEnv{t: t, addr: a, src: b, tok: adminToken(t, a)}
	amd := pushImage(t, b, "multi", "amd64", "layer of amd64")
	arm := pushImage(t, b, "multi", "arm64", "layer of arm64")
	e.members = []string{amd, arm}
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"amd64"}},`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"arm64"}}]}`,
		amd, manifestSize(t, b, amd), arm, manifestSize(t, b, arm))
	resp := do(t, "PUT", "http://"+b+"/v2/multi/manifests/v1", "application/vnd.oci.image.index.v1+json", []byte(index))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("index push: %s", resp.Status)
	}
	e.srcIndex = resp.Header.Get("Docker-Content-Digest")
	return e
}

func manifestSize(t *testing.T, addr, d string) int {
	resp := do(t, "GET", "http://"+addr+"/v2/multi/manifests/"+d, "", nil)
	b, _ := io.ReadAll(resp.Body)
	return len(b)
}

// call sends a management call with the owner's token.
func (e *importEnv) call(method, path, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, "http://"+e.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *importEnv) importImage(registry, body string) (int, string) {
	e.t.Helper()
	return e.call("POST", "/api/registries/"+registry+"/importImage", body)
}

// status is the status of a data-plane GET or HEAD on the default registry.
func (e *importEnv) status(method, path string) (int, string) {
	e.t.Helper()
	resp := do(e.t, method, "http://"+e.addr+path, "", nil)
	return resp.StatusCode, resp.Header.Get("Docker-Content-Digest")
}

func TestImportBetweenRegistriesOfOneServer(t *testing.T) {
	e := newImportEnv(t)
	body := fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi:v1"},"targetTags":["copied/multi:v1","copied/multi:latest"]}`, e.src)
	status, out := e.importImage("default", body)
	if status != 200 {
		t.Fatalf("import: %d %s", status, out)
	}
	var res struct {
		Digest      string
		Manifests   int
		Blobs       int
		BlobsCopied int
		BytesCopied int64
	}
	json.Unmarshal([]byte(out), &res)
	// Three blobs (two layers and the shared empty config), linked from
	// the blob store the two registries share: no byte copied.
	if res.Digest != e.srcIndex || res.Manifests != 3 || res.Blobs != 3 || res.BlobsCopied != 0 || res.BytesCopied != 0 {
		t.Errorf("import result %s; want the index %s, 3 manifests, 3 blobs, none copied", out, e.srcIndex)
	}
	for _, tag := range []string{"v1", "latest"} {
		if st, d := e.status("GET", "/v2/copied/multi/manifests/"+tag); st != 200 || d != e.srcIndex {
			t.Errorf("copied/multi:%s: %d %s, want the index %s", tag, st, d, e.srcIndex)
		}
	}
	for _, m := range e.members {
		if st, _ := e.status("GET", "/v2/copied/multi/manifests/"+m); st != 200 {
			t.Errorf("member %s: %d", m, st)
		}
	}
	for _, content := range []string{"layer of amd64", "layer of arm64", "{}"} {
		if st, _ := e.status("HEAD", "/v2/copied/multi/blobs/"+digest([]byte(content))); st != 200 {
			t.Errorf("blob %q: %d", content, st)
		}
	}

	// An existing tag is kept unless the mode is Force.
	if status, out := e.importImage("default", body); status != 409 || !strings.Contains(out, "already exists") {
		t.Errorf("import over existing tags: %d %s, want 409", status, out)
	}
	forced := strings.Replace(body, `"targetTags"`, `"mode":"Force","targetTags"`, 1)
	if status, out := e.importImage("default", forced); status != 200 {
		t.Errorf("forced import: %d %s", status, out)
	}

	// A locked target repository refuses the import, even a forced one.
	if resp := do(t, "PATCH", "http://"+e.addr+"/acr/v1/copied/multi", "application/json", []byte(`{"writeEnabled":false}`)); resp.StatusCode != 200 {
		t.Fatalf("lock copied/multi: %s", resp.Status)
	}
	if status, out := e.importImage("default", forced); status != 409 || !strings.Contains(out, "writeEnabled is false") {
		t.Errorf("import into a locked repository: %d %s, want 409", status, out)
	}

	// By digest, into the source's repository name, with no tag.
	byDigest := fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi@%s"}}`, e.src, e.members[0])
	if status, out := e.importImage("default", byDigest); status != 200 {
		t.Errorf("import by digest: %d %s", status, out)
	}
	if st, _ := e.status("GET", "/v2/multi/manifests/"+e.members[0]); st != 200 {
		t.Errorf("imported by digest: %d", st)
	}
}

// The import service reads a registry whose firewall refuses everyone
// only as a trusted service: when that registry allows trusted services.
func TestImportThroughTheSourceFirewall(t *testing.T) {
	e := newImportEnv(t)
	if st, out := e.call("PATCH", "/api/registries/importsrc", `{"properties":{"networkRuleSet":{"defaultAction":"Deny"}}}`); st != 200 {
		t.Fatalf("deny: %d %s", st, out)
	}
	if st, _, _ := (&netEnv{t: t, addr: e.src}).get(http.DefaultClient, "/v2/"); st != 403 {
		t.Fatalf("the source's firewall lets a client through: %d", st)
	}
	body := func(tag string) string {
		return fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi:v1"},"targetTags":["fw:%s"]}`, e.src, tag)
	}
	if status, out := e.importImage("default", body("allowed")); status != 200 {
		t.Fatalf("import with trusted services allowed: %d %s", status, out)
	}
	if st, _ := e.status("GET", "/v2/fw/manifests/allowed"); st != 200 {
		t.Errorf("fw:allowed after the import: %d", st)
	}

	// S6: no public access at all; the trusted service still passes.
	if st, out := e.call("PATCH", "/api/registries/importsrc", `{"properties":{"publicNetworkAccess":"Disabled"}}`); st != 200 {
		t.Fatalf("disable public access: %d %s", st, out)
	}
	if status, out := e.importImage("default", body("private")); status != 200 {
		t.Fatalf("import from a registry without public access, trusted services allowed: %d %s", status, out)
	}

	if st, out := e.call("PATCH", "/api/registries/importsrc", `{"properties":{"networkRuleBypassOptions":"None"}}`); st != 200 {
		t.Fatalf("disallow trusted services: %d %s", st, out)
	}
	status, out := e.importImage("default", body("refused"))
	if status != 403 || !strings.Contains(out, "is not allowed access") {
		t.Errorf("import with trusted services refused: %d %s, want 403 naming the firewall", status, out)
	}
	if st, _ := e.status("GET", "/v2/fw/manifests/refused"); st != 404 {
		t.Errorf("fw:refused after a refused import: %d, want 404", st)
	}
}

// Bad input is refused with a clear error, and nothing is written.
func TestImportBadInput(t *testing.T) {
	e := newImportEnv(t)
	src := func(image string) string {
		return fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":%q},"targetTags":["bad:v1"]}`, e.src, image)
	}
	for _, c := range []struct {
		registry, body string
		status         int
		says           string
	}{
		{"nosuchregistry", src("multi:v1"), 404, `registry \"nosuchregistry\" not found`},
		{"default", src("multi::v1"), 400, "invalid"},
		{"default", src("Multi:v1"), 400, "invalid repository name"},
		{"default", `{"source":{"registryUri":"","sourceImage":""}}`, 400, "no source image"},
		{"default", src("multi:nosuchtag"), 404, "multi:nosuchtag"},
		{"default", src("nosuchrepo:v1"), 404, "nosuchrepo:v1"},
		{"default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi:v1"},"targetTags":["no-tag"]}`, e.src), 400, "want <repository>:<tag>"},
		{"default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi:v1"},"mode":"Sometimes"}`, e.src), 400, "mode"},
	} {
		status, out := e.importImage(c.registry, c.body)
		if status != c.status || !strings.Contains(out, c.says) {
			t.Errorf("import %s into %s: %d %s, want %d saying %q", c.body, c.registry, status, out, c.status, c.says)
		}
	}
	if st, _ := e.status("GET", "/v2/bad/tags/list"); st != 404 {
		t.Errorf("bad imports wrote the repository bad: %d", st)
	}
}

// The caller needs push rights on the target and, for a source of this
// server, pull rights on the source repository: the trusted service
// reads nothing on its own account.
func TestImportNeedsTheCallersRights(t *testing.T) {
	e := newImportEnv(t)
	if st, out := e.call("PUT", "/api/users/bob", `{"password":"bob-password-1"}`); st != 201 && st != 200 {
		t.Fatalf("create bob: %d %s", st, out)
	}
	assign := func(role, scope string) {
		t.Helper()
		if st, out := e.call("POST", "/api/roleAssignments", fmt.Sprintf(`{"assignee":"bob","role":%q,"scope":%q}`, role, scope)); st != 201 {
			t.Fatalf("assign %s at %s: %d %s", role, scope, st, out)
		}
	}
	bob := &importEnv{t: t, addr: e.addr, tok: userToken(t, e.addr, "bob", "bob-password-1")}
	body := fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"multi:v1"},"targetTags":["bobs/multi:v1"]}`, e.src)

	if status, out := bob.importImage("default", body); status != 403 || !strings.Contains(out, "may not import") {
		t.Errorf("no rights: %d %s, want 403", status, out)
	}
	assign("AcrPush", "/registries/default")
	if status, out := bob.importImage("default", body); status != 403 || !strings.Contains(out, "may not pull multi") {
		t.Errorf("push on the target only: %d %s, want 403 for the source", status, out)
	}
	if st, _ := e.status("GET", "/v2/bobs/multi/manifests/v1"); st != 404 {
		t.Errorf("a refused import wrote bobs/multi:v1: %d", st)
	}
	assign("AcrPull", "/registries/importsrc/repositories/multi")
	if status, out := bob.importImage("default", body); status != 200 {
		t.Errorf("push on the target and pull on the source: %d %s", status, out)
	}
}

func userToken(t *testing.T, addr, user, password string) string {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var id struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&id)
	return id.AccessToken
}
