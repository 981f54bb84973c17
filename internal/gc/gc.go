// Package gc is berth's online blob garbage collection: a worker in every
// `berth serve` replica that deletes blobs which no manifest, run log or
// build context references once their grace period has passed. It decides
// and deletes the metadata in one transaction of the metadata store (which
// owns what "referenced" means, see meta.Tx.ClaimGarbageBlobs), then
// deletes the files. It knows no HTTP, no registries and no repositories.
package gc

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// batch is how many blobs one transaction claims.
const batch = 256

// staleAfter is how long a blob may stay marked as being deleted before
// another collector finishes the deletion for the one that marked it.
const staleAfter = time.Minute

// Deleter deletes a blob's file; deleting one that is gone is not an error.
type Deleter interface {
	Delete(ctx context.Context, d oci.Digest) error
}

// Collector reclaims unreferenced blobs. Several replicas may each run
// one over the same stores.
type Collector struct {
	DB       *meta.DB
	Blobs    Deleter
	Grace    time.Duration // >= 0
	Interval time.Duration // > 0 for Run
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
	// OnPass, when set, hears of every pass Run makes (for metrics).
	OnPass func(st Stats, err error)
}

// Stats is what one pass reclaimed.
type Stats struct {
	Blobs int
	Bytes int64
}

// Run collects every Interval until ctx ends; errors are logged and the
// next pass tries again.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := c.Collect(ctx)
		if c.OnPass != nil && ctx.Err() == nil {
			c.OnPass(st, err)
		}
		if err != nil && ctx.Err() == nil {
			c.Log.WarnContext(ctx, "blob garbage collection failed", "err", err)
		}
		if st.Blobs > 0 {
			c.Log.InfoContext(ctx, "blobs reclaimed", "blobs", st.Blobs, "bytes", st.Bytes)
		}
	}
}

// Collect runs one pass: it finishes deletions another collector left
// half done, then claims and deletes garbage until none is left.
func (c *Collector) Collect(ctx context.Context) (Stats, error) {
	var st Stats
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	stale, err := c.DB.StaleBlobDeletions(ctx, now().Add(-staleAfter), batch)
	if err != nil {
		return st, err
	}
	if err := c.delete(ctx, stale); err != nil {
		return st, err
	}
	for {
		var claimed []meta.Blob
		err := c.DB.Update(ctx, func(tx *meta.Tx) error {
			var err error
			claimed, err = tx.ClaimGarbageBlobs(ctx, now().Add(-c.Grace), batch)
			return err
		})
		if err != nil {
			return st, err
		}
		ds := make([]oci.Digest, len(claimed))
		for i, b := range claimed {
			ds[i] = b.Digest
			st.Bytes += b.Size
		}
		// Once claimed, the files go even if the caller gives up: a
		// pusher of the same content waits for the marks to clear.
		if err := c.delete(context.WithoutCancel(ctx), ds); err != nil {
			return st, err
		}
		st.Blobs += len(claimed)
		if len(claimed) < batch {
			return st, nil
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
}

// delete removes the files of claimed blobs, then their marks. A file
// that will not go keeps its mark, so that no one commits it meanwhile.
func (c *Collector) delete(ctx context.Context, ds []oci.Digest) error {
	if len(ds) == 0 {
		return nil
	}
	var done []oci.Digest
	var errs []error
	for _, d := range ds {
		if err := c.Blobs.Delete(ctx, d); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, d)
	}
	if err := c.DB.Update(ctx, func(tx *meta.Tx) error { return tx.BlobsDeleted(ctx, done) }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
