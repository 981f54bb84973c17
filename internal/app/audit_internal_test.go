package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/berth-project/berth/internal/storage/meta"
)

// countingStore is a real store that counts the audit's writes.
type countingStore struct {
	*meta.DB
	mu      sync.Mutex
	updates int
}

func (s *countingStore) Update(ctx context.Context, fn func(tx *meta.Tx) error) error {
	s.mu.Lock()
	s.updates++
	s.mu.Unlock()
	return s.DB.Update(ctx, fn)
}

func auditFixture(t *testing.T) (*countingStore, meta.Registry, *denialAudit) {
	t.Helper()
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := meta.Registry{Name: "auditreg"}
	if err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &reg) }); err != nil {
		t.Fatal(err)
	}
	s := &countingStore{DB: db}
	return s, reg, newDenialAudit(s, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func testDenial(reg meta.Registry, i int, at time.Time) meta.NetworkDenial {
	return meta.NetworkDenial{At: at, Registry: reg.Name, RegistryID: reg.ID, ClientIP: fmt.Sprintf("10.0.%d.%d", i/250, i%250),
		Method: "GET", Path: "/v2/", Reason: "denied"}
}

// A full buffer drops and counts, and never blocks the request; what was
// buffered is written in batches when the audit runs, the rest at shutdown.
func TestDenialAuditBuffersWithoutBlocking(t *testing.T) {
	s, reg, a := auditFixture(t)
	now := time.Now()
	start := time.Now()
	for i := range auditBuffer + 10 {
		a.record(testDenial(reg, i, now))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("recording %d denials took %v with no one draining", auditBuffer+10, d)
	}
	if got := counterValue(t, a.dropped); got != 10 {
		t.Errorf("dropped %v, want 10", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.run(ctx) }()
	cancel()
	<-done
	got, err := s.NetworkDenials(t.Context(), reg.ID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != auditBuffer {
		t.Errorf("%d denials written, want %d", len(got), auditBuffer)
	}
	// One prune at start, then batches of auditBatch (and a prune after
	// every tenth of the per-registry bound).
	if most := 1 + auditBuffer/auditBatch + auditBuffer/(auditKeep/10) + 1; s.updates > most {
		t.Errorf("%d writes for %d denials, want at most %d", s.updates, auditBuffer, most)
	}
}

// A denial is written within the flush interval, without waiting for a
// full batch.
func TestDenialAuditFlushesOnTime(t *testing.T) {
	s, reg, a := auditFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.run(ctx) }()
	defer func() { cancel(); <-done }()
	a.record(testDenial(reg, 1, time.Now()))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.NetworkDenials(t.Context(), reg.ID, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the denial was not written within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Old denials and those beyond the per-registry bound are pruned.
func TestDenialAuditPrunes(t *testing.T) {
	s, reg, a := auditFixture(t)
	a.keep = 20
	now := time.Now()
	for i := range 10 {
		a.record(testDenial(reg, 100+i, now.Add(-auditRetention-time.Hour)))
	}
	for i := range 30 {
		a.record(testDenial(reg, i, now.Add(time.Duration(i)*time.Millisecond)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.run(ctx) }()
	cancel()
	<-done
	got, err := s.NetworkDenials(t.Context(), reg.ID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 || got[0].ClientIP != "10.0.0.29" || got[19].ClientIP != "10.0.0.10" {
		t.Errorf("%d denials kept, newest %+v, want the 20 newest", len(got), got[0])
	}
}
