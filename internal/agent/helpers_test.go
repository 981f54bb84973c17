package agent_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
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
