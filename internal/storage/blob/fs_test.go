package blob_test

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/blob/blobtest"
)

func TestFSConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newFS(t, t.TempDir()) })
}

func newFS(tb testing.TB, root string) *blob.FS {
	tb.Helper()
	s, err := blob.NewFS(root)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// push uploads p under id and commits it.
func push(t *testing.T, s *blob.FS, id string, p []byte) oci.Digest {
	t.Helper()
	ctx := t.Context()
	d := oci.FromBytes(p)
	if err := s.CreateUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, id, 0, bytes.NewReader(p)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitUpload(ctx, id, int64(len(p)), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFSOpenIsFile(t *testing.T) {
	s := newFS(t, t.TempDir())
	d := push(t, s, "u", []byte("sendfile me"))
	r, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(*os.File); !ok {
		t.Errorf("Open returned %T, want *os.File", r)
	}
}

// TestFSLayout checks the on-disk tree after commits, a duplicate commit, a
// refused commit and a deleted upload: uploads/ is empty and blobs/ holds
// exactly one file per blob at <alg>/<xx>/<hex>, no temporary files.
func TestFSLayout(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newFS(t, root)

	want := map[string]bool{}
	for i, p := range []string{"one", "two", "one", "three"} {
		d := push(t, s, "u"+string(rune('a'+i)), []byte(p))
		want[filepath.Join(d.Algorithm(), d.Hex()[:2], d.Hex())] = true
	}
	d512 := oci.FromBytesAlg("sha512", []byte("long"))
	if err := s.CreateUpload(ctx, "u512"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, "u512", 0, strings.NewReader("long")); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitUpload(ctx, "u512", 4, d512); err != nil {
		t.Fatal(err)
	}
	want[filepath.Join("sha512", d512.Hex()[:2], d512.Hex())] = true

	if err := s.CreateUpload(ctx, "refused"); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitUpload(ctx, "refused", 1, oci.FromBytes([]byte("x"))); !errors.Is(err, blob.ErrOffset) {
		t.Fatalf("commit beyond data: %v, want ErrOffset", err)
	}
	if err := s.DeleteUpload(ctx, "refused"); err != nil {
		t.Fatal(err)
	}

	uploads, err := os.ReadDir(filepath.Join(root, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range uploads {
		t.Errorf("left in uploads/: %s", e.Name())
	}

	got := map[string]bool{}
	blobs := filepath.Join(root, "blobs")
	err = filepath.WalkDir(blobs, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(blobs, p)
		got[rel] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range got {
		if !want[p] {
			t.Errorf("unexpected file in blobs/: %s", p)
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("missing blob file: %s", p)
		}
	}
}

// TestFSCrashTail simulates bytes that reached the upload file after the
// offset the caller last recorded.
func TestFSCrashTail(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newFS(t, root)
	if err := s.CreateUpload(ctx, "crash"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, "crash", 0, strings.NewReader("recorded")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(root, "uploads", "crash"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("-garbage-from-before-the-crash"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if _, err := s.WriteUpload(ctx, "crash", 8, strings.NewReader("+more")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "uploads", "crash"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "recorded+more" {
		t.Errorf("upload file = %q, want %q", b, "recorded+more")
	}
}

// TestFSReopen checks that blobs outlive the FS value and that a second FS
// on the same root sees them.
func TestFSReopen(t *testing.T) {
	root := t.TempDir()
	d := push(t, newFS(t, root), "u", []byte("persistent"))
	if size, err := newFS(t, root).Stat(t.Context(), d); err != nil || size != 10 {
		t.Errorf("Stat after reopen = %d, %v; want 10, nil", size, err)
	}
}

// TestFSNoEscape checks that a refused upload id creates nothing on disk.
func TestFSNoEscape(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	s := newFS(t, root)
	if err := s.CreateUpload(t.Context(), "../../escaped"); !errors.Is(err, blob.ErrUploadID) {
		t.Fatalf("CreateUpload(../../escaped) = %v, want ErrUploadID", err)
	}
	for _, p := range []string{filepath.Join(parent, "escaped"), filepath.Join(root, "escaped")} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists (stat error %v)", p, err)
		}
	}
}

func TestNewFSEmptyRoot(t *testing.T) {
	if _, err := blob.NewFS(""); err == nil {
		t.Error("NewFS(\"\") succeeded, want an error")
	}
}

func BenchmarkFSWriteCommit(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{}).Read(data)
	d := oci.FromBytes(data)
	s := newFS(b, b.TempDir())
	ctx := b.Context()
	b.SetBytes(size)
	for b.Loop() {
		if err := s.CreateUpload(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		if _, err := s.WriteUpload(ctx, "bench", 0, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := s.CommitUpload(ctx, "bench", size, d); err != nil {
			b.Fatal(err)
		}
		// Deleted outside the timing so that every commit does the full
		// fsync and rename rather than finding the blob already there.
		b.StopTimer()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
