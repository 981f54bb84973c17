package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Lease is a run handed to an agent: what to do, with the secrets only
// the agent sees, and the lease the agent names in every later call.
type Lease struct {
	Run             meta.Run
	Request         BuildRequest // Images expanded
	SecretBuildArgs map[string]string
	// Steps and StepsSecrets are set for quick runs and task runs.
	Steps        *StepsRequest
	StepsSecrets StepsSecrets
	ID           string
	ExpiresAt    time.Time
}

// Lease waits up to wait for a queued run of pool and gives it to agent.
// It answers nil, nil when none came, or when the service closes.
func (s *Service) Lease(ctx context.Context, pool, agent string, wait time.Duration) (*Lease, error) {
	deadline := time.Now().Add(wait)
	t := time.NewTimer(s.poll)
	defer t.Stop()
	for {
		ch := s.changes()
		l, err := s.leaseOne(ctx, pool, agent)
		if l != nil || err != nil {
			return l, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if more, err := s.wait(ctx, ch, t, left); !more {
			return nil, err
		}
	}
}

// leaseOne leases a run of pool now, if one is queued.
func (s *Service) leaseOne(ctx context.Context, pool, agent string) (*Lease, error) {
	for {
		if ok, err := s.db.RunQueued(ctx, pool); !ok || err != nil {
			return nil, err
		}
		l := &Lease{ID: randomID()}
		err := s.db.Update(ctx, func(tx *meta.Tx) error {
			var err error
			l.Run, err = tx.LeaseRun(ctx, pool, agent, l.ID, s.lease)
			return err
		})
		if errors.Is(err, meta.ErrNotFound) {
			return nil, nil // another agent was quicker
		}
		if err != nil {
			return nil, err
		}
		l.ExpiresAt = l.Run.LeaseExpiresAt
		if err := s.open(ctx, l); err != nil {
			// The run cannot be done by any agent: end it, and look for another.
			s.log.ErrorContext(ctx, "leased run cannot be read", "registry", l.Run.Registry, "run_id", l.Run.RunID, "err", err)
			s.fail(ctx, l.Run, l.ID, err.Error())
			continue
		}
		s.log.InfoContext(ctx, "run leased", "registry", l.Run.Registry, "run_id", l.Run.RunID, "agent_pool", pool, "agent", agent)
		return l, nil
	}
}

// open reads a leased run's request and unseals its secrets.
func (s *Service) open(ctx context.Context, l *Lease) error {
	req, err := Request(l.Run)
	if err != nil {
		return err
	}
	req.Images = ImageNames(l.Run, req)
	l.Request = req
	if IsSteps(l.Run) {
		steps, err := Steps(l.Run)
		if err != nil {
			return err
		}
		l.Steps = &steps
	}
	sealed, err := s.db.RunSecrets(ctx, l.Run.ID)
	if err != nil || len(sealed) == 0 {
		return err
	}
	secrets, err := s.seal.Open(sealed, secretsLabel(l.Run.RegistryID))
	if err != nil {
		return fmt.Errorf("the run's secrets do not open with this server's master key: %w", err)
	}
	if l.Steps != nil {
		return json.Unmarshal(secrets, &l.StepsSecrets)
	}
	return json.Unmarshal(secrets, &l.SecretBuildArgs)
}

// fail ends a run the service itself cannot go on with, as Error.
func (s *Service) fail(ctx context.Context, run meta.Run, leaseID, msg string) {
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		run, err = tx.CompleteRun(ctx, run.ID, leaseID, meta.RunResult{Status: meta.RunError, Error: msg})
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "run could not be ended", "registry", run.Registry, "run_id", run.RunID, "err", err)
		return
	}
	s.archive(ctx, run)
	s.wake()
}

// Held returns run runID of registry if the lease leaseID of an agent of
// pool holds it; otherwise ErrLeaseLost, or meta.ErrNotFound for a run
// that does not exist or is not the pool's.
func (s *Service) Held(ctx context.Context, pool, registry, runID, leaseID string) (meta.Run, error) {
	reg, err := s.db.Registry(ctx, registry)
	if err == nil {
		var run meta.Run
		run, err = s.db.Run(ctx, reg.ID, runID)
		if err == nil && run.AgentPool != pool {
			err = meta.ErrNotFound
		}
		if err == nil {
			if leaseID == "" || run.LeaseID != leaseID || !run.Live() {
				return run, ErrLeaseLost
			}
			return run, nil
		}
	}
	if errors.Is(err, meta.ErrNotFound) {
		return meta.Run{}, fmt.Errorf("%w: run %q of registry %q", meta.ErrNotFound, runID, registry)
	}
	return meta.Run{}, err
}

// Beat is the answer to a heartbeat: whether the run is to be canceled,
// and when the lease now lapses.
type Beat struct {
	CancelRequested bool
	ExpiresAt       time.Time
}

// Heartbeat renews the lease leaseID holds on run.
func (s *Service) Heartbeat(ctx context.Context, run meta.Run, leaseID string) (Beat, error) {
	var b Beat
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		b.CancelRequested, b.ExpiresAt, err = tx.RenewRunLease(ctx, run.ID, leaseID, s.lease)
		return err
	})
	return b, err
}

// SetRunning records that the agent began the run's work, and renews
// its lease.
func (s *Service) SetRunning(ctx context.Context, run meta.Run, leaseID string) (Beat, error) {
	var b Beat
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		b.CancelRequested, b.ExpiresAt, err = tx.SetRunRunning(ctx, run.ID, leaseID, s.lease)
		return err
	})
	if err == nil {
		s.wake()
	}
	return b, err
}

// LogAppend says what became of a chunk of log.
type LogAppend struct {
	Seq       int64 // the chunk's number
	Size      int64 // bytes of log the run has now
	Duplicate bool  // the run had the chunk already
	Dropped   bool  // the log is at its limit: the chunk was dropped, in whole or in part
}

// ErrOutOfOrder is a chunk numbered before the run's last chunk that the
// run does not have.
var ErrOutOfOrder = errors.New("runs: log chunk out of order")

// AppendLog appends data to the log of run, which leaseID holds. seq
// numbers the chunk: 0 takes the next number; a number the run has
// already is a retry, accepted and ignored; a number before the last
// that the run lacks is ErrOutOfOrder. Past the log's limit, the rest is
// dropped with a note.
func (s *Service) AppendLog(ctx context.Context, run meta.Run, leaseID string, seq int64, data []byte) (LogAppend, error) {
	var a LogAppend
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		a = LogAppend{}
		size, last, err := tx.RunLogState(ctx, run.ID, leaseID)
		if err != nil {
			return err
		}
		a.Size = size
		switch {
		case seq == 0:
			seq = last + 1
		case seq <= last:
			has, err := tx.HasRunLogChunk(ctx, run.ID, seq)
			if err != nil {
				return err
			}
			if !has {
				return fmt.Errorf("%w: chunk %d comes before the log's last chunk, %d", ErrOutOfOrder, seq, last)
			}
			a.Seq, a.Duplicate = seq, true
			return nil
		}
		a.Seq = seq
		if size >= s.maxLog {
			a.Dropped = true
			return nil
		}
		if size+int64(len(data)) > s.maxLog {
			data = append(data[:s.maxLog-size:s.maxLog-size],
				fmt.Sprintf("\nberth: the log reached its limit of %d bytes; the rest is dropped\n", s.maxLog)...)
			a.Dropped = true
		}
		if len(data) == 0 {
			return nil
		}
		if err := tx.AddRunLogChunk(ctx, run.ID, seq, data); err != nil {
			return err
		}
		a.Size += int64(len(data))
		return nil
	})
	if err == nil {
		s.wake()
	}
	return a, err
}

// Complete ends run as the agent holding leaseID reports, and moves its
// log into a blob.
func (s *Service) Complete(ctx context.Context, run meta.Run, leaseID string, res meta.RunResult) (meta.Run, error) {
	if !meta.FinalRunStatus(res.Status) {
		return run, invalid("status %q: a run ends Succeeded, Failed, Canceled, Error or Timeout", res.Status)
	}
	err := s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		run, err = tx.CompleteRun(ctx, run.ID, leaseID, res)
		return err
	})
	if err != nil {
		return run, err
	}
	s.log.InfoContext(ctx, "run ended", "registry", run.Registry, "run_id", run.RunID, "status", run.Status, "agent", run.Agent)
	s.wake()
	s.archive(ctx, run)
	return run, nil
}

// OpenContext opens the build context of run for the agent that holds it.
func (s *Service) OpenContext(ctx context.Context, run meta.Run) (blob.Reader, error) {
	req, err := Request(run)
	if err != nil {
		return nil, err
	}
	if req.ContextID == "" {
		return nil, fmt.Errorf("%w: run %s has no build context", meta.ErrNotFound, run.RunID)
	}
	r, err := s.blobs.Open(ctx, req.ContextID)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: build context %s of run %s", meta.ErrNotFound, req.ContextID, run.RunID)
	}
	return r, err
}
