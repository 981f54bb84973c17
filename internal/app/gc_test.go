package app_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/config"
)

// TestServeCollectsGarbage checks that berth serve runs the garbage
// collector with its configured grace period: a blob no manifest names
// goes, the layers of a tagged image stay.
func TestServeCollectsGarbage(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{freePort(t, "127.0.0.1")}
	cfg.Agent.Enabled = false
	// Long enough for pushImage to push its manifest after its layers;
	// with 0 the collector may take them first.
	cfg.GCGracePeriod = 2 * time.Second
	cfg.GCInterval = 20 * time.Millisecond
	startServer(t, cfg)
	addr := cfg.Listen[0]
	pushImage(t, addr, "app", "v1", "a kept layer")
	loose := []byte("a layer no manifest names")
	resp := do(t, "POST", fmt.Sprintf("http://%s/v2/app/blobs/uploads/?digest=%s", addr, digest(loose)), "application/octet-stream", loose)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("blob push: %s", resp.Status)
	}
	file := func(d string) string {
		hex := strings.TrimPrefix(d, "sha256:")
		return filepath.Join(cfg.DataDir, "blobs", "sha256", hex[:2], hex)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(file(digest(loose))); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unreferenced blob was never collected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp := do(t, "HEAD", fmt.Sprintf("http://%s/v2/app/blobs/%s", addr, digest(loose)), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD of the collected blob: %s, want 404", resp.Status)
	}
	for _, b := range []string{"a kept layer", "{}"} {
		if _, err := os.Stat(file(digest([]byte(b)))); err != nil {
			t.Errorf("a blob of a tagged image: %v", err)
		}
	}
	if resp := do(t, "GET", fmt.Sprintf("http://%s/v2/app/manifests/v1", addr), "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the tagged image: %s", resp.Status)
	}
}
