package tasks

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Update is a change of a task: nil fields stay. Values and SecretValues
// merge key by key (an empty value deletes a key); Credentials merge by
// login server (nil deletes one); Timers, when not nil, replace them all.
type Update struct {
	Platform, AgentPool, Status, AuthMode       *string
	Timeout                                     *int
	ContextPath, ContextID                      *string
	TaskFile, TaskFilePath, Cmd, DockerFilePath *string
	ImageNames                                  []string
	Values, SecretValues                        map[string]string
	BaseImageTrigger                            *bool
	Timers                                      []Timer
	Credentials                                 map[string]*Credential
	Passwords                                   map[string]string
	AssignIdentities, RemoveIdentities          []string
}

// Update changes task name of reg.
func (s *Service) Update(ctx context.Context, reg meta.Registry, name string, in Update) (Task, error) {
	t, err := s.Get(ctx, reg, name)
	if err != nil {
		return Task{}, err
	}
	sec, err := s.secretsOf(t.Task)
	if err != nil {
		return Task{}, err
	}
	sp := t.Spec
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&sp.Platform, in.Platform)
	set(&sp.AgentPool, in.AgentPool)
	set(&sp.Status, in.Status)
	set(&sp.AuthMode, in.AuthMode)
	if in.Timeout != nil {
		sp.Timeout = *in.Timeout
	}
	if in.ContextPath != nil || in.ContextID != nil {
		sp.Step.ContextPath, sp.Step.ContextID = "", ""
	}
	set(&sp.Step.ContextPath, in.ContextPath)
	set(&sp.Step.ContextID, in.ContextID)
	// A new step kind replaces the old one.
	if in.TaskFile != nil || in.Cmd != nil || in.ImageNames != nil {
		sp.Step.TaskFile, sp.Step.TaskFilePath, sp.Step.Cmd, sp.Step.ImageNames = "", "", "", nil
	}
	set(&sp.Step.TaskFile, in.TaskFile)
	set(&sp.Step.TaskFilePath, in.TaskFilePath)
	set(&sp.Step.Cmd, in.Cmd)
	set(&sp.Step.DockerFilePath, in.DockerFilePath)
	if in.ImageNames != nil {
		sp.Step.ImageNames = in.ImageNames
	}
	sp.Step.Values = merge(sp.Step.Values, in.Values)
	sec.Values = merge(sec.Values, in.SecretValues)
	sp.Step.SecretValueNames = sortedKeys(sec.Values)
	if in.BaseImageTrigger != nil {
		sp.BaseImageTrigger = *in.BaseImageTrigger
	}
	resetTimers := in.Timers != nil
	if resetTimers {
		sp.Timers = in.Timers
	}
	for server, c := range in.Credentials {
		if sp.Credentials == nil {
			sp.Credentials = map[string]Credential{}
		}
		if sec.Passwords == nil {
			sec.Passwords = map[string]string{}
		}
		if c == nil {
			delete(sp.Credentials, server)
			delete(sec.Passwords, server)
			continue
		}
		sp.Credentials[server] = *c
		delete(sec.Passwords, server)
		if p := in.Passwords[server]; p != "" {
			sec.Passwords[server] = p
		}
	}
	markPasswords(&sp, sec)

	// Identities: a system-assigned one is made now and deleted after
	// the task is written; user-assigned ones attach by id.
	hasSystem := t.SystemPrincipalID != ""
	addSystem, addUsers, err := s.resolveIdentities(ctx, in.AssignIdentities)
	if err != nil {
		return Task{}, err
	}
	removeSystem, removeUsers, err := s.resolveIdentities(ctx, in.RemoveIdentities)
	if err != nil {
		return Task{}, err
	}
	users := slices.Clone(t.Users)
	for _, u := range addUsers {
		if !slices.ContainsFunc(users, func(p meta.Principal) bool { return p.ID == u.ID }) {
			users = append(users, u)
		}
	}
	users = slices.DeleteFunc(users, func(p meta.Principal) bool {
		return slices.ContainsFunc(removeUsers, func(r meta.Principal) bool { return r.ID == p.ID })
	})
	sp.UserAssigned = principalIDs(users)
	system := (hasSystem || addSystem) && !removeSystem
	if err := checkSpec(&sp, sec, system, users); err != nil {
		return Task{}, err
	}
	mt := t.Task
	if err := s.sealSecrets(&mt, sec); err != nil {
		return Task{}, err
	}
	var madeSystem, dropSystem string
	switch {
	case system && !hasSystem:
		p, err := s.ids.CreateSystemIdentity(ctx, mt.TaskID)
		if err != nil {
			return Task{}, err
		}
		madeSystem, mt.SystemPrincipalID = p.ID, p.ID
	case !system && hasSystem:
		dropSystem, mt.SystemPrincipalID = mt.SystemPrincipalID, ""
	}
	if mt.Spec, err = json.Marshal(sp); err != nil {
		return Task{}, err
	}
	if err := s.db.Update(ctx, func(tx *meta.Tx) error { return tx.UpdateTask(ctx, &mt, resetTimers) }); err != nil {
		s.dropSystem(ctx, madeSystem)
		return Task{}, err
	}
	s.dropSystem(ctx, dropSystem)
	s.log.InfoContext(ctx, "task updated", "registry", reg.Name, "task", name)
	return s.load(ctx, mt)
}

func merge(base, in map[string]string) map[string]string {
	if len(in) == 0 {
		return base
	}
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range in {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// identitiesOf are the identities a run of t may get tokens for, by the
// name a credential gives them: "[system]" and clientIds.
func identitiesOf(t Task) map[string]string {
	out := map[string]string{}
	if t.System != nil {
		out[runs.SystemIdentity] = t.System.ID
	}
	for _, u := range t.Users {
		out[u.AppID] = u.ID
	}
	return out
}
