package runs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// chunkPage is how many chunks one read of a live log takes.
const chunkPage = 256

// ErrTooLarge is a build context over the limit.
var ErrTooLarge = errors.New("runs: build context too large")

// putBlob streams r into the blob store as one content-addressed blob,
// reading at most max bytes (ErrTooLarge beyond).
func (s *Service) putBlob(ctx context.Context, r io.Reader, max int64) (oci.Digest, int64, error) {
	id := "run-" + randomID()
	if err := s.blobs.CreateUpload(ctx, id); err != nil {
		return "", 0, err
	}
	committed := false
	defer func() {
		if !committed {
			s.blobs.DeleteUpload(context.WithoutCancel(ctx), id)
		}
	}()
	h := oci.NewHash("sha256")
	lr := &io.LimitedReader{R: io.TeeReader(r, h), N: max + 1}
	n, err := s.blobs.WriteUpload(ctx, id, 0, lr)
	if err != nil {
		return "", 0, err
	}
	if n > max {
		return "", 0, ErrTooLarge
	}
	d := oci.FromHash("sha256", h)
	// Garbage collection may be deleting the same content; see meta.DB.Reserve.
	if err := s.db.Reserve(ctx, d); err != nil {
		return "", 0, err
	}
	if err := s.blobs.CommitUpload(ctx, id, n, d); err != nil {
		return "", 0, err
	}
	committed = true
	return d, n, nil
}

// UploadContext stores a build context (a tar.gz) for reg's runs and
// returns its record; uploading the same bytes again answers the same.
func (s *Service) UploadContext(ctx context.Context, reg meta.Registry, r io.Reader) (meta.BuildContext, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return meta.BuildContext{}, invalid("the build context must be a gzip-compressed tar archive (tar.gz)")
	}
	d, n, err := s.putBlob(ctx, br, s.maxContext)
	if errors.Is(err, ErrTooLarge) {
		return meta.BuildContext{}, invalid("the build context is larger than %d bytes", s.maxContext)
	}
	if err != nil {
		return meta.BuildContext{}, err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.PutBuildContext(ctx, reg.ID, d, n) })
	if err != nil {
		return meta.BuildContext{}, err
	}
	s.log.InfoContext(ctx, "build context uploaded", "registry", reg.Name, "digest", d, "size", n)
	return s.db.BuildContext(ctx, reg.ID, d)
}

// archive moves the log of a run that ended from its chunks into one
// blob. Replicas may archive the same run at once: they write the same
// blob, and one of them records it. Failures are logged; the reaper tries
// again.
func (s *Service) archive(ctx context.Context, run meta.Run) {
	ctx = context.WithoutCancel(ctx) // the log is moved even if the caller hung up
	if err := s.archiveLog(ctx, run); err != nil {
		s.log.WarnContext(ctx, "run log not archived; will retry", "registry", run.Registry, "run_id", run.RunID, "err", err)
	}
}

func (s *Service) archiveLog(ctx context.Context, run meta.Run) error {
	pr, pw := io.Pipe()
	go func() {
		var after int64
		for {
			cs, err := s.db.RunLogChunks(ctx, run.ID, after, chunkPage)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			for _, c := range cs {
				if _, err := pw.Write(c.Data); err != nil {
					return
				}
				after = c.Seq
			}
			if len(cs) < chunkPage {
				pw.Close()
				return
			}
		}
	}()
	d, _, err := s.putBlob(ctx, pr, 1<<62)
	pr.CloseWithError(io.ErrClosedPipe) // ends the writer if putBlob stopped early
	if err != nil {
		return err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.ArchiveRunLog(ctx, run.ID, d) })
	if errors.Is(err, meta.ErrConflict) {
		return nil // archived by another replica, or not ended after all
	}
	if err == nil {
		s.wake()
	}
	return err
}

// WriteLog writes the log of run to w from byte offset on, calling flush
// after each write. Without follow it writes what there is now; with
// follow it keeps writing as the log grows, until the run ends and its
// whole log was written, or ctx or the service ends.
func (s *Service) WriteLog(ctx context.Context, run meta.Run, offset int64, follow bool, w io.Writer, flush func()) error {
	if offset < 0 {
		offset = 0
	}
	var (
		pos   int64 // bytes of log before the next chunk
		after int64 // the last chunk read
	)
	t := time.NewTimer(s.poll)
	defer t.Stop()
	for {
		ch := s.changes()
		cur, err := s.db.RunByKey(ctx, run.ID)
		if err != nil {
			return err
		}
		if cur.LogDigest != "" {
			return s.writeBlob(ctx, cur.LogDigest, max(pos, offset), w, flush)
		}
		wrote := 0
		for {
			cs, err := s.db.RunLogChunks(ctx, run.ID, after, chunkPage)
			if err != nil {
				return err
			}
			for _, c := range cs {
				data := c.Data
				if skip := offset - pos; skip > 0 {
					data = data[min(skip, int64(len(data))):]
				}
				pos += int64(len(c.Data))
				after = c.Seq
				if len(data) > 0 {
					if _, err := w.Write(data); err != nil {
						return err
					}
					wrote++
				}
			}
			if len(cs) < chunkPage {
				break
			}
		}
		if wrote > 0 {
			flush()
		}
		if !cur.Live() {
			if wrote > 0 {
				continue // the run ended: read until nothing is left
			}
			// Every chunk was written, unless the log was archived since
			// cur was read: then the rest is in the blob.
			again, err := s.db.RunByKey(ctx, run.ID)
			if err != nil {
				return err
			}
			if again.LogDigest != "" {
				return s.writeBlob(ctx, again.LogDigest, max(pos, offset), w, flush)
			}
			return nil
		}
		if !follow {
			return nil
		}
		if more, err := s.wait(ctx, ch, t, s.poll); !more {
			return err
		}
	}
}

// writeBlob writes the archived log d from offset on.
func (s *Service) writeBlob(ctx context.Context, d oci.Digest, offset int64, w io.Writer, flush func()) error {
	r, err := s.blobs.Open(ctx, d)
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("the archived log %s is missing from the blob store", d)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	flush()
	return nil
}
