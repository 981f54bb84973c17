package mgmt

import (
	"net/http"
	"time"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/storage/meta"
	"github.com/berth-project/berth/internal/tasks"
)

// Tasks of a registry (package tasks). Creating, changing and deleting a
// task needs manage rights on the registry (Contributor or Owner); running
// one needs push rights, as queueing any run does; reading one needs
// manage read (Reader, Contributor or Owner).

type taskIdentityJSON struct {
	Type                   string                      `json:"type"`
	PrincipalID            string                      `json:"principalId,omitempty"`
	ClientID               string                      `json:"clientId,omitempty"`
	UserAssignedIdentities map[string]userIdentityJSON `json:"userAssignedIdentities,omitempty"`
}

type userIdentityJSON struct {
	Name        string `json:"name"`
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

type taskPropsJSON struct {
	Status      string          `json:"status"`
	Platform    string          `json:"platform"`
	AgentPool   string          `json:"agentPool,omitempty"`
	Timeout     int             `json:"timeout"`
	Step        tasks.Step      `json:"step"`
	Trigger     taskTriggerJSON `json:"trigger"`
	Credentials struct {
		CustomRegistries map[string]tasks.Credential `json:"customRegistries,omitempty"`
	} `json:"credentials"`
	AuthMode  string    `json:"authMode"`
	CreatedAt time.Time `json:"creationDate"`
	UpdatedAt time.Time `json:"lastUpdated"`
}

type taskTriggerJSON struct {
	BaseImageTrigger struct {
		Enabled bool `json:"enabled"`
	} `json:"baseImageTrigger"`
	TimerTriggers []tasks.Timer `json:"timerTriggers,omitempty"`
}

type taskJSON struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Identity   taskIdentityJSON `json:"identity"`
	Properties taskPropsJSON    `json:"properties"`
}

func taskResource(t tasks.Task) taskJSON {
	p := taskPropsJSON{Status: t.Spec.Status, Platform: t.Spec.Platform, AgentPool: t.Spec.AgentPool, Timeout: t.Spec.Timeout,
		Step: t.Spec.Step, AuthMode: t.Spec.AuthMode, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	p.Trigger.BaseImageTrigger.Enabled = t.Spec.BaseImageTrigger
	p.Trigger.TimerTriggers = t.Spec.Timers
	p.Credentials.CustomRegistries = t.Spec.Credentials
	id := taskIdentityJSON{Type: "None"}
	if t.System != nil {
		id.Type, id.PrincipalID, id.ClientID = "SystemAssigned", t.System.ID, t.System.AppID
	}
	if len(t.Users) > 0 {
		if t.System != nil {
			id.Type = "SystemAssigned, UserAssigned"
		} else {
			id.Type = "UserAssigned"
		}
		id.UserAssignedIdentities = map[string]userIdentityJSON{}
		for _, u := range t.Users {
			id.UserAssignedIdentities[u.ID] = userIdentityJSON{Name: u.Name, PrincipalID: u.ID, ClientID: u.AppID}
		}
	}
	return taskJSON{ID: "/registries/" + t.Registry + "/tasks/" + t.Name, Name: t.Name, Type: "tasks", Identity: id, Properties: p}
}

type credentialJSON struct {
	Identity string `json:"identity,omitempty"`
	UserName string `json:"userName,omitempty"`
	Password string `json:"password,omitempty"`
}

func (a *API) tasksRegistry(r *http.Request, c *caller, perm rbac.Permission) (meta.Registry, error) {
	if a.tasks == nil {
		return meta.Registry{}, notFound("this server keeps no tasks")
	}
	return a.authorizedRegistry(r, c, perm)
}

func (a *API) createTask(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.tasksRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Identities              []string                  `json:"identities"`
		Platform                string                    `json:"platform"`
		AgentPool               string                    `json:"agentPool"`
		Timeout                 int                       `json:"timeout"`
		Step                    tasks.Step                `json:"step"`
		SecretValues            map[string]string         `json:"secretValues"`
		BaseImageTriggerEnabled *bool                     `json:"baseImageTriggerEnabled"`
		TimerTriggers           []tasks.Timer             `json:"timerTriggers"`
		Credentials             map[string]credentialJSON `json:"credentials"`
		AuthMode                string                    `json:"authMode"`
		Status                  string                    `json:"status"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	body.Step.Type, body.Step.SecretValueNames = "", nil
	sp := tasks.Spec{Status: body.Status, Platform: body.Platform, AgentPool: body.AgentPool, Timeout: body.Timeout,
		Step: body.Step, BaseImageTrigger: body.BaseImageTriggerEnabled == nil || *body.BaseImageTriggerEnabled,
		Timers: body.TimerTriggers, AuthMode: body.AuthMode, CreatedBy: c.principal.ID}
	passwords := map[string]string{}
	if len(body.Credentials) > 0 {
		sp.Credentials = map[string]tasks.Credential{}
		for server, cr := range body.Credentials {
			sp.Credentials[server] = tasks.Credential{Identity: cr.Identity, UserName: cr.UserName}
			passwords[server] = cr.Password
		}
	}
	t, err := a.tasks.Create(r.Context(), reg, r.PathValue("task"), tasks.Create{Spec: sp, Identities: body.Identities,
		SecretValues: body.SecretValues, Passwords: passwords})
	if err != nil {
		return err
	}
	return created(w, taskResource(t))
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.tasksRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	ts, err := a.tasks.List(r.Context(), reg)
	if err != nil {
		return err
	}
	out := list[taskJSON]{Value: []taskJSON{}}
	for _, t := range ts {
		out.Value = append(out.Value, taskResource(t))
	}
	return ok(w, out)
}

func (a *API) showTask(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.tasksRegistry(r, c, rbac.ManageRead)
	if err != nil {
		return err
	}
	t, err := a.tasks.Get(r.Context(), reg, r.PathValue("task"))
	if err != nil {
		return err
	}
	return ok(w, taskResource(t))
}

func (a *API) updateTask(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.tasksRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	var body struct {
		Platform                *string                    `json:"platform"`
		AgentPool               *string                    `json:"agentPool"`
		Timeout                 *int                       `json:"timeout"`
		Status                  *string                    `json:"status"`
		AuthMode                *string                    `json:"authMode"`
		ContextPath             *string                    `json:"contextPath"`
		ContextID               *string                    `json:"contextId"`
		TaskFile                *string                    `json:"taskFile"`
		TaskFilePath            *string                    `json:"taskFilePath"`
		Cmd                     *string                    `json:"cmd"`
		ImageNames              []string                   `json:"imageNames"`
		DockerFilePath          *string                    `json:"dockerFilePath"`
		Values                  map[string]string          `json:"values"`
		SecretValues            map[string]string          `json:"secretValues"`
		BaseImageTriggerEnabled *bool                      `json:"baseImageTriggerEnabled"`
		TimerTriggers           []tasks.Timer              `json:"timerTriggers"`
		Credentials             map[string]*credentialJSON `json:"credentials"`
		AssignIdentities        []string                   `json:"assignIdentities"`
		RemoveIdentities        []string                   `json:"removeIdentities"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	in := tasks.Update{Platform: body.Platform, AgentPool: body.AgentPool, Status: body.Status, AuthMode: body.AuthMode,
		Timeout: body.Timeout, ContextPath: body.ContextPath, ContextID: body.ContextID, TaskFile: body.TaskFile,
		TaskFilePath: body.TaskFilePath, Cmd: body.Cmd, DockerFilePath: body.DockerFilePath, ImageNames: body.ImageNames,
		Values: body.Values, SecretValues: body.SecretValues, BaseImageTrigger: body.BaseImageTriggerEnabled,
		Timers: body.TimerTriggers, AssignIdentities: body.AssignIdentities, RemoveIdentities: body.RemoveIdentities}
	if body.Credentials != nil {
		in.Credentials, in.Passwords = map[string]*tasks.Credential{}, map[string]string{}
		for server, cr := range body.Credentials {
			if cr == nil {
				in.Credentials[server] = nil
				continue
			}
			in.Credentials[server] = &tasks.Credential{Identity: cr.Identity, UserName: cr.UserName}
			in.Passwords[server] = cr.Password
		}
	}
	t, err := a.tasks.Update(r.Context(), reg, r.PathValue("task"), in)
	if err != nil {
		return err
	}
	return ok(w, taskResource(t))
}

func (a *API) deleteTask(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.tasksRegistry(r, c, rbac.ManageWrite)
	if err != nil {
		return err
	}
	if err := a.tasks.Delete(r.Context(), reg, r.PathValue("task")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) runTask(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.tasks == nil {
		return notFound("this server keeps no tasks")
	}
	reg, err := a.runsRegistry(r, c, true)
	if err != nil {
		return err
	}
	var body struct {
		Values       map[string]string `json:"values"`
		SecretValues map[string]string `json:"secretValues"`
		ContextID    string            `json:"contextId"`
		ContextPath  string            `json:"contextPath"`
	}
	if err := decode(r, &body, true); err != nil {
		return err
	}
	run, err := a.tasks.Run(r.Context(), reg, r.PathValue("task"), tasks.RunRequest{Values: body.Values,
		SecretValues: body.SecretValues, ContextID: body.ContextID, ContextPath: body.ContextPath, CreatedBy: c.principal.ID})
	if err != nil {
		return err
	}
	return created(w, runResource(run))
}

// queueQuickRun queues a quick run (POST …/runs with runType QuickRun).
func (a *API) queueQuickRun(w http.ResponseWriter, r *http.Request, reg meta.Registry, c *caller, body []byte) error {
	if a.tasks == nil {
		return notFound("this server runs no quick runs")
	}
	var q struct {
		RunType      string            `json:"runType"`
		TaskFile     string            `json:"taskFile"`
		Cmd          string            `json:"cmd"`
		Values       map[string]string `json:"values"`
		SecretValues map[string]string `json:"secretValues"`
		ContextID    string            `json:"contextId"`
		ContextPath  string            `json:"contextPath"`
		Platform     string            `json:"platform"`
		Timeout      int               `json:"timeout"`
		AgentPool    string            `json:"agentPool"`
	}
	if err := decodeBytes(body, &q); err != nil {
		return err
	}
	run, err := a.tasks.QueueQuickRun(r.Context(), reg, tasks.QuickRun{TaskFile: q.TaskFile, Cmd: q.Cmd, Values: q.Values,
		SecretValues: q.SecretValues, ContextID: q.ContextID, ContextPath: q.ContextPath, Platform: q.Platform,
		Timeout: q.Timeout, AgentPool: q.AgentPool, CreatedBy: c.principal.ID})
	if err != nil {
		return err
	}
	return created(w, runResource(run))
}
