package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/storage/meta"
)

// queueRun queues a quick build of pool in registry reg and returns it.
func queueRun(t *testing.T, db *meta.DB, reg int64, pool string) meta.Run {
	t.Helper()
	r := meta.Run{RegistryID: reg, RunType: meta.RunQuickBuild, AgentPool: pool, Request: []byte(`{"images":["app:v1"]}`), TimeoutSeconds: 600}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRun(t.Context(), &r) })
	return r
}

func getRun(t *testing.T, db *meta.DB, id int64) meta.Run {
	t.Helper()
	r, err := db.RunByKey(t.Context(), id)
	if err != nil {
		t.Fatalf("RunByKey(%d): %v", id, err)
	}
	return r
}

// lease leases a run of pool for agent under leaseID, for d.
func lease(t *testing.T, db *meta.DB, pool, agent, leaseID string, d time.Duration) (meta.Run, error) {
	t.Helper()
	var r meta.Run
	err := db.Update(t.Context(), func(tx *meta.Tx) error {
		var err error
		r, err = tx.LeaseRun(t.Context(), pool, agent, leaseID, d)
		return err
	})
	return r, err
}

func runIDs(rs []meta.Run) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.RunID)
	}
	return out
}

func wantStatus(t *testing.T, what string, r meta.Run, status string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %s, want %s (error %q)", what, r.Status, status, r.Error)
	}
}

func reap(t *testing.T, db *meta.DB) (ended, requeued int64) {
	t.Helper()
	update(t, db, func(tx *meta.Tx) error {
		var err error
		ended, requeued, err = tx.ReapRuns(t.Context())
		return err
	})
	return ended, requeued
}

// Run ids are "ca" + the registry's sequence in base 36, taken in the
// transaction that creates the run: concurrent creates get every id once,
// with no gap, and each registry counts on its own.
func testRunIDs(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := meta.Run{RegistryID: a.ID, RunType: meta.RunQuickBuild, AgentPool: "local", Request: []byte(`{}`), TimeoutSeconds: 60}
			if err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateRun(t.Context(), &r) }); err != nil {
				t.Errorf("CreateRun: %v", err)
			}
			ids[i] = r.RunID
		}()
	}
	wg.Wait()
	var want []string
	for i := int64(1); i <= n; i++ {
		want = append(want, meta.RunID(i))
	}
	slices.Sort(ids)
	slices.Sort(want)
	wantList(t, "run ids of 50 concurrent creates", ids, want)
	if want[0] != "ca1" || !slices.Contains(want, "ca1e") || !slices.Contains(want, "caz") || !slices.Contains(want, "ca10") {
		t.Errorf("RunID does not count ca1 … caz, ca10 … ca1e: %q", want)
	}
	if r := queueRun(t, db, b.ID, "local"); r.RunID != "ca1" {
		t.Errorf("first run of another registry = %s, want ca1", r.RunID)
	}
	if r := queueRun(t, db, a.ID, "local"); r.RunID != "ca1f" || r.Seq != 51 {
		t.Errorf("51st run = %s (seq %d), want ca1f (51)", r.RunID, r.Seq)
	}
	err := db.Update(t.Context(), func(tx *meta.Tx) error {
		return tx.CreateRun(t.Context(), &meta.Run{RegistryID: 9999, RunType: meta.RunQuickBuild, AgentPool: "local", Request: []byte(`{}`)})
	})
	wantErr(t, "CreateRun in a registry that does not exist", err, meta.ErrNotFound)
}

// A run reads back as written, with its secrets only through RunSecrets.
func testCreateRun(t *testing.T, db *meta.DB) {
	setClock(db)
	a := newRegistry(t, db, "rega")
	r := meta.Run{RegistryID: a.ID, RunType: meta.RunQuickBuild, AgentPool: "local", Request: []byte(`{"images":["app:v1"]}`),
		Secrets: []byte("sealed"), TimeoutSeconds: 28800}
	update(t, db, func(tx *meta.Tx) error { return tx.CreateRun(t.Context(), &r) })
	if r.ID == 0 || r.RunID != "ca1" || r.Status != meta.RunQueued || r.Trigger != meta.TriggerManual {
		t.Errorf("created run = %+v", r)
	}
	got, err := db.Run(t.Context(), a.ID, "ca1")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got.ID != r.ID || got.Registry != "rega" || got.RunType != meta.RunQuickBuild || got.AgentPool != "local" ||
		string(got.Request) != `{"images":["app:v1"]}` || got.TimeoutSeconds != 28800 || got.Secrets != nil ||
		string(got.OutputImages) != "[]" || got.LogDigest != "" || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("stored run = %+v", got)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, t0)
	if s, err := db.RunSecrets(t.Context(), r.ID); err != nil || string(s) != "sealed" {
		t.Errorf("RunSecrets = %q, %v", s, err)
	}
	_, err = db.Run(t.Context(), a.ID, "ca2")
	wantErr(t, "Run(ca2)", err, meta.ErrNotFound)
	_, err = db.RunByKey(t.Context(), r.ID+100)
	wantErr(t, "RunByKey(unknown)", err, meta.ErrNotFound)
}

// Runs lists newest first, by status, at most N.
func testRunsListing(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	for range 4 {
		queueRun(t, db, a.ID, "local")
	}
	queueRun(t, db, b.ID, "local")
	update(t, db, func(tx *meta.Tx) error {
		r, err := tx.Run(t.Context(), a.ID, "ca2")
		if err != nil {
			return err
		}
		_, err = tx.CancelRun(t.Context(), r.ID)
		return err
	})
	list := func(f meta.RunFilter) []string {
		rs, err := db.Runs(t.Context(), a.ID, f)
		if err != nil {
			t.Fatalf("Runs: %v", err)
		}
		return runIDs(rs)
	}
	wantList(t, "all", list(meta.RunFilter{}), []string{"ca4", "ca3", "ca2", "ca1"})
	wantList(t, "top 2", list(meta.RunFilter{N: 2}), []string{"ca4", "ca3"})
	wantList(t, "Queued", list(meta.RunFilter{Status: meta.RunQueued}), []string{"ca4", "ca3", "ca1"})
	wantList(t, "Canceled", list(meta.RunFilter{Status: meta.RunCanceled}), []string{"ca2"})
	wantList(t, "Running", list(meta.RunFilter{Status: meta.RunRunning}), []string{})
}

// Leases go oldest first, to agents of the run's pool, each run to one
// lease however many agents ask at once.
func testLeaseExclusive(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	if ok, err := db.RunQueued(t.Context(), "local"); ok || err != nil {
		t.Errorf("RunQueued with none = %v, %v", ok, err)
	}
	_, err := lease(t, db, "local", "agent", "none", time.Minute)
	wantErr(t, "LeaseRun with none queued", err, meta.ErrNotFound)

	other := queueRun(t, db, a.ID, "dedicated")
	const n = 10
	for range n {
		queueRun(t, db, a.ID, "local")
	}
	if ok, err := db.RunQueued(t.Context(), "local"); !ok || err != nil {
		t.Errorf("RunQueued = %v, %v", ok, err)
	}
	c.advance(time.Second)
	first, err := lease(t, db, "local", "agent0", "lease0", time.Minute)
	if err != nil {
		t.Fatalf("LeaseRun: %v", err)
	}
	if first.RunID != "ca2" || first.Status != meta.RunStarted || first.Agent != "agent0" || first.LeaseID != "lease0" {
		t.Errorf("first lease = %+v, want ca2 (the oldest of pool local), Started by agent0", first)
	}
	wantTime(t, "StartedAt", first.StartedAt, t0.Add(time.Second))
	wantTime(t, "LeaseExpiresAt", first.LeaseExpiresAt, t0.Add(time.Second+time.Minute))

	var mu sync.Mutex
	got := map[string]string{}
	misses := 0
	var wg sync.WaitGroup
	for i := range 3 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leaseID := fmt.Sprintf("lease%d", i+1)
			r, err := lease(t, db, "local", "agent", leaseID, time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, meta.ErrNotFound):
				misses++
			case err != nil:
				t.Errorf("LeaseRun: %v", err)
			default:
				if prev, ok := got[r.RunID]; ok {
					t.Errorf("%s leased twice: %s and %s", r.RunID, prev, leaseID)
				}
				got[r.RunID] = leaseID
				if r.LeaseID != leaseID {
					t.Errorf("%s answered with lease %s, want %s", r.RunID, r.LeaseID, leaseID)
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != n-1 || misses != 2*n+1 {
		t.Errorf("%d runs leased and %d misses, want %d and %d", len(got), misses, n-1, 2*n+1)
	}
	if r := getRun(t, db, other.ID); r.Status != meta.RunQueued {
		t.Errorf("the run of another pool is %s, want Queued", r.Status)
	}
	if ok, _ := db.RunQueued(t.Context(), "local"); ok {
		t.Error("RunQueued after every run was leased")
	}
}

// A lease is renewed only by its holder and only while it lasts; the
// renewal says when cancel was asked for.
func testRenewRunLease(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	r := queueRun(t, db, a.ID, "local")
	if _, err := lease(t, db, "local", "agent", "L1", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	renew := func(leaseID string) (bool, time.Time, error) {
		var cancel bool
		var until time.Time
		err := db.Update(t.Context(), func(tx *meta.Tx) error {
			var err error
			cancel, until, err = tx.RenewRunLease(t.Context(), r.ID, leaseID, 30*time.Second)
			return err
		})
		return cancel, until, err
	}
	c.advance(20 * time.Second)
	cancel, until, err := renew("L1")
	if err != nil || cancel {
		t.Fatalf("RenewRunLease = %v, %v", cancel, err)
	}
	wantTime(t, "renewed until", until, t0.Add(50*time.Second))
	wantTime(t, "stored expiry", getRun(t, db, r.ID).LeaseExpiresAt, t0.Add(50*time.Second))
	_, _, err = renew("L2")
	wantErr(t, "renew with another lease id", err, meta.ErrLeaseLost)

	update(t, db, func(tx *meta.Tx) error {
		_, _, err := tx.SetRunRunning(t.Context(), r.ID, "L1", 30*time.Second)
		return err
	})
	wantStatus(t, "after SetRunRunning", getRun(t, db, r.ID), meta.RunRunning)
	update(t, db, func(tx *meta.Tx) error { _, err := tx.CancelRun(t.Context(), r.ID); return err })
	if cancel, _, err := renew("L1"); err != nil || !cancel {
		t.Errorf("renew after cancel = %v, %v; want cancel", cancel, err)
	}
	wantStatus(t, "running run asked to cancel", getRun(t, db, r.ID), meta.RunRunning)

	c.advance(31 * time.Second) // the lease lapsed, though nobody reaped yet
	_, _, err = renew("L1")
	wantErr(t, "renew a lapsed lease", err, meta.ErrLeaseLost)
	err = db.Update(t.Context(), func(tx *meta.Tx) error {
		_, _, err := tx.SetRunRunning(t.Context(), r.ID, "L1", time.Minute)
		return err
	})
	wantErr(t, "SetRunRunning on a lapsed lease", err, meta.ErrLeaseLost)
}

// The reaper requeues a run whose agent never said Running, ends a running
// one as Error, a canceled one as Canceled, and one past its timeout as
// Timeout.
func testReapRuns(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	started := queueRun(t, db, a.ID, "p1")
	running := queueRun(t, db, a.ID, "p2")
	canceled := queueRun(t, db, a.ID, "p3")
	slow := queueRun(t, db, a.ID, "p4") // timeout 600 s, renewed forever
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		if _, err := lease(t, db, p, "agent-"+p, "L-"+p, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	update(t, db, func(tx *meta.Tx) error {
		for _, x := range []struct {
			id    int64
			lease string
		}{{running.ID, "L-p2"}, {canceled.ID, "L-p3"}, {slow.ID, "L-p4"}} {
			if _, _, err := tx.SetRunRunning(t.Context(), x.id, x.lease, 30*time.Second); err != nil {
				return err
			}
		}
		_, err := tx.CancelRun(t.Context(), canceled.ID)
		return err
	})
	if ok, err := db.RunsToReap(t.Context(), c.Now()); ok || err != nil {
		t.Errorf("RunsToReap before any lease lapsed = %v, %v", ok, err)
	}
	if e, q := reap(t, db); e != 0 || q != 0 {
		t.Errorf("reaping early ended %d and requeued %d", e, q)
	}
	// Keep the slow run's lease alive past the others'.
	for range 2 {
		c.advance(20 * time.Second)
		update(t, db, func(tx *meta.Tx) error {
			_, _, err := tx.RenewRunLease(t.Context(), slow.ID, "L-p4", 30*time.Second)
			return err
		})
	}
	if ok, err := db.RunsToReap(t.Context(), c.Now()); !ok || err != nil {
		t.Errorf("RunsToReap after leases lapsed = %v, %v", ok, err)
	}
	if e, q := reap(t, db); e != 2 || q != 1 {
		t.Errorf("reap ended %d and requeued %d, want 2 and 1", e, q)
	}
	r := getRun(t, db, started.ID)
	wantStatus(t, "started, lease lapsed", r, meta.RunQueued)
	if r.Agent != "" || r.LeaseID != "" || !r.StartedAt.IsZero() || !r.FinishedAt.IsZero() {
		t.Errorf("requeued run = %+v, want no agent, lease or times", r)
	}
	r = getRun(t, db, running.ID)
	wantStatus(t, "running, lease lapsed", r, meta.RunError)
	if r.Error != meta.LeaseLostMessage || r.LeaseID != "" {
		t.Errorf("error = %q, lease %q", r.Error, r.LeaseID)
	}
	wantTime(t, "FinishedAt", r.FinishedAt, c.Now())
	wantStatus(t, "canceled, lease lapsed", getRun(t, db, canceled.ID), meta.RunCanceled)
	wantStatus(t, "slow, renewed", getRun(t, db, slow.ID), meta.RunRunning)

	// Another agent leases the requeued run.
	again, err := lease(t, db, "p1", "agent-b", "L-again", 30*time.Second)
	if err != nil || again.ID != started.ID || again.Agent != "agent-b" {
		t.Errorf("lease of the requeued run = %+v, %v", again, err)
	}

	// Renewed or not, a run ends at its timeout.
	for c.Now().Before(t0.Add(600 * time.Second)) {
		c.advance(20 * time.Second)
		update(t, db, func(tx *meta.Tx) error {
			_, _, err := tx.RenewRunLease(t.Context(), slow.ID, "L-p4", 30*time.Second)
			return err
		})
	}
	if e, _ := reap(t, db); e < 1 {
		t.Errorf("reap at the timeout ended %d", e)
	}
	r = getRun(t, db, slow.ID)
	wantStatus(t, "past its timeout", r, meta.RunTimeout)
	if r.Error != "the run exceeded its timeout of 600 seconds" {
		t.Errorf("timeout error = %q", r.Error)
	}
	if _, _, err := func() (bool, time.Time, error) {
		var err error
		var cancel bool
		var until time.Time
		db.Update(t.Context(), func(tx *meta.Tx) error {
			cancel, until, err = tx.RenewRunLease(t.Context(), slow.ID, "L-p4", 30*time.Second)
			return nil
		})
		return cancel, until, err
	}(); !errors.Is(err, meta.ErrLeaseLost) {
		t.Errorf("renew after the timeout: %v, want ErrLeaseLost", err)
	}
}

// Cancel ends a queued run at once, marks a held one, and refuses one
// that ended.
func testCancelRun(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	queued := queueRun(t, db, a.ID, "local")
	held := queueRun(t, db, a.ID, "other")
	if _, err := lease(t, db, "other", "agent", "L", time.Minute); err != nil {
		t.Fatal(err)
	}
	cancel := func(id int64) (meta.Run, error) {
		var r meta.Run
		err := db.Update(t.Context(), func(tx *meta.Tx) error {
			var err error
			r, err = tx.CancelRun(t.Context(), id)
			return err
		})
		return r, err
	}
	c.advance(time.Second)
	r, err := cancel(queued.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "canceled while queued", r, meta.RunCanceled)
	wantTime(t, "FinishedAt", r.FinishedAt, t0.Add(time.Second))
	if _, err := lease(t, db, "local", "agent", "L2", time.Minute); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("a canceled run was leased: %v", err)
	}
	r, err = cancel(held.ID)
	if err != nil || r.Status != meta.RunStarted || !r.CancelRequested {
		t.Errorf("cancel of a started run = %s, cancel requested %v, %v", r.Status, r.CancelRequested, err)
	}
	if _, err := cancel(held.ID); err != nil {
		t.Errorf("cancel twice: %v", err)
	}
	update(t, db, func(tx *meta.Tx) error {
		_, err := tx.CompleteRun(t.Context(), held.ID, "L", meta.RunResult{Status: meta.RunCanceled})
		return err
	})
	done := queueRun(t, db, a.ID, "third")
	if _, err := lease(t, db, "third", "agent", "L3", time.Minute); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *meta.Tx) error {
		_, err := tx.CompleteRun(t.Context(), done.ID, "L3", meta.RunResult{Status: meta.RunSucceeded})
		return err
	})
	r, err = cancel(done.ID)
	wantErr(t, "cancel a run that succeeded", err, meta.ErrConflict)
	wantStatus(t, "after a refused cancel", r, meta.RunSucceeded)
	_, err = cancel(done.ID + 100)
	wantErr(t, "cancel an unknown run", err, meta.ErrNotFound)
}

// Chunks of log append in order under the lease; the run's end freezes
// them until they are archived into one blob, after which they are gone.
func testRunLog(t *testing.T, db *meta.DB) {
	c := setClock(db)
	a := newRegistry(t, db, "rega")
	r := queueRun(t, db, a.ID, "local")
	if _, err := lease(t, db, "local", "agent", "L", time.Minute); err != nil {
		t.Fatal(err)
	}
	appendLog := func(leaseID string, data string) error {
		return db.Update(t.Context(), func(tx *meta.Tx) error {
			_, seq, err := tx.RunLogState(t.Context(), r.ID, leaseID)
			if err != nil {
				return err
			}
			return tx.AddRunLogChunk(t.Context(), r.ID, seq+1, []byte(data))
		})
	}
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		if err := appendLog("L", s); err != nil {
			t.Fatalf("append %q: %v", s, err)
		}
	}
	wantErr(t, "append under another lease", appendLog("X", "no"), meta.ErrLeaseLost)
	err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.AddRunLogChunk(t.Context(), r.ID, 2, []byte("dup")) })
	wantErr(t, "a chunk number taken", err, meta.ErrConflict)
	if ok, err := db.HasRunLogChunk(t.Context(), r.ID, 2); !ok || err != nil {
		t.Errorf("HasRunLogChunk(2) = %v, %v", ok, err)
	}
	if ok, _ := db.HasRunLogChunk(t.Context(), r.ID, 4); ok {
		t.Error("HasRunLogChunk(4) = true")
	}
	text := func(cs []meta.RunLogChunk) string {
		s := ""
		for _, c := range cs {
			s += fmt.Sprintf("%d:%s", c.Seq, c.Data)
		}
		return s
	}
	all, err := db.RunLogChunks(t.Context(), r.ID, 0, 0)
	if err != nil || text(all) != "1:one\n2:two\n3:three\n" {
		t.Errorf("chunks = %q, %v", text(all), err)
	}
	if after, _ := db.RunLogChunks(t.Context(), r.ID, 1, 1); text(after) != "2:two\n" {
		t.Errorf("chunks after 1, at most 1 = %q", text(after))
	}
	got := getRun(t, db, r.ID)
	if got.LogSize != int64(len("one\ntwo\nthree\n")) || got.LogSeq != 3 {
		t.Errorf("log size %d, seq %d", got.LogSize, got.LogSeq)
	}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.ArchiveRunLog(t.Context(), r.ID, digest("log")) })
	wantErr(t, "archive the log of a live run", err, meta.ErrConflict)

	c.advance(time.Minute / 2)
	var done meta.Run
	update(t, db, func(tx *meta.Tx) error {
		var err error
		done, err = tx.CompleteRun(t.Context(), r.ID, "L", meta.RunResult{Status: meta.RunFailed, Error: "step failed",
			OutputImages: []byte(`[{"repository":"app"}]`), Dependencies: []byte(`[{"image":{}}]`)})
		return err
	})
	if done.Status != meta.RunFailed || done.Error != "step failed" || string(done.OutputImages) != `[{"repository":"app"}]` ||
		string(done.Dependencies) != `[{"image":{}}]` || done.LeaseID != "" || done.LogDigest != "" {
		t.Errorf("completed run = %+v", done)
	}
	wantTime(t, "FinishedAt", done.FinishedAt, t0.Add(time.Minute/2))
	wantErr(t, "append after the end", appendLog("L", "late"), meta.ErrLeaseLost)
	err = db.Update(t.Context(), func(tx *meta.Tx) error {
		_, err := tx.CompleteRun(t.Context(), r.ID, "L", meta.RunResult{Status: meta.RunSucceeded})
		return err
	})
	wantErr(t, "complete twice", err, meta.ErrLeaseLost)

	un, err := db.UnarchivedRuns(t.Context(), 10)
	if err != nil || len(un) != 1 || un[0].ID != r.ID {
		t.Errorf("UnarchivedRuns = %q, %v", runIDs(un), err)
	}
	update(t, db, func(tx *meta.Tx) error { return tx.ArchiveRunLog(t.Context(), r.ID, digest("log")) })
	if got := getRun(t, db, r.ID); got.LogDigest != digest("log") {
		t.Errorf("log digest = %q", got.LogDigest)
	}
	if cs, _ := db.RunLogChunks(t.Context(), r.ID, 0, 0); len(cs) != 0 {
		t.Errorf("chunks after archiving = %q", text(cs))
	}
	if un, _ := db.UnarchivedRuns(t.Context(), 10); len(un) != 0 {
		t.Errorf("UnarchivedRuns after archiving = %q", runIDs(un))
	}
	err = db.Update(t.Context(), func(tx *meta.Tx) error { return tx.ArchiveRunLog(t.Context(), r.ID, digest("other")) })
	wantErr(t, "archive twice", err, meta.ErrConflict)
}

func testBuildContexts(t *testing.T, db *meta.DB) {
	setClock(db)
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	d := digest("context")
	update(t, db, func(tx *meta.Tx) error { return tx.PutBuildContext(t.Context(), a.ID, d, 42) })
	update(t, db, func(tx *meta.Tx) error { return tx.PutBuildContext(t.Context(), a.ID, d, 42) })
	got, err := db.BuildContext(t.Context(), a.ID, d)
	if err != nil || got.Size != 42 || got.Digest != d {
		t.Errorf("BuildContext = %+v, %v", got, err)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, t0)
	_, err = db.BuildContext(t.Context(), b.ID, d)
	wantErr(t, "another registry's context", err, meta.ErrNotFound)
}

// Deleting a registry deletes its runs, their logs and its contexts.
func testRunsGoWithRegistry(t *testing.T, db *meta.DB) {
	a, b := newRegistry(t, db, "rega"), newRegistry(t, db, "regb")
	r := queueRun(t, db, a.ID, "local")
	queueRun(t, db, b.ID, "local")
	if _, err := lease(t, db, "local", "agent", "L", time.Minute); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *meta.Tx) error {
		if err := tx.PutBuildContext(t.Context(), a.ID, digest("ctx"), 1); err != nil {
			return err
		}
		if _, _, err := tx.RunLogState(t.Context(), r.ID, "L"); err != nil {
			return err
		}
		return tx.AddRunLogChunk(t.Context(), r.ID, 1, []byte("x"))
	})
	update(t, db, func(tx *meta.Tx) error { return tx.DeleteRegistry(t.Context(), a.ID) })
	_, err := db.RunByKey(t.Context(), r.ID)
	wantErr(t, "run of a deleted registry", err, meta.ErrNotFound)
	if cs, _ := db.RunLogChunks(t.Context(), r.ID, 0, 0); len(cs) != 0 {
		t.Errorf("%d chunks outlived their registry", len(cs))
	}
	if rs, _ := db.Runs(t.Context(), b.ID, meta.RunFilter{}); len(rs) != 1 {
		t.Errorf("the other registry has %d runs, want 1", len(rs))
	}
	// A registry created again under the name starts at ca1.
	again := newRegistry(t, db, "rega")
	if r := queueRun(t, db, again.ID, "local"); r.RunID != "ca1" {
		t.Errorf("first run of a new registry = %s", r.RunID)
	}
}
