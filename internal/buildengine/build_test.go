package buildengine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

// buildArgs are the buildctl build arguments of a Dockerfile build in dir
// whose FROM base is the image desc in the OCI layout baseDir: the way the
// agent hands BuildKit its pulled images, with no registry in reach.
func buildArgs(dir, baseDir string, desc oci.Descriptor, output string) []string {
	return []string{
		"build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + dir,
		"--local", "dockerfile=" + dir,
		"--oci-layout", "basestore=" + baseDir,
		"--opt", "context:base=oci-layout://basestore@" + desc.Digest.String(),
		"--output", output,
	}
}

// TestBuildDockerfileFromLocalBase builds FROM the busybox base image with a
// RUN and a COPY step and finds both results in the exported image.
func TestBuildDockerfileFromLocalBase(t *testing.T) {
	d := startDaemon(t)
	baseDir, base := baseLayout(t)
	dir := t.TempDir()
	copied := fmt.Sprintf("copied by %s\n", t.Name())
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM base\nRUN echo hi > /hi\nCOPY file /file\n",
		"file":       copied,
	})
	out := filepath.Join(t.TempDir(), "out.tar")
	log := buildctl(t, d, buildArgs(dir, baseDir, base, "type=oci,dest="+out)...)
	t.Logf("buildctl build:\n%s", log)

	image := readOCIArchive(t, out)
	var index struct{ Manifests []oci.Descriptor }
	if err := json.Unmarshal(image.index, &index); err != nil || len(index.Manifests) == 0 {
		t.Fatalf("index.json %s: %v", image.index, err)
	}
	desc := index.Manifests[0]
	if oci.IsIndex(desc.MediaType) {
		var inner struct{ Manifests []oci.Descriptor }
		if err := json.Unmarshal(image.blob(t, desc), &inner); err != nil {
			t.Fatal(err)
		}
		desc = platformManifest(t, inner.Manifests)
	}
	var m imageManifest
	if err := json.Unmarshal(image.blob(t, desc), &m); err != nil {
		t.Fatal(err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(image.blob(t, m.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != runtime.GOARCH || cfg.OS != "linux" || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		t.Fatalf("config says %s/%s with %d diff_ids for %d layers", cfg.OS, cfg.Architecture, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	files := map[string]string{}
	for _, l := range m.Layers {
		for name, body := range layerFiles(t, l.MediaType, image.blob(t, l)) {
			files[name] = body
		}
	}
	for name, want := range map[string]string{"hi": "hi\n", "file": copied, "bin/sh": "-> busybox"} {
		if files[name] != want {
			t.Errorf("image has %s = %q, want %q", name, files[name], want)
		}
	}
	if _, ok := files["bin/busybox"]; !ok {
		t.Error("image lacks the base layer's bin/busybox")
	}
}

func platformManifest(t *testing.T, list []oci.Descriptor) oci.Descriptor {
	t.Helper()
	for _, m := range list {
		if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
			return m
		}
	}
	t.Fatalf("no linux/%s manifest in %+v", runtime.GOARCH, list)
	return oci.Descriptor{}
}

// TestRunHasLoopbackOnly checks that a RUN step cannot reach a server on the
// host's loopback (the step's 127.0.0.1 is its own) and sees no interface
// but lo.
func TestRunHasLoopbackOnly(t *testing.T) {
	d := startDaemon(t)
	baseDir, base := baseLayout(t)

	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintln(w, "reached the host")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// The server answers the host: the step failing to reach it is the
	// namespace's doing, not a dead server.
	if resp, err := http.Get(srv.URL); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	// The step records how wget ended rather than asserting it with `!`,
	// so a wget that crashes cannot pass for one that was refused.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM base\n" +
		"RUN (timeout 10 wget -q -O- http://127.0.0.1:" + port + "/ 2>&1; echo \"exit $?\") > /wget; " +
		"cat /proc/net/dev > /netdev\n"})
	out := t.TempDir()
	log := buildctl(t, d, buildArgs(dir, baseDir, base, "type=local,dest="+out)...)
	t.Logf("buildctl build:\n%s", log)

	if n := hits.Load(); n != 1 {
		t.Errorf("the host's server got %d requests, want only the test's own", n)
	}
	wget, err := os.ReadFile(filepath.Join(out, "wget"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(wget), "Connection refused") || !strings.HasSuffix(string(wget), "exit 1\n") {
		t.Errorf("wget in the RUN step said %q, want a refused connection and exit 1", wget)
	}
	netdev, err := os.ReadFile(filepath.Join(out, "netdev"))
	if err != nil {
		t.Fatal(err)
	}
	if ifaces := interfaces(string(netdev)); len(ifaces) != 1 || ifaces[0] != "lo" {
		t.Errorf("the RUN step saw interfaces %v, want only lo:\n%s", ifaces, netdev)
	}
}

// interfaces lists the interface names of a /proc/net/dev.
func interfaces(netdev string) []string {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(netdev))
	for sc.Scan() {
		if name, _, ok := strings.Cut(sc.Text(), ":"); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	return names
}
