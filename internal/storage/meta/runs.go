package meta

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/berth-project/berth/internal/oci"
)

// Runs: the record of every build and task run of a registry, the queue
// agents lease them from, their live logs, and the build contexts they
// read. Everything a replica needs to hand a run out, follow its log or
// end it lives here, so that any replica can do any of it.

// Run statuses. Queued, Started and Running are live; the rest are final.
const (
	RunQueued    = "Queued"
	RunStarted   = "Started" // leased by an agent, which has not reported Running yet
	RunRunning   = "Running"
	RunSucceeded = "Succeeded"
	RunFailed    = "Failed"
	RunCanceled  = "Canceled"
	RunError     = "Error"
	RunTimeout   = "Timeout"
)

// Run types.
const (
	RunQuickBuild = "QuickBuild"
	RunQuickRun   = "QuickRun"
	RunTaskRun    = "TaskRun"
)

// Triggers: what started a run.
const (
	TriggerManual    = "Manual"          // someone asked for it
	TriggerTimer     = "Timer"           // a task's timer
	TriggerBaseImage = "BaseImageUpdate" // a push of a task's base image
)

// RunIDPrefix starts every run id: "ca" + the registry's run sequence in
// base 36 (ca1 … ca9, caa … caz, ca10 …).
const RunIDPrefix = "ca"

// RunID is the run id of a registry's seq-th run.
func RunID(seq int64) string { return RunIDPrefix + strconv.FormatInt(seq, 36) }

// LeaseLostMessage is the error of a running run whose agent stopped
// renewing its lease.
const LeaseLostMessage = "the agent stopped answering (lease expired)"

// ErrLeaseLost is returned when an agent acts on a run whose lease it no
// longer holds: the lease expired, or the run ended.
var ErrLeaseLost = errors.New("meta: lease lost")

// FinalRunStatus reports whether s is a status a run ends in.
func FinalRunStatus(s string) bool {
	switch s {
	case RunSucceeded, RunFailed, RunCanceled, RunError, RunTimeout:
		return true
	}
	return false
}

// Run is one run of a registry.
type Run struct {
	ID         int64 // the store's key
	RegistryID int64
	Registry   string // the registry's name, filled in by reads
	RunID      string // "ca1"
	Seq        int64  // the registry's run sequence number RunID encodes
	RunType    string // Run*
	Status     string // Run*
	AgentPool  string
	Agent      string // who leased it last
	Trigger    string
	// TriggeredBy says what started a triggered run (a timer's name, the
	// base image pushed); TaskName is the task of a TaskRun.
	TriggeredBy string
	TaskName    string
	// Request is what the run is to do, as JSON its caller composes.
	Request []byte
	// Secrets are written with the run, sealed by the caller, and read
	// back only with RunSecrets: reads of runs never carry them.
	Secrets        []byte
	TimeoutSeconds int64
	CreatedAt      time.Time
	StartedAt      time.Time // zero until leased
	FinishedAt     time.Time // zero while live
	// LeaseID names the lease an agent holds; LeaseExpiresAt is when it
	// lapses unless renewed. Both are zero unless Started or Running.
	LeaseID         string
	LeaseExpiresAt  time.Time
	CancelRequested bool
	Error           string
	OutputImages    []byte // JSON array, as the agent reported it
	Dependencies    []byte // JSON, as the agent reported it; empty when none
	// LogDigest is the blob holding the whole log once the run ended and
	// its log was archived; until then the log is its chunks.
	LogDigest oci.Digest
	LogSize   int64 // bytes of log so far
	LogSeq    int64 // the sequence number of the last chunk
}

// Live reports whether the run has not ended.
func (r Run) Live() bool { return !FinalRunStatus(r.Status) }

// RunResult is how an agent says a run ended.
type RunResult struct {
	Status       string // a final status
	Error        string
	OutputImages []byte // JSON array
	Dependencies []byte // JSON
}

// RunLogChunk is a piece of a run's live log.
type RunLogChunk struct {
	Seq  int64
	Data []byte
}

// RunFilter narrows a listing of runs.
type RunFilter struct {
	Status string // "" for every status
	Task   string // "" for runs of any task or none
	N      int    // at most N, the newest (<= 0: all)
}

// BuildContext is an uploaded build context, a tar.gz blob a registry's
// runs may read.
type BuildContext struct {
	RegistryID int64
	Digest     oci.Digest
	Size       int64
	CreatedAt  time.Time
}

const runCols = `u.id, u.registry_id, r.name, u.run_id, u.seq, u.run_type, u.status, u.agent_pool, u.agent,
	u.run_trigger, u.request, u.timeout_seconds, u.created_at, u.started_at, u.finished_at, u.lease_id,
	u.lease_expires_at, u.cancel_requested, u.error, u.output_images, u.dependencies, u.log_digest,
	u.log_size, u.log_seq, u.task_name, u.triggered_by`

// runFrom is what the run columns are read from.
const runFrom = ` FROM runs u JOIN registries r ON r.id = u.registry_id`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var u Run
	var created, started, finished, expires int64
	var req, out, deps, logDigest string
	err := sc.Scan(&u.ID, &u.RegistryID, &u.Registry, &u.RunID, &u.Seq, &u.RunType, &u.Status, &u.AgentPool, &u.Agent,
		&u.Trigger, &req, &u.TimeoutSeconds, &created, &started, &finished, &u.LeaseID,
		&expires, &u.CancelRequested, &u.Error, &out, &deps, &logDigest, &u.LogSize, &u.LogSeq, &u.TaskName, &u.TriggeredBy)
	u.Request, u.OutputImages, u.Dependencies = []byte(req), []byte(out), []byte(deps)
	u.LogDigest = oci.Digest(logDigest)
	u.CreatedAt = fromNanos(created)
	u.StartedAt, u.FinishedAt, u.LeaseExpiresAt = optTime(started), optTime(finished), optTime(expires)
	return u, err
}

// optTime is a stored time where 0 means none.
func optTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

// CreateRun queues a run: it takes the registry's next run id in the same
// transaction, so ids have no gaps and no two runs share one. r.ID,
// r.RunID, r.Seq, r.Status (Queued) and r.CreatedAt are filled in; r.Trigger
// defaults to Manual.
func (tx *Tx) CreateRun(ctx context.Context, r *Run) error {
	err := tx.c.queryRow(ctx, `UPDATE registries SET run_seq = run_seq + 1 WHERE id = ? RETURNING run_seq`, r.RegistryID).Scan(&r.Seq)
	if err != nil {
		return notFound(err)
	}
	r.RunID, r.Status, r.CreatedAt = RunID(r.Seq), RunQueued, tx.now.UTC()
	if r.Trigger == "" {
		r.Trigger = TriggerManual
	}
	if len(r.OutputImages) == 0 {
		r.OutputImages = []byte("[]")
	}
	return tx.c.queryRow(ctx, `INSERT INTO runs (registry_id, run_id, seq, run_type, status, agent_pool, run_trigger,
		request, secrets, timeout_seconds, created_at, output_images, dependencies, task_name, triggered_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.RegistryID, r.RunID, r.Seq, r.RunType, r.Status, r.AgentPool, r.Trigger,
		string(r.Request), r.Secrets, r.TimeoutSeconds, nanos(r.CreatedAt), string(r.OutputImages), string(r.Dependencies),
		r.TaskName, r.TriggeredBy).Scan(&r.ID)
}

// Run looks one of a registry's runs up by its run id.
func (q reads) Run(ctx context.Context, registryID int64, runID string) (Run, error) {
	u, err := scanRun(q.c.queryRow(ctx, `SELECT `+runCols+runFrom+` WHERE u.registry_id = ? AND u.run_id = ?`, registryID, runID))
	return u, notFound(err)
}

// RunByKey looks a run up by its store key.
func (q reads) RunByKey(ctx context.Context, id int64) (Run, error) {
	u, err := scanRun(q.c.queryRow(ctx, `SELECT `+runCols+runFrom+` WHERE u.id = ?`, id))
	return u, notFound(err)
}

// Runs lists a registry's runs, newest first.
func (q reads) Runs(ctx context.Context, registryID int64, f RunFilter) ([]Run, error) {
	where, args := `u.registry_id = ?`, []any{registryID}
	if f.Status != "" {
		where, args = where+` AND u.status = ?`, append(args, f.Status)
	}
	if f.Task != "" {
		where, args = where+` AND u.task_name = ?`, append(args, f.Task)
	}
	return q.runs(ctx, where+` ORDER BY u.seq DESC LIMIT ?`, append(args, limit(f.N))...)
}

func (q reads) runs(ctx context.Context, where string, args ...any) ([]Run, error) {
	rows, err := q.c.query(ctx, `SELECT `+runCols+runFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		u, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RunSecrets returns the sealed secrets a run was created with.
func (q reads) RunSecrets(ctx context.Context, id int64) ([]byte, error) {
	var s []byte
	err := q.c.queryRow(ctx, `SELECT secrets FROM runs WHERE id = ?`, id).Scan(&s)
	return s, notFound(err)
}

// RunQueued reports whether a run of pool waits to be leased: a cheap read
// that spares the writer a transaction when there is nothing to lease.
func (q reads) RunQueued(ctx context.Context, pool string) (bool, error) {
	var one int
	err := q.c.queryRow(ctx, `SELECT 1 FROM runs WHERE agent_pool = ? AND status = ? LIMIT 1`, pool, RunQueued).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// LeaseRun gives the oldest queued run of pool to agent: it becomes
// Started, held under leaseID until d from now. None queued is ErrNotFound.
// Two transactions never lease the same run: the update re-checks the
// status it picked.
func (tx *Tx) LeaseRun(ctx context.Context, pool, agent, leaseID string, d time.Duration) (Run, error) {
	now := tx.now
	var id int64
	err := tx.c.queryRow(ctx, `UPDATE runs SET status = ?, agent = ?, lease_id = ?, lease_expires_at = ?, started_at = ?
		WHERE id = (SELECT id FROM runs WHERE agent_pool = ? AND status = ? ORDER BY id LIMIT 1) AND status = ?
		RETURNING id`, RunStarted, agent, leaseID, nanos(now.Add(d)), nanos(now), pool, RunQueued, RunQueued).Scan(&id)
	if err != nil {
		return Run{}, notFound(err)
	}
	return tx.RunByKey(ctx, id)
}

// liveStatus is the condition of a run an agent may still act on.
const liveStatus = `status IN ('` + RunStarted + `', '` + RunRunning + `')`

// RenewRunLease extends the lease leaseID holds on run id to d from now,
// and says whether someone asked for the run to be canceled. A lease that
// lapsed, or a run that ended, is ErrLeaseLost.
func (tx *Tx) RenewRunLease(ctx context.Context, id int64, leaseID string, d time.Duration) (cancel bool, expires time.Time, err error) {
	expires = tx.now.Add(d).UTC()
	err = tx.c.queryRow(ctx, `UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_id = ? AND `+liveStatus+`
		AND lease_expires_at > ? RETURNING cancel_requested`, nanos(expires), id, leaseID, nanos(tx.now)).Scan(&cancel)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrLeaseLost
	}
	return cancel, expires, err
}

// SetRunRunning records that the agent holding leaseID started the run's
// work, and renews the lease. Saying it twice is not an error.
func (tx *Tx) SetRunRunning(ctx context.Context, id int64, leaseID string, d time.Duration) (cancel bool, expires time.Time, err error) {
	expires = tx.now.Add(d).UTC()
	err = tx.c.queryRow(ctx, `UPDATE runs SET status = ?, lease_expires_at = ? WHERE id = ? AND lease_id = ? AND `+liveStatus+`
		AND lease_expires_at > ? RETURNING cancel_requested`, RunRunning, nanos(expires), id, leaseID, nanos(tx.now)).Scan(&cancel)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrLeaseLost
	}
	return cancel, expires, err
}

// RunLogState checks that leaseID holds run id and returns how much log it
// has: its size in bytes and the sequence number of its last chunk. In a
// transaction it also keeps other writers of the run's log waiting until
// this one ends.
func (tx *Tx) RunLogState(ctx context.Context, id int64, leaseID string) (size, seq int64, err error) {
	err = tx.c.queryRow(ctx, `UPDATE runs SET log_size = log_size WHERE id = ? AND lease_id = ? AND `+liveStatus+`
		AND lease_expires_at > ? RETURNING log_size, log_seq`, id, leaseID, nanos(tx.now)).Scan(&size, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrLeaseLost
	}
	return size, seq, err
}

// HasRunLogChunk reports whether run id has a chunk numbered seq.
func (q reads) HasRunLogChunk(ctx context.Context, id, seq int64) (bool, error) {
	var one int
	err := q.c.queryRow(ctx, `SELECT 1 FROM run_log_chunks WHERE run_id = ? AND seq = ?`, id, seq).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// AddRunLogChunk appends chunk seq to run id's log. The caller checked
// the lease with RunLogState in the same transaction, and that seq comes
// after the last chunk; a seq the run already has is ErrConflict.
func (tx *Tx) AddRunLogChunk(ctx context.Context, id, seq int64, data []byte) error {
	res, err := tx.c.exec(ctx, `INSERT INTO run_log_chunks (run_id, seq, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, seq, data)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	_, err = tx.c.exec(ctx, `UPDATE runs SET log_size = log_size + ?, log_seq = ? WHERE id = ?`, len(data), seq, id)
	return err
}

// RunLogChunks returns up to n of run id's chunks after seq after, in
// order (n <= 0: all).
func (q reads) RunLogChunks(ctx context.Context, id, after int64, n int) ([]RunLogChunk, error) {
	rows, err := q.c.query(ctx, `SELECT seq, data FROM run_log_chunks WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`, id, after, limit(n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunLogChunk
	for rows.Next() {
		var c RunLogChunk
		if err := rows.Scan(&c.Seq, &c.Data); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CompleteRun ends run id as the agent holding leaseID reports: its final
// status, error, output images and dependencies. A lease lost, or a run
// already ended, is ErrLeaseLost. The log stays in chunks until
// ArchiveRunLog.
func (tx *Tx) CompleteRun(ctx context.Context, id int64, leaseID string, res RunResult) (Run, error) {
	if !FinalRunStatus(res.Status) {
		return Run{}, errors.New("meta: CompleteRun needs a final status, not " + strconv.Quote(res.Status))
	}
	if len(res.OutputImages) == 0 {
		res.OutputImages = []byte("[]")
	}
	err := tx.c.queryRow(ctx, `UPDATE runs SET status = ?, error = ?, output_images = ?, dependencies = ?, finished_at = ?,
		lease_id = '', lease_expires_at = 0 WHERE id = ? AND lease_id = ? AND `+liveStatus+` AND lease_expires_at > ? RETURNING id`,
		res.Status, res.Error, string(res.OutputImages), string(res.Dependencies), nanos(tx.now), id, leaseID, nanos(tx.now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrLeaseLost
	}
	if err != nil {
		return Run{}, err
	}
	return tx.RunByKey(ctx, id)
}

// CancelRun cancels run id: a queued run is Canceled at once; a run an
// agent holds is marked, and the agent learns of it when it next renews its
// lease. A run that already ended is ErrConflict, one that does not exist
// ErrNotFound. It returns the run as it is now.
func (tx *Tx) CancelRun(ctx context.Context, id int64) (Run, error) {
	res, err := tx.c.exec(ctx, `UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status = ?`,
		RunCanceled, nanos(tx.now), id, RunQueued)
	if err != nil {
		return Run{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.c.exec(ctx, `UPDATE runs SET cancel_requested = TRUE WHERE id = ? AND `+liveStatus, id); err != nil {
			return Run{}, err
		}
	}
	u, err := tx.RunByKey(ctx, id)
	if err != nil {
		return u, err
	}
	if u.Status != RunCanceled && !u.CancelRequested {
		return u, ErrConflict
	}
	return u, nil
}

// reapableWhere finds the live runs the reaper ends or requeues at now:
// their lease lapsed, or their timeout passed.
const reapableWhere = liveStatus + ` AND (lease_expires_at <= ? OR started_at + timeout_seconds * 1000000000 <= ?)`

// RunsToReap reports whether ReapRuns has anything to do now: a cheap read,
// so that an idle reaper does not take the writer every second.
func (q reads) RunsToReap(ctx context.Context, now time.Time) (bool, error) {
	var one int
	err := q.c.queryRow(ctx, `SELECT 1 FROM runs WHERE `+reapableWhere+` LIMIT 1`, nanos(now), nanos(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ReapRuns ends the runs whose time is up, at the transaction's time:
//
//   - a run past its timeout ends as Timeout;
//   - a run whose lease lapsed and whose cancel was asked for ends as Canceled;
//   - a Started run whose lease lapsed (its agent never said Running) is
//     queued again, for another agent;
//   - a Running run whose lease lapsed ends as Error: LeaseLostMessage.
//
// Every statement re-checks what it changes, so replicas may reap at once.
// It returns how many runs it ended and how many it queued again.
func (tx *Tx) ReapRuns(ctx context.Context) (ended, requeued int64, err error) {
	now := nanos(tx.now)
	count := func(res sql.Result, err error) error {
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ended += n
		return nil
	}
	end := `lease_id = '', lease_expires_at = 0, finished_at = ?`
	if err := count(tx.c.exec(ctx, `UPDATE runs SET status = ?, error = 'the run exceeded its timeout of ' || timeout_seconds || ' seconds', `+end+`
		WHERE `+liveStatus+` AND started_at + timeout_seconds * 1000000000 <= ?`, RunTimeout, now, now)); err != nil {
		return 0, 0, err
	}
	if err := count(tx.c.exec(ctx, `UPDATE runs SET status = ?, `+end+`
		WHERE `+liveStatus+` AND lease_expires_at <= ? AND cancel_requested`, RunCanceled, now, now)); err != nil {
		return 0, 0, err
	}
	res, err := tx.c.exec(ctx, `UPDATE runs SET status = ?, agent = '', lease_id = '', lease_expires_at = 0, started_at = 0
		WHERE status = ? AND lease_expires_at <= ?`, RunQueued, RunStarted, now)
	if err != nil {
		return 0, 0, err
	}
	requeued, _ = res.RowsAffected()
	if err := count(tx.c.exec(ctx, `UPDATE runs SET status = ?, error = ?, `+end+`
		WHERE status = ? AND lease_expires_at <= ?`, RunError, LeaseLostMessage, now, RunRunning, now)); err != nil {
		return 0, 0, err
	}
	return ended, requeued, nil
}

// UnarchivedRuns lists up to n runs that ended with their log still in
// chunks, oldest first.
func (q reads) UnarchivedRuns(ctx context.Context, n int) ([]Run, error) {
	return q.runs(ctx, `u.finished_at > 0 AND u.log_digest = '' ORDER BY u.id LIMIT ?`, limit(n))
}

// ArchiveRunLog records that blob d holds the whole log of run id, which
// ended, and drops its chunks. A run that is live, or whose log was
// archived already, is ErrConflict: its chunks are left as they are.
func (tx *Tx) ArchiveRunLog(ctx context.Context, id int64, d oci.Digest) error {
	res, err := tx.c.exec(ctx, `UPDATE runs SET log_digest = ? WHERE id = ? AND finished_at > 0 AND log_digest = ''`, string(d), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	_, err = tx.c.exec(ctx, `DELETE FROM run_log_chunks WHERE run_id = ?`, id)
	return err
}

// PutBuildContext records that a registry uploaded build context d;
// recording it again is not an error.
func (tx *Tx) PutBuildContext(ctx context.Context, registryID int64, d oci.Digest, size int64) error {
	_, err := tx.c.exec(ctx, `INSERT INTO build_contexts (registry_id, digest, size, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (registry_id, digest) DO NOTHING`, registryID, string(d), size, nanos(tx.now))
	return err
}

// BuildContext looks up a build context a registry uploaded.
func (q reads) BuildContext(ctx context.Context, registryID int64, d oci.Digest) (BuildContext, error) {
	b := BuildContext{RegistryID: registryID, Digest: d}
	var c int64
	err := q.c.queryRow(ctx, `SELECT size, created_at FROM build_contexts WHERE registry_id = ? AND digest = ?`, registryID, string(d)).Scan(&b.Size, &c)
	b.CreatedAt = fromNanos(c)
	return b, notFound(err)
}
