package meta

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Task is a stored task of a registry. Spec is JSON the tasks service
// composes; Secrets are sealed by it.
type Task struct {
	ID         int64
	RegistryID int64
	Registry   string // the registry's name, filled in by reads
	Name       string
	TaskID     string // a stable id: the owner of its system-assigned identity
	Spec       []byte
	Secrets    []byte
	// SystemPrincipalID is its system-assigned identity's, if it has one.
	SystemPrincipalID string
	// TimersCheckedAt is when its timers were last looked at: a timer
	// fires once for the slots between then and now, however many.
	TimersCheckedAt time.Time
	// BaseImages are the base images (JSON) its last successful run was
	// built on, for the base-image trigger.
	BaseImages []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const taskCols = `t.id, t.registry_id, r.name, t.name, t.task_id, t.spec, t.secrets, t.system_principal_id,
	t.timers_checked_at, t.base_images, t.created_at, t.updated_at`

const taskFrom = ` FROM tasks t JOIN registries r ON r.id = t.registry_id`

func scanTask(sc interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var spec, bases string
	var checked, created, updated int64
	err := sc.Scan(&t.ID, &t.RegistryID, &t.Registry, &t.Name, &t.TaskID, &spec, &t.Secrets, &t.SystemPrincipalID,
		&checked, &bases, &created, &updated)
	t.Spec, t.BaseImages = []byte(spec), []byte(bases)
	t.TimersCheckedAt, t.CreatedAt, t.UpdatedAt = optTime(checked), fromNanos(created), fromNanos(updated)
	return t, err
}

// Task looks a registry's task up by name.
func (q reads) Task(ctx context.Context, registryID int64, name string) (Task, error) {
	t, err := scanTask(q.c.queryRow(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.registry_id = ? AND t.name = ?`, registryID, name))
	return t, notFound(err)
}

// Tasks lists a registry's tasks by name.
func (q reads) Tasks(ctx context.Context, registryID int64) ([]Task, error) {
	return q.tasks(ctx, `t.registry_id = ? ORDER BY t.name`, registryID)
}

// AllTasks lists every task of every registry (for the triggers).
func (q reads) AllTasks(ctx context.Context) ([]Task, error) {
	return q.tasks(ctx, `1 = 1 ORDER BY t.id`)
}

func (q reads) tasks(ctx context.Context, where string, args ...any) ([]Task, error) {
	rows, err := q.c.query(ctx, `SELECT `+taskCols+taskFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTask adds a task; its ID and times are filled in. A name the
// registry has already is ErrConflict.
func (tx *Tx) CreateTask(ctx context.Context, t *Task) error {
	t.CreatedAt, t.UpdatedAt = tx.now.UTC(), tx.now.UTC()
	if t.TimersCheckedAt.IsZero() {
		t.TimersCheckedAt = t.CreatedAt
	}
	if len(t.BaseImages) == 0 {
		t.BaseImages = []byte("[]")
	}
	err := tx.c.queryRow(ctx, `INSERT INTO tasks (registry_id, name, task_id, spec, secrets, system_principal_id,
		timers_checked_at, base_images, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		t.RegistryID, t.Name, t.TaskID, string(t.Spec), t.Secrets, t.SystemPrincipalID,
		nanos(t.TimersCheckedAt), string(t.BaseImages), nanos(t.CreatedAt), nanos(t.UpdatedAt)).Scan(&t.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrConflict
	}
	return err
}

// UpdateTask writes a task's spec, secrets and system identity. When its
// timers changed, resetTimers starts them afresh from now.
func (tx *Tx) UpdateTask(ctx context.Context, t *Task, resetTimers bool) error {
	t.UpdatedAt = tx.now.UTC()
	q := `UPDATE tasks SET spec = ?, secrets = ?, system_principal_id = ?, updated_at = ?`
	args := []any{string(t.Spec), t.Secrets, t.SystemPrincipalID, nanos(t.UpdatedAt)}
	if resetTimers {
		t.TimersCheckedAt = t.UpdatedAt
		q += `, timers_checked_at = ?`
		args = append(args, nanos(t.TimersCheckedAt))
	}
	res, err := tx.c.exec(ctx, q+` WHERE id = ?`, append(args, t.ID)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteTask removes a task.
func (tx *Tx) DeleteTask(ctx context.Context, id int64) error {
	res, err := tx.c.exec(ctx, `DELETE FROM tasks WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ClaimTimers moves a task's timers-checked time from was to now, and
// reports whether this caller did it: of several replicas looking at the
// same task at once, one claims the slots and fires them.
func (tx *Tx) ClaimTimers(ctx context.Context, id int64, was, now time.Time) (bool, error) {
	res, err := tx.c.exec(ctx, `UPDATE tasks SET timers_checked_at = ? WHERE id = ? AND timers_checked_at = ?`,
		nanos(now), id, nanos(was))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetTaskBaseImages records the base images of a task's last successful
// run.
func (tx *Tx) SetTaskBaseImages(ctx context.Context, id int64, bases []byte) error {
	_, err := tx.c.exec(ctx, `UPDATE tasks SET base_images = ? WHERE id = ?`, string(bases), id)
	return err
}

// LastTaskRun is the newest run of a registry's task with status.
func (q reads) LastTaskRun(ctx context.Context, registryID int64, task, status string) (Run, error) {
	u, err := scanRun(q.c.queryRow(ctx, `SELECT `+runCols+runFrom+` WHERE u.registry_id = ? AND u.task_name = ? AND u.status = ?
		ORDER BY u.seq DESC LIMIT 1`, registryID, task, status))
	return u, notFound(err)
}
