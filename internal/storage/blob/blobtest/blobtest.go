// Package blobtest is the conformance suite every blob.Store backend must
// pass. It owns the observable contract of the interface; it knows nothing of
// how a backend lays out its data.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
)

// Run runs the suite. newStore returns a fresh, empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"Unknown", testUnknown},
		{"RoundTrip", testRoundTrip},
		{"ChunkedWrites", testChunkedWrites},
		{"RewriteTruncatesTail", testRewriteTruncatesTail},
		{"OffsetBeyondEnd", testOffsetBeyondEnd},
		{"UnknownUpload", testUnknownUpload},
		{"CommitBeyondData", testCommitBeyondData},
		{"CommitExisting", testCommitExisting},
		{"DeleteBlob", testDeleteBlob},
		{"DeleteUpload", testDeleteUpload},
		{"Seek", testSeek},
		{"ConcurrentCommits", testConcurrentCommits},
		{"BigBlob", testBigBlob},
		{"InvalidUploadID", testInvalidUploadID},
		{"InvalidDigest", testInvalidDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// push uploads p as one upload named id and commits it under its sha256.
func push(t *testing.T, s blob.Store, id string, p []byte) oci.Digest {
	t.Helper()
	ctx := t.Context()
	d := oci.FromBytes(p)
	if err := s.CreateUpload(ctx, id); err != nil {
		t.Fatalf("CreateUpload(%q): %v", id, err)
	}
	write(t, s, id, 0, p)
	if err := s.CommitUpload(ctx, id, int64(len(p)), d); err != nil {
		t.Fatalf("CommitUpload(%q): %v", id, err)
	}
	return d
}

// write appends p at offset and checks that all of it was taken.
func write(t *testing.T, s blob.Store, id string, offset int64, p []byte) {
	t.Helper()
	n, err := s.WriteUpload(t.Context(), id, offset, bytes.NewReader(p))
	if err != nil {
		t.Fatalf("WriteUpload(%q, %d): %v", id, offset, err)
	}
	if n != int64(len(p)) {
		t.Fatalf("WriteUpload(%q, %d) appended %d bytes, want %d", id, offset, n, len(p))
	}
}

// wantBlob checks that blob d has exactly the bytes want, through Stat and Open.
func wantBlob(t *testing.T, s blob.Store, d oci.Digest, want []byte) {
	t.Helper()
	size, err := s.Stat(t.Context(), d)
	if err != nil {
		t.Fatalf("Stat(%s): %v", d, err)
	}
	if size != int64(len(want)) {
		t.Errorf("Stat(%s) = %d, want %d", d, size, len(want))
	}
	r, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %s: %v", d, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("blob %s = %q, want %q", d, trim(got), trim(want))
	}
}

func wantNotFound(t *testing.T, s blob.Store, d oci.Digest) {
	t.Helper()
	if _, err := s.Stat(t.Context(), d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%s) error = %v, want ErrNotFound", d, err)
	}
	r, err := s.Open(t.Context(), d)
	if err == nil {
		r.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open(%s) error = %v, want ErrNotFound", d, err)
	}
}

func trim(p []byte) string {
	if len(p) > 64 {
		return string(p[:64]) + "…"
	}
	return string(p)
}

func testUnknown(t *testing.T, s blob.Store) {
	for _, d := range []oci.Digest{
		oci.FromBytes([]byte("never stored")),
		oci.FromBytesAlg("sha512", []byte("never stored")),
	} {
		wantNotFound(t, s, d)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	tests := []struct {
		name string
		alg  string
		data []byte
	}{
		{"empty", "sha256", nil},
		{"small", "sha256", []byte("hello, berth")},
		{"sha512", "sha512", []byte("hello, berth, in sha512")},
		{"binary", "sha256", []byte{0, 1, 2, 0xff, 0xfe, '\n', 0}},
		{"over one copy buffer", "sha256", bytes.Repeat([]byte("0123456789abcdef"), 1<<16+3)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			id := fmt.Sprintf("rt-%d", i)
			d := oci.FromBytesAlg(tt.alg, tt.data)
			if err := s.CreateUpload(ctx, id); err != nil {
				t.Fatal(err)
			}
			write(t, s, id, 0, tt.data)
			if err := s.CommitUpload(ctx, id, int64(len(tt.data)), d); err != nil {
				t.Fatal(err)
			}
			wantBlob(t, s, d, tt.data)
			if _, err := s.WriteUpload(ctx, id, 0, strings.NewReader("x")); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("WriteUpload after commit error = %v, want ErrNotFound (upload removed)", err)
			}
		})
	}
}

func testChunkedWrites(t *testing.T, s blob.Store) {
	ctx := t.Context()
	chunks := []string{"first ", "", "second ", "third, a little longer ", "x"}
	if err := s.CreateUpload(ctx, "chunked"); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, c := range chunks {
		write(t, s, "chunked", int64(len(all)), []byte(c))
		all = append(all, c...)
	}
	d := oci.FromBytes(all)
	if err := s.CommitUpload(ctx, "chunked", int64(len(all)), d); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, d, all)
}

// testRewriteTruncatesTail is crash recovery: the caller recorded offset 4,
// but 6 more bytes reached the upload before the crash. Writing at 4 again
// must drop them.
func testRewriteTruncatesTail(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if err := s.CreateUpload(ctx, "rewrite"); err != nil {
		t.Fatal(err)
	}
	write(t, s, "rewrite", 0, []byte("abcdefghij"))
	write(t, s, "rewrite", 4, []byte("xyz"))
	// The upload now ends at 7; a write at 8 would leave a hole.
	if _, err := s.WriteUpload(ctx, "rewrite", 8, strings.NewReader("!")); !errors.Is(err, blob.ErrOffset) {
		t.Fatalf("WriteUpload at 8 after cut to 7: error = %v, want ErrOffset", err)
	}
	write(t, s, "rewrite", 7, []byte("!"))
	want := []byte("abcdxyz!")
	d := oci.FromBytes(want)
	if err := s.CommitUpload(ctx, "rewrite", 10, d); !errors.Is(err, blob.ErrOffset) {
		t.Fatalf("CommitUpload of 10 bytes after cut to 8: error = %v, want ErrOffset", err)
	}
	if err := s.CommitUpload(ctx, "rewrite", int64(len(want)), d); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, d, want)
}

func testOffsetBeyondEnd(t *testing.T, s blob.Store) {
	ctx := t.Context()
	tests := []struct {
		name    string
		written string
		offset  int64
	}{
		{"empty upload", "", 1},
		{"one past end", "abc", 4},
		{"far past end", "abc", 1 << 40},
		{"negative", "abc", -1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("off-%d", i)
			if err := s.CreateUpload(ctx, id); err != nil {
				t.Fatal(err)
			}
			write(t, s, id, 0, []byte(tt.written))
			n, err := s.WriteUpload(ctx, id, tt.offset, strings.NewReader("tail"))
			if !errors.Is(err, blob.ErrOffset) {
				t.Errorf("WriteUpload at %d error = %v, want ErrOffset", tt.offset, err)
			}
			if n != 0 {
				t.Errorf("WriteUpload at %d appended %d bytes, want 0", tt.offset, n)
			}
			// The refused write must not have changed the upload.
			d := oci.FromBytes([]byte(tt.written))
			if err := s.CommitUpload(ctx, id, int64(len(tt.written)), d); err != nil {
				t.Fatal(err)
			}
			wantBlob(t, s, d, []byte(tt.written))
		})
	}
}

func testUnknownUpload(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if _, err := s.WriteUpload(ctx, "nosuch", 0, strings.NewReader("x")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("WriteUpload error = %v, want ErrNotFound", err)
	}
	d := oci.FromBytes([]byte("x"))
	if err := s.CommitUpload(ctx, "nosuch", 1, d); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("CommitUpload error = %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, d)
}

func testCommitBeyondData(t *testing.T, s blob.Store) {
	ctx := t.Context()
	data := []byte("short")
	d := oci.FromBytes(data)
	if err := s.CreateUpload(ctx, "short"); err != nil {
		t.Fatal(err)
	}
	write(t, s, "short", 0, data)
	if err := s.CommitUpload(ctx, "short", int64(len(data))+1, d); !errors.Is(err, blob.ErrOffset) {
		t.Fatalf("CommitUpload beyond data error = %v, want ErrOffset", err)
	}
	wantNotFound(t, s, d)
	// The upload survives, so the client can finish it.
	if err := s.CommitUpload(ctx, "short", int64(len(data)), d); err != nil {
		t.Fatalf("CommitUpload after refused commit: %v", err)
	}
	wantBlob(t, s, d, data)
}

func testCommitExisting(t *testing.T, s blob.Store) {
	ctx := t.Context()
	data := []byte("pushed twice")
	d := push(t, s, "first", data)
	d2 := push(t, s, "second", data)
	if d2 != d {
		t.Fatalf("digests differ: %s, %s", d, d2)
	}
	wantBlob(t, s, d, data)
	if _, err := s.WriteUpload(ctx, "second", 0, strings.NewReader("x")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second upload still writable after commit (error %v), want ErrNotFound", err)
	}
}

func testDeleteBlob(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keep := push(t, s, "keep", []byte("keep me"))
	d := push(t, s, "gone", []byte("delete me"))
	if err := s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, d)
	if err := s.Delete(ctx, d); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
	if err := s.Delete(ctx, oci.FromBytes([]byte("never stored"))); err != nil {
		t.Errorf("Delete of unknown blob: %v, want nil", err)
	}
	wantBlob(t, s, keep, []byte("keep me"))
}

func testDeleteUpload(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if err := s.DeleteUpload(ctx, "nosuch"); err != nil {
		t.Errorf("DeleteUpload of unknown id: %v, want nil", err)
	}
	if err := s.CreateUpload(ctx, "abandoned"); err != nil {
		t.Fatal(err)
	}
	write(t, s, "abandoned", 0, []byte("data"))
	if err := s.DeleteUpload(ctx, "abandoned"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, "abandoned", 0, strings.NewReader("x")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("WriteUpload after DeleteUpload error = %v, want ErrNotFound", err)
	}
	if err := s.CommitUpload(ctx, "abandoned", 4, oci.FromBytes([]byte("data"))); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("CommitUpload after DeleteUpload error = %v, want ErrNotFound", err)
	}
}

func testSeek(t *testing.T, s blob.Store) {
	data := []byte("0123456789abcdefghij")
	d := push(t, s, "seek", data)
	r, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		offset int64
		whence int
		want   int64
	}{
		{10, io.SeekStart, 10},
		{-5, io.SeekEnd, 15},
		{0, io.SeekStart, 0},
		{3, io.SeekStart, 3},
		{4, io.SeekCurrent, 7},
	}
	for _, tt := range tests {
		pos, err := r.Seek(tt.offset, tt.whence)
		if err != nil {
			t.Fatalf("Seek(%d, %d): %v", tt.offset, tt.whence, err)
		}
		if pos != tt.want {
			t.Fatalf("Seek(%d, %d) = %d, want %d", tt.offset, tt.whence, pos, tt.want)
		}
		if tt.whence == io.SeekCurrent {
			continue // the next read starts from here
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[tt.want:]) {
			t.Errorf("after Seek(%d, %d) read %q, want %q", tt.offset, tt.whence, got, data[tt.want:])
		}
		if _, err := r.Seek(tt.want, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
}

// testConcurrentCommits pushes the same content through several uploads and
// commits them all at once, as parallel pushes of one layer do.
func testConcurrentCommits(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const n = 8
	data := bytes.Repeat([]byte("same layer "), 50_000)
	d := oci.FromBytes(data)
	for i := range n {
		id := fmt.Sprintf("same-%d", i)
		if err := s.CreateUpload(ctx, id); err != nil {
			t.Fatal(err)
		}
		write(t, s, id, 0, data)
	}
	start, committed := make(chan struct{}), make(chan struct{})
	errs := make([]error, n)
	var commits, readers sync.WaitGroup
	for i := range n {
		commits.Go(func() {
			<-start
			errs[i] = s.CommitUpload(ctx, fmt.Sprintf("same-%d", i), int64(len(data)), d)
		})
	}
	// Readers racing the commits must see the whole blob or nothing.
	for range 4 {
		readers.Go(func() {
			<-start
			for {
				if err := readWhole(ctx, s, d, data); err != nil {
					t.Error(err)
					return
				}
				select {
				case <-committed:
					return
				default:
				}
			}
		})
	}
	close(start)
	commits.Wait()
	close(committed)
	readers.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("CommitUpload(same-%d): %v", i, err)
		}
	}
	wantBlob(t, s, d, data)
}

// readWhole reads blob d if it exists and checks it is complete.
func readWhole(ctx context.Context, s blob.Store, d oci.Digest, want []byte) error {
	r, err := s.Open(ctx, d)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("Open(%s): %v", d, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading %s: %v", d, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("reader saw %d bytes of %s, want all %d", len(got), d, len(want))
	}
	return nil
}

// testBigBlob streams a blob too big to want in memory through the store in
// three writes and checks it by digest.
func testBigBlob(t *testing.T, s blob.Store) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	ctx := t.Context()
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{'b', 'e', 'r', 't', 'h'}), size) }

	// Digest of the content, computed by streaming the generator once.
	h := oci.NewHash("sha256")
	if _, err := io.Copy(h, gen()); err != nil {
		t.Fatal(err)
	}
	d := oci.FromHash("sha256", h)

	if err := s.CreateUpload(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	src := gen()
	var off int64
	for _, part := range []int64{size / 3, size / 3, size - 2*(size/3)} {
		n, err := s.WriteUpload(ctx, "big", off, io.LimitReader(src, part))
		if err != nil {
			t.Fatalf("WriteUpload at %d: %v", off, err)
		}
		if n != part {
			t.Fatalf("WriteUpload at %d appended %d bytes, want %d", off, n, part)
		}
		off += n
	}
	if err := s.CommitUpload(ctx, "big", size, d); err != nil {
		t.Fatal(err)
	}

	if got, err := s.Stat(ctx, d); err != nil || got != size {
		t.Fatalf("Stat = %d, %v; want %d", got, err, size)
	}
	r, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h = oci.NewHash("sha256")
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := oci.FromHash("sha256", h); n != size || got != d {
		t.Errorf("read back %d bytes with digest %s, want %d bytes with %s", n, got, size, d)
	}
}

func testInvalidUploadID(t *testing.T, s blob.Store) {
	ctx := t.Context()
	d := oci.FromBytes(nil)
	ops := []struct {
		name string
		call func(id string) error
	}{
		{"CreateUpload", func(id string) error { return s.CreateUpload(ctx, id) }},
		{"WriteUpload", func(id string) error {
			_, err := s.WriteUpload(ctx, id, 0, strings.NewReader("x"))
			return err
		}},
		{"CommitUpload", func(id string) error { return s.CommitUpload(ctx, id, 0, d) }},
		{"DeleteUpload", func(id string) error { return s.DeleteUpload(ctx, id) }},
	}
	ids := []string{
		"", ".", "..", "../escape", "a/b", `a\b`, "/abs", "a.b", "a b",
		"a\x00b", "ü", strings.Repeat("a", 129),
	}
	for _, op := range ops {
		for _, id := range ids {
			if err := op.call(id); !errors.Is(err, blob.ErrUploadID) {
				t.Errorf("%s(%q) error = %v, want ErrUploadID", op.name, id, err)
			}
		}
	}
	wantNotFound(t, s, d)
	// The grammar's edges are accepted.
	for _, id := range []string{"A-z_0", "-", strings.Repeat("a", 128)} {
		if err := s.CreateUpload(ctx, id); err != nil {
			t.Errorf("CreateUpload(%q): %v, want nil", id, err)
		}
	}
}

func testInvalidDigest(t *testing.T, s blob.Store) {
	ctx := t.Context()
	digests := []oci.Digest{
		"", "sha256", "sha256:", "sha256:../../../../etc/passwd",
		oci.Digest("md5:" + strings.Repeat("0", 32)),
		oci.Digest("sha256:" + strings.Repeat("A", 64)),
		oci.Digest("sha256:" + strings.Repeat("0", 63) + "/"),
	}
	if err := s.CreateUpload(ctx, "valid"); err != nil {
		t.Fatal(err)
	}
	for _, d := range digests {
		if _, err := s.Stat(ctx, d); !errors.Is(err, oci.ErrDigestInvalid) {
			t.Errorf("Stat(%q) error = %v, want ErrDigestInvalid", d, err)
		}
		if r, err := s.Open(ctx, d); !errors.Is(err, oci.ErrDigestInvalid) {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%q) error = %v, want ErrDigestInvalid", d, err)
		}
		if err := s.Delete(ctx, d); !errors.Is(err, oci.ErrDigestInvalid) {
			t.Errorf("Delete(%q) error = %v, want ErrDigestInvalid", d, err)
		}
		if err := s.CommitUpload(ctx, "valid", 0, d); !errors.Is(err, oci.ErrDigestInvalid) {
			t.Errorf("CommitUpload(%q) error = %v, want ErrDigestInvalid", d, err)
		}
	}
	// The upload was never consumed by a refused commit.
	d := oci.FromBytes(nil)
	if err := s.CommitUpload(ctx, "valid", 0, d); err != nil {
		t.Fatalf("CommitUpload with a valid digest: %v", err)
	}
	wantBlob(t, s, d, nil)
}
