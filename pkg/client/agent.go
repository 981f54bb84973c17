package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The agent API (/agent/v1/), as a build agent calls it. Make the Client
// with the pool's token as its TokenSource (StaticToken).

// LeaseHeader carries the lease id in every call about a leased run.
const LeaseHeader = "Berth-Lease"

// CodeLeaseLost is the error code of a call about a run whose lease the
// agent no longer holds; the agent must stop working on the run.
const CodeLeaseLost = "LeaseLost"

// IsLeaseLost reports whether err says the lease on a run was lost.
func IsLeaseLost(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == CodeLeaseLost
}

// AgentLease is a run leased to an agent.
type AgentLease struct {
	LeaseID        string    `json:"leaseId"`
	LeaseExpiresAt time.Time `json:"leaseExpiresAt"`
	// LeaseSeconds is how long the lease lasts without a heartbeat.
	LeaseSeconds int `json:"leaseSeconds"`
	// HeartbeatSeconds is how often to renew the lease.
	HeartbeatSeconds int      `json:"heartbeatSeconds"`
	Run              AgentRun `json:"run"`
}

// AgentRun is what a leased run is to do.
type AgentRun struct {
	Registry        string            `json:"registry"`
	RunID           string            `json:"runId"`
	RunType         string            `json:"runType"`
	AgentPool       string            `json:"agentPool"`
	LoginServer     string            `json:"loginServer"` // where to push Images
	Timeout         int64             `json:"timeout"`     // seconds from the lease
	Images          []string          `json:"images"`      // repository:tag, relative to LoginServer
	Dockerfile      string            `json:"dockerfile"`
	BuildArgs       map[string]string `json:"buildArgs"`
	SecretBuildArgs map[string]string `json:"secretBuildArgs"` // never to be logged
	Target          string            `json:"target"`
	Platform        string            `json:"platform"`
	Push            bool              `json:"push"`
	ContextID       string            `json:"contextId"`
	ContextURL      string            `json:"contextUrl"` // a path on the server
	// Credentials are the run's own registry credential, for Basic auth at
	// the login server's token endpoint; nil when the run has none.
	Credentials *AgentCredentials `json:"credentials,omitempty"`
	// LoginServerAddress is the HOST:PORT to connect to for every request
	// to LoginServer (the names and Host headers staying LoginServer's):
	// the private endpoint a dedicated pool reaches its registry through.
	// Empty: connect to LoginServer itself.
	LoginServerAddress string `json:"loginServerAddress,omitempty"`
	// Steps is set for quick runs and task runs (RunType QuickRun or
	// TaskRun); the build fields above are then unused.
	Steps *AgentSteps `json:"steps,omitempty"`
}

// AgentSteps is what a quick run or a task run does.
type AgentSteps struct {
	TaskName string `json:"taskName,omitempty"`
	// Exactly one of TaskFile (multi-step YAML, templates unrendered),
	// Cmd (one command step) and Docker (build and push a Dockerfile).
	TaskFile string            `json:"taskFile,omitempty"`
	Cmd      string            `json:"cmd,omitempty"`
	Docker   *AgentDockerStep  `json:"docker,omitempty"`
	Values   map[string]string `json:"values"`
	// SecretValues are {{.Secrets.x}} and --set-secret values: never to
	// be logged.
	SecretValues map[string]string `json:"secretValues"`
	// Context is "" for the uploaded context (ContextURL), "/dev/null", a
	// git URL (https://…/repo.git#ref:folder) or oci://….
	Context string `json:"context"`
	// AuthMode Default: Credentials above log in to the run's registry;
	// None: only RegistryCredentials.
	AuthMode            string                    `json:"authMode"`
	RegistryCredentials []AgentRegistryCredential `json:"registryCredentials"`
	// Date is when the run was queued ({{.Run.Date}}, $Date).
	Date time.Time `json:"date"`
	// Trigger and TriggeredBy say what started the run.
	Trigger     string `json:"trigger,omitempty"`
	TriggeredBy string `json:"triggeredBy,omitempty"`
}

// AgentDockerStep builds the context's Dockerfile and pushes it.
type AgentDockerStep struct {
	Images     []string `json:"images"` // repository:tag in the run's registry
	Dockerfile string   `json:"dockerfile"`
}

// AgentRegistryCredential is how a run logs in to a registry: with an
// identity token for Identity ("[system]" or a user-assigned identity's
// clientId), exchanged at the registry's /oauth2/exchange, or with a
// user name and password.
type AgentRegistryCredential struct {
	LoginServer string `json:"loginServer"`
	Identity    string `json:"identity,omitempty"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
}

// RunIdentityToken is an identity token of one of a run's task's managed
// identities, expiring with the run.
type RunIdentityToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// AgentCredentials are a user name and password for a registry.
type AgentCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Beat answers a heartbeat.
type Beat struct {
	CancelRequested bool      `json:"cancelRequested"`
	LeaseExpiresAt  time.Time `json:"leaseExpiresAt"`
}

// LogAppended says what became of a chunk of log.
type LogAppended struct {
	Seq       int64 `json:"seq"`
	Size      int64 `json:"size"`      // bytes of log the run has now
	Duplicate bool  `json:"duplicate"` // the server had the chunk already (a retry)
	Dropped   bool  `json:"dropped"`   // the log reached its limit
}

// RunOutcome is how a run ended.
type RunOutcome struct {
	Status       string        `json:"status"` // Succeeded, Failed, Canceled, Error or Timeout
	Error        string        `json:"error,omitempty"`
	OutputImages []OutputImage `json:"outputImages"`
	Dependencies any           `json:"dependencies,omitempty"` // the dependency report, any JSON
}

// Agent calls the agent API.
type Agent struct{ c *Client }

// Agent returns the agent API calls.
func (c *Client) Agent() Agent { return Agent{c} }

// Lease asks for a run of the token's pool, waiting up to wait (at most
// the server's 20 s); it answers nil, nil when none came.
func (a Agent) Lease(ctx context.Context, agent string, wait time.Duration) (*AgentLease, error) {
	var out AgentLease
	body := struct {
		Agent string `json:"agent"`
	}{agent}
	p := "/agent/v1/lease?wait=" + strconv.Itoa(int(wait/time.Second))
	if err := a.c.Do(ctx, "POST", p, body, &out); err != nil {
		return nil, err
	}
	if out.LeaseID == "" {
		return nil, nil
	}
	return &out, nil
}

func runCallPath(l *AgentLease, call string) string {
	return "/agent/v1/runs/" + seg(l.Run.Registry) + "/" + seg(l.Run.RunID) + "/" + call
}

// leased sends a call about l's run with its lease id and decodes the
// JSON answer into out.
func (a Agent) leased(ctx context.Context, l *AgentLease, method, path, contentType string, body []byte, out any) error {
	h := http.Header{LeaseHeader: {l.LeaseID}}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	resp, err := a.c.stream(ctx, method, path, contentType, rd, int64(len(body)), h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (a Agent) jsonCall(ctx context.Context, l *AgentLease, call string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	return a.leased(ctx, l, "POST", runCallPath(l, call), "application/json", body, out)
}

// Heartbeat renews the lease; the answer says whether to cancel the run.
func (a Agent) Heartbeat(ctx context.Context, l *AgentLease) (Beat, error) {
	var b Beat
	err := a.jsonCall(ctx, l, "heartbeat", nil, &b)
	return b, err
}

// SetRunning says the run's work began, and renews the lease.
func (a Agent) SetRunning(ctx context.Context, l *AgentLease) (Beat, error) {
	var b Beat
	err := a.jsonCall(ctx, l, "status", map[string]string{"status": RunRunning}, &b)
	return b, err
}

// AppendLog appends a chunk (at most 1 MiB) to the run's log. seq numbers
// the chunks 1, 2, 3, …, so that a retried chunk is not written twice; 0
// lets the server number it.
func (a Agent) AppendLog(ctx context.Context, l *AgentLease, seq int64, data []byte) (LogAppended, error) {
	var out LogAppended
	p := runCallPath(l, "log")
	if seq > 0 {
		p += "?" + url.Values{"seq": {strconv.FormatInt(seq, 10)}}.Encode()
	}
	err := a.leased(ctx, l, "POST", p, "application/octet-stream", data, &out)
	return out, err
}

// Complete reports how the run ended; the lease ends with it.
func (a Agent) Complete(ctx context.Context, l *AgentLease, o RunOutcome) error {
	if o.OutputImages == nil {
		o.OutputImages = []OutputImage{}
	}
	return a.jsonCall(ctx, l, "complete", o, nil)
}

// IdentityToken gets an identity token for identity ("[system]" or a
// user-assigned identity's clientId) of the task l's run belongs to.
func (a Agent) IdentityToken(ctx context.Context, l *AgentLease, identity string) (RunIdentityToken, error) {
	var out RunIdentityToken
	err := a.jsonCall(ctx, l, "identityToken", map[string]string{"identity": identity}, &out)
	return out, err
}

// OpenContext downloads the run's build context (a tar.gz).
func (a Agent) OpenContext(ctx context.Context, l *AgentLease) (io.ReadCloser, error) {
	resp, err := a.c.stream(ctx, "GET", runCallPath(l, "context"), "", nil, 0, http.Header{LeaseHeader: {l.LeaseID}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
