package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/storage/meta"
)

// StepsRequest is what a quick run or a task run does, as stored with its
// run and as an agent receives it (the secret values and passwords are
// sealed apart). Its contextId, platform and createdBy read as a
// BuildRequest's, so that Request serves every run kind for those.
type StepsRequest struct {
	TaskName string      `json:"taskName,omitempty"`
	TaskFile string      `json:"taskFile,omitempty"`
	Cmd      string      `json:"cmd,omitempty"`
	Docker   *DockerStep `json:"docker,omitempty"`
	// Values are {{.Values.x}}; SecretValueNames name the secret ones.
	Values           map[string]string `json:"values,omitempty"`
	SecretValueNames []string          `json:"secretValueNames,omitempty"`
	// Context is /dev/null, a git URL or oci://…; empty with ContextID.
	Context     string       `json:"context,omitempty"`
	ContextID   oci.Digest   `json:"contextId,omitempty"`
	Platform    string       `json:"platform"`
	AuthMode    string       `json:"authMode"`
	Credentials []Credential `json:"credentials,omitempty"`
	// Identities are the managed identities the run may get tokens for:
	// "[system]" and user-assigned clientIds, each with its principal.
	Identities map[string]string `json:"identities,omitempty"`
	CreatedBy  string            `json:"createdBy,omitempty"`
}

// DockerStep builds the context's Dockerfile and pushes it as Images.
type DockerStep struct {
	Images     []string `json:"images"`
	Dockerfile string   `json:"dockerfile"`
}

// Credential is how a run logs in to a registry (its password sealed).
type Credential struct {
	LoginServer string `json:"loginServer"`
	Identity    string `json:"identity,omitempty"`
	Username    string `json:"username,omitempty"`
}

// StepsSecrets are a steps run's sealed part.
type StepsSecrets struct {
	Values    map[string]string `json:"values,omitempty"`
	Passwords map[string]string `json:"passwords,omitempty"` // by login server
}

// StepsRun is a request to queue a quick run or a task run; its Request
// has been checked by the caller (package tasks).
type StepsRun struct {
	RunType        string // meta.RunQuickRun or meta.RunTaskRun
	Trigger        string // default Manual
	TriggeredBy    string
	Request        StepsRequest
	Secrets        StepsSecrets
	TimeoutSeconds int64
	AgentPool      string
}

// Auth modes of a steps run.
const (
	AuthDefault = "Default" // the run's own credential for its registry
	AuthNone    = "None"    // only the credentials given
)

// SystemIdentity names a task's system-assigned identity in credentials.
const SystemIdentity = "[system]"

// QueueSteps queues a quick run or a task run on reg.
func (s *Service) QueueSteps(ctx context.Context, reg meta.Registry, q StepsRun) (meta.Run, error) {
	if q.RunType != meta.RunQuickRun && q.RunType != meta.RunTaskRun {
		return meta.Run{}, fmt.Errorf("runs: QueueSteps of a %s", q.RunType)
	}
	req := q.Request
	if n := btoi(req.TaskFile != "") + btoi(req.Cmd != "") + btoi(req.Docker != nil); n != 1 {
		return meta.Run{}, invalid("give exactly one of a task file, a command or a Dockerfile step")
	}
	if req.ContextID != "" {
		if _, err := s.db.BuildContext(ctx, reg.ID, req.ContextID); errors.Is(err, meta.ErrNotFound) {
			return meta.Run{}, invalid("contextId %s: no such build context was uploaded to registry %q", req.ContextID, reg.Name)
		} else if err != nil {
			return meta.Run{}, err
		}
	}
	if req.AuthMode == "" {
		req.AuthMode = AuthDefault
	}
	if req.Platform == "" {
		req.Platform = "linux/amd64"
	}
	if !platformName.MatchString(req.Platform) {
		return meta.Run{}, invalid("platform %q: give OS/ARCH[/VARIANT], such as linux/amd64", req.Platform)
	}
	req.SecretValueNames = nil
	for k := range q.Secrets.Values {
		req.SecretValueNames = append(req.SecretValueNames, k)
	}
	slices.Sort(req.SecretValueNames)
	pool, err := s.pool(ctx, reg, q.AgentPool)
	if err != nil {
		return meta.Run{}, err
	}
	if q.TimeoutSeconds < 1 || q.TimeoutSeconds > MaxTimeout {
		return meta.Run{}, invalid("timeout %d: give 1 to %d seconds", q.TimeoutSeconds, MaxTimeout)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return meta.Run{}, err
	}
	run := meta.Run{RegistryID: reg.ID, Registry: reg.Name, RunType: q.RunType, AgentPool: pool,
		Trigger: q.Trigger, TriggeredBy: q.TriggeredBy, TaskName: req.TaskName, Request: body, TimeoutSeconds: q.TimeoutSeconds}
	if len(q.Secrets.Values) > 0 || len(q.Secrets.Passwords) > 0 {
		secrets, err := json.Marshal(q.Secrets)
		if err != nil {
			return meta.Run{}, err
		}
		run.Secrets = s.seal.Seal(secrets, secretsLabel(reg.ID))
	}
	if err := s.create(ctx, reg, q.AgentPool, &run); err != nil {
		return meta.Run{}, err
	}
	return run, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// IsSteps reports whether run is a quick run or a task run.
func IsSteps(run meta.Run) bool {
	return run.RunType == meta.RunQuickRun || run.RunType == meta.RunTaskRun
}

// Steps decodes the request of a quick run or task run.
func Steps(run meta.Run) (StepsRequest, error) {
	var req StepsRequest
	if !IsSteps(run) {
		return req, fmt.Errorf("run %s of registry %s is a %s", run.RunID, run.Registry, run.RunType)
	}
	if err := json.Unmarshal(run.Request, &req); err != nil {
		return req, fmt.Errorf("run %s of registry %s: stored request: %w", run.RunID, run.Registry, err)
	}
	return req, nil
}
