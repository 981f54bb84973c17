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

// ErrOffset is returned when an upload write does not start at a valid offset,
// or when a commit asks for more bytes than the upload holds.
var ErrOffset = errors.New("blob: upload offset beyond data")

// ErrUploadID is returned for an upload id that is not 1 to 128 characters of
// [A-Za-z0-9_-]. Backends use ids as file names and object keys, so an id must
// never be able to name a path outside the uploads area.
var ErrUploadID = errors.New("blob: invalid upload id")

// checkUploadID returns ErrUploadID unless id follows the upload id grammar.
func checkUploadID(id string) error {
	if len(id) == 0 || len(id) > 128 {
		return ErrUploadID
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ErrUploadID
		}
	}
	return nil
}

// Reader is an open blob. The filesystem store returns an *os.File, so that
// net/http can send it with sendfile.
type Reader interface {
	io.ReadSeekCloser
}

// Store is a content-addressed blob store with resumable uploads.
// Every backend passes the suite in package blobtest.
//
// Methods taking an upload id return ErrUploadID for a malformed one; methods
// taking a digest return an error wrapping oci.ErrDigestInvalid for a digest
// that oci.ParseDigest rejects. Writes to one upload are not safe to run
// concurrently; the caller serialises them. Anything else may run at once.
type Store interface {
	// Stat returns the size of a committed blob, or ErrNotFound.
	Stat(ctx context.Context, d oci.Digest) (int64, error)
	// Open returns a committed blob for reading, or ErrNotFound.
	Open(ctx context.Context, d oci.Digest) (Reader, error)
	// Delete removes a committed blob; deleting an unknown blob is not an error.
	Delete(ctx context.Context, d oci.Digest) error

	// CreateUpload makes an empty upload named id. The caller picks unique
	// ids; creating one that exists is an error.
	CreateUpload(ctx context.Context, id string) error
	// WriteUpload first cuts the upload to offset (dropping any bytes a crash
	// left past the last offset the caller recorded), then appends r, and
	// returns how many bytes it appended. An offset past the upload's end is
	// ErrOffset. The caller hashes what it sends.
	WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// CommitUpload makes the first size bytes of the upload the blob d,
	// durably (fsync, then an atomic rename), and removes the upload.
	// The caller has checked the digest. Committing content that already
	// exists is not an error. Unknown id is ErrNotFound; a size beyond the
	// upload's data is ErrOffset and leaves the upload in place.
	CommitUpload(ctx context.Context, id string, size int64, d oci.Digest) error
	// DeleteUpload removes an upload; an unknown id is not an error.
	DeleteUpload(ctx context.Context, id string) error
}
