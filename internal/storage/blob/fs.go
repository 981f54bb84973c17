package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/berth-project/berth/internal/oci"
)

// FS stores blobs in a directory tree:
//
//	<root>/blobs/<alg>/<first two hex>/<hex>   committed blobs
//	<root>/uploads/<id>                        uploads in progress
//
// Both trees are on one filesystem, so a commit is a rename: a blob path holds
// either nothing or the complete, fsynced content, never a partial file.
// Upload writes are not fsynced; after a crash an upload may be shorter than
// the offset the caller recorded, and the next write there is ErrOffset.
type FS struct {
	root string
}

var _ Store = (*FS)(nil)

// copyBufs holds the buffers WriteUpload copies through, so that a stream of
// any size costs the same memory.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// NewFS opens the store rooted at root, creating its directories if needed.
func NewFS(root string) (*FS, error) {
	if root == "" {
		return nil, errors.New("blob: empty filesystem root")
	}
	for _, dir := range []string{"blobs/sha256", "blobs/sha512", "uploads"} {
		if err := ensureDir(filepath.Join(root, dir)); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	return &FS{root: root}, nil
}

// Stat returns the size of blob d.
func (s *FS) Stat(ctx context.Context, d oci.Digest) (int64, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound(err)
	}
	return fi.Size(), nil
}

// Open returns blob d as an *os.File.
func (s *FS) Open(ctx context.Context, d oci.Digest) (Reader, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err)
	}
	return f, nil
}

// Delete removes blob d. Readers that have it open keep reading it.
func (s *FS) Delete(ctx context.Context, d oci.Digest) error {
	p, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// CreateUpload makes the empty file uploads/<id>.
func (s *FS) CreateUpload(ctx context.Context, id string) error {
	p, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// WriteUpload cuts the upload to offset and appends r to it.
func (s *FS) WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, ErrOffset
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return 0, notFound(err)
	}
	n, err := appendAt(ctx, f, offset, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func appendAt(ctx context.Context, f *os.File, offset int64, r io.Reader) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	switch {
	case fi.Size() < offset:
		return 0, ErrOffset
	case fi.Size() > offset:
		if err := f.Truncate(offset); err != nil {
			return 0, err
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}

	// A plain loop rather than io.CopyBuffer: *os.File has ReadFrom, which
	// would ignore our buffer and copy in 32 KiB writes.
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n, flushed int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := io.ReadFull(r, buf)
		if nr > 0 {
			nw, werr := f.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
			if n-flushed >= writebackEvery {
				startWriteback(f, offset+flushed, n-flushed)
				flushed = n
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// writebackEvery is how much an upload writes before the kernel is asked to
// start writing it to disk, so that the fsync at commit finds little left.
const writebackEvery = 16 << 20

// CommitUpload cuts the upload to size, fsyncs it and renames it to the blob
// path. When the blob exists already the upload is simply removed; two
// commits of the same content racing each other both succeed, since each
// rename swaps in a complete file with the same bytes.
func (s *FS) CommitUpload(ctx context.Context, id string, size int64, d oci.Digest) error {
	up, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	bp, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if size < 0 {
		return ErrOffset
	}
	f, err := os.OpenFile(up, os.O_RDWR, 0)
	if err != nil {
		return notFound(err)
	}
	if _, err := os.Stat(bp); err == nil {
		f.Close()
		return s.DeleteUpload(ctx, id)
	}
	err = cutAndSync(f, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	dir := filepath.Dir(bp)
	if err := ensureDir(dir); err != nil {
		return err
	}
	if err := os.Rename(up, bp); err != nil {
		return err
	}
	return syncDir(dir)
}

func cutAndSync(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < size {
		return fmt.Errorf("%w: upload has %d bytes, commit wants %d", ErrOffset, fi.Size(), size)
	}
	if fi.Size() > size {
		if err := f.Truncate(size); err != nil {
			return err
		}
	}
	return f.Sync()
}

// DeleteUpload removes uploads/<id>.
func (s *FS) DeleteUpload(ctx context.Context, id string) error {
	p, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *FS) blobPath(d oci.Digest) (string, error) {
	// Digest is a plain string type; parse again so that an unchecked value
	// can never name a path outside the blobs tree.
	if _, err := oci.ParseDigest(string(d)); err != nil {
		return "", fmt.Errorf("blob: %w: %q", err, string(d))
	}
	hex := d.Hex()
	return filepath.Join(s.root, "blobs", d.Algorithm(), hex[:2], hex), nil
}

func (s *FS) uploadPath(id string) (string, error) {
	if err := checkUploadID(id); err != nil {
		return "", err
	}
	return filepath.Join(s.root, "uploads", id), nil
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// ensureDir makes dir and any missing parents. Each directory it creates is
// made durable by syncing its parent, so a committed blob is never lost with
// the fan-out directory holding it.
func ensureDir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return syncDir(filepath.Dir(dir))
	case errors.Is(err, fs.ErrExist):
		return nil
	case errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir:
		if err := ensureDir(filepath.Dir(dir)); err != nil {
			return err
		}
		return ensureDir(dir)
	}
	return err
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// OpenUpload reads an upload back from its start.
func (s *FS) OpenUpload(ctx context.Context, id string) (io.ReadCloser, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err)
	}
	return f, nil
}
