package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
)

func freePort(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs app.Server on real listeners until the test ends.
func startServer(t *testing.T, cfg config.Config) *app.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := app.New(ctx, cfg, log, "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for _, a := range cfg.Listen {
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, err := http.Get("http://" + a + "/healthz")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never came up: %v", a, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return srv
}

func do(t *testing.T, method, url, contentType string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(app.AdminUser, "pw")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushImage pushes a one-layer artifact and returns its manifest digest.
func pushImage(t *testing.T, addr, repo, tag, content string) string {
	t.Helper()
	layer, config := []byte(content), []byte("{}")
	for _, b := range [][]byte{layer, config} {
		resp := do(t, "POST", fmt.Sprintf("http://%s/v2/%s/blobs/uploads/?digest=%s", addr, repo, digest(b)), "application/octet-stream", b)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("blob push to %s: %s", addr, resp.Status)
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
		digest(config), digest(layer), len(layer))
	resp := do(t, "PUT", fmt.Sprintf("http://%s/v2/%s/manifests/%s", addr, repo, tag), "application/vnd.oci.image.manifest.v1+json", []byte(m))
	if resp.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("manifest push to %s: %s %s", addr, resp.Status, body)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

func catalog(t *testing.T, addr string) []string {
	t.Helper()
	resp := do(t, "GET", "http://"+addr+"/v2/_catalog", "", nil)
	var c struct{ Repositories []string }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c.Repositories
}

// Two registries on two loopback addresses of one server hold separate
// content: each request is routed by the Host it was sent to.
func TestTwoRegistriesOnTwoAddresses(t *testing.T) {
	a, b := freePort(t, "127.0.0.1"), freePort(t, "127.0.3.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{a, b}
	cfg.Registries = []config.Registry{{Name: "blogbuildtest", LoginServer: b}}
	startServer(t, cfg)

	da := pushImage(t, a, "team/app", "v1", "in the default registry")
	db := pushImage(t, b, "other/app", "v1", "in blogbuildtest")
	if da == db {
		t.Fatal("different content got the same digest")
	}
	if got := catalog(t, a); strings.Join(got, ",") != "team/app" {
		t.Errorf("catalog of default = %v, want [team/app]", got)
	}
	if got := catalog(t, b); strings.Join(got, ",") != "other/app" {
		t.Errorf("catalog of blogbuildtest = %v, want [other/app]", got)
	}
	if r := do(t, "GET", "http://"+b+"/v2/team/app/manifests/v1", "", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("default's manifest through blogbuildtest: %s, want 404", r.Status)
	}
	if r := do(t, "GET", "http://"+a+"/v2/other/app/manifests/"+db, "", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("blogbuildtest's manifest through default: %s, want 404", r.Status)
	}
	if r := do(t, "GET", "http://"+b+"/v2/other/app/manifests/v1", "", nil); r.StatusCode != http.StatusOK || r.Header.Get("Docker-Content-Digest") != db {
		t.Errorf("blogbuildtest's own manifest: %s %s", r.Status, r.Header.Get("Docker-Content-Digest"))
	}
	// A blob pushed only to the default registry cannot be mounted into the other.
	layer := digest([]byte("in the default registry"))
	r := do(t, "POST", fmt.Sprintf("http://%s/v2/x/y/blobs/uploads/?mount=%s&from=team/app", b, layer), "", nil)
	if r.StatusCode != http.StatusAccepted {
		t.Errorf("cross-registry mount: %s, want 202 (a fresh upload, not a mount)", r.Status)
	}
}

func TestServeRefusesPlainHTTPOffLoopback(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{"0.0.0.0:0"}
	_, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("err = %v, want a refusal that names --insecure", err)
	}
}

func TestAdminPasswordPrintedOnceWhenGenerated(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	srv, err := app.New(context.Background(), cfg, log, "", &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"admin" with password `) {
		t.Fatalf("first start printed %q, want the generated password", out.String())
	}
	srv.Close()
	// A second start on the same data keeps the password and prints nothing.
	out.Reset()
	srv, err = app.New(context.Background(), cfg, log, "", &out)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if out.Len() != 0 {
		t.Fatalf("second start printed %q, want nothing", out.String())
	}
}
