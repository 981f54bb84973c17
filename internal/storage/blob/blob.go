// Package blob stores content-addressed blobs and the append-only upload files
// they are committed from. It knows digests and bytes only: no repositories,
// no registries, no HTTP. Which repository may see a blob is the metadata
// store's business.
package blob

import (
	"context"
	"errors"
	"io"

	"github.com/berth-project/berth/internal/oci"
)

// ErrNotFound is returned for an unknown blob or upload.
var ErrNotFound = errors.New("blob: not found")

// ErrOffset is returned when an upload write does not start at a valid offset.
var ErrOffset = errors.New("blob: upload offset beyond data")

// Reader is an open blob. The filesystem store returns an *os.File, so that
// net/http can send it with sendfile.
type Reader interface {
	io.ReadSeekCloser
}

// Store is a content-addressed blob store with resumable uploads.
// Every backend passes the suite in package blobtest.
type Store interface {
	// Stat returns the size of a committed blob, or ErrNotFound.
	Stat(ctx context.Context, d oci.Digest) (int64, error)
	// Open returns a committed blob for reading, or ErrNotFound.
	Open(ctx context.Context, d oci.Digest) (Reader, error)
	// Delete removes a committed blob; deleting an unknown blob is not an error.
	Delete(ctx context.Context, d oci.Digest) error

	// CreateUpload makes an empty upload named id.
	CreateUpload(ctx context.Context, id string) error
	// WriteUpload first cuts the upload to offset (dropping any bytes a crash
	// left past the last offset the caller recorded), then appends r, and
	// returns how many bytes it appended. An offset past the upload's end is
	// ErrOffset. The caller hashes what it sends.
	WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// CommitUpload makes the first size bytes of the upload the blob d,
	// durably (fsync, then an atomic rename), and removes the upload.
	// The caller has checked the digest. Committing content that already
	// exists is not an error.
	CommitUpload(ctx context.Context, id string, size int64, d oci.Digest) error
	// DeleteUpload removes an upload; an unknown id is not an error.
	DeleteUpload(ctx context.Context, id string) error
}
