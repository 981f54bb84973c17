package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/rbac"
	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// Runs of a registry and the build contexts they read. Queueing and
// canceling need push rights on the registry (AcrPush, Contributor or
// Owner); reading needs those or Reader. The queue itself is package
// runs: this file validates the wire shapes and answers.

type runProps struct {
	RunID           string          `json:"runId"`
	Status          string          `json:"status"`
	RunType         string          `json:"runType"`
	Trigger         string          `json:"trigger"`
	TriggeredBy     string          `json:"triggeredBy,omitempty"`
	Task            string          `json:"task,omitempty"`
	AgentPool       string          `json:"agentPool"`
	Agent           string          `json:"agent"`
	Platform        string          `json:"platform"`
	CreateTime      time.Time       `json:"createTime"`
	StartTime       *time.Time      `json:"startTime"`
	FinishTime      *time.Time      `json:"finishTime"`
	ImageNames      []string        `json:"imageNames"`
	Timeout         int64           `json:"timeout"`
	CancelRequested bool            `json:"cancelRequested"`
	OutputImages    json.RawMessage `json:"outputImages"`
	Dependencies    json.RawMessage `json:"dependencies"`
	Error           string          `json:"error"`
}

// runResource is a run as the API shows it: never its build args, secret
// or not.
func runResource(run meta.Run) resource {
	p := runProps{RunID: run.RunID, Status: run.Status, RunType: run.RunType, Trigger: run.Trigger, TriggeredBy: run.TriggeredBy,
		Task: run.TaskName, AgentPool: runs.PoolName(run),
		Agent: run.Agent, CreateTime: run.CreatedAt, StartTime: optTime(run.StartedAt), FinishTime: optTime(run.FinishedAt),
		ImageNames: []string{}, Timeout: run.TimeoutSeconds, CancelRequested: run.CancelRequested && run.Live(),
		OutputImages: json.RawMessage("[]"), Dependencies: json.RawMessage("null"), Error: run.Error}
	if req, err := runs.Request(run); err == nil {
		p.ImageNames, p.Platform = runs.ImageNames(run, req), req.Platform
	}
	if json.Valid(run.OutputImages) && len(run.OutputImages) > 0 {
		p.OutputImages = run.OutputImages
	}
	if json.Valid(run.Dependencies) && len(run.Dependencies) > 0 {
		p.Dependencies = run.Dependencies
	}
	return resource{ID: "/registries/" + run.Registry + "/runs/" + run.RunID, Name: run.RunID, Type: "runs", Properties: p}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// runsRegistry authorizes a call on the runs of the registry the path
// names: write (queue, cancel, upload) needs push rights; reading needs
// push rights or manage read.
func (a *API) runsRegistry(r *http.Request, c *caller, write bool) (meta.Registry, error) {
	ctx := r.Context()
	name := r.PathValue("name")
	if a.runs == nil {
		return meta.Registry{}, notFound("this server keeps no runs")
	}
	if err := a.loadAssignments(ctx, c); err != nil {
		return meta.Registry{}, err
	}
	allowed := rbac.Allowed(c.assignments, name, "", rbac.Push) ||
		!write && rbac.Allowed(c.assignments, name, "", rbac.ManageRead)
	if !allowed {
		what, roles := "read runs", rolesHolding(rbac.Push, rbac.ManageRead)
		if write {
			what, roles = "queue or cancel runs", rolesHolding(rbac.Push)
		}
		return meta.Registry{}, forbidden("%s %q may not %s at scope %s: that needs the role %s there",
			kindWord(c.principal.Kind), c.principal.Name, what, registryScope(name), roles)
	}
	return a.registry(ctx, name)
}

// rolesHolding names the roles that hold any of perms.
func rolesHolding(perms ...rbac.Permission) string {
	var names []string
	for _, role := range rbac.Roles() {
		for _, p := range perms {
			if role.Permissions().Has(p) {
				names = append(names, string(role))
				break
			}
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// run looks up the run the path names.
func (a *API) run(ctx context.Context, reg meta.Registry, runID string) (meta.Run, error) {
	return a.runs.Get(ctx, reg, runID)
}

func (a *API) uploadBuildContext(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, true)
	if err != nil {
		return err
	}
	bc, err := a.runs.UploadContext(r.Context(), reg, r.Body)
	if err != nil {
		return err
	}
	return created(w, struct {
		ContextID string `json:"contextId"`
		Size      int64  `json:"size"`
	}{string(bc.Digest), bc.Size})
}

func (a *API) queueRun(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, true)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return invalid("the call needs a JSON body")
	}
	var kind struct {
		RunType string `json:"runType"`
	}
	if err := json.Unmarshal(raw, &kind); err != nil {
		return decodeBytes(raw, &kind) // says what is malformed
	}
	switch kind.RunType {
	case "", meta.RunQuickBuild:
	case meta.RunQuickRun:
		return a.queueQuickRun(w, r, reg, c, raw)
	case meta.RunTaskRun:
		return invalid("runType TaskRun: run a task with POST /api/registries/%s/tasks/<task>/run", reg.Name)
	default:
		return invalid("runType %q: want QuickBuild or QuickRun", kind.RunType)
	}
	var body struct {
		RunType         string            `json:"runType"`
		Images          []string          `json:"images"`
		Dockerfile      string            `json:"dockerfile"`
		BuildArgs       map[string]string `json:"buildArgs"`
		SecretBuildArgs map[string]string `json:"secretBuildArgs"`
		Target          string            `json:"target"`
		Platform        string            `json:"platform"`
		Push            *bool             `json:"push"`
		Timeout         int64             `json:"timeout"`
		AgentPool       string            `json:"agentPool"`
		ContextID       string            `json:"contextId"`
	}
	if err := decodeBytes(raw, &body); err != nil {
		return err
	}
	run, err := a.runs.QueueBuild(r.Context(), reg, runs.QuickBuild{Images: body.Images, Dockerfile: body.Dockerfile,
		BuildArgs: body.BuildArgs, SecretBuildArgs: body.SecretBuildArgs, Target: body.Target, Platform: body.Platform,
		Push: body.Push, TimeoutSeconds: body.Timeout, AgentPool: body.AgentPool, ContextID: body.ContextID,
		CreatedBy: c.principal.ID})
	if err != nil {
		return err
	}
	return created(w, runResource(run))
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := meta.RunFilter{N: defaultTop, Status: q.Get("status"), Task: q.Get("task")}
	if s := q.Get("top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTop {
			return invalid("top %q: give a whole number from 1 to %d", s, maxTop)
		}
		f.N = n
	}
	list, err := a.runs.List(r.Context(), reg, f)
	if err != nil {
		return err
	}
	out := []resource{}
	for _, run := range list {
		out = append(out, runResource(run))
	}
	return ok(w, newList(out))
}

func (a *API) showRun(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, false)
	if err != nil {
		return err
	}
	run, err := a.run(r.Context(), reg, r.PathValue("runId"))
	if err != nil {
		return err
	}
	return ok(w, runResource(run))
}

func (a *API) cancelRun(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, true)
	if err != nil {
		return err
	}
	run, err := a.runs.Cancel(r.Context(), reg, r.PathValue("runId"))
	if err != nil {
		return err
	}
	return ok(w, runResource(run))
}

// runLog answers the log of a run as text: what there is, or with
// follow=true, the log as it grows until the run ends. offset=N starts
// after the first N bytes, for a client that reconnects.
func (a *API) runLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	reg, err := a.runsRegistry(r, c, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	follow, err := queryBool(q.Get("follow"))
	if err != nil {
		return invalid("follow %q: want true or false", q.Get("follow"))
	}
	var offset int64
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.ParseInt(s, 10, 64); err != nil || offset < 0 {
			return invalid("offset %q: give a number of bytes, 0 or more", s)
		}
	}
	run, err := a.run(r.Context(), reg, r.PathValue("runId"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	flush := func() { rc.Flush() }
	flush() // a follower knows at once that the server answered
	err = a.runs.WriteLog(r.Context(), run, offset, follow, w, flush)
	if err != nil && r.Context().Err() == nil {
		// The status is sent: all that is left is to end the body early.
		a.log.WarnContext(r.Context(), "run log stream ended early", "registry", reg.Name, "run_id", run.RunID, "err", err)
	}
	return nil
}

func queryBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}
