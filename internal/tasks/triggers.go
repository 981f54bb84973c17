package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"time"

	"github.com/berth-project/berth/internal/cron"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Resolver finds the digest a tag of a registry of this server names now,
// by the registry's login server ("" when none of this server's
// registries is served there, or the tag does not exist).
type Resolver func(ctx context.Context, loginServer, repo, tag string) (string, error)

// Triggers fires timer and base-image triggers. Every replica may run one:
// they agree through the store, so a slot fires once.
type Triggers struct {
	s       *Service
	resolve Resolver
}

// Triggers returns the trigger loop of s; resolve finds base images.
func (s *Service) Triggers(resolve Resolver) *Triggers {
	return &Triggers{s: s, resolve: resolve}
}

// sweepEvery is how often Run deletes the identities of tasks that were
// never stored.
const sweepEvery = time.Hour

// Run looks at every task every interval until ctx ends; at its start and
// every hour it also sweeps orphaned system-assigned identities.
func (tr *Triggers) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var swept time.Time
	for {
		if now := tr.s.now(); now.Sub(swept) >= sweepEvery {
			swept = now
			if err := tr.s.SweepIdentities(ctx, now); err != nil && ctx.Err() == nil {
				tr.s.log.WarnContext(ctx, "sweeping task identities failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := tr.Tick(ctx, tr.s.now()); err != nil && ctx.Err() == nil {
			tr.s.log.WarnContext(ctx, "task triggers failed", "err", err)
		}
	}
}

// Tick fires what is due at now: each enabled timer with a slot between
// the last look and now fires once (a server down for a week fires each
// timer once on its return, not once per missed slot), and each task
// whose base image was pushed anew since its last successful run runs.
func (tr *Triggers) Tick(ctx context.Context, now time.Time) error {
	ts, err := tr.s.db.AllTasks(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, mt := range ts {
		// The spec alone says whether anything is due; the identities
		// are read only for a task that runs.
		t, err := decode(mt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Spec.Status == StatusDisabled {
			continue
		}
		if err := tr.timers(ctx, t, now); err != nil {
			errs = append(errs, err)
		}
		if t.Spec.BaseImageTrigger {
			if err := tr.baseImages(ctx, t); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (tr *Triggers) timers(ctx context.Context, t Task, now time.Time) error {
	var due []string
	for _, tm := range t.Spec.Timers {
		if !tm.Enabled {
			continue
		}
		sched, err := cron.Parse(tm.Schedule)
		if err != nil {
			continue // checked when stored
		}
		if _, ok := cron.Due(sched, t.TimersCheckedAt, now); ok {
			due = append(due, tm.Name)
		}
	}
	if len(due) == 0 {
		return nil
	}
	var claimed bool
	err := tr.s.db.Update(ctx, func(tx *meta.Tx) error {
		var err error
		claimed, err = tx.ClaimTimers(ctx, t.ID, t.TimersCheckedAt, now)
		return err
	})
	if err != nil || !claimed {
		return err
	}
	reg, err := tr.s.db.Registry(ctx, t.Registry)
	if err != nil {
		return err
	}
	tr.s.readIdentities(ctx, &t)
	var errs []error
	for _, name := range due {
		run, err := tr.s.runTask(ctx, reg, t, RunRequest{Trigger: meta.TriggerTimer, TriggeredBy: name})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tr.s.log.InfoContext(ctx, "timer trigger fired", "registry", reg.Name, "task", t.Name, "timer", name, "run_id", run.RunID)
	}
	return errors.Join(errs...)
}

// runKey keys, in a task's base images, the run they were taken from.
const runKey = "@run"

// baseImage is a base image a task's last successful run was built on.
type baseImage struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
}

// baseImages runs t when one of the base images of its last successful
// run, on this server, names another digest now. The digests it ran for
// are kept in the task, so that one push runs it once.
func (tr *Triggers) baseImages(ctx context.Context, t Task) error {
	last, err := tr.s.db.LastTaskRun(ctx, t.RegistryID, t.Name, meta.RunSucceeded)
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	var deps []struct {
		Runtime []baseImage `json:"runtimeDependency"`
	}
	if len(last.Dependencies) == 0 || json.Unmarshal(last.Dependencies, &deps) != nil {
		return nil
	}
	// seen holds, per base image, the digest the task is built on or was
	// last run for, and under runKey the run that set the baseline: a
	// newer successful run (by hand, say) sets it anew.
	seen := map[string]string{}
	if len(t.BaseImages) > 0 {
		json.Unmarshal(t.BaseImages, &seen) // an old "[]" leaves it empty
	}
	next := map[string]string{runKey: last.RunID}
	fresh := seen[runKey] != last.RunID
	var pushed string
	for _, d := range deps {
		for _, b := range d.Runtime {
			if b.Tag == "" {
				continue // pinned by digest: never changes
			}
			ref := b.Registry + "/" + b.Repository + ":" + b.Tag
			known := seen[ref]
			if fresh || known == "" {
				known = b.Digest
			}
			next[ref] = known
			now, err := tr.resolve(ctx, b.Registry, b.Repository, b.Tag)
			if err != nil || now == "" || now == known {
				continue
			}
			next[ref] = now
			if pushed == "" {
				pushed = ref + "@" + now
			}
		}
	}
	if maps.Equal(seen, next) {
		return nil
	}
	wrote, err := tr.recordBases(ctx, t, next)
	if err != nil || !wrote || pushed == "" {
		return err
	}
	reg, err := tr.s.db.Registry(ctx, t.Registry)
	if err != nil {
		return err
	}
	tr.s.readIdentities(ctx, &t)
	run, err := tr.s.runTask(ctx, reg, t, RunRequest{Trigger: meta.TriggerBaseImage, TriggeredBy: pushed})
	if err != nil {
		return err
	}
	tr.s.log.InfoContext(ctx, "base image trigger fired", "registry", reg.Name, "task", t.Name, "base", pushed, "run_id", run.RunID)
	return nil
}

// recordBases stores what the task last saw of its bases and reports
// whether it did: not when another replica changed them meanwhile (that
// one fired the trigger).
func (tr *Triggers) recordBases(ctx context.Context, t Task, m map[string]string) (bool, error) {
	b, err := json.Marshal(m) // map keys marshal sorted
	if err != nil {
		return false, err
	}
	wrote := false
	err = tr.s.db.Update(ctx, func(tx *meta.Tx) error {
		cur, err := tx.Task(ctx, t.RegistryID, t.Name)
		if err != nil || !bytes.Equal(cur.BaseImages, t.BaseImages) {
			return err
		}
		wrote = true
		return tx.SetTaskBaseImages(ctx, t.ID, b)
	})
	return wrote, err
}
