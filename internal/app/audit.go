package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-project/berth/internal/storage/meta"
)

// denialAudit writes the network gate's denials to the metadata store.
// A request never waits for it: record hands the denial to a bounded
// buffer, and a denial that finds the buffer full is dropped and counted,
// so a flood of refused requests costs the store a bounded rate of writes
// and the data plane nothing. One goroutine (run) drains the buffer in
// batches and prunes old records.
type denialAudit struct {
	store   auditStore
	log     *slog.Logger
	ch      chan meta.NetworkDenial
	dropped prometheus.Counter

	batch      int           // records per write, at most
	flushEvery time.Duration // how long a record may wait for its batch
	retention  time.Duration // how long a denial is kept
	keep       int           // denials kept per registry, at most
	pruneEvery time.Duration // how often old denials are pruned
	now        func() time.Time
}

// auditStore is what the audit writes to.
type auditStore interface {
	Update(ctx context.Context, fn func(tx *meta.Tx) error) error
}

const (
	auditBuffer     = 4096
	auditBatch      = 256
	auditFlushEvery = 200 * time.Millisecond
	auditRetention  = 30 * 24 * time.Hour
	auditKeep       = 100_000
	auditPruneEvery = 10 * time.Minute
)

func newDenialAudit(store auditStore, log *slog.Logger, reg prometheus.Registerer) *denialAudit {
	a := &denialAudit{store: store, log: log, ch: make(chan meta.NetworkDenial, auditBuffer),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_network_denials_dropped_total",
			Help: "Network denials left out of the audit: the audit's buffer was full, or the store refused the write.",
		}),
		batch: auditBatch, flushEvery: auditFlushEvery, retention: auditRetention, keep: auditKeep,
		pruneEvery: auditPruneEvery, now: time.Now}
	reg.MustRegister(a.dropped)
	return a
}

// record queues a denial for the audit; it never blocks.
func (a *denialAudit) record(d meta.NetworkDenial) {
	select {
	case a.ch <- d:
	default:
		a.dropped.Inc()
	}
}

// run writes queued denials until ctx ends, then writes what is still
// queued and returns. The server cancels ctx only once its listeners have
// stopped, so the denials of the last requests are kept too.
func (a *denialAudit) run(ctx context.Context) {
	flush := time.NewTicker(a.flushEvery)
	defer flush.Stop()
	prune := time.NewTicker(a.pruneEvery)
	defer prune.Stop()
	// The store's writes outlive ctx: the last batch is written after it ends.
	wctx := context.WithoutCancel(ctx)
	var buf []meta.NetworkDenial
	// Pruning also runs after every tenth of the per-registry bound
	// written, so that a flood of denials cannot outgrow it for long.
	written := 0
	write := func() {
		if len(buf) == 0 {
			return
		}
		if err := a.store.Update(wctx, func(tx *meta.Tx) error {
			return tx.AddNetworkDenials(wctx, buf)
		}); err != nil {
			a.log.Warn("network denials not recorded", "count", len(buf), "err", err)
			a.dropped.Add(float64(len(buf)))
		}
		written += len(buf)
		buf = buf[:0]
		if written >= a.keep/10 {
			a.prune(wctx)
			written = 0
		}
	}
	a.prune(wctx)
	for {
		select {
		case d := <-a.ch:
			buf = append(buf, d)
			if len(buf) >= a.batch {
				write()
			}
		case <-flush.C:
			write()
		case <-prune.C:
			a.prune(wctx)
		case <-ctx.Done():
			for len(a.ch) > 0 {
				buf = append(buf, <-a.ch)
				if len(buf) >= a.batch {
					write()
				}
			}
			write()
			return
		}
	}
}

// prune removes denials past the retention and beyond the per-registry
// bound.
func (a *denialAudit) prune(ctx context.Context) {
	var n int64
	err := a.store.Update(ctx, func(tx *meta.Tx) error {
		var err error
		n, err = tx.PruneNetworkDenials(ctx, a.now().Add(-a.retention), a.keep)
		return err
	})
	switch {
	case err != nil:
		a.log.Warn("network denials not pruned", "err", err)
	case n > 0:
		a.log.Debug("network denials pruned", "count", n)
	}
}
