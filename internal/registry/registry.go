// Package registry holds the rules of a registry's content: repositories,
// blobs and their uploads, manifests, tags, referrers and locks. It decides
// what is allowed and keeps the metadata and blob stores consistent; it
// knows nothing of HTTP, credentials or network rules.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Errors the service returns; package distribution maps them to protocol codes.
var (
	ErrNameUnknown     = errors.New("repository name not known to registry")
	ErrManifestUnknown = errors.New("manifest unknown to registry")
	ErrBlobUnknown     = errors.New("blob unknown to registry")
	ErrUploadUnknown   = errors.New("blob upload unknown to registry")
	ErrDigestMismatch  = errors.New("provided digest did not match uploaded content")
	ErrSizeMismatch    = errors.New("provided length did not match content length")
	ErrUploadRace      = errors.New("upload was changed by another request; get its status and resume")
)

// RangeError is a chunk that does not start where the upload ends.
type RangeError struct{ Want, Got int64 }

func (e *RangeError) Error() string {
	return fmt.Sprintf("chunk starts at byte %d but the upload has %d bytes", e.Got, e.Want)
}

// LockError is an operation refused by a lock attribute.
type LockError struct {
	What      string // "repository x", "tag x:y", "manifest x@d"
	Attribute string // "writeEnabled", "deleteEnabled", "readEnabled"
}

func (e *LockError) Error() string {
	return fmt.Sprintf("the operation is disallowed on %s: %s is false", e.What, e.Attribute)
}

// BlobsUnknownError names the content a manifest refers to that the
// repository does not hold.
type BlobsUnknownError struct{ Digests []oci.Digest }

func (e *BlobsUnknownError) Error() string {
	return fmt.Sprintf("manifest references %d unknown blob(s) or manifest(s), first %s", len(e.Digests), e.Digests[0])
}

// Service is one instance's registries' content.
type Service struct {
	db    *meta.DB
	blobs blob.Store
	log   *slog.Logger
	now   func() time.Time
	cache *readCache
	// uploads serialises writes to each upload session.
	uploads uploadLocks
}

// CacheTTL bounds how long a read may be served from memory after another
// replica changed it. Writes through this service are seen at once.
const CacheTTL = time.Second

// New returns a service over a metadata store and a blob store.
func New(db *meta.DB, blobs blob.Store, log *slog.Logger) *Service {
	return &Service{db: db, blobs: blobs, log: log, now: time.Now, cache: newReadCache(CacheTTL, time.Now)}
}

// Registry names the registry a request is for.
type Registry = meta.Registry

// Registries lists the registries of this instance.
func (s *Service) Registries(ctx context.Context) ([]Registry, error) { return s.db.Registries(ctx) }

// EnsureRegistry creates a registry unless one of that name exists, and
// returns it.
func (s *Service) EnsureRegistry(ctx context.Context, name, loginServer, location string) (Registry, error) {
	regs, err := s.db.Registries(ctx)
	if err != nil {
		return Registry{}, err
	}
	for _, r := range regs {
		if r.Name == name {
			return r, nil
		}
	}
	r := Registry{Name: name, LoginServer: loginServer, Location: location}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateRegistry(ctx, &r) })
	return r, err
}

func checkLock(ok bool, what, attr string) error {
	if ok {
		return nil
	}
	return &LockError{What: what, Attribute: attr}
}
