package registry

import (
	"context"
	"crypto/rand"
	"encoding"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// StatBlob returns a blob linked to a repository.
func (s *Service) StatBlob(ctx context.Context, reg int64, repo string, d oci.Digest) (meta.Blob, error) {
	rc := s.cache.repo(reg, repo)
	key := "blob@" + string(d)
	if r, ok := rc.get(s.cache, key); ok {
		return meta.Blob{Digest: d, Size: r.m.Size, CreatedAt: r.m.CreatedAt}, nil
	}
	b, err := s.db.RepositoryBlob(ctx, reg, repo, d)
	if errors.Is(err, meta.ErrNotFound) {
		return b, ErrBlobUnknown
	} else if err != nil {
		return b, err
	}
	rc.put(s.cache, key, resolved{m: meta.Manifest{Size: b.Size, CreatedAt: b.CreatedAt}})
	return b, nil
}

// OpenBlob opens a blob linked to a repository.
func (s *Service) OpenBlob(ctx context.Context, reg int64, repo string, d oci.Digest) (meta.Blob, blob.Reader, error) {
	b, err := s.StatBlob(ctx, reg, repo, d)
	if err != nil {
		return b, nil, err
	}
	r, err := s.blobs.Open(ctx, d)
	if errors.Is(err, blob.ErrNotFound) {
		s.log.ErrorContext(ctx, "blob recorded but missing from the blob store", "digest", d)
		return b, nil, ErrBlobUnknown
	}
	return b, r, err
}

// DeleteBlob unlinks a blob from a repository. The content stays while
// other repositories or manifests use it; garbage collection reclaims it.
func (s *Service) DeleteBlob(ctx context.Context, reg int64, repo string, d oci.Digest) error {
	defer s.cache.invalidate(reg, repo)
	return s.db.Update(ctx, func(tx *meta.Tx) error {
		r, err := tx.Repository(ctx, reg, repo)
		if errors.Is(err, meta.ErrNotFound) {
			return ErrBlobUnknown
		} else if err != nil {
			return err
		}
		if err := checkDeletable(r.Attributes, "repository "+repo); err != nil {
			return err
		}
		ok, err := tx.UnlinkBlob(ctx, r.ID, d)
		if err == nil && !ok {
			err = ErrBlobUnknown
		}
		return err
	})
}

// MountBlob links a blob that exists in this registry into repo. With from
// set, the blob must be linked to that repository; without it, any
// repository of the registry will do. It reports false when there was
// nothing to mount.
func (s *Service) MountBlob(ctx context.Context, reg int64, repo, from string, d oci.Digest) (meta.Blob, bool, error) {
	return s.MountBlobFrom(ctx, reg, repo, reg, from, d)
}

// MountBlobFrom links into repo of registry reg a blob of repository from
// of registry fromReg (any repository of it when from is empty): all
// registries of a server share one blob store, so nothing is copied. The
// caller has checked that whoever asks may read from.
func (s *Service) MountBlobFrom(ctx context.Context, reg int64, repo string, fromReg int64, from string, d oci.Digest) (meta.Blob, bool, error) {
	var b meta.Blob
	var ok bool
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		if from != "" {
			b, err = tx.RepositoryBlob(ctx, fromReg, from, d)
		} else if fromReg != reg {
			return errors.New("mounting from another registry needs a repository")
		} else {
			b, err = tx.RegistryBlob(ctx, reg, d)
		}
		if errors.Is(err, meta.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := s.blobs.Stat(ctx, d); err != nil {
			return nil // recorded but gone: let the client upload it again
		}
		id, err := writableRepository(ctx, tx, reg, repo)
		if err != nil {
			return err
		}
		ok = true
		return tx.LinkBlob(ctx, id, d)
	})
	return b, ok, err
}

// writableRepository returns the id of a repository that may take new
// content, creating it if needed.
func writableRepository(ctx context.Context, tx *meta.Tx, reg int64, repo string) (int64, error) {
	id, err := tx.EnsureRepository(ctx, reg, repo)
	if err != nil {
		return 0, err
	}
	r, err := tx.Repository(ctx, reg, repo)
	if err != nil {
		return 0, err
	}
	return id, checkLock(r.Attributes.WriteEnabled, "repository "+repo, "writeEnabled")
}

// StartUpload opens an upload session for a blob of repo.
// alg is the digest algorithm to hash with ("" for sha256).
func (s *Service) StartUpload(ctx context.Context, reg int64, repo, alg string) (meta.Upload, error) {
	if alg != "sha512" {
		alg = "sha256"
	}
	u := meta.Upload{ID: newID(), RegistryID: reg, Repository: repo, Algorithm: alg}
	if r, err := s.db.Repository(ctx, reg, repo); err == nil {
		if err := checkLock(r.Attributes.WriteEnabled, "repository "+repo, "writeEnabled"); err != nil {
			return u, err
		}
	} else if !errors.Is(err, meta.ErrNotFound) {
		return u, err
	}
	var err error
	if u.HashState, err = marshalHash(oci.NewHash(u.Algorithm)); err != nil {
		return u, err
	}
	if err := s.blobs.CreateUpload(ctx, u.ID); err != nil {
		return u, err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateUpload(ctx, &u) })
	return u, err
}

// Upload returns an upload session of repo.
func (s *Service) Upload(ctx context.Context, reg int64, repo, id string) (meta.Upload, error) {
	u, err := s.db.Upload(ctx, id)
	if errors.Is(err, meta.ErrNotFound) || err == nil && (u.RegistryID != reg || u.Repository != repo) {
		return u, ErrUploadUnknown
	}
	return u, err
}

// WriteUpload appends r to an upload. start is where the client says the
// chunk begins (-1 when it did not say); length is the chunk's declared
// length (-1 when unknown). It returns the session after the chunk.
func (s *Service) WriteUpload(ctx context.Context, reg int64, repo, id string, start, length int64, r io.Reader) (meta.Upload, error) {
	unlock, err := s.uploads.lock(ctx, id)
	if err != nil {
		return meta.Upload{ID: id}, err
	}
	defer unlock()
	return s.writeUpload(ctx, reg, repo, id, start, length, r)
}

// writeUpload is WriteUpload for a caller holding the upload's lock.
func (s *Service) writeUpload(ctx context.Context, reg int64, repo, id string, start, length int64, r io.Reader) (meta.Upload, error) {
	u, err := s.Upload(ctx, reg, repo, id)
	if err != nil {
		return u, err
	}
	if start >= 0 && start != u.Size {
		return u, &RangeError{Want: u.Size, Got: start}
	}
	h, err := unmarshalHash(u.Algorithm, u.HashState)
	if err != nil {
		return u, err
	}
	var n int64
	if length >= 0 && length < pipeChunkSize {
		n, err = s.blobs.WriteUpload(ctx, id, u.Size, &hashingReader{r: r, h: h})
	} else {
		p := newHashPipe(r, h)
		n, err = s.blobs.WriteUpload(ctx, id, u.Size, p)
		if err == nil {
			p.finish()
		} else {
			p.abandon()
		}
	}
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return u, ErrUploadUnknown
		}
		if errors.Is(err, blob.ErrOffset) {
			return u, s.dropTornUpload(ctx, id)
		}
		// Nothing is recorded: the next write cuts the file back to u.Size.
		return u, err
	}
	if length >= 0 && n != length {
		return u, ErrSizeMismatch
	}
	from := u.Size
	u.Size += n
	if u.HashState, err = marshalHash(h); err != nil {
		return u, err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.AdvanceUpload(ctx, &u, from) })
	switch {
	case errors.Is(err, meta.ErrConflict):
		return u, ErrUploadRace
	case errors.Is(err, meta.ErrNotFound):
		return u, ErrUploadUnknown
	}
	return u, err
}

// FinishUpload appends a last chunk (r may be nil) and commits the upload as
// blob d of the repository, if the content matches d.
func (s *Service) FinishUpload(ctx context.Context, reg int64, repo, id string, d oci.Digest, start, length int64, r io.Reader) (meta.Blob, error) {
	// Held to the end: a PATCH running beside the commit would write into
	// the file the commit renames into place.
	unlock, err := s.uploads.lock(ctx, id)
	if err != nil {
		return meta.Blob{}, err
	}
	defer unlock()
	u, err := s.Upload(ctx, reg, repo, id)
	if err != nil {
		return meta.Blob{}, err
	}
	if r != nil {
		if u, err = s.writeUpload(ctx, reg, repo, id, start, length, r); err != nil {
			return meta.Blob{}, err
		}
	}
	h, err := unmarshalHash(u.Algorithm, u.HashState)
	if err != nil {
		return meta.Blob{}, err
	}
	got := oci.FromHash(u.Algorithm, h)
	if d.Algorithm() != u.Algorithm {
		got, err = s.rehash(ctx, id, d.Algorithm(), u.Size)
		if err != nil {
			return meta.Blob{}, err
		}
	}
	if got != d {
		s.cancel(ctx, id)
		return meta.Blob{}, ErrDigestMismatch
	}
	// A collector may be deleting this very content; wait it out, and
	// start the grace period that keeps it until it is linked below.
	if err := s.db.Reserve(ctx, d); err != nil {
		return meta.Blob{}, err
	}
	if err := s.blobs.CommitUpload(ctx, id, u.Size, d); err != nil {
		switch {
		case errors.Is(err, blob.ErrNotFound):
			// The session is recorded but its file is gone: a crash came
			// between the store's rename and the transaction below. If the
			// blob is there whole, the commit happened; record it as that
			// request would have.
			if n, serr := s.blobs.Stat(ctx, d); serr != nil || n != u.Size {
				return meta.Blob{}, ErrUploadUnknown
			}
		case errors.Is(err, blob.ErrOffset):
			return meta.Blob{}, s.dropTornUpload(ctx, id)
		default:
			return meta.Blob{}, err
		}
	}
	b := meta.Blob{Digest: d, Size: u.Size}
	err = s.db.Update(ctx, func(tx *meta.Tx) error {
		if err := tx.DeleteUpload(ctx, id); err != nil {
			return err
		}
		if err := tx.PutBlob(ctx, d, u.Size); err != nil {
			return err
		}
		repoID, err := writableRepository(ctx, tx, reg, repo)
		if err != nil {
			return err
		}
		return tx.LinkBlob(ctx, repoID, d)
	})
	return b, err
}

// uploadOpener is a blob store that can read an upload back, which berth
// needs only when a client names a digest algorithm at the end of an upload
// other than the one the upload was hashed with.
type uploadOpener interface {
	OpenUpload(ctx context.Context, id string) (io.ReadCloser, error)
}

func (s *Service) rehash(ctx context.Context, id, alg string, size int64) (oci.Digest, error) {
	o, ok := s.blobs.(uploadOpener)
	if !ok {
		return "", ErrDigestMismatch
	}
	r, err := o.OpenUpload(ctx, id)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := oci.NewHash(alg)
	if _, err := io.CopyN(h, r, size); err != nil {
		return "", err
	}
	return oci.FromHash(alg, h), nil
}

// CancelUpload abandons an upload session.
func (s *Service) CancelUpload(ctx context.Context, reg int64, repo, id string) error {
	if _, err := s.Upload(ctx, reg, repo, id); err != nil {
		return err
	}
	return s.cancel(ctx, id)
}

// dropTornUpload forgets an upload whose file holds fewer bytes than its
// session records. Upload writes are not fsynced, so a machine crash can
// lose their tail; the recorded hash state then covers bytes that are gone
// and the upload cannot go on. The client is told the upload is unknown, as
// the protocol allows, and starts it again.
func (s *Service) dropTornUpload(ctx context.Context, id string) error {
	s.log.WarnContext(ctx, "upload lost bytes in a crash; dropping it", "upload", id)
	if err := s.cancel(ctx, id); err != nil {
		return err
	}
	return ErrUploadUnknown
}

func (s *Service) cancel(ctx context.Context, id string) error {
	if err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.DeleteUpload(ctx, id) }); err != nil {
		return err
	}
	return s.blobs.DeleteUpload(ctx, id)
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	return n, err
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func marshalHash(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

func unmarshalHash(alg string, state []byte) (hash.Hash, error) {
	h := oci.NewHash(alg)
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, err
	}
	return h, nil
}
