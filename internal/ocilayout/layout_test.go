package ocilayout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	l, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.PutBytes(oci.MediaTypeImageManifest, []byte(`{"schemaVersion":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(d, "base"); err != nil {
		t.Fatal(err)
	}
	d2, _ := l.PutBytes(oci.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"x":1}`))
	if err := l.Tag(d2, "base"); err != nil { // replaces the first
		t.Fatal(err)
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := again.Manifests()
	if err != nil || len(ms) != 1 || ms[0].Digest != d2.Digest || ms[0].Annotations[RefNameAnnotation] != "base" {
		t.Fatalf("manifests %+v, %v", ms, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err != nil || !strings.Contains(string(b), `"imageLayoutVersion":"1.0.0"`) {
		t.Fatalf("oci-layout: %s %v", b, err)
	}
	// A blob that does not match its digest or size is refused and not kept.
	bad := oci.FromBytes([]byte("good"))
	if err := l.WriteBlob(bad, 4, strings.NewReader("evil")); err == nil || l.Has(bad) {
		t.Fatalf("mismatched blob: %v, kept %v", err, l.Has(bad))
	}
	if err := l.WriteBlob(bad, 3, strings.NewReader("good")); err == nil || l.Has(bad) {
		t.Fatalf("wrong size: %v", err)
	}
	if _, err := l.ReadBlob("sha256:../../etc/passwd"); err == nil {
		t.Fatal("a digest with a path was accepted")
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("Open of an empty directory worked")
	}
}
