// Package tasks owns a registry's stored tasks: their spec (what they run,
// from which context, on which platform and pool), their managed
// identities (a system-assigned one made and deleted with the task,
// user-assigned ones attached by id), the credentials their runs log in
// with, and their triggers (manual, timer, base-image update). Running a
// task, or a quick run of a task file or command, queues a run with
// package runs; agents execute it.
//
// It knows no HTTP (package mgmt serves it) and decides no rights: its
// caller checks them.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Errors a caller maps to answers; the messages that wrap them say the rest.
var (
	ErrInvalid  = errors.New("invalid task")
	ErrNotFound = errors.New("task not found")
	ErrExists   = errors.New("task exists")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Sealer encrypts secrets at rest (identity.Sealer).
type Sealer interface {
	Seal(p []byte, label string) []byte
	Open(sealed []byte, label string) ([]byte, error)
}

// Identities makes, finds and deletes managed identities (identity.Service).
type Identities interface {
	CreateSystemIdentity(ctx context.Context, owner string) (meta.Principal, error)
	ManagedIdentity(ctx context.Context, ref string) (meta.Principal, error)
	Principal(ctx context.Context, id string) (meta.Principal, error)
	DeletePrincipal(ctx context.Context, p meta.Principal) error
	Principals(ctx context.Context, kind string) ([]meta.Principal, error)
}

// Queue queues runs (runs.Service).
type Queue interface {
	QueueSteps(ctx context.Context, reg meta.Registry, q runs.StepsRun) (meta.Run, error)
}

// Options configure a Service.
type Options struct {
	Store      *meta.DB
	Identities Identities
	Runs       Queue
	Sealer     Sealer
	Log        *slog.Logger
	Now        func() time.Time
}

// Service manages tasks.
type Service struct {
	db   *meta.DB
	ids  Identities
	runs Queue
	seal Sealer
	log  *slog.Logger
	now  func() time.Time
}

// New returns the service.
func New(o Options) *Service {
	s := &Service{db: o.Store, ids: o.Identities, runs: o.Runs, seal: o.Sealer, log: o.Log, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Spec is a task as stored (no secret in it).
type Spec struct {
	Status           string                `json:"status"`
	Platform         string                `json:"platform"`
	AgentPool        string                `json:"agentPool,omitempty"`
	Timeout          int                   `json:"timeout"`
	Step             Step                  `json:"step"`
	BaseImageTrigger bool                  `json:"baseImageTrigger"`
	Timers           []Timer               `json:"timers,omitempty"`
	Credentials      map[string]Credential `json:"credentials,omitempty"`
	AuthMode         string                `json:"authMode"`
	// UserAssigned are the principal ids of its user-assigned identities.
	UserAssigned []string `json:"userAssigned,omitempty"`
	// CreatedBy is the principal that made the task: triggered runs act
	// with its rights.
	CreatedBy string `json:"createdBy"`
}

// Step is what a task runs.
type Step struct {
	Type             string            `json:"type"` // FileTask, Cmd or Docker
	ContextPath      string            `json:"contextPath,omitempty"`
	ContextID        string            `json:"contextId,omitempty"`
	TaskFile         string            `json:"taskFile,omitempty"`
	TaskFilePath     string            `json:"taskFilePath,omitempty"`
	Cmd              string            `json:"cmd,omitempty"`
	ImageNames       []string          `json:"imageNames,omitempty"`
	DockerFilePath   string            `json:"dockerFilePath,omitempty"`
	Values           map[string]string `json:"values,omitempty"`
	SecretValueNames []string          `json:"secretValueNames,omitempty"`
}

// Step types.
const (
	StepFile   = "FileTask"
	StepCmd    = "Cmd"
	StepDocker = "Docker"
)

// Timer is a timer trigger.
type Timer struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	Enabled  bool   `json:"enabled"`
}

// Credential is how runs log in to one registry (password sealed apart).
type Credential struct {
	Identity    string `json:"identity,omitempty"`
	UserName    string `json:"userName,omitempty"`
	HasPassword bool   `json:"hasPassword,omitempty"`
}

// secrets are a task's sealed part.
type secrets struct {
	Values    map[string]string `json:"values,omitempty"`
	Passwords map[string]string `json:"passwords,omitempty"`
}

// Task is a task as the service hands it out.
type Task struct {
	meta.Task
	Spec Spec
	// System is its system-assigned identity; Users its user-assigned ones.
	System *meta.Principal
	Users  []meta.Principal
}

// Statuses of a task.
const (
	StatusEnabled  = "Enabled"
	StatusDisabled = "Disabled"
)

var (
	taskName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{4,49}$`)
	timerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$`)
)

// DefaultTimeout is a task run's timeout, in seconds.
const DefaultTimeout = 3600

func (s *Service) load(ctx context.Context, t meta.Task) (Task, error) {
	out, err := decode(t)
	if err != nil {
		return out, err
	}
	s.readIdentities(ctx, &out)
	return out, nil
}

// decode reads t's stored spec, leaving its identities unread.
func decode(t meta.Task) (Task, error) {
	out := Task{Task: t}
	if err := json.Unmarshal(t.Spec, &out.Spec); err != nil {
		return out, fmt.Errorf("task %s of registry %s: stored spec: %w", t.Name, t.Registry, err)
	}
	return out, nil
}

// readIdentities reads the identities of a decoded task.
func (s *Service) readIdentities(ctx context.Context, t *Task) {
	if t.SystemPrincipalID != "" {
		if p, err := s.ids.Principal(ctx, t.SystemPrincipalID); err == nil {
			t.System = &p
		}
	}
	for _, id := range t.Spec.UserAssigned {
		if p, err := s.ids.Principal(ctx, id); err == nil {
			t.Users = append(t.Users, p)
		}
	}
}

func (s *Service) secretsOf(t meta.Task) (secrets, error) {
	var sec secrets
	if len(t.Secrets) == 0 {
		return sec, nil
	}
	b, err := s.seal.Open(t.Secrets, secretsLabel(t.RegistryID))
	if err != nil {
		return sec, fmt.Errorf("task %s: its secrets do not open with this server's master key: %w", t.Name, err)
	}
	return sec, json.Unmarshal(b, &sec)
}

func (s *Service) sealSecrets(t *meta.Task, sec secrets) error {
	if len(sec.Values) == 0 && len(sec.Passwords) == 0 {
		t.Secrets = nil
		return nil
	}
	b, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	t.Secrets = s.seal.Seal(b, secretsLabel(t.RegistryID))
	return nil
}

func secretsLabel(registryID int64) string { return fmt.Sprintf("task-secrets/%d", registryID) }

// Get returns task name of reg.
func (s *Service) Get(ctx context.Context, reg meta.Registry, name string) (Task, error) {
	t, err := s.db.Task(ctx, reg.ID, name)
	if errors.Is(err, meta.ErrNotFound) {
		return Task{}, fmt.Errorf("%w: registry %q has no task %q", ErrNotFound, reg.Name, name)
	} else if err != nil {
		return Task{}, err
	}
	return s.load(ctx, t)
}

// List returns the tasks of reg.
func (s *Service) List(ctx context.Context, reg meta.Registry) ([]Task, error) {
	ts, err := s.db.Tasks(ctx, reg.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Task, 0, len(ts))
	for _, t := range ts {
		lt, err := s.load(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, lt)
	}
	return out, nil
}

// Delete deletes task name of reg and its system-assigned identity (with
// its role assignments).
func (s *Service) Delete(ctx context.Context, reg meta.Registry, name string) error {
	t, err := s.Get(ctx, reg, name)
	if err != nil {
		return err
	}
	if err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.DeleteTask(ctx, t.ID) }); err != nil {
		return err
	}
	if t.System != nil {
		if err := s.ids.DeletePrincipal(ctx, *t.System); err != nil {
			s.log.WarnContext(ctx, "a deleted task's system-assigned identity was not deleted", "task", name, "principal", t.System.ID, "err", err)
		}
	}
	s.log.InfoContext(ctx, "task deleted", "registry", reg.Name, "task", name)
	return nil
}

// orphanAge is how old a system-assigned identity without its task must
// be to be swept: younger, its task may be being created right now.
const orphanAge = 10 * time.Minute

// SweepIdentities deletes the system-assigned identities whose task does
// not exist: the task's creation failed, or the server stopped, between
// making the identity and storing the task.
func (s *Service) SweepIdentities(ctx context.Context, now time.Time) error {
	ps, err := s.ids.Principals(ctx, meta.KindManagedIdentity)
	if err != nil {
		return err
	}
	ts, err := s.db.AllTasks(ctx)
	if err != nil {
		return err
	}
	owners := map[string]bool{}
	for _, t := range ts {
		owners[t.TaskID] = true
	}
	var errs []error
	for _, p := range ps {
		if p.Owner == "" || owners[p.Owner] || now.Sub(p.CreatedAt) < orphanAge {
			continue
		}
		if err := s.ids.DeletePrincipal(ctx, p); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.InfoContext(ctx, "orphaned task identity deleted", "principal", p.ID, "owner", p.Owner)
	}
	return errors.Join(errs...)
}

// DeleteAll deletes every task of reg with its system-assigned identity,
// before reg itself is deleted.
func (s *Service) DeleteAll(ctx context.Context, reg meta.Registry) error {
	ts, err := s.db.Tasks(ctx, reg.ID)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		if err := s.Delete(ctx, reg, t.Name); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
