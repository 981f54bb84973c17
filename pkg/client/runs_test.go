package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/pkg/client"
)

const runReply = `{"id":"/registries/r1/runs/ca1","name":"ca1","type":"runs","properties":{"runId":"ca1","status":"Succeeded",
"runType":"QuickBuild","trigger":"Manual","agentPool":"local","agent":"a1","platform":"linux/amd64",
"createTime":"2026-01-02T03:04:05Z","startTime":"2026-01-02T03:04:06Z","finishTime":null,"imageNames":["app:ca1"],"timeout":600,
"cancelRequested":false,"outputImages":[{"registry":"r","repository":"app","tag":"ca1","digest":"sha256:d"}],"dependencies":null,"error":""}}`

func TestRunCalls(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	run := client.Run{ID: "/registries/r1/runs/ca1", Name: "ca1", Type: "runs", Properties: client.RunProperties{RunID: "ca1",
		Status: client.RunSucceeded, RunType: "QuickBuild", Trigger: "Manual", AgentPool: "local", Agent: "a1", Platform: "linux/amd64",
		CreateTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), StartTime: &start, ImageNames: []string{"app:ca1"}, Timeout: 600,
		OutputImages: []client.OutputImage{{Registry: "r", Repository: "app", Tag: "ca1", Digest: "sha256:d"}},
		Dependencies: []byte("null")}}
	no := false
	tests := []struct {
		name         string
		call         func(r client.Runs) (any, error)
		method, path string
		body, reply  string
		want         any
	}{
		{"queue", func(r client.Runs) (any, error) {
			return r.QueueBuild(ctx, client.QuickBuild{Images: []string{"app:{{.Run.ID}}"}, SecretBuildArgs: map[string]string{"T": "s"},
				Push: &no, Timeout: 600, ContextID: "sha256:c"})
		}, "POST", "/api/registries/r1/runs",
			`{"runType":"QuickBuild","images":["app:{{.Run.ID}}"],"secretBuildArgs":{"T":"s"},"push":false,"timeout":600,"contextId":"sha256:c"}`,
			runReply, run},
		{"get", func(r client.Runs) (any, error) { return r.Get(ctx, "ca1") }, "GET", "/api/registries/r1/runs/ca1", "", runReply, run},
		{"list", func(r client.Runs) (any, error) { return r.List(ctx, client.RunQuery{Top: 5, Status: "Running"}) },
			"GET", "/api/registries/r1/runs?status=Running&top=5", "", `{"value":[` + runReply + `]}`, []client.Run{run}},
		{"cancel", func(r client.Runs) (any, error) { return r.Cancel(ctx, "ca1") }, "POST", "/api/registries/r1/runs/ca1/cancel", "", runReply, run},
		{"upload", func(r client.Runs) (any, error) { return r.UploadContext(ctx, strings.NewReader("tgz"), 3) },
			"POST", "/api/registries/r1/buildContexts", "tgz", `{"contextId":"sha256:c","size":3}`, client.BuildContext{ContextID: "sha256:c", Size: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Method != tt.method || r.URL.RequestURI() != tt.path || string(b) != tt.body || r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("got %s %s %s, want %s %s %s", r.Method, r.URL.RequestURI(), b, tt.method, tt.path, tt.body)
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c, _ := client.New(srv.URL, client.WithTokenSource(client.StaticToken("tok")))
			got, err := tt.call(c.Runs("r1"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// FollowLog reconnects where the stream was cut until the run ended.
func TestFollowLogReconnects(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	status := "Running"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.RequestURI())
		switch r.URL.RequestURI() {
		case "/api/registries/r1/runs/ca1/log?follow=true":
			io.WriteString(w, "one\n") // then the stream is cut, the run still live
		case "/api/registries/r1/runs/ca1/log?follow=true&offset=4":
			io.WriteString(w, "two\n")
			status = "Failed"
		case "/api/registries/r1/runs/ca1":
			io.WriteString(w, strings.Replace(runReply, `"Succeeded"`, `"`+status+`"`, 1))
		default:
			http.Error(w, "unexpected", 500)
		}
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	var out bytes.Buffer
	run, err := c.Runs("r1").FollowLog(context.Background(), "ca1", &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\n" || run.Properties.Status != "Failed" {
		t.Errorf("followed %q, status %s; requests %q", out.String(), run.Properties.Status, asked)
	}
}

// The agent calls send the pool token, the lease id and their bodies.
func TestAgentCalls(t *testing.T) {
	ctx := context.Background()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+r.Header.Get(client.LeaseHeader)+" "+string(b))
		switch {
		case strings.HasPrefix(r.URL.Path, "/agent/v1/lease") && len(got) == 1:
			w.WriteHeader(204)
		case strings.HasPrefix(r.URL.Path, "/agent/v1/lease"):
			io.WriteString(w, `{"leaseId":"L","heartbeatSeconds":10,"run":{"registry":"r1","runId":"ca1","images":["app:ca1"]}}`)
		case strings.HasSuffix(r.URL.Path, "/heartbeat"):
			w.WriteHeader(409)
			io.WriteString(w, `{"error":{"code":"LeaseLost","message":"the lease on this run was lost"}}`)
		case strings.HasSuffix(r.URL.Path, "/context"):
			io.WriteString(w, "tgz")
		default:
			io.WriteString(w, `{"cancelRequested":true,"seq":3}`)
		}
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithTokenSource(client.StaticToken("pool-token")))
	a := c.Agent()
	if l, err := a.Lease(ctx, "a1", 0); l != nil || err != nil {
		t.Fatalf("lease with none = %v, %v", l, err)
	}
	l, err := a.Lease(ctx, "a1", 20*time.Second)
	if err != nil || l.LeaseID != "L" || l.Run.RunID != "ca1" {
		t.Fatalf("lease = %+v, %v", l, err)
	}
	if _, err := a.Heartbeat(ctx, l); !client.IsLeaseLost(err) {
		t.Errorf("heartbeat: %v, want lease lost", err)
	}
	if b, err := a.SetRunning(ctx, l); err != nil || !b.CancelRequested {
		t.Errorf("SetRunning = %+v, %v", b, err)
	}
	if ap, err := a.AppendLog(ctx, l, 3, []byte("line\n")); err != nil || ap.Seq != 3 {
		t.Errorf("AppendLog = %+v, %v", ap, err)
	}
	if err := a.Complete(ctx, l, client.RunOutcome{Status: client.RunSucceeded}); err != nil {
		t.Error(err)
	}
	rc, err := a.OpenContext(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "tgz" {
		t.Errorf("context = %q", b)
	}
	want := []string{
		`POST /agent/v1/lease?wait=0 Bearer pool-token  {"agent":"a1"}`,
		`POST /agent/v1/lease?wait=20 Bearer pool-token  {"agent":"a1"}`,
		`POST /agent/v1/runs/r1/ca1/heartbeat Bearer pool-token L `,
		`POST /agent/v1/runs/r1/ca1/status Bearer pool-token L {"status":"Running"}`,
		`POST /agent/v1/runs/r1/ca1/log?seq=3 Bearer pool-token L line` + "\n",
		`POST /agent/v1/runs/r1/ca1/complete Bearer pool-token L {"status":"Succeeded","outputImages":[]}`,
		`GET /agent/v1/runs/r1/ca1/context Bearer pool-token L `,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
