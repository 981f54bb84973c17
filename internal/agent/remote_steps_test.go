package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/pkg/client"
)

// TestRemoteLeaseSteps: a lease of a quick run or task run becomes a Job
// with Steps, the run's timeout bounding the whole run, and an
// IdentityToken that asks the agent API for the lease's run.
func TestRemoteLeaseSteps(t *testing.T) {
	date := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/agent/v1/lease":
			json.NewEncoder(w).Encode(client.AgentLease{LeaseID: "l1", LeaseSeconds: 30, Run: client.AgentRun{
				Registry: "blogbuildtest", RunID: "ca1", RunType: "TaskRun", LoginServer: "127.0.3.1:5000", Timeout: 3600,
				Credentials: &client.AgentCredentials{Username: client.NullUser, Password: "refresh"},
				Steps: &client.AgentSteps{TaskName: "t", Cmd: "berth purge --ago 1d", Values: map[string]string{"a": "b"},
					SecretValues: map[string]string{"s": "v"}, Context: "/dev/null", AuthMode: "None", Date: date,
					Docker:              &client.AgentDockerStep{Images: []string{"x:v1"}, Dockerfile: "D"},
					RegistryCredentials: []client.AgentRegistryCredential{{LoginServer: "127.0.3.1:5000", Identity: "[system]"}, {LoginServer: "other:5000", Username: "u", Password: "p"}},
					Trigger:             "Manual", TriggeredBy: "alice"},
			}})
		case "/agent/v1/runs/blogbuildtest/ca1/identityToken":
			b, _ := io.ReadAll(r.Body)
			var in struct{ Identity string }
			json.Unmarshal(b, &in)
			asked = in.Identity + " " + r.Header.Get(client.LeaseHeader)
			json.NewEncoder(w).Encode(client.RunIdentityToken{Token: "idtok"})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithTokenSource(client.StaticToken("pool")))
	if err != nil {
		t.Fatal(err)
	}
	rem := &agent.Remote{Agent: c.Agent(), Name: "a1"}
	l, err := rem.Lease(context.Background())
	if err != nil || l == nil {
		t.Fatalf("Lease: %v %v", l, err)
	}
	j := l.Job
	s := j.Steps
	if s == nil || j.Registry != "blogbuildtest" || j.RunTimeout != time.Hour || j.BuildTimeout != 0 || j.Username != client.NullUser ||
		s.TaskName != "t" || s.Cmd != "berth purge --ago 1d" || s.Values["a"] != "b" || s.SecretValues["s"] != "v" ||
		s.Context != "/dev/null" || s.AuthMode != agent.AuthModeNone || !s.Date.Equal(date) || s.Trigger != "Manual" || s.TriggeredBy != "alice" ||
		s.Docker == nil || s.Docker.Images[0] != "x:v1" || s.Docker.Dockerfile != "D" || len(s.RegistryCredentials) != 2 ||
		s.RegistryCredentials[0] != (agent.RegistryCredential{LoginServer: "127.0.3.1:5000", Identity: "[system]"}) ||
		s.RegistryCredentials[1] != (agent.RegistryCredential{LoginServer: "other:5000", Username: "u", Password: "p"}) {
		t.Fatalf("job %+v steps %+v", j, s)
	}
	tok, err := j.IdentityToken(context.Background(), "[system]")
	if err != nil || tok != "idtok" || asked != "[system] l1" {
		t.Fatalf("IdentityToken: %q %v (asked %q)", tok, err, asked)
	}
}
