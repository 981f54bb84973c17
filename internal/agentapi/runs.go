package agentapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode"

	"github.com/berth-project/berth/internal/runs"
	"github.com/berth-project/berth/internal/storage/meta"
)

// leaseAnswer is the answer to POST /agent/v1/lease when a run came.
type leaseAnswer struct {
	LeaseID        string    `json:"leaseId"`
	LeaseExpiresAt time.Time `json:"leaseExpiresAt"`
	// LeaseSeconds is how long the lease lasts without a heartbeat.
	LeaseSeconds int `json:"leaseSeconds"`
	// HeartbeatSeconds is how often to renew the lease: a third of it.
	HeartbeatSeconds int     `json:"heartbeatSeconds"`
	Run              runSpec `json:"run"`
}

// runSpec is what the leasing agent is to do.
type runSpec struct {
	Registry        string            `json:"registry"`
	RunID           string            `json:"runId"`
	RunType         string            `json:"runType"`
	AgentPool       string            `json:"agentPool"`
	LoginServer     string            `json:"loginServer"`
	Timeout         int64             `json:"timeout"` // seconds, from the lease
	Images          []string          `json:"images"`
	Dockerfile      string            `json:"dockerfile"`
	BuildArgs       map[string]string `json:"buildArgs"`
	SecretBuildArgs map[string]string `json:"secretBuildArgs"`
	Target          string            `json:"target"`
	Platform        string            `json:"platform"`
	Push            bool              `json:"push"`
	ContextID       string            `json:"contextId"`
	// ContextURL is the path to GET the build context from, on this server.
	ContextURL string `json:"contextUrl"`
	// Credentials are the run's own registry credential (authMode
	// Default), for Basic auth at the login server's token endpoint.
	Credentials *credentials `json:"credentials,omitempty"`
	// LoginServerAddress is the HOST:PORT to connect to for every
	// request to LoginServer, the names and Host headers staying
	// LoginServer's, as a private DNS zone would resolve it: the private
	// endpoint of a dedicated pool. Empty: connect to LoginServer.
	LoginServerAddress string `json:"loginServerAddress,omitempty"`
	// Steps is what a quick run or a task run does.
	Steps *stepsSpec `json:"steps,omitempty"`
}

// stepsSpec is a quick run's or a task run's work, with its secrets.
type stepsSpec struct {
	TaskName            string             `json:"taskName,omitempty"`
	TaskFile            string             `json:"taskFile,omitempty"`
	Cmd                 string             `json:"cmd,omitempty"`
	Docker              *runs.DockerStep   `json:"docker,omitempty"`
	Values              map[string]string  `json:"values"`
	SecretValues        map[string]string  `json:"secretValues"`
	Context             string             `json:"context"`
	AuthMode            string             `json:"authMode"`
	RegistryCredentials []registryCredSpec `json:"registryCredentials"`
	Date                time.Time          `json:"date"`
	Trigger             string             `json:"trigger,omitempty"`
	TriggeredBy         string             `json:"triggeredBy,omitempty"`
}

type registryCredSpec struct {
	LoginServer string `json:"loginServer"`
	Identity    string `json:"identity,omitempty"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
}

func stepsOf(l *runs.Lease) *stepsSpec {
	st := l.Steps
	out := &stepsSpec{TaskName: st.TaskName, TaskFile: st.TaskFile, Cmd: st.Cmd, Docker: st.Docker,
		Values: nonNil(st.Values), SecretValues: nonNil(l.StepsSecrets.Values), Context: st.Context, AuthMode: st.AuthMode,
		RegistryCredentials: []registryCredSpec{}, Date: l.Run.CreatedAt, Trigger: l.Run.Trigger, TriggeredBy: l.Run.TriggeredBy}
	for _, c := range st.Credentials {
		out.RegistryCredentials = append(out.RegistryCredentials, registryCredSpec{LoginServer: c.LoginServer,
			Identity: c.Identity, Username: c.Username, Password: l.StepsSecrets.Passwords[c.LoginServer]})
	}
	return out
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// beatAnswer answers a heartbeat and a status change.
type beatAnswer struct {
	CancelRequested bool      `json:"cancelRequested"`
	LeaseExpiresAt  time.Time `json:"leaseExpiresAt"`
}

// maxAgentName bounds the name an agent gives itself.
const maxAgentName = 128

func (a *API) lease(w http.ResponseWriter, r *http.Request, pool string) error {
	var body struct {
		Agent string `json:"agent"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Agent == "" || len(body.Agent) > maxAgentName || !printable(body.Agent) {
		return invalid("agent: give the agent's name, 1 to %d printable characters", maxAgentName)
	}
	wait := a.leaseWait
	if s := r.URL.Query().Get("wait"); s != "" {
		secs, err := strconv.Atoi(s)
		if err != nil || secs < 0 {
			return invalid("wait %q: give whole seconds, 0 to %d", s, int(a.leaseWait/time.Second))
		}
		wait = min(wait, time.Duration(secs)*time.Second)
	}
	l, err := a.runs.Lease(r.Context(), pool, body.Agent, wait)
	if err != nil {
		return err
	}
	if l == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	login, err := a.loginServer(r.Context(), l.Run.Registry)
	if err != nil {
		return err
	}
	spec := runSpec{Registry: l.Run.Registry, RunID: l.Run.RunID, RunType: l.Run.RunType, AgentPool: l.Run.AgentPool,
		LoginServer: login, Timeout: l.Run.TimeoutSeconds, Images: l.Request.Images, Dockerfile: l.Request.Dockerfile,
		BuildArgs: nonNil(l.Request.BuildArgs), SecretBuildArgs: nonNil(l.SecretBuildArgs), Target: l.Request.Target,
		Platform: l.Request.Platform, Push: l.Request.Push, ContextID: string(l.Request.ContextID)}
	if l.Steps != nil {
		spec.Steps = stepsOf(l)
	}
	if spec.ContextID != "" {
		spec.ContextURL = runPath(l.Run) + "/context"
	}
	if a.loginAddr != nil {
		if spec.LoginServerAddress, err = a.loginAddr(r.Context(), l.Run); err != nil {
			return err
		}
	}
	if a.runCred != nil && (l.Steps == nil || l.Steps.AuthMode != runs.AuthNone) {
		user, pass, err := a.runCred(r.Context(), l.Run, login)
		if err != nil {
			return err
		}
		spec.Credentials = &credentials{Username: user, Password: pass}
	}
	secs := int(a.runs.LeaseDuration() / time.Second)
	return writeJSON(w, http.StatusOK, leaseAnswer{LeaseID: l.ID, LeaseExpiresAt: l.ExpiresAt,
		LeaseSeconds: secs, HeartbeatSeconds: max(1, secs/3), Run: spec})
}

// runPath is the path of a run's calls.
func runPath(run meta.Run) string {
	return "/agent/v1/runs/" + url.PathEscape(run.Registry) + "/" + url.PathEscape(run.RunID)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// held returns the run the path names, if the request's lease holds it.
func (a *API) held(r *http.Request, pool string) (meta.Run, string, error) {
	leaseID := r.Header.Get(LeaseHeader)
	if leaseID == "" {
		return meta.Run{}, "", invalid("send the lease id the lease call answered as the %s header", LeaseHeader)
	}
	run, err := a.runs.Held(r.Context(), pool, r.PathValue("registry"), r.PathValue("runId"), leaseID)
	return run, leaseID, err
}

func (a *API) heartbeat(w http.ResponseWriter, r *http.Request, pool string) error {
	run, leaseID, err := a.held(r, pool)
	if err != nil {
		return err
	}
	b, err := a.runs.Heartbeat(r.Context(), run, leaseID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, beatAnswer{CancelRequested: b.CancelRequested, LeaseExpiresAt: b.ExpiresAt})
}

func (a *API) status(w http.ResponseWriter, r *http.Request, pool string) error {
	run, leaseID, err := a.held(r, pool)
	if err != nil {
		return err
	}
	var body struct {
		Status string `json:"status"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Status != meta.RunRunning {
		return invalid("status %q: this call sets Running; report how the run ended with complete", body.Status)
	}
	b, err := a.runs.SetRunning(r.Context(), run, leaseID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, beatAnswer{CancelRequested: b.CancelRequested, LeaseExpiresAt: b.ExpiresAt})
}

func (a *API) appendLog(w http.ResponseWriter, r *http.Request, pool string) error {
	run, leaseID, err := a.held(r, pool)
	if err != nil {
		return err
	}
	var seq int64
	if s := r.URL.Query().Get("seq"); s != "" {
		if seq, err = strconv.ParseInt(s, 10, 64); err != nil || seq < 1 {
			return invalid("seq %q: number the chunks 1, 2, 3, …", s)
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxChunk))
	if err != nil {
		return err
	}
	got, err := a.runs.AppendLog(r.Context(), run, leaseID, seq, data)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Seq       int64 `json:"seq"`
		Size      int64 `json:"size"`
		Duplicate bool  `json:"duplicate"`
		Dropped   bool  `json:"dropped"`
	}{got.Seq, got.Size, got.Duplicate, got.Dropped})
}

// outputImage is an image a run pushed.
type outputImage struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
}

// maxRunError bounds the error a run ends with.
const maxRunError = 4096

func (a *API) complete(w http.ResponseWriter, r *http.Request, pool string) error {
	run, leaseID, err := a.held(r, pool)
	if err != nil {
		return err
	}
	var body struct {
		Status       string          `json:"status"`
		Error        string          `json:"error"`
		OutputImages []outputImage   `json:"outputImages"`
		Dependencies json.RawMessage `json:"dependencies"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if len(body.Error) > maxRunError {
		body.Error = body.Error[:maxRunError] + "…"
	}
	if body.OutputImages == nil {
		body.OutputImages = []outputImage{}
	}
	out, err := json.Marshal(body.OutputImages)
	if err != nil {
		return err
	}
	var deps []byte
	if len(body.Dependencies) > 0 && string(body.Dependencies) != "null" {
		deps = body.Dependencies
	}
	run, err = a.runs.Complete(r.Context(), run, leaseID, meta.RunResult{Status: body.Status, Error: body.Error,
		OutputImages: out, Dependencies: deps})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		RunID  string `json:"runId"`
		Status string `json:"status"`
	}{run.RunID, run.Status})
}

func (a *API) context(w http.ResponseWriter, r *http.Request, pool string) error {
	run, _, err := a.held(r, pool)
	if err != nil {
		return err
	}
	f, err := a.runs.OpenContext(r.Context(), run)
	if err != nil {
		return err
	}
	defer f.Close()
	req, err := runs.Request(run)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Docker-Content-Digest", string(req.ContextID))
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// identityToken answers an identity token of one of the managed
// identities of the held run's task: "[system]" or a user-assigned
// identity's clientId.
func (a *API) identityToken(w http.ResponseWriter, r *http.Request, pool string) error {
	run, _, err := a.held(r, pool)
	if err != nil {
		return err
	}
	var body struct {
		Identity string `json:"identity"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if a.idToken == nil || !runs.IsSteps(run) {
		return invalid("run %s has no managed identity", run.RunID)
	}
	req, err := runs.Steps(run)
	if err != nil {
		return err
	}
	principal, ok := req.Identities[body.Identity]
	if !ok {
		return invalid("identity %q is not assigned to task %q: give [system] or the clientId of one of its user-assigned identities", body.Identity, req.TaskName)
	}
	tok, exp, err := a.idToken(r.Context(), run, principal)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
	}{tok, exp})
}
