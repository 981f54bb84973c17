package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// overlapStore is the filesystem store, slowed down, that fails the test
// when two writes to one upload (or a write and its commit) overlap, which
// the blob.Store contract forbids.
type overlapStore struct {
	blob.Store
	t      *testing.T
	mu     sync.Mutex
	active map[string]int
}

func (s *overlapStore) enter(id string) {
	s.mu.Lock()
	s.active[id]++
	if s.active[id] > 1 {
		s.t.Errorf("two writers on upload %s at once", id)
	}
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // let a racing request catch up
}

func (s *overlapStore) leave(id string) {
	s.mu.Lock()
	s.active[id]--
	s.mu.Unlock()
}

func (s *overlapStore) WriteUpload(ctx context.Context, id string, off int64, r io.Reader) (int64, error) {
	s.enter(id)
	defer s.leave(id)
	return s.Store.WriteUpload(ctx, id, off, r)
}

func (s *overlapStore) CommitUpload(ctx context.Context, id string, size int64, d oci.Digest) error {
	s.enter(id)
	defer s.leave(id)
	return s.Store.CommitUpload(ctx, id, size, d)
}

// TestRacingChunksKeepTheBlobWhole sends chunks of one upload at once, with
// no Content-Range, as a misbehaving client may. Each chunk must land whole
// after the other, so the committed blob is one of the two orders, and the
// store never sees two writers. Before uploads were locked, the chunks
// interleaved in the file under one chunk's hash state, and the commit
// published bytes that did not hash to the blob's digest.
func TestRacingChunksKeepTheBlobWhole(t *testing.T) {
	ctx := t.Context()
	db, err := meta.OpenSQLite(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fs, err := blob.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := New(db, &overlapStore{Store: fs, t: t, active: map[string]int{}}, slog.New(slog.DiscardHandler))
	reg, err := svc.EnsureRegistry(ctx, "default", "", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.StartUpload(ctx, reg.ID, "r", "")
	if err != nil {
		t.Fatal(err)
	}
	a := bytes.Repeat([]byte("a"), 3<<20) // past the pipelined path's chunk
	b := bytes.Repeat([]byte("b"), 1000)
	var wg sync.WaitGroup
	for _, chunk := range [][]byte{a, b} {
		wg.Go(func() {
			if _, err := svc.WriteUpload(ctx, reg.ID, "r", u.ID, -1, -1, bytes.NewReader(chunk)); err != nil {
				t.Errorf("WriteUpload: %v", err)
			}
		})
	}
	wg.Wait()
	// The session's hash state says which order the chunks landed in.
	got, err := svc.Upload(ctx, reg.ID, "r", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	h, err := unmarshalHash(got.Algorithm, got.HashState)
	if err != nil {
		t.Fatal(err)
	}
	d := oci.FromHash(got.Algorithm, h)
	ab, ba := append(append([]byte{}, a...), b...), append(append([]byte{}, b...), a...)
	if d != oci.FromBytesAlg("sha256", ab) && d != oci.FromBytesAlg("sha256", ba) {
		t.Fatalf("upload of %d bytes hashes to %s, neither order of the chunks", got.Size, d)
	}
	if _, err = svc.FinishUpload(ctx, reg.ID, "r", u.ID, d, -1, -1, nil); err != nil {
		t.Fatalf("FinishUpload: %v", err)
	}
	_, r, err := svc.OpenBlob(ctx, reg.ID, "r", d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	content := sha256.New()
	if _, err := io.Copy(content, r); err != nil {
		t.Fatal(err)
	}
	if got := "sha256:" + hex.EncodeToString(content.Sum(nil)); got != string(d) {
		t.Fatalf("blob %s holds content hashing to %s", d, got)
	}
}
