package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/pkg/client"
)

// ownerClient is a management client of the server at addr, signed in as
// the bootstrap owner.
func ownerClient(t *testing.T, addr string) *client.Client {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("owner login: %d %v", resp.StatusCode, err)
	}
	c, err := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(out.AccessToken)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// agentClient is an agent of pool local of the server at addr.
func agentClient(t *testing.T, srv *app.Server, addr string) client.Agent {
	t.Helper()
	tok := srv.AgentToken("local")
	if tok == "" {
		t.Fatal("pool local has no token")
	}
	c, err := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(tok)))
	if err != nil {
		t.Fatal(err)
	}
	return c.Agent()
}

func contextTarGz(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, "FROM scratch\n")
	zw.Close()
	return b.Bytes()
}

// queueBuild uploads a context and queues a build of it.
func queueBuild(t *testing.T, c *client.Client, b client.QuickBuild) client.Run {
	t.Helper()
	ctx := contextTarGz(t)
	bc, err := c.Runs("default").UploadContext(t.Context(), bytes.NewReader(ctx), int64(len(ctx)))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	b.ContextID = bc.ContextID
	run, err := c.Runs("default").QueueBuild(t.Context(), b)
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	return run
}

// follower follows a run's log in the background.
type follower struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	run  client.Run
	err  error
}

func (f *follower) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Write(p)
}

func (f *follower) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

func follow(c *client.Client, runID string) *follower {
	f := &follower{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.run, f.err = c.Runs("default").FollowLog(context.Background(), runID, f)
	}()
	return f
}

// waitFor waits until the follower has read want.
func (f *follower) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.text() != want {
		if time.Now().After(deadline) {
			t.Fatalf("the follower has %q, want %q", f.text(), want)
		}
		select {
		case <-f.done:
			t.Fatalf("the follower stopped with %q (%v), want %q", f.text(), f.err, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (f *follower) wait(t *testing.T) {
	t.Helper()
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not stop after the run ended")
	}
	if f.err != nil {
		t.Fatalf("follow: %v", f.err)
	}
}

func lease(t *testing.T, a client.Agent) *client.AgentLease {
	t.Helper()
	l, err := a.Lease(t.Context(), "agent-1", 5*time.Second)
	if err != nil || l == nil {
		t.Fatalf("lease: %v, %v", l, err)
	}
	return l
}

// A fake agent drives a quick build through the agent API over real
// HTTP, while its owner follows the log as it grows.
func TestAgentAPI(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.Agent.Enabled = false // a fake agent leases the runs here
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	srv := startServer(t, cfg)
	owner, agent := ownerClient(t, addr), agentClient(t, srv, addr)

	// The pool's token was generated into the data directory.
	fi, err := os.Stat(filepath.Join(cfg.DataDir, "agent-token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("agent-token: %v, %v", fi, err)
	}
	for _, tok := range []string{"", "wrong"} {
		c, _ := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(tok)))
		_, err := c.Agent().Lease(t.Context(), "a", 0)
		if e, ok := client.AsError(err); !ok || e.Status != 401 || e.Code != "Unauthorized" {
			t.Errorf("lease with token %q: %v", tok, err)
		}
	}
	if l, err := agent.Lease(t.Context(), "agent-1", 0); l != nil || err != nil {
		t.Fatalf("lease with nothing queued = %v, %v", l, err)
	}
	ctxBytes := contextTarGz(t)
	run := queueBuild(t, owner, client.QuickBuild{Images: []string{"app:{{.Run.ID}}"}, BuildArgs: map[string]string{"V": "1"},
		SecretBuildArgs: map[string]string{"TOKEN": "s3cret"}})
	if run.Name != "ca1" || run.Properties.Status != client.RunQueued {
		t.Fatalf("queued %+v", run)
	}
	f := follow(owner, run.Name)

	l := lease(t, agent)
	r := l.Run
	if r.Registry != "default" || r.RunID != "ca1" || r.RunType != "QuickBuild" || r.AgentPool != "local" || r.LoginServer != addr ||
		strings.Join(r.Images, ",") != "app:ca1" || r.Dockerfile != "Dockerfile" || r.BuildArgs["V"] != "1" ||
		r.SecretBuildArgs["TOKEN"] != "s3cret" || r.Platform != "linux/amd64" || !r.Push || r.Timeout != 28800 ||
		r.ContextURL != "/agent/v1/runs/default/ca1/context" || l.HeartbeatSeconds != 10 || l.LeaseSeconds != 30 {
		t.Errorf("lease = %+v", l)
	}
	body, err := agent.OpenContext(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, ctxBytes) {
		t.Errorf("context = %q", got)
	}
	if b, err := agent.Heartbeat(t.Context(), l); err != nil || b.CancelRequested || !b.LeaseExpiresAt.After(time.Now()) {
		t.Errorf("heartbeat = %+v, %v", b, err)
	}
	if _, err := agent.SetRunning(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	if shown, _ := owner.Runs("default").Get(t.Context(), "ca1"); shown.Properties.Status != client.RunRunning || shown.Properties.Agent != "agent-1" {
		t.Errorf("shown while running: %+v", shown.Properties)
	}

	// The follower reads each chunk while the run goes on.
	if _, err := agent.AppendLog(t.Context(), l, 1, []byte("Step 1/2 : FROM scratch\n")); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "Step 1/2 : FROM scratch\n")
	if _, err := agent.AppendLog(t.Context(), l, 2, []byte("Step 2/2\n")); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "Step 1/2 : FROM scratch\nStep 2/2\n")
	if a, err := agent.AppendLog(t.Context(), l, 2, []byte("Step 2/2\n")); err != nil || !a.Duplicate {
		t.Errorf("a retried chunk = %+v, %v", a, err)
	}

	// Calls without the lease, or with another, are refused.
	other := *l
	other.LeaseID = "not-the-lease"
	if _, err := agent.Heartbeat(t.Context(), &other); !client.IsLeaseLost(err) {
		t.Errorf("heartbeat under another lease: %v", err)
	}
	other.LeaseID = ""
	if _, err := agent.Heartbeat(t.Context(), &other); err == nil || !strings.Contains(err.Error(), "Berth-Lease header") {
		t.Errorf("heartbeat without a lease: %v", err)
	}
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	if _, err := agent.AppendLog(t.Context(), l, 3, big); err == nil {
		t.Error("a chunk over 1 MiB was taken")
	} else if e, _ := client.AsError(err); e.Status != 413 {
		t.Errorf("a chunk over 1 MiB: %v", err)
	}

	out := []client.OutputImage{{Registry: addr, Repository: "app", Tag: "ca1", Digest: "sha256:" + strings.Repeat("a", 64)}}
	deps := []map[string]any{{"image": out[0], "runtimeDependency": []any{}}}
	if err := agent.Complete(t.Context(), l, client.RunOutcome{Status: client.RunSucceeded, OutputImages: out, Dependencies: deps}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	if f.text() != "Step 1/2 : FROM scratch\nStep 2/2\n" || f.run.Properties.Status != client.RunSucceeded {
		t.Errorf("followed %q, run %s", f.text(), f.run.Properties.Status)
	}
	done, err := owner.Runs("default").Get(t.Context(), "ca1")
	if err != nil {
		t.Fatal(err)
	}
	p := done.Properties
	if len(p.OutputImages) != 1 || p.OutputImages[0] != out[0] || p.FinishTime == nil || p.StartTime == nil ||
		!strings.Contains(string(p.Dependencies), `"runtimeDependency":[]`) {
		t.Errorf("ended run = %+v, dependencies %s", p, p.Dependencies)
	}
	if err := agent.Complete(t.Context(), l, client.RunOutcome{Status: client.RunFailed}); !client.IsLeaseLost(err) {
		t.Errorf("complete twice: %v", err)
	}
	// The whole log, from the blob it was archived into.
	rc, err := owner.Runs("default").Log(t.Context(), "ca1", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := io.ReadAll(rc)
	rc.Close()
	if string(whole) != "Step 1/2 : FROM scratch\nStep 2/2\n" {
		t.Errorf("archived log = %q", whole)
	}

	// Cancel a running run: the agent learns it from its heartbeat.
	queueBuild(t, owner, client.QuickBuild{Images: []string{"app:v2"}})
	l = lease(t, agent)
	if _, err := agent.SetRunning(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	c, err := owner.Runs("default").Cancel(t.Context(), l.Run.RunID)
	if err != nil || c.Properties.Status != client.RunRunning || !c.Properties.CancelRequested {
		t.Fatalf("cancel = %+v, %v", c.Properties, err)
	}
	if b, err := agent.Heartbeat(t.Context(), l); err != nil || !b.CancelRequested {
		t.Errorf("heartbeat after cancel = %+v, %v", b, err)
	}
	if err := agent.Complete(t.Context(), l, client.RunOutcome{Status: client.RunCanceled}); err != nil {
		t.Fatal(err)
	}
	if r, _ := owner.Runs("default").Get(t.Context(), l.Run.RunID); r.Properties.Status != client.RunCanceled || r.Properties.CancelRequested {
		t.Errorf("after the agent stopped: %+v", r.Properties)
	}
	if _, err := owner.Runs("default").Cancel(t.Context(), l.Run.RunID); err != nil {
		t.Errorf("cancel a canceled run: %v", err)
	}
}

// Agent API errors are the JSON envelope, and unknown operations are 404.
func TestAgentAPIErrors(t *testing.T) {
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.Agent.Enabled = false // a fake agent leases the runs here
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	cfg.AgentPools = append(cfg.AgentPools, config.AgentPool{Name: "west", Location: "westeurope", Token: "west-token"})
	srv := startServer(t, cfg)
	call := func(tok, method, path, body string) (int, string, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Error struct{ Code, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env.Error.Code, env.Error.Message
	}
	local := srv.AgentToken("local")
	for _, tt := range []struct {
		tok, method, path, body string
		status                  int
		code, msg               string
	}{
		{local, "GET", "/agent/v1/nothing", "", 404, "NotFound", "there is no operation"},
		{local, "POST", "/agent/v1/lease?wait=0", `{}`, 400, "InvalidRequest", "agent: give the agent's name"},
		{local, "POST", "/agent/v1/lease?wait=x", `{"agent":"a"}`, 400, "InvalidRequest", `wait "x"`},
		{local, "POST", "/agent/v1/lease", `{"agent":"a","pool":"west"}`, 400, "InvalidRequest", `unknown field "pool"`},
		{local, "POST", "/agent/v1/runs/default/ca7/heartbeat", "", 400, "InvalidRequest", "Berth-Lease header"},
		{"west-token", "POST", "/agent/v1/lease?wait=0", `{"agent":"w"}`, 204, "", ""},
		{"local-token", "POST", "/agent/v1/lease?wait=0", `{"agent":"w"}`, 401, "Unauthorized", "not the token of any agent pool"},
	} {
		status, code, msg := call(tt.tok, tt.method, tt.path, tt.body)
		if status != tt.status || code != tt.code || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s %s: %d %s %q, want %d %s %q", tt.method, tt.path, status, code, msg, tt.status, tt.code, tt.msg)
		}
	}
	// An agent of pool west cannot touch a run of pool local.
	owner := ownerClient(t, addr)
	queueBuild(t, owner, client.QuickBuild{Images: []string{"app"}})
	l := lease(t, agentClient(t, srv, addr))
	wc, _ := client.New("http://"+addr, client.WithTokenSource(client.StaticToken("west-token")))
	if _, err := wc.Agent().Heartbeat(t.Context(), l); err == nil || !strings.Contains(err.Error(), `run "ca1" of registry "default" not found`) {
		t.Errorf("another pool's agent: %v", err)
	}
}

// Two replicas on one data directory: a run queued through one is leased
// through the other, whose agent's log the first follows live.
func TestRunsAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	start := func() (*app.Server, string) {
		addr := freePort(t, "127.0.0.1")
		cfg := config.Default()
		cfg.Agent.Enabled = false // a fake agent leases the runs here
		cfg.DataDir = dir
		cfg.Listen = []string{addr}
		return startServer(t, cfg), addr
	}
	a, addrA := start()
	b, addrB := start()
	if a.AgentToken("local") != b.AgentToken("local") {
		t.Fatal("the replicas have different tokens for pool local")
	}
	owner := ownerClient(t, addrA)
	agent := agentClient(t, b, addrB)

	// A lease waiting on b gets a run queued on a, which no wake-up of
	// b's tells it of: b sees it in the store.
	leased := make(chan *client.AgentLease, 1)
	go func() {
		l, err := agent.Lease(context.Background(), "agent-b", 10*time.Second)
		if err != nil {
			t.Errorf("lease: %v", err)
		}
		leased <- l
	}()
	time.Sleep(100 * time.Millisecond)
	run := queueBuild(t, owner, client.QuickBuild{Images: []string{"app:v1"}})
	var l *client.AgentLease
	select {
	case l = <-leased:
	case <-time.After(10 * time.Second):
		t.Fatal("replica b never leased the run queued on a")
	}
	if l == nil || l.Run.RunID != run.Name {
		t.Fatalf("lease on b = %+v", l)
	}
	body, err := agent.OpenContext(t.Context(), l)
	if err != nil {
		t.Fatalf("context through b: %v", err)
	}
	body.Close()

	f := follow(owner, run.Name) // through a
	if _, err := agent.SetRunning(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	agent.AppendLog(t.Context(), l, 1, []byte("from replica b\n"))
	f.waitFor(t, "from replica b\n")
	agent.AppendLog(t.Context(), l, 2, []byte("still b\n"))
	f.waitFor(t, "from replica b\nstill b\n")
	if err := agent.Complete(t.Context(), l, client.RunOutcome{Status: client.RunFailed, Error: "step failed"}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	if f.run.Properties.Status != client.RunFailed || f.run.Properties.Error != "step failed" {
		t.Errorf("run seen through a = %+v", f.run.Properties)
	}
	// a shows the log b archived.
	rc, err := owner.Runs("default").Log(t.Context(), run.Name, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(rc)
	rc.Close()
	if string(rest) != "replica b\nstill b\n" {
		t.Errorf("log from byte 5 through a = %q", rest)
	}
}
