package client

import (
	"context"
	"time"
)

// Task is a stored, repeatable run of a registry: a multi-step task file,
// a command, or a Dockerfile build, with its context, identities,
// credentials and triggers.
type Task struct {
	ID         string         `json:"id"` // /registries/<name>/tasks/<task>
	Name       string         `json:"name"`
	Type       string         `json:"type"` // "tasks"
	Identity   *TaskIdentity  `json:"identity,omitempty"`
	Properties TaskProperties `json:"properties"`
}

// TaskIdentity are the managed identities a task's runs may get tokens
// for.
type TaskIdentity struct {
	// Type is None, SystemAssigned, UserAssigned or
	// "SystemAssigned, UserAssigned".
	Type string `json:"type"`
	// PrincipalID is the system-assigned identity's, made with the task
	// and deleted with it.
	PrincipalID string `json:"principalId,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	// UserAssignedIdentities are keyed by the identity's principalId.
	UserAssignedIdentities map[string]UserAssignedIdentity `json:"userAssignedIdentities,omitempty"`
}

// UserAssignedIdentity is a user-assigned identity attached to a task.
type UserAssignedIdentity struct {
	Name        string `json:"name"`
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

// TaskProperties are a task's properties as the server shows them: never
// a secret value or a password.
type TaskProperties struct {
	Status      string          `json:"status"`   // Enabled or Disabled
	Platform    string          `json:"platform"` // os/arch[/variant]
	AgentPool   string          `json:"agentPool,omitempty"`
	Timeout     int             `json:"timeout"` // seconds
	Step        TaskStep        `json:"step"`
	Trigger     TaskTrigger     `json:"trigger"`
	Credentials TaskCredentials `json:"credentials"`
	AuthMode    string          `json:"authMode"` // Default or None
	CreatedAt   time.Time       `json:"creationDate"`
	UpdatedAt   time.Time       `json:"lastUpdated"`
}

// TaskStep is what a task runs: exactly one of TaskFile, Cmd or
// ImageNames (a Dockerfile build).
type TaskStep struct {
	// Type is FileTask (a multi-step task file), Cmd, or Docker.
	Type string `json:"type"`
	// ContextPath is /dev/null, a git URL (https://…/repo.git#ref:folder)
	// or oci://<loginServer>/<repo>:<tag>; empty with ContextID.
	ContextPath string `json:"contextPath,omitempty"`
	// ContextID is an uploaded build context (a digest, from
	// Runs.UploadContext).
	ContextID string `json:"contextId,omitempty"`
	// TaskFile is the multi-step YAML, as given (templates unrendered).
	TaskFile string `json:"taskFile,omitempty"`
	// TaskFilePath is the file name it was read from, for display.
	TaskFilePath string `json:"taskFilePath,omitempty"`
	Cmd          string `json:"cmd,omitempty"`
	// ImageNames and DockerFilePath make a Docker step: build the
	// context's Dockerfile and push it as ImageNames (repository:tag).
	ImageNames     []string `json:"imageNames,omitempty"`
	DockerFilePath string   `json:"dockerFilePath,omitempty"`
	// Values are {{.Values.x}}; SecretValueNames name the secret values
	// (--set-secret), whose values the server never shows.
	Values           map[string]string `json:"values,omitempty"`
	SecretValueNames []string          `json:"secretValueNames,omitempty"`
}

// TaskTrigger are a task's triggers besides manual runs.
type TaskTrigger struct {
	BaseImageTrigger BaseImageTrigger `json:"baseImageTrigger"`
	TimerTriggers    []TimerTrigger   `json:"timerTriggers,omitempty"`
}

// BaseImageTrigger re-runs the task when a base image it was built on, on
// this server, is pushed anew.
type BaseImageTrigger struct {
	Enabled bool `json:"enabled"`
}

// TimerTrigger runs the task on a cron schedule (UTC).
type TimerTrigger struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"` // five cron fields, UTC
	Enabled  bool   `json:"enabled"`
}

// TaskCredentials are the registries a task's runs log in to besides
// their own.
type TaskCredentials struct {
	// CustomRegistries are keyed by login server.
	CustomRegistries map[string]RegistryCredential `json:"customRegistries,omitempty"`
}

// RegistryCredential is how a run logs in to one registry: with a
// managed identity of the task ("[system]" or a user-assigned identity's
// clientId), or a user name and password.
type RegistryCredential struct {
	Identity string `json:"identity,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Password is write-only: the server answers with HasPassword.
	Password    string `json:"password,omitempty"`
	HasPassword bool   `json:"hasPassword,omitempty"`
}

// TaskCreate creates a task (PUT /api/registries/{r}/tasks/{task}).
type TaskCreate struct {
	// Identities to assign: "[system]" makes a system-assigned identity;
	// anything else names a user-assigned identity (name, clientId or
	// principalId).
	Identities              []string                      `json:"identities,omitempty"`
	Platform                string                        `json:"platform,omitempty"` // default linux/amd64
	AgentPool               string                        `json:"agentPool,omitempty"`
	Timeout                 int                           `json:"timeout,omitempty"` // default 3600
	Step                    TaskStep                      `json:"step"`
	SecretValues            map[string]string             `json:"secretValues,omitempty"`
	BaseImageTriggerEnabled *bool                         `json:"baseImageTriggerEnabled,omitempty"` // default true
	TimerTriggers           []TimerTrigger                `json:"timerTriggers,omitempty"`
	Credentials             map[string]RegistryCredential `json:"credentials,omitempty"`
	AuthMode                string                        `json:"authMode,omitempty"` // default Default
	Status                  string                        `json:"status,omitempty"`   // default Enabled
}

// TaskUpdate changes a task (PATCH): nil fields stay. Values and
// SecretValues are merged key by key (an empty string deletes a key);
// Credentials are merged by login server (nil deletes one); a non-nil
// TimerTriggers replaces them all (a pointer to an empty list removes
// them); Step fields given replace theirs.
type TaskUpdate struct {
	Platform                *string                        `json:"platform,omitempty"`
	AgentPool               *string                        `json:"agentPool,omitempty"`
	Timeout                 *int                           `json:"timeout,omitempty"`
	Status                  *string                        `json:"status,omitempty"`
	AuthMode                *string                        `json:"authMode,omitempty"`
	ContextPath             *string                        `json:"contextPath,omitempty"`
	ContextID               *string                        `json:"contextId,omitempty"`
	TaskFile                *string                        `json:"taskFile,omitempty"`
	TaskFilePath            *string                        `json:"taskFilePath,omitempty"`
	Cmd                     *string                        `json:"cmd,omitempty"`
	ImageNames              []string                       `json:"imageNames,omitempty"`
	DockerFilePath          *string                        `json:"dockerFilePath,omitempty"`
	Values                  map[string]string              `json:"values,omitempty"`
	SecretValues            map[string]string              `json:"secretValues,omitempty"`
	BaseImageTriggerEnabled *bool                          `json:"baseImageTriggerEnabled,omitempty"`
	TimerTriggers           *[]TimerTrigger                `json:"timerTriggers,omitempty"`
	Credentials             map[string]*RegistryCredential `json:"credentials,omitempty"`
	// AssignIdentities and RemoveIdentities change the identities, as
	// TaskCreate.Identities names them.
	AssignIdentities []string `json:"assignIdentities,omitempty"`
	RemoveIdentities []string `json:"removeIdentities,omitempty"`
}

// TaskRunRequest runs a task now (POST …/tasks/{task}/run).
type TaskRunRequest struct {
	Values       map[string]string `json:"values,omitempty"` // over the task's
	SecretValues map[string]string `json:"secretValues,omitempty"`
	// ContextID or ContextPath replace the task's context for this run.
	ContextID   string `json:"contextId,omitempty"`
	ContextPath string `json:"contextPath,omitempty"`
}

// QuickRun runs a task file or a command once, without storing a task
// (POST /api/registries/{r}/runs with runType QuickRun).
type QuickRun struct {
	TaskFile     string            `json:"taskFile,omitempty"`
	Cmd          string            `json:"cmd,omitempty"`
	Values       map[string]string `json:"values,omitempty"`
	SecretValues map[string]string `json:"secretValues,omitempty"`
	ContextID    string            `json:"contextId,omitempty"`
	ContextPath  string            `json:"contextPath,omitempty"` // default /dev/null
	Platform     string            `json:"platform,omitempty"`
	Timeout      int               `json:"timeout,omitempty"` // default 600
	AgentPool    string            `json:"agentPool,omitempty"`
}

// Tasks calls /api/registries/{r}/tasks.
type Tasks struct {
	c        *Client
	registry string
}

// Tasks returns the task calls of registry.
func (c *Client) Tasks(registry string) Tasks { return Tasks{c, registry} }

func (t Tasks) path(name string) string {
	s := registryPath(t.registry) + "/tasks"
	if name != "" {
		s += "/" + seg(name)
	}
	return s
}

// Create creates task name.
func (t Tasks) Create(ctx context.Context, name string, in TaskCreate) (Task, error) {
	var out Task
	err := t.c.Do(ctx, "PUT", t.path(name), in, &out)
	return out, err
}

// Get returns task name.
func (t Tasks) Get(ctx context.Context, name string) (Task, error) {
	var out Task
	err := t.c.Do(ctx, "GET", t.path(name), nil, &out)
	return out, err
}

// List returns the registry's tasks.
func (t Tasks) List(ctx context.Context) ([]Task, error) {
	return getList[Task](ctx, t.c, t.path(""))
}

// Update changes task name.
func (t Tasks) Update(ctx context.Context, name string, in TaskUpdate) (Task, error) {
	var out Task
	err := t.c.Do(ctx, "PATCH", t.path(name), in, &out)
	return out, err
}

// Delete deletes task name and its system-assigned identity.
func (t Tasks) Delete(ctx context.Context, name string) error {
	return t.c.Do(ctx, "DELETE", t.path(name), nil, nil)
}

// Run queues a run of task name.
func (t Tasks) Run(ctx context.Context, name string, in TaskRunRequest) (Run, error) {
	var out Run
	err := t.c.Do(ctx, "POST", t.path(name)+"/run", in, &out)
	return out, err
}

// QueueRun queues a quick run.
func (r Runs) QueueRun(ctx context.Context, q QuickRun) (Run, error) {
	body := struct {
		RunType string `json:"runType"`
		QuickRun
	}{"QuickRun", q}
	var out Run
	err := r.c.Do(ctx, "POST", r.path(""), body, &out)
	return out, err
}
