package buildengine

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
)

// readLayout reads an OCI layout directory the way readOCIArchive reads a tar.
func readLayout(t *testing.T, dir string) ociArchive {
	t.Helper()
	a := ociArchive{blobs: map[oci.Digest][]byte{}}
	var err error
	if a.index, err = os.ReadFile(filepath.Join(dir, "index.json")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err != nil || string(b) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Fatalf("oci-layout: %q, %v", b, err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		a.blobs[oci.Digest("sha256:"+e.Name())] = b
	}
	return a
}

func TestWriteBusyboxImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the base image holds a Linux busybox")
	}
	dir, desc := baseLayout(t)
	layout := readLayout(t, dir)

	var index struct{ Manifests []oci.Descriptor }
	if err := json.Unmarshal(layout.index, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != desc.Digest ||
		index.Manifests[0].Annotations[ocilayout.RefNameAnnotation] != "base" {
		t.Fatalf("index.json lists %+v, want only %s named base", index.Manifests, desc.Digest)
	}
	var m imageManifest
	if err := json.Unmarshal(layout.blob(t, desc), &m); err != nil {
		t.Fatal(err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(layout.blob(t, m.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != runtime.GOARCH || cfg.OS != "linux" || len(m.Layers) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("config %+v with %d layers", cfg, len(m.Layers))
	}
	layer := layout.blob(t, m.Layers[0])
	files := layerFiles(t, m.Layers[0].MediaType, layer)
	busybox, err := os.ReadFile(DebianBusybox)
	if err != nil {
		t.Fatal(err)
	}
	if files["bin/busybox"] != string(busybox) {
		t.Error("bin/busybox is not Debian's /bin/busybox")
	}
	for _, applet := range []string{"bin/sh", "bin/wget", "bin/cat"} {
		if files[applet] != "-> busybox" {
			t.Errorf("%s is %q, want a link to busybox", applet, files[applet])
		}
	}

	// The same busybox gives the same image, and writing it again under the
	// same name replaces the entry rather than adding one.
	again, err := WriteBusyboxImage(dir, "", "base")
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != desc.Digest {
		t.Errorf("second write gave %s, first %s: the image is not reproducible", again.Digest, desc.Digest)
	}
	if _, err := WriteBusyboxImage(dir, "", "other"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readLayout(t, dir).index, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 2 {
		t.Errorf("index.json lists %d images after writing base twice and other once, want 2", len(index.Manifests))
	}
}

func TestWriteBusyboxImageRefusesMissingOrDynamicBusybox(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the base image holds a Linux busybox")
	}
	for name, path := range map[string]string{
		"missing": filepath.Join(t.TempDir(), "busybox"),
		"dynamic": "/bin/ls", // Debian's coreutils is dynamically linked
	} {
		t.Run(name, func(t *testing.T) {
			_, err := WriteBusyboxImage(t.TempDir(), path, "base")
			if !errors.Is(err, ErrNotInstalled) {
				t.Fatalf("err = %v, want one wrapping ErrNotInstalled", err)
			}
		})
	}
}
