package runs

import (
	"context"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// unarchivedPage is how many ended runs one reaper pass archives at most.
const unarchivedPage = 16

// Reap ends the runs whose time is up (see meta.Tx.ReapRuns), then moves
// into blobs the logs of runs that ended but still have them in chunks
// (a replica that ended one stopped before it could). Replicas may reap
// at once.
func (s *Service) Reap(ctx context.Context) error {
	todo, err := s.db.RunsToReap(ctx, s.now())
	if err != nil {
		return err
	}
	if todo {
		var ended, requeued int64
		err := s.db.Update(ctx, func(tx *meta.Tx) error {
			var err error
			ended, requeued, err = tx.ReapRuns(ctx)
			return err
		})
		if err != nil {
			return err
		}
		if ended+requeued > 0 {
			s.log.InfoContext(ctx, "runs reaped", "ended", ended, "requeued", requeued)
			s.wake()
		}
	}
	runs, err := s.db.UnarchivedRuns(ctx, unarchivedPage)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if err := s.archiveLog(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// RunReaper reaps every interval until ctx ends.
func (s *Service) RunReaper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reap(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "run reaper failed", "err", err)
			}
		}
	}
}
