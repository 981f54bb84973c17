package tasks

import (
	"context"
	"fmt"
	"sort"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/taskfile"
)

// RunRequest runs a task now.
type RunRequest struct {
	Values, SecretValues   map[string]string // over the task's
	ContextID, ContextPath string            // replace the task's context
	Trigger, TriggeredBy   string            // default Manual
	// CreatedBy is who asked (the task's creator for triggered runs).
	CreatedBy string
}

// Run queues a run of task name of reg.
func (s *Service) Run(ctx context.Context, reg meta.Registry, name string, in RunRequest) (meta.Run, error) {
	t, err := s.Get(ctx, reg, name)
	if err != nil {
		return meta.Run{}, err
	}
	return s.runTask(ctx, reg, t, in)
}

func (s *Service) runTask(ctx context.Context, reg meta.Registry, t Task, in RunRequest) (meta.Run, error) {
	if t.Spec.Status == StatusDisabled && in.Trigger != "" && in.Trigger != meta.TriggerManual {
		return meta.Run{}, invalid("task %q is disabled", t.Name)
	}
	sec, err := s.secretsOf(t.Task)
	if err != nil {
		return meta.Run{}, err
	}
	sp := t.Spec
	req := runs.StepsRequest{TaskName: t.Name, TaskFile: sp.Step.TaskFile, Cmd: sp.Step.Cmd,
		Values: merge(sp.Step.Values, in.Values), Context: sp.Step.ContextPath, ContextID: oci.Digest(sp.Step.ContextID),
		Platform: sp.Platform, AuthMode: sp.AuthMode, Identities: identitiesOf(t), CreatedBy: in.CreatedBy}
	if req.CreatedBy == "" {
		req.CreatedBy = sp.CreatedBy
	}
	if len(sp.Step.ImageNames) > 0 {
		req.Docker = &runs.DockerStep{Images: sp.Step.ImageNames, Dockerfile: sp.Step.DockerFilePath}
	}
	if in.ContextID != "" || in.ContextPath != "" {
		if err := checkContext(in.ContextPath, in.ContextID); err != nil {
			return meta.Run{}, err
		}
		req.Context, req.ContextID = in.ContextPath, oci.Digest(in.ContextID)
	}
	servers := make([]string, 0, len(sp.Credentials))
	for server := range sp.Credentials {
		servers = append(servers, server)
	}
	sort.Strings(servers)
	for _, server := range servers {
		c := sp.Credentials[server]
		req.Credentials = append(req.Credentials, runs.Credential{LoginServer: server, Identity: c.Identity, Username: c.UserName})
	}
	values := merge(sec.Values, in.SecretValues)
	if err := checkTaskFile(reg, req, values); err != nil {
		return meta.Run{}, err
	}
	return s.runs.QueueSteps(ctx, reg, runs.StepsRun{RunType: meta.RunTaskRun, Trigger: in.Trigger, TriggeredBy: in.TriggeredBy,
		Request: req, Secrets: runs.StepsSecrets{Values: values, Passwords: sec.Passwords},
		TimeoutSeconds: int64(sp.Timeout), AgentPool: sp.AgentPool})
}

// QuickRun is a run of a task file or a command, without a stored task.
type QuickRun struct {
	TaskFile, Cmd          string
	Values, SecretValues   map[string]string
	ContextID, ContextPath string
	Platform, AgentPool    string
	Timeout                int // default 600
	CreatedBy              string
}

// QuickRunTimeout is a quick run's default timeout, in seconds.
const QuickRunTimeout = 600

// QueueQuickRun queues a quick run on reg.
func (s *Service) QueueQuickRun(ctx context.Context, reg meta.Registry, q QuickRun) (meta.Run, error) {
	if (q.TaskFile == "") == (q.Cmd == "") {
		return meta.Run{}, invalid("give a task file (-f) or a command (--cmd), one of them")
	}
	if q.ContextPath == "" && q.ContextID == "" {
		q.ContextPath = "/dev/null"
	}
	if err := checkContext(q.ContextPath, q.ContextID); err != nil {
		return meta.Run{}, err
	}
	if q.Timeout == 0 {
		q.Timeout = QuickRunTimeout
	}
	req := runs.StepsRequest{TaskFile: q.TaskFile, Cmd: q.Cmd, Values: q.Values, Context: q.ContextPath,
		ContextID: oci.Digest(q.ContextID), Platform: q.Platform, AuthMode: runs.AuthDefault, CreatedBy: q.CreatedBy}
	if err := checkTaskFile(reg, req, q.SecretValues); err != nil {
		return meta.Run{}, err
	}
	return s.runs.QueueSteps(ctx, reg, runs.StepsRun{RunType: meta.RunQuickRun, Request: req,
		Secrets: runs.StepsSecrets{Values: q.SecretValues}, TimeoutSeconds: int64(q.Timeout), AgentPool: q.AgentPool})
}

// checkTaskFile renders and validates a task file as the agent will, with
// a stand-in run id, so that a file with errors is refused before a run
// is queued: the error names the step and the key.
func checkTaskFile(reg meta.Registry, req runs.StepsRequest, secretValues map[string]string) error {
	if req.TaskFile == "" {
		return nil
	}
	d := taskfile.Data{Values: req.Values, Secrets: secretValues,
		Run: taskfile.RunInfo{ID: "ca0", Registry: reg.LoginServer, RegistryName: reg.Name, TaskName: req.TaskName,
			Date: "20060102-150405z", OS: "linux", Architecture: "amd64"}}
	if d.Run.Registry == "" {
		d.Run.Registry = "registry.invalid"
	}
	if _, err := taskfile.Parse(req.TaskFile, d); err != nil {
		return fmt.Errorf("%w: the task file: %v", ErrInvalid, err)
	}
	return nil
}
