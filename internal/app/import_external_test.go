package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
)

// startDistribution runs Debian's docker-registry (CNCF Distribution) on
// a loopback port until the test ends, and returns its address. With a
// user and password it asks for them (htpasswd, Basic authentication).
func startDistribution(t *testing.T, user, password string) string {
	bin := testserver.Tool(t, "docker-registry")
	addr := freePort(t, "127.0.0.1")
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	yml := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(users, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		yml += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", users)
	}
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v", addr, err)
		}
	}
}

// pushIndex pushes, with regclient, an index of two single-layer images
// (linux/amd64 and linux/arm64) to ref, and returns its digest with the
// digests of its blobs.
func pushIndex(t *testing.T, ref regclient.Reference, user, password string) (oci.Digest, []oci.Digest) {
	l, err := ocilayout.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(mt string, b []byte) oci.Descriptor {
		d, err := l.PutBytes(mt, b)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var members string
	var blobs []oci.Digest
	for i, arch := range []string{"amd64", "arm64"} {
		cfg := put("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"`+arch+`","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
		layer := put("application/vnd.oci.image.layer.v1.tar", []byte("a layer for "+arch))
		m := put("application/vnd.oci.image.manifest.v1+json", []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
			`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},`+
			`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`, cfg.Digest, cfg.Size, layer.Digest, layer.Size)))
		if i > 0 {
			members += ","
		}
		members += fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"%s"}}`, m.Digest, m.Size, arch)
		blobs = append(blobs, cfg.Digest, layer.Digest)
	}
	index := put("application/vnd.oci.image.index.v1+json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+members+`]}`))
	d, err := regclient.New(regclient.Options{PlainHTTP: true, Username: user, Password: password}).Push(context.Background(), l, index, ref)
	if err != nil {
		t.Fatalf("push to %s: %v", ref, err)
	}
	return d, blobs
}

func TestImportFromDistribution(t *testing.T) {
	ext := startDistribution(t, "", "")
	ref, _ := regclient.ParseReference(ext + "/library/multi:v1")
	index, blobs := pushIndex(t, ref, "", "")

	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	startServer(t, cfg)
	e := &importEnv{t: t, addr: addr, tok: adminToken(t, addr)}

	status, out := e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"library/multi:v1"},"targetTags":["ext/multi:v1"]}`, ext))
	if status != 200 {
		t.Fatalf("import from Distribution: %d %s", status, out)
	}
	if st, d := e.status("GET", "/v2/ext/multi/manifests/v1"); st != 200 || d != string(index) {
		t.Errorf("ext/multi:v1: %d %s, want the index %s", st, d, index)
	}
	for _, b := range blobs {
		if st, _ := e.status("HEAD", "/v2/ext/multi/blobs/"+string(b)); st != 200 {
			t.Errorf("blob %s: %d", b, st)
		}
	}
	// Without a target tag, the image keeps its repository and tag.
	if status, out := e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"library/multi:v1"}}`, ext)); status != 200 {
		t.Fatalf("import without a target tag: %d %s", status, out)
	}
	if st, d := e.status("GET", "/v2/library/multi/manifests/v1"); st != 200 || d != string(index) {
		t.Errorf("library/multi:v1: %d %s", st, d)
	}
	// A tag Distribution does not have is the source's 404.
	status, out = e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"library/multi:nope"},"targetTags":["ext/multi:nope"]}`, ext))
	if status != 404 {
		t.Errorf("import of a missing tag: %d %s, want 404", status, out)
	}
}

// A registry with Basic authentication is read with the credentials the
// import gives, and refuses an import without them.
func TestImportFromDistributionWithCredentials(t *testing.T) {
	ext := startDistribution(t, "puller", "s3cret-pw")
	ref, _ := regclient.ParseReference(ext + "/private/app:v1")
	index, _ := pushIndex(t, ref, "puller", "s3cret-pw")

	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	startServer(t, cfg)
	e := &importEnv{t: t, addr: addr, tok: adminToken(t, addr)}

	status, out := e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"private/app:v1"}}`, ext))
	if status != 403 {
		t.Errorf("import without credentials: %d %s, want 403", status, out)
	}
	status, out = e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"private/app:v1","credentials":{"username":"puller","password":"wrong"}}}`, ext))
	if status != 403 {
		t.Errorf("import with a wrong password: %d %s, want 403", status, out)
	}
	status, out = e.importImage("default", fmt.Sprintf(`{"source":{"registryUri":%q,"sourceImage":"private/app:v1","credentials":{"username":"puller","password":"s3cret-pw"}}}`, ext))
	if status != 200 {
		t.Fatalf("import with credentials: %d %s", status, out)
	}
	if st, d := e.status("GET", "/v2/private/app/manifests/v1"); st != 200 || d != string(index) {
		t.Errorf("private/app:v1: %d %s, want %s", st, d, index)
	}
}
