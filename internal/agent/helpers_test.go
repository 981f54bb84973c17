package agent_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/testserver"
)

// imageFiles returns the regular files of an image, its layers applied in
// order, by path without the leading slash.
func imageFiles(t *testing.T, l *ocilayout.Layout, m oci.Descriptor) map[string]string {
	t.Helper()
	var man struct{ Layers []oci.Descriptor }
	b, err := l.Bytes(m.Digest)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &man)
	files := map[string]string{}
	for _, layer := range man.Layers {
		f, err := l.ReadBlob(layer.Digest)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.Contains(layer.MediaType, "gzip") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if h.Typeflag == tar.TypeReg {
				var buf bytes.Buffer
				io.Copy(&buf, tr)
				files[strings.TrimPrefix(h.Name, "./")] = buf.String()
			}
		}
		f.Close()
	}
	return files
}

// startEngine starts a buildkitd of the engine `make engine` installs,
// stopped when the test ends.
func startEngine(t *testing.T) *buildengine.Daemon {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("BuildKit's runc worker needs Linux and root")
	}
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := buildengine.Start(ctx, buildengine.Options{StateDir: t.TempDir(), BinDir: filepath.Join(root, "bin"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("%v (run `make engine`)", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
