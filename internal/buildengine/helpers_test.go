package buildengine

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/testserver"
)

// needEngine skips a test only where BuildKit cannot run at all (not Linux,
// not root). Anywhere else a missing engine fails the test: a skipped build
// test proves nothing.
func needEngine(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("BuildKit's runc worker needs Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("BuildKit's runc worker needs root here (rootless mode is not set up)")
	}
}

// binDir is the repository's bin/, where `make engine` links buildkitd and
// buildctl.
func binDir(t *testing.T) string {
	t.Helper()
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "bin")
}

// startDaemon starts a buildkitd for one test and stops it when the test ends.
func startDaemon(t *testing.T) *Daemon {
	t.Helper()
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := Start(ctx, Options{
		StateDir: t.TempDir(),
		BinDir:   binDir(t),
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		if errors.Is(err, ErrNotInstalled) {
			t.Fatalf("%v\n(run `make engine` first)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// baseLayout writes the busybox base image into a fresh layout as "base".
func baseLayout(t *testing.T) (string, oci.Descriptor) {
	t.Helper()
	dir := t.TempDir()
	desc, err := WriteBusyboxImage(dir, "", "base")
	if err != nil {
		t.Fatal(err)
	}
	return dir, desc
}

// buildctl runs buildctl against d and fails the test, with its output,
// unless it succeeds.
func buildctl(t *testing.T, d *Daemon, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := d.Buildctl(ctx, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("buildctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ociArchive is an OCI layout read from a tar file (BuildKit's type=oci
// output), its blobs by digest.
type ociArchive struct {
	index json.RawMessage
	blobs map[oci.Digest][]byte
}

func readOCIArchive(t *testing.T, path string) ociArchive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := ociArchive{blobs: map[oci.Digest][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "index.json" {
			a.index = body
		}
		if dir, hex := filepath.Split(h.Name); dir == "blobs/sha256/" {
			a.blobs[oci.Digest("sha256:"+hex)] = body
		}
	}
	if a.index == nil {
		t.Fatalf("%s holds no index.json", path)
	}
	return a
}

func (a ociArchive) blob(t *testing.T, d oci.Descriptor) []byte {
	t.Helper()
	b, ok := a.blobs[d.Digest]
	if !ok {
		t.Fatalf("blob %s is missing", d.Digest)
	}
	if got := oci.FromBytes(b); got != d.Digest || int64(len(b)) != d.Size {
		t.Fatalf("blob %s: digest %s, size %d, want size %d", d.Digest, got, len(b), d.Size)
	}
	return b
}

// layerFiles returns the regular files and symlink targets of a layer.
func layerFiles(t *testing.T, mediaType string, blob []byte) map[string]string {
	t.Helper()
	var r io.Reader = bytes.NewReader(blob)
	if mediaType == mediaTypeLayerGzip || mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	files := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = string(b)
		case tar.TypeSymlink:
			files[h.Name] = "-> " + h.Linkname
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
