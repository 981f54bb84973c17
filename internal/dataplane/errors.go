package dataplane

import (
	"errors"

	"github.com/berth-project/berth/internal/errcode"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/registry"
)

// Code maps an error of the registry service (or an *errcode.Error an API
// returned itself) to the protocol error the client sees. Anything else is
// UNKNOWN, a 500, and is logged.
func Code(err error) *errcode.Error {
	if e := errcode.As(err); e != nil {
		return e
	}
	var lock *registry.LockError
	var blobs *registry.BlobsUnknownError
	var rng *registry.RangeError
	var bad *oci.ManifestError
	switch {
	case errors.As(err, &lock):
		return errcode.Denied.WithMessage(lock.Error())
	case errors.As(err, &blobs):
		return errcode.ManifestBlobUnknown.WithDetail(map[string]any{"digests": blobs.Digests})
	case errors.As(err, &rng):
		return errcode.RangeInvalid.WithMessage(rng.Error())
	case errors.As(err, &bad):
		return errcode.ManifestInvalid.WithMessage(bad.Error())
	case errors.Is(err, oci.ErrSchema1):
		return errcode.ManifestInvalid.WithMessage(err.Error())
	case errors.Is(err, oci.ErrDigestInvalid):
		return errcode.DigestInvalid.WithMessage("invalid digest")
	case errors.Is(err, registry.ErrNameUnknown):
		return errcode.NameUnknown.New()
	case errors.Is(err, registry.ErrTagUnknown):
		return errcode.TagUnknown.New()
	case errors.Is(err, registry.ErrManifestUnknown):
		return errcode.ManifestUnknown.New()
	case errors.Is(err, registry.ErrCursorUnknown):
		return errcode.RequestInvalid.WithMessage("last names no entry of this listing; follow the Link header of the previous page")
	case errors.Is(err, registry.ErrBlobUnknown):
		return errcode.BlobUnknown.New()
	case errors.Is(err, registry.ErrUploadUnknown):
		return errcode.BlobUploadUnknown.New()
	case errors.Is(err, registry.ErrDigestMismatch):
		return errcode.DigestInvalid.New()
	case errors.Is(err, registry.ErrSizeMismatch):
		return errcode.SizeInvalid.New()
	case errors.Is(err, registry.ErrUploadRace):
		return errcode.RangeInvalid.WithMessage(err.Error())
	}
	return errcode.Unknown.New()
}
