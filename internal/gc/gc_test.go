package gc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/gc"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// env is a registry service over real SQLite and filesystem stores.
type env struct {
	root  string
	db    *meta.DB
	blobs *blob.FS
	svc   *registry.Service
	reg   int64
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root := filepath.Join(dir, "blobs")
	fsStore, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	svc := registry.New(db, fsStore, slog.New(slog.DiscardHandler))
	r, err := svc.EnsureRegistry(t.Context(), "r", "r.example", "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{root: root, db: db, blobs: fsStore, svc: svc, reg: r.ID}
}

func (e *env) collector(grace time.Duration) *gc.Collector {
	return &gc.Collector{DB: e.db, Blobs: e.blobs, Grace: grace, Interval: time.Hour, Log: slog.New(slog.DiscardHandler)}
}

// storeBytes is the size of every committed blob file.
func (e *env) storeBytes(t *testing.T) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(e.root, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pushBlob uploads content as a blob of repo.
func (e *env) pushBlob(ctx context.Context, repo string, content []byte) (oci.Digest, error) {
	d := oci.FromBytes(content)
	u, err := e.svc.StartUpload(ctx, e.reg, repo, "")
	if err != nil {
		return d, err
	}
	_, err = e.svc.FinishUpload(ctx, e.reg, repo, u.ID, d, 0, int64(len(content)), bytes.NewReader(content))
	return d, err
}

// image is a manifest pushed under a tag, with its config and layers.
type image struct {
	repo, tag string
	digest    oci.Digest
	blobs     map[oci.Digest]int64
}

// pushImage pushes config and layers, then a manifest naming them, tagged.
func (e *env) pushImage(ctx context.Context, repo, tag string, config []byte, layers ...[]byte) (image, error) {
	img := image{repo: repo, tag: tag, blobs: map[oci.Digest]int64{}}
	desc := func(mt string, c []byte) (string, error) {
		d, err := e.pushBlob(ctx, repo, c)
		img.blobs[d] = int64(len(c))
		return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mt, d, len(c)), err
	}
	cfg, err := desc("application/vnd.oci.image.config.v1+json", config)
	if err != nil {
		return img, err
	}
	var ls []string
	for _, l := range layers {
		s, err := desc("application/vnd.oci.image.layer.v1.tar+gzip", l)
		if err != nil {
			return img, err
		}
		ls = append(ls, s)
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[`, oci.MediaTypeImageManifest, cfg)
	for i, s := range ls {
		if i > 0 {
			body += ","
		}
		body += s
	}
	body += "]}"
	res, err := e.svc.PutManifest(ctx, e.reg, repo, registry.Reference{Tag: tag}, oci.MediaTypeImageManifest, []byte(body))
	img.digest = res.Digest
	return img, err
}

// check fails the test unless img's tag resolves to its manifest and
// every blob it names is in the blob store, whole, and readable.
func (e *env) check(t *testing.T, img image) {
	t.Helper()
	m, err := e.svc.GetManifest(t.Context(), e.reg, img.repo, registry.Reference{Tag: img.tag})
	if err != nil {
		t.Errorf("%s:%s does not resolve: %v", img.repo, img.tag, err)
		return
	}
	if m.Digest != img.digest {
		t.Errorf("%s:%s = %s, want %s", img.repo, img.tag, m.Digest, img.digest)
	}
	for d, size := range img.blobs {
		if n, err := e.blobs.Stat(t.Context(), d); err != nil || n != size {
			t.Errorf("%s:%s: blob %s in the store: size %d, %v; want %d", img.repo, img.tag, d, n, err, size)
		}
		_, r, err := e.svc.OpenBlob(t.Context(), e.reg, img.repo, d)
		if err != nil {
			t.Errorf("%s:%s: blob %s: %v", img.repo, img.tag, d, err)
			continue
		}
		r.Close()
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestStorageReclaimed deletes a repository and checks that one pass with
// no grace period frees exactly the bytes only it used.
func TestStorageReclaimed(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	shared := random(3000)
	a, err := e.pushImage(ctx, "a", "v1", random(100), shared, random(5000))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.pushImage(ctx, "b", "v1", random(200), shared, random(7000))
	if err != nil {
		t.Fatal(err)
	}
	// Pushed but not yet named by a manifest: kept within the grace period.
	loose, err := e.pushBlob(ctx, "b", random(900))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.collector(time.Hour).Collect(ctx); err != nil || st.Blobs != 0 {
		t.Fatalf("Collect with nothing to reclaim = %+v, %v", st, err)
	}
	before := e.storeBytes(t)

	if _, err := e.svc.DeleteRepository(ctx, e.reg, "a"); err != nil {
		t.Fatal(err)
	}
	if st, err := e.collector(time.Hour).Collect(ctx); err != nil || st.Blobs != 0 {
		t.Fatalf("Collect within the grace period = %+v, %v", st, err)
	}
	var exclusive int64
	for d, size := range a.blobs {
		if _, ok := b.blobs[d]; !ok {
			exclusive += size
		}
	}
	st, err := e.collector(0).Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != exclusive+900 || st.Blobs != 3 {
		t.Errorf("Collect = %+v, want 3 blobs, %d bytes", st, exclusive+900)
	}
	if got := before - e.storeBytes(t); got != exclusive+900 {
		t.Errorf("the blob store shrank by %d bytes, want %d (a's exclusive content and the loose blob)", got, exclusive+900)
	}
	if _, err := e.blobs.Stat(ctx, loose); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the loose blob past its grace period: %v, want it gone", err)
	}
	e.check(t, b)

	// Deleting the registry reclaims the rest.
	if err := e.svc.DeleteRegistry(ctx, e.reg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.collector(0).Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.storeBytes(t); n != 0 {
		t.Errorf("after deleting the registry the blob store holds %d bytes, want 0", n)
	}
}

// TestPushWaitsForDeletion checks that content claimed by a collector, and
// pushed again before the collector deleted its file, is not lost.
func TestPushWaitsForDeletion(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	content := random(1234)
	d, err := e.pushBlob(ctx, "a", content)
	if err != nil {
		t.Fatal(err)
	}
	// A collector claims the blob and stops before deleting its file.
	err = e.db.Update(ctx, func(tx *meta.Tx) error {
		got, err := tx.ClaimGarbageBlobs(ctx, time.Now().Add(time.Second), 0)
		if err == nil && len(got) != 1 {
			err = fmt.Errorf("claimed %d blobs, want 1", len(got))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pushed := make(chan error, 1)
	go func() { _, err := e.pushBlob(ctx, "a", content); pushed <- err }()
	select {
	case err := <-pushed:
		t.Fatalf("the push finished while the blob was being deleted: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The collector goes on: deletes the file, clears the mark.
	if err := e.blobs.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Update(ctx, func(tx *meta.Tx) error { return tx.BlobsDeleted(ctx, []oci.Digest{d}) }); err != nil {
		t.Fatal(err)
	}
	if err := <-pushed; err != nil {
		t.Fatalf("push after the deletion: %v", err)
	}
	_, r, err := e.svc.OpenBlob(ctx, e.reg, "a", d)
	if err != nil {
		t.Fatalf("the pushed blob: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, content) {
		t.Errorf("the pushed blob holds %d bytes, want its content", len(got))
	}
}
