// Package ocilayout reads and writes OCI image layouts on disk
// (oci-layout, index.json, blobs/<alg>/<hex>): the form in which the build
// agent hands base images to BuildKit and gets built images back.
package ocilayout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/berth-project/berth/internal/oci"
)

// RefNameAnnotation names a manifest of index.json, as BuildKit and other
// tools read it.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Layout is an OCI image layout in a directory. It is safe for concurrent
// use by one process.
type Layout struct {
	dir string
	mu  sync.Mutex // guards index.json
}

type index struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType,omitempty"`
	Manifests     []oci.Descriptor `json:"manifests"`
}

// Create makes dir an empty layout, or opens the layout already there.
func Create(dir string) (*Layout, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		return nil, err
	}
	l := &Layout{dir: dir}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); errors.Is(err, os.ErrNotExist) {
		if err := writeFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return nil, err
		}
		if err := l.writeIndex(index{SchemaVersion: 2, MediaType: oci.MediaTypeImageIndex, Manifests: []oci.Descriptor{}}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return l, nil
}

// Open opens an existing layout.
func Open(dir string) (*Layout, error) {
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("ocilayout: %s is not an OCI layout: %w", dir, err)
	}
	return &Layout{dir: dir}, nil
}

// Dir is the layout's directory.
func (l *Layout) Dir() string { return l.dir }

func (l *Layout) blobPath(d oci.Digest) string {
	return filepath.Join(l.dir, "blobs", d.Algorithm(), d.Hex())
}

// Has reports whether the layout holds blob d.
func (l *Layout) Has(d oci.Digest) bool {
	_, err := os.Stat(l.blobPath(d))
	return err == nil
}

// WriteBlob stores r as blob d of the given size, checking both; a blob
// already present is left as it is (r is not read).
func (l *Layout) WriteBlob(d oci.Digest, size int64, r io.Reader) error {
	if _, err := oci.ParseDigest(string(d)); err != nil {
		return err
	}
	if l.Has(d) {
		return nil
	}
	dir := filepath.Join(l.dir, "blobs", d.Algorithm())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := d.NewHash()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	switch {
	case err != nil:
		return err
	case n != size:
		return fmt.Errorf("ocilayout: blob %s: got %d bytes, want %d", d, n, size)
	case oci.FromHash(d.Algorithm(), h) != d:
		return fmt.Errorf("ocilayout: blob %s: content does not match its digest", d)
	}
	return os.Rename(f.Name(), l.blobPath(d))
}

// PutBytes stores b and returns its descriptor.
func (l *Layout) PutBytes(mediaType string, b []byte) (oci.Descriptor, error) {
	d := oci.Descriptor{MediaType: mediaType, Digest: oci.FromBytes(b), Size: int64(len(b))}
	return d, l.WriteBlob(d.Digest, d.Size, bytes.NewReader(b))
}

// ReadBlob opens blob d.
func (l *Layout) ReadBlob(d oci.Digest) (*os.File, error) {
	if _, err := oci.ParseDigest(string(d)); err != nil {
		return nil, err
	}
	return os.Open(l.blobPath(d))
}

// Bytes reads a whole (small) blob, such as a manifest or config.
func (l *Layout) Bytes(d oci.Digest) ([]byte, error) {
	f, err := l.ReadBlob(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, oci.MaxManifestSize+1))
}

// Manifests lists the manifests of index.json.
func (l *Layout) Manifests() ([]oci.Descriptor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ix, err := l.readIndex()
	return ix.Manifests, err
}

// Tag adds desc to index.json under the ref name name (replacing what had
// that name), or without a name when name is "".
func (l *Layout) Tag(desc oci.Descriptor, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ix, err := l.readIndex()
	if err != nil {
		return err
	}
	if name != "" {
		if desc.Annotations == nil {
			desc.Annotations = map[string]string{}
		}
		desc.Annotations[RefNameAnnotation] = name
		ix.Manifests = slices.DeleteFunc(ix.Manifests, func(d oci.Descriptor) bool { return d.Annotations[RefNameAnnotation] == name })
	}
	ix.Manifests = append(ix.Manifests, desc)
	return l.writeIndex(ix)
}

func (l *Layout) readIndex() (index, error) {
	var ix index
	b, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if err != nil {
		return ix, err
	}
	if err := json.Unmarshal(b, &ix); err != nil {
		return ix, fmt.Errorf("ocilayout: index.json: %w", err)
	}
	return ix, nil
}

func (l *Layout) writeIndex(ix index) error {
	b, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(l.dir, "index.json"), b)
}

// writeFile replaces path atomically.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
