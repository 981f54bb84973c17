package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Run is a build or task run of a registry.
type Run struct {
	ID         string        `json:"id"` // /registries/<name>/runs/<runId>
	Name       string        `json:"name"`
	Type       string        `json:"type"`
	Properties RunProperties `json:"properties"`
}

// RunProperties are a run's properties. A run never shows its build args.
type RunProperties struct {
	RunID   string `json:"runId"`
	Status  string `json:"status"`  // one of the Run* statuses
	RunType string `json:"runType"` // QuickBuild, QuickRun or TaskRun
	Trigger string `json:"trigger"` // Manual, Timer or BaseImageUpdate
	// TriggeredBy says what started a triggered run: the timer's name, or
	// the base image pushed (loginServer/repo:tag@digest).
	TriggeredBy string     `json:"triggeredBy,omitempty"`
	Task        string     `json:"task,omitempty"` // the task a TaskRun ran
	AgentPool   string     `json:"agentPool"`
	Agent       string     `json:"agent"` // the agent that leased it last
	Platform    string     `json:"platform"`
	CreateTime  time.Time  `json:"createTime"`
	StartTime   *time.Time `json:"startTime"`
	FinishTime  *time.Time `json:"finishTime"`
	ImageNames  []string   `json:"imageNames"`
	Timeout     int64      `json:"timeout"` // seconds
	// CancelRequested says cancel was asked for and the agent has not
	// stopped the run yet.
	CancelRequested bool            `json:"cancelRequested"`
	OutputImages    []OutputImage   `json:"outputImages"`
	Dependencies    json.RawMessage `json:"dependencies"` // the agent's report; null until the run ended
	Error           string          `json:"error"`
}

// OutputImage is an image a run pushed.
type OutputImage struct {
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
}

// Run statuses.
const (
	RunQueued    = "Queued"
	RunStarted   = "Started"
	RunRunning   = "Running"
	RunSucceeded = "Succeeded"
	RunFailed    = "Failed"
	RunCanceled  = "Canceled"
	RunError     = "Error"
	RunTimeout   = "Timeout"
)

// RunEnded reports whether status is one a run ends in.
func RunEnded(status string) bool {
	switch status {
	case RunSucceeded, RunFailed, RunCanceled, RunError, RunTimeout:
		return true
	}
	return false
}

// QuickBuild asks for a quick build of an uploaded context.
type QuickBuild struct {
	Images     []string          `json:"images"`               // repository[:tag]; {{.Run.ID}} is expanded
	Dockerfile string            `json:"dockerfile,omitempty"` // default Dockerfile
	BuildArgs  map[string]string `json:"buildArgs,omitempty"`
	// SecretBuildArgs are stored sealed, given only to the agent that
	// runs the build, and never shown.
	SecretBuildArgs map[string]string `json:"secretBuildArgs,omitempty"`
	Target          string            `json:"target,omitempty"`
	Platform        string            `json:"platform,omitempty"` // default linux/amd64
	Push            *bool             `json:"push,omitempty"`     // default true
	Timeout         int               `json:"timeout,omitempty"`  // seconds; default 28800
	AgentPool       string            `json:"agentPool,omitempty"`
	ContextID       string            `json:"contextId"` // from UploadContext
}

// BuildContext is an uploaded build context.
type BuildContext struct {
	ContextID string `json:"contextId"` // its digest
	Size      int64  `json:"size"`
}

// RunQuery narrows a listing of runs.
type RunQuery struct {
	Top    int    // at most this many, the newest; 0 lets the server choose (100)
	Status string // only runs of this status
	Task   string // only runs of this task
}

// Runs calls /api/registries/{r}/runs and /buildContexts.
type Runs struct {
	c        *Client
	registry string
}

// Runs returns the run calls of registry.
func (c *Client) Runs(registry string) Runs { return Runs{c, registry} }

func (r Runs) path(runID string) string {
	s := registryPath(r.registry) + "/runs"
	if runID != "" {
		s += "/" + seg(runID)
	}
	return s
}

// UploadContext uploads a build context, a tar.gz, streaming body; size
// is its length, or -1 when unknown.
func (r Runs) UploadContext(ctx context.Context, body io.Reader, size int64) (BuildContext, error) {
	var out BuildContext
	resp, err := r.c.stream(ctx, "POST", registryPath(r.registry)+"/buildContexts", "application/gzip", body, size, nil)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("decoding the answer to the context upload: %w", err)
	}
	return out, nil
}

// QueueBuild queues a quick build.
func (r Runs) QueueBuild(ctx context.Context, b QuickBuild) (Run, error) {
	body := struct {
		RunType string `json:"runType"`
		QuickBuild
	}{"QuickBuild", b}
	var out Run
	err := r.c.Do(ctx, "POST", r.path(""), body, &out)
	return out, err
}

// List returns the registry's runs, newest first.
func (r Runs) List(ctx context.Context, q RunQuery) ([]Run, error) {
	v := url.Values{}
	if q.Top != 0 {
		v.Set("top", strconv.Itoa(q.Top))
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Task != "" {
		v.Set("task", q.Task)
	}
	p := r.path("")
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return getList[Run](ctx, r.c, p)
}

// Get returns run runID.
func (r Runs) Get(ctx context.Context, runID string) (Run, error) {
	var out Run
	err := r.c.Do(ctx, "GET", r.path(runID), nil, &out)
	return out, err
}

// Cancel cancels run runID: a queued run is Canceled at once; a started or
// running one gets CancelRequested, and its agent stops it.
func (r Runs) Cancel(ctx context.Context, runID string) (Run, error) {
	var out Run
	err := r.c.Do(ctx, "POST", r.path(runID)+"/cancel", nil, &out)
	return out, err
}

// Log opens the log of run runID from byte offset on. With follow, the
// answer streams the log as it grows and ends when the run ended (or the
// server cut it: see FollowLog).
func (r Runs) Log(ctx context.Context, runID string, offset int64, follow bool) (io.ReadCloser, error) {
	v := url.Values{}
	if follow {
		v.Set("follow", "true")
	}
	if offset > 0 {
		v.Set("offset", strconv.FormatInt(offset, 10))
	}
	p := r.path(runID) + "/log"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	resp, err := r.c.stream(ctx, "GET", p, "", nil, 0, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// followRetry is how long FollowLog waits before it reconnects.
var followRetry = 500 * time.Millisecond

// FollowLog copies the log of run runID to w until the run ended and its
// whole log was written, reconnecting where it left off when the stream is
// cut before the end (a server restarting, a proxy's timeout). It returns
// the run as it ended.
func (r Runs) FollowLog(ctx context.Context, runID string, w io.Writer) (Run, error) {
	var offset int64
	failures := 0
	for {
		body, err := r.Log(ctx, runID, offset, true)
		if err == nil {
			var n int64
			n, err = io.Copy(w, body)
			body.Close()
			offset += n
			if n > 0 {
				failures = 0
			}
		}
		if _, isAPI := AsError(err); isAPI || ctx.Err() != nil {
			return Run{}, err
		}
		run, gerr := r.Get(ctx, runID)
		if gerr != nil {
			return run, gerr
		}
		if RunEnded(run.Properties.Status) && err == nil {
			return run, nil
		}
		if failures++; failures > 10 {
			if err == nil {
				err = errors.New("the log stream keeps ending before the run")
			}
			return run, fmt.Errorf("following the log of %s: %w", runID, err)
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(followRetry):
		}
	}
}

// stream sends a request whose body (size bytes, -1 unknown) is streamed,
// and returns the response to read; an answer of 400 or more is an *Error.
func (c *Client) stream(ctx context.Context, method, path, contentType string, body io.Reader, size int64, header http.Header) (*http.Response, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("client: path %q must start with /", path)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.tokens != nil {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach %s: %w", c.base, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, parseError(resp)
	}
	return resp, nil
}
