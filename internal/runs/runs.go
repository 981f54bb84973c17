// Package runs owns the life of a run on the server: queueing a quick
// build from an uploaded context, handing runs to agents under a lease
// (long-polled), their heartbeats, live logs and outcome, cancellation,
// the reaper that ends runs whose agent went quiet or whose time ran out,
// and the log each finished run keeps as one blob.
//
// Every state that matters is in the metadata store and the blob store,
// so that any replica can queue, lease, follow or end any run; what lives
// in memory only wakes waiters on this replica sooner than their poll.
//
// It knows no HTTP: the management API (package mgmt) and the agent API
// (package agentapi) call it. It never executes a run; agents do.
package runs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
)

// ErrInvalid is matched, with errors.Is, by every error that says what is
// wrong with a caller's request, so that callers answer with a client
// error without reading the message.
var ErrInvalid = errors.New("runs: invalid request")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ErrLeaseLost is returned to an agent that acts on a run whose lease it
// no longer holds: the lease lapsed, the run ended, or another lease holds
// it. The agent must stop working on the run.
var ErrLeaseLost = meta.ErrLeaseLost

// Sealer encrypts secrets at rest (identity.Sealer).
type Sealer interface {
	Seal(p []byte, label string) []byte
	Open(sealed []byte, label string) ([]byte, error)
}

// Pool is an agent pool runs may be queued on.
type Pool struct {
	Name     string
	Location string
}

// Options configure a Service. Store, Blobs and Sealer are required.
type Options struct {
	Store  *meta.DB
	Blobs  blob.Store
	Sealer Sealer
	// Pools are the pools runs may be queued on; a run that names none
	// goes to the first of its registry's location, else the first.
	Pools []Pool
	// LeaseDuration is how long a lease lasts unless renewed (30 s).
	LeaseDuration time.Duration
	// PollInterval is how often waiting leases and log followers look at
	// the store for what other replicas changed (250 ms).
	PollInterval time.Duration
	// MaxLogSize bounds a run's log; what comes after is dropped (64 MiB).
	MaxLogSize int64
	// MaxContextSize bounds an uploaded build context (1 GiB).
	MaxContextSize int64
	Log            *slog.Logger
}

// Defaults of Options.
const (
	DefaultLeaseDuration  = 30 * time.Second
	DefaultPollInterval   = 250 * time.Millisecond
	DefaultMaxLogSize     = 64 << 20
	DefaultMaxContextSize = 1 << 30
)

// Service is the run queue and record. It is safe for concurrent use.
type Service struct {
	db         *meta.DB
	blobs      blob.Store
	seal       Sealer
	pools      []Pool
	lease      time.Duration
	poll       time.Duration
	maxLog     int64
	maxContext int64
	log        *slog.Logger
	now        func() time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a run of this replica changes
	done    chan struct{} // closed by Close
	closing sync.Once
}

// New returns the service.
func New(o Options) *Service {
	s := &Service{db: o.Store, blobs: o.Blobs, seal: o.Sealer, pools: o.Pools, lease: o.LeaseDuration,
		poll: o.PollInterval, maxLog: o.MaxLogSize, maxContext: o.MaxContextSize, log: o.Log, now: time.Now,
		changed: make(chan struct{}), done: make(chan struct{})}
	if s.lease <= 0 {
		s.lease = DefaultLeaseDuration
	}
	if s.poll <= 0 {
		s.poll = DefaultPollInterval
	}
	if s.maxLog <= 0 {
		s.maxLog = DefaultMaxLogSize
	}
	if s.maxContext <= 0 {
		s.maxContext = DefaultMaxContextSize
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// LeaseDuration is how long a lease lasts unless renewed.
func (s *Service) LeaseDuration() time.Duration { return s.lease }

// MaxContextSize bounds an uploaded build context.
func (s *Service) MaxContextSize() int64 { return s.maxContext }

// Close ends the waits of this replica: long-polled leases answer that no
// run came, and log followers stop (their clients reconnect elsewhere).
func (s *Service) Close() { s.closing.Do(func() { close(s.done) }) }

// wake tells this replica's waiters that a run changed.
func (s *Service) wake() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// changes returns a channel closed at the next wake; take it before
// looking at the store, so that no change between the look and the wait
// is missed.
func (s *Service) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// wait waits for a wake on ch, a poll interval (or limit, when sooner),
// or the end of ctx or of the service; it reports whether to go on.
func (s *Service) wait(ctx context.Context, ch <-chan struct{}, t *time.Timer, limit time.Duration) (bool, error) {
	t.Reset(min(s.poll, limit))
	select {
	case <-ch:
		return true, nil
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.done:
		return false, nil
	}
}

// randomID is 16 random bytes in hex: lease and upload ids.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// secretsLabel binds a run's sealed secrets to its registry.
func secretsLabel(registryID int64) string {
	return fmt.Sprintf("berth/run-secrets/registry/%d", registryID)
}
