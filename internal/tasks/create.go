package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-project/berth/internal/cron"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Creating a task: the checks of a spec, which an update shares, and the
// identities a task is given.

// checkSpec validates what a create or an update leaves.
func checkSpec(sp *Spec, sec secrets, hasSystem bool, users []meta.Principal) error {
	switch sp.Status {
	case "":
		sp.Status = StatusEnabled
	case StatusEnabled, StatusDisabled:
	default:
		return invalid("status %q: want Enabled or Disabled", sp.Status)
	}
	switch sp.AuthMode {
	case "":
		sp.AuthMode = runs.AuthDefault
	case runs.AuthDefault, runs.AuthNone:
	default:
		return invalid("authMode %q: want Default or None", sp.AuthMode)
	}
	if sp.Platform == "" {
		sp.Platform = "linux/amd64"
	}
	if sp.Timeout == 0 {
		sp.Timeout = DefaultTimeout
	}
	if sp.Timeout < 1 || sp.Timeout > runs.MaxTimeout {
		return invalid("timeout %d: give 1 to %d seconds", sp.Timeout, runs.MaxTimeout)
	}
	st := &sp.Step
	kinds := btoi(st.TaskFile != "") + btoi(st.Cmd != "") + btoi(len(st.ImageNames) > 0)
	if kinds != 1 {
		return invalid("step: give exactly one of a task file (-f), a command (--cmd) or image names (-t)")
	}
	switch {
	case st.TaskFile != "":
		st.Type = StepFile
	case st.Cmd != "":
		st.Type = StepCmd
	default:
		st.Type = StepDocker
		if st.DockerFilePath == "" {
			st.DockerFilePath = "Dockerfile"
		}
	}
	if err := checkContext(st.ContextPath, st.ContextID); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range sp.Timers {
		tm := &sp.Timers[i]
		if tm.Name == "" {
			tm.Name = fmt.Sprintf("t%d", i+1)
		}
		if !timerName.MatchString(tm.Name) {
			return invalid("timerTriggers: name %q: 1 to 50 letters, digits, '-' or '_', starting with a letter or digit", tm.Name)
		}
		if names[tm.Name] {
			return invalid("timerTriggers: the name %q is given twice", tm.Name)
		}
		names[tm.Name] = true
		if _, err := cron.Parse(tm.Schedule); err != nil {
			return invalid("timerTriggers[%s]: %v", tm.Name, err)
		}
	}
	for server, c := range sp.Credentials {
		if server == "" || strings.ContainsAny(server, "/ ") {
			return invalid("credentials: %q is not a login server (host[:port])", server)
		}
		switch {
		case c.Identity != "" && (c.UserName != "" || sec.Passwords[server] != ""):
			return invalid("credentials[%s]: give an identity or a user name and password, not both", server)
		case c.Identity == runs.SystemIdentity:
			if !hasSystem {
				return invalid("credentials[%s]: the task has no system-assigned identity: assign one with --assign-identity [system]", server)
			}
		case c.Identity != "":
			if !slices.ContainsFunc(users, func(p meta.Principal) bool { return p.AppID == c.Identity || p.ID == c.Identity }) {
				return invalid("credentials[%s]: identity %q is not a user-assigned identity of the task: give its clientId after assigning it", server, c.Identity)
			}
		case c.UserName == "" || sec.Passwords[server] == "":
			return invalid("credentials[%s]: give --use-identity, or a user name and a password", server)
		}
	}
	return nil
}

// checkContext checks a context path: /dev/null, a git URL or oci://….
func checkContext(path, id string) error {
	if path != "" && id != "" {
		return invalid("context: give an uploaded context or a context path, not both")
	}
	switch {
	case path == "", path == "/dev/null":
	case strings.HasPrefix(path, "oci://"):
	case strings.HasPrefix(path, "https://"), strings.HasPrefix(path, "http://"):
	default:
		return invalid("context %q: give /dev/null, a git URL (https://…/repo.git#ref:folder), oci://<loginServer>/<repo>:<tag>, or upload a local directory", path)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Create is a request to create a task.
type Create struct {
	Spec         Spec
	Identities   []string // "[system]" and user-assigned identity refs
	SecretValues map[string]string
	Passwords    map[string]string // by login server
}

// Create creates task name of reg.
func (s *Service) Create(ctx context.Context, reg meta.Registry, name string, in Create) (Task, error) {
	if !taskName.MatchString(name) {
		return Task{}, invalid("name %q: 5 to 50 letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	if _, err := s.db.Task(ctx, reg.ID, name); err == nil {
		return Task{}, fmt.Errorf("%w: registry %q has a task %q already", ErrExists, reg.Name, name)
	}
	sp := in.Spec
	sec := secrets{Values: nonEmpty(in.SecretValues), Passwords: nonEmpty(in.Passwords)}
	system, users, err := s.resolveIdentities(ctx, in.Identities)
	if err != nil {
		return Task{}, err
	}
	sp.UserAssigned = principalIDs(users)
	sp.Step.SecretValueNames = sortedKeys(sec.Values)
	markPasswords(&sp, sec)
	if err := checkSpec(&sp, sec, system, users); err != nil {
		return Task{}, err
	}
	t := meta.Task{RegistryID: reg.ID, Registry: reg.Name, Name: name, TaskID: meta.NewID()}
	if err := s.sealSecrets(&t, sec); err != nil {
		return Task{}, err
	}
	if system {
		p, err := s.ids.CreateSystemIdentity(ctx, t.TaskID)
		if err != nil {
			return Task{}, err
		}
		t.SystemPrincipalID = p.ID
	}
	if t.Spec, err = json.Marshal(sp); err != nil {
		return Task{}, err
	}
	err = s.db.Update(ctx, func(tx *meta.Tx) error { return tx.CreateTask(ctx, &t) })
	if err != nil {
		s.dropSystem(ctx, t.SystemPrincipalID)
		if errors.Is(err, meta.ErrConflict) {
			return Task{}, fmt.Errorf("%w: registry %q has a task %q already", ErrExists, reg.Name, name)
		}
		return Task{}, err
	}
	s.log.InfoContext(ctx, "task created", "registry", reg.Name, "task", name, "step", sp.Step.Type)
	return s.load(ctx, t)
}

func (s *Service) dropSystem(ctx context.Context, id string) {
	if id == "" {
		return
	}
	if p, err := s.ids.Principal(ctx, id); err == nil {
		s.ids.DeletePrincipal(ctx, p)
	}
}

// resolveIdentities reads "[system]" and user-assigned identity refs.
func (s *Service) resolveIdentities(ctx context.Context, refs []string) (bool, []meta.Principal, error) {
	system := false
	var users []meta.Principal
	for _, ref := range refs {
		if ref == runs.SystemIdentity {
			system = true
			continue
		}
		p, err := s.ids.ManagedIdentity(ctx, ref)
		if err != nil {
			return false, nil, invalid("identity %q: no such user-assigned identity: create it with `berth identity create`, then give its name, clientId or principalId", ref)
		}
		if p.Owner != "" {
			return false, nil, invalid("identity %q is another task's system-assigned identity", ref)
		}
		if !slices.ContainsFunc(users, func(u meta.Principal) bool { return u.ID == p.ID }) {
			users = append(users, p)
		}
	}
	return system, users, nil
}

func principalIDs(ps []meta.Principal) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func markPasswords(sp *Spec, sec secrets) {
	for server, c := range sp.Credentials {
		c.HasPassword = sec.Passwords[server] != ""
		sp.Credentials[server] = c
	}
}

func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
