package tasks_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/identity"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/blob"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/tasks"
)

// env is the tasks service on a real SQLite store, the real identity
// service and the real run queue, with one registry.
type env struct {
	t    *testing.T
	db   *meta.DB
	ids  *identity.Service
	runs *runs.Service
	svc  *tasks.Service
	reg  meta.Registry
	// base is what the base-image trigger sees of base/busybox:1.
	base string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.OpenSQLite(t.Context(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := identity.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, ids: identity.NewService(db, seal, time.Second)}
	e.runs = runs.New(runs.Options{Store: db, Blobs: blobs, Sealer: seal, Pools: []runs.Pool{{Name: "local", Location: "local"}}})
	t.Cleanup(e.runs.Close)
	e.svc = tasks.New(tasks.Options{Store: db, Identities: e.ids, Runs: e.runs, Sealer: seal})
	e.reg = meta.Registry{Name: "blogbuildtest", Location: "local", LoginServer: "127.0.3.1:5000"}
	if err := db.Update(t.Context(), func(tx *meta.Tx) error { return tx.CreateRegistry(t.Context(), &e.reg) }); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) create(name string, in tasks.Create) tasks.Task {
	e.t.Helper()
	t, err := e.svc.Create(e.t.Context(), e.reg, name, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) runsOf(task string) []meta.Run {
	e.t.Helper()
	all, err := e.db.Runs(e.t.Context(), e.reg.ID, meta.RunFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []meta.Run
	for _, r := range all {
		if r.TaskName == task {
			out = append(out, r)
		}
	}
	return out
}

const purgeCmd = "berth purge --filter 'hello-world:.*' --untagged --ago 1d --dry-run"

func TestSystemIdentityLivesWithTheTask(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	task := e.create("mypurgetask", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"}},
		Identities: []string{"[system]"}})
	if task.System == nil || task.System.Owner != task.TaskID {
		t.Fatalf("the task has no system-assigned identity owned by it: %+v", task.System)
	}
	if _, err := e.ids.Principal(ctx, task.System.ID); err != nil {
		t.Fatalf("its identity is not a principal: %v", err)
	}
	if err := e.svc.Delete(ctx, e.reg, "mypurgetask"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.Principal(ctx, task.System.ID); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("the deleted task's identity: %v, want it gone", err)
	}
}

func TestDeleteAllTakesTheIdentities(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for _, name := range []string{"firsttask", "secondtask"} {
		task := e.create(name, tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"}},
			Identities: []string{"[system]"}})
		ids = append(ids, task.System.ID)
	}
	if err := e.svc.DeleteAll(t.Context(), e.reg); err != nil {
		t.Fatal(err)
	}
	if ts, err := e.svc.List(t.Context(), e.reg); err != nil || len(ts) != 0 {
		t.Errorf("after DeleteAll: %d tasks, %v", len(ts), err)
	}
	for _, id := range ids {
		if _, err := e.ids.Principal(t.Context(), id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("identity %s: %v, want it gone", id, err)
		}
	}
}

func TestBadTasks(t *testing.T) {
	e := newEnv(t)
	ok := tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"}}
	for _, tc := range []struct {
		name, task string
		mutate     func(*tasks.Create)
		want       string
	}{
		{"short name", "abc", nil, "5 to 50"},
		{"no step", "nostep", func(c *tasks.Create) { c.Spec.Step.Cmd = "" }, "exactly one of"},
		{"two steps", "twosteps", func(c *tasks.Create) { c.Spec.Step.TaskFile = "version: v1.1.0" }, "exactly one of"},
		{"bad timer name", "badtimer", func(c *tasks.Create) {
			c.Spec.Timers = []tasks.Timer{{Name: "no spaces", Schedule: "@daily", Enabled: true}}
		}, `name "no spaces"`},
		{"bad cron", "badcron", func(c *tasks.Create) { c.Spec.Timers = []tasks.Timer{{Schedule: "0 25 * * *", Enabled: true}} }, "hour: 25 is out of range"},
		{"bad auth mode", "badauth", func(c *tasks.Create) { c.Spec.AuthMode = "Sometimes" }, "authMode"},
		{"bad context", "badcontext", func(c *tasks.Create) { c.Spec.Step.ContextPath = "ftp://x" }, "context"},
		{"system credential without identity", "nosystem", func(c *tasks.Create) {
			c.Spec.Credentials = map[string]tasks.Credential{"127.0.3.1:5000": {Identity: "[system]"}}
		}, "no system-assigned identity"},
		{"unknown identity", "unknownid", func(c *tasks.Create) { c.Identities = []string{"nobody"} }, "no such user-assigned identity"},
		{"password without user", "nouser", func(c *tasks.Create) {
			c.Spec.Credentials = map[string]tasks.Credential{"127.0.3.1:5000": {}}
		}, "give --use-identity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tasks.Create{Spec: ok}
			if tc.mutate != nil {
				tc.mutate(&in)
			}
			_, err := e.svc.Create(t.Context(), e.reg, tc.task, in)
			if !errors.Is(err, tasks.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create: %v, want ErrInvalid saying %q", err, tc.want)
			}
			if _, err := e.svc.Get(t.Context(), e.reg, tc.task); !errors.Is(err, tasks.ErrNotFound) {
				t.Errorf("a refused task was stored: %v", err)
			}
		})
	}
	// A task file with an error is refused when a run is asked for,
	// naming the step and the key, and nothing is queued.
	e.create("badfile", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{TaskFile: "version: v1.1.0\nsteps:\n  - cmd: busybox echo hi\n    build: -t x .\n", ContextPath: "/dev/null"}}})
	_, err := e.svc.Run(t.Context(), e.reg, "badfile", tasks.RunRequest{})
	if !errors.Is(err, tasks.ErrInvalid) || !strings.Contains(err.Error(), "steps[0]") {
		t.Errorf("Run of a bad task file: %v, want an error naming steps[0]", err)
	}
	if rs := e.runsOf("badfile"); len(rs) != 0 {
		t.Errorf("a refused run was queued: %+v", rs)
	}
}

func TestSecretsAreNeverShown(t *testing.T) {
	e := newEnv(t)
	task := e.create("secrettask", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"},
		Credentials: map[string]tasks.Credential{"other.example:5000": {UserName: "me"}}},
		SecretValues: map[string]string{"token": "s3cr3t-value"}, Passwords: map[string]string{"other.example:5000": "pa55word"}})
	if strings.Contains(string(task.Spec.Step.Values["token"]), "s3cr3t") || string(task.Secrets) == "" {
		t.Fatal("the secret value is not sealed apart")
	}
	if bytes.Contains(task.Task.Spec, []byte("s3cr3t-value")) || bytes.Contains(task.Task.Spec, []byte("pa55word")) ||
		bytes.Contains(task.Task.Secrets, []byte("s3cr3t-value")) {
		t.Error("a secret is stored in the clear")
	}
	if !task.Spec.Credentials["other.example:5000"].HasPassword || strings.Join(task.Spec.Step.SecretValueNames, ",") != "token" {
		t.Errorf("the task does not say what secrets it has: %+v", task.Spec)
	}
	run, err := e.svc.Run(t.Context(), e.reg, "secrettask", tasks.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(run.Request, []byte("s3cr3t-value")) || bytes.Contains(run.Request, []byte("pa55word")) {
		t.Errorf("the run's request holds a secret: %s", run.Request)
	}
	l, err := e.runs.Lease(t.Context(), "local", "agent", time.Second)
	if err != nil || l == nil {
		t.Fatalf("lease: %v %v", l, err)
	}
	if l.StepsSecrets.Values["token"] != "s3cr3t-value" || l.StepsSecrets.Passwords["other.example:5000"] != "pa55word" {
		t.Errorf("the agent does not get the secrets: %+v", l.StepsSecrets)
	}
}

func TestTimerTrigger(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	// Created on Wednesday 2026-12-02 11:00 UTC.
	created := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	e.db.SetClock(func() time.Time { return created })
	e.create("mypurgetask", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"},
		Timers: []tasks.Timer{{Schedule: "0 1 * * Sun", Enabled: true}, {Name: "off", Schedule: "* * * * *"}}}})
	tr := e.svc.Triggers(func(context.Context, string, string, string) (string, error) { return "", nil })

	for _, step := range []struct {
		at   time.Time
		runs int
	}{
		{time.Date(2026, 12, 6, 0, 59, 0, 0, time.UTC), 0}, // Sunday, before 01:00
		{time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), 1},  // Sunday 01:00: fires
		{time.Date(2026, 12, 6, 1, 0, 30, 0, time.UTC), 1}, // the same slot again: not twice
		// The server was down for three weeks: the timer fires once on
		// its return, not once per missed Sunday.
		{time.Date(2026, 12, 30, 9, 0, 0, 0, time.UTC), 2},
	} {
		if err := tr.Tick(ctx, step.at); err != nil {
			t.Fatal(err)
		}
		rs := e.runsOf("mypurgetask")
		if len(rs) != step.runs {
			t.Fatalf("at %s: %d runs, want %d", step.at, len(rs), step.runs)
		}
		if len(rs) > 0 && (rs[0].Trigger != meta.TriggerTimer || rs[0].TriggeredBy != "t1" || rs[0].RunType != meta.RunTaskRun) {
			t.Errorf("at %s: the run is %s by %q (%s), want a TaskRun by the timer t1", step.at, rs[0].Trigger, rs[0].TriggeredBy, rs[0].RunType)
		}
	}
	// A second replica looking at the same slot fires nothing more.
	tr2 := e.svc.Triggers(func(context.Context, string, string, string) (string, error) { return "", nil })
	if err := tr2.Tick(ctx, time.Date(2026, 12, 30, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.runsOf("mypurgetask")); n != 2 {
		t.Errorf("a second replica fired the same slot: %d runs", n)
	}
	// The store lists a task's runs alone.
	if rs, err := e.db.Runs(ctx, e.reg.ID, meta.RunFilter{Task: "mypurgetask"}); err != nil || len(rs) != 2 {
		t.Errorf("the runs of mypurgetask: %d, %v", len(rs), err)
	}
	if rs, err := e.db.Runs(ctx, e.reg.ID, meta.RunFilter{Task: "othertask"}); err != nil || len(rs) != 0 {
		t.Errorf("the runs of othertask: %d, %v", len(rs), err)
	}
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e.db.SetClock(func() time.Time { return created })
	orig := e.create("updtask", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null",
		Values: map[string]string{"a": "1", "b": "2"}},
		Credentials: map[string]tasks.Credential{"one.example": {UserName: "u"}, "127.0.3.1:5000": {Identity: "[system]"}},
		Timers:      []tasks.Timer{{Schedule: "0 1 * * *", Enabled: true}}},
		Identities: []string{"[system]"}, SecretValues: map[string]string{"s": "x", "t": "y"}, Passwords: map[string]string{"one.example": "p"}})
	user, err := e.ids.CreateManagedIdentity(ctx, "builder")
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	later := created.Add(time.Hour)
	e.db.SetClock(func() time.Time { return later })
	got, err := e.svc.Update(ctx, e.reg, "updtask", tasks.Update{
		Values: map[string]string{"a": "10", "b": ""}, SecretValues: map[string]string{"t": ""},
		Credentials:      map[string]*tasks.Credential{"one.example": nil, "127.0.3.1:5000": {Identity: user.AppID}},
		AssignIdentities: []string{"builder"}, RemoveIdentities: []string{"[system]"},
		Timers: []tasks.Timer{{Name: "noon", Schedule: "0 12 * * *", Enabled: true}},
		Status: str(tasks.StatusDisabled),
	})
	if err != nil {
		t.Fatal(err)
	}
	sp := got.Spec
	if len(sp.Step.Values) != 1 || sp.Step.Values["a"] != "10" || strings.Join(sp.Step.SecretValueNames, ",") != "s" {
		t.Errorf("values %v, secret names %v; want a=10 and s", sp.Step.Values, sp.Step.SecretValueNames)
	}
	if _, ok := sp.Credentials["one.example"]; ok || sp.Credentials["127.0.3.1:5000"].Identity != user.AppID {
		t.Errorf("credentials %+v", sp.Credentials)
	}
	if got.System != nil || len(got.Users) != 1 || got.Users[0].ID != user.ID {
		t.Errorf("identities: system %v, users %+v; want only builder", got.System, got.Users)
	}
	if len(sp.Timers) != 1 || sp.Timers[0].Name != "noon" || !got.TimersCheckedAt.Equal(later) || sp.Status != tasks.StatusDisabled {
		t.Errorf("timers %+v checked at %s, status %s", sp.Timers, got.TimersCheckedAt, sp.Status)
	}
	// The removed system identity is gone; a refused update changes nothing.
	if _, err := e.ids.Principal(ctx, orig.System.ID); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("the removed system-assigned identity: %v, want it gone", err)
	}
	before, _ := e.svc.Get(ctx, e.reg, "updtask")
	if _, err := e.svc.Update(ctx, e.reg, "updtask", tasks.Update{Credentials: map[string]*tasks.Credential{
		"127.0.3.1:5000": {Identity: "[system]"}}}); !errors.Is(err, tasks.ErrInvalid) {
		t.Errorf("a [system] credential without the identity: %v", err)
	}
	after, _ := e.svc.Get(ctx, e.reg, "updtask")
	if !bytes.Equal(before.Task.Spec, after.Task.Spec) {
		t.Errorf("a refused update changed the task:\n%s\n%s", before.Task.Spec, after.Task.Spec)
	}
}

func TestSweepIdentities(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	made := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	e.db.SetClock(func() time.Time { return made })
	task := e.create("kepttask", tasks.Create{Spec: tasks.Spec{Step: tasks.Step{Cmd: purgeCmd, ContextPath: "/dev/null"}},
		Identities: []string{"[system]"}})
	// The identity of a task whose creation never finished.
	orphan, err := e.ids.CreateSystemIdentity(ctx, "a-task-never-stored")
	if err != nil {
		t.Fatal(err)
	}
	user, err := e.ids.CreateManagedIdentity(ctx, "builder")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SweepIdentities(ctx, made.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.Principal(ctx, orphan.ID); err != nil {
		t.Errorf("a young orphan was swept (its task may be being made): %v", err)
	}
	if err := e.svc.SweepIdentities(ctx, made.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.Principal(ctx, orphan.ID); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("the orphan: %v, want it swept", err)
	}
	for _, p := range []string{task.System.ID, user.ID} {
		if _, err := e.ids.Principal(ctx, p); err != nil {
			t.Errorf("identity %s was swept: %v", p, err)
		}
	}
}
