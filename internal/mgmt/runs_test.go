package mgmt_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// tarGz is a gzip stream: all the server checks of a context.
func tarGz(t *testing.T, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, content)
	zw.Close()
	return b.Bytes()
}

// raw sends a request with a body and answers the status and body.
func (e *env) raw(tok, method, path, ctype string, body []byte) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// uploadContext uploads a context to registry default and returns its id.
func (e *env) uploadContext(tok string) string {
	e.t.Helper()
	status, b, _ := e.raw(tok, "POST", "/api/registries/default/buildContexts", "application/gzip", tarGz(e.t, "context"))
	if status != 201 {
		e.t.Fatalf("upload: %d %s", status, b)
	}
	var out struct{ ContextID string }
	json.Unmarshal(b, &out)
	if !strings.HasPrefix(out.ContextID, "sha256:") {
		e.t.Fatalf("upload answered %s", b)
	}
	return out.ContextID
}

func TestRuns(t *testing.T) {
	e := newEnv(t)
	ctxID := e.uploadContext(e.owner)
	status, b, _ := e.raw(e.owner, "POST", "/api/registries/default/buildContexts", "application/gzip", []byte("not gzip"))
	if status != 400 || !strings.Contains(string(b), "gzip-compressed tar") {
		t.Errorf("upload of plain text: %d %s", status, b)
	}

	body := map[string]any{"runType": "QuickBuild", "images": []string{"app:{{.Run.ID}}", "app:latest"}, "dockerfile": "Dockerfile",
		"buildArgs": map[string]string{"V": "1"}, "secretBuildArgs": map[string]string{"TOKEN": "hunter2-secret"},
		"platform": "linux/amd64", "push": true, "timeout": 600, "agentPool": "local", "contextId": ctxID}
	r := e.call(e.owner, "POST", "/api/registries/default/runs", body)
	if r.status != 201 {
		t.Fatalf("queue: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("hunter2")) || bytes.Contains(r.body, []byte("TOKEN")) {
		t.Errorf("the answer shows a secret build arg: %s", r.body)
	}
	run := r.json(t)
	wantKeys(t, "run", run, "id", "name", "type", "properties")
	if run["id"] != "/registries/default/runs/ca1" || run["name"] != "ca1" || run["type"] != "runs" {
		t.Errorf("run = %v", run)
	}
	p := props(t, run)
	wantKeys(t, "run properties", p, "runId", "status", "runType", "trigger", "agentPool", "agent", "platform", "createTime",
		"startTime", "finishTime", "imageNames", "timeout", "cancelRequested", "outputImages", "dependencies", "error")
	if p["status"] != "Queued" || p["runType"] != "QuickBuild" || p["trigger"] != "Manual" || p["agentPool"] != "local" ||
		p["timeout"] != 600.0 || p["startTime"] != nil || p["finishTime"] != nil || p["platform"] != "linux/amd64" {
		t.Errorf("properties = %v", p)
	}
	if names, _ := json.Marshal(p["imageNames"]); string(names) != `["app:ca1","app:latest"]` {
		t.Errorf("imageNames = %s", names)
	}
	if out, _ := json.Marshal(p["outputImages"]); string(out) != `[]` {
		t.Errorf("outputImages = %s", out)
	}

	// Refusals name the field.
	for _, tt := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"images": []string{"App"}, "contextId": ctxID}, `images[0] "App"`},
		{map[string]any{"images": []string{"app"}, "contextId": ctxID, "agentPool": "nope"}, `agentPool "nope": no such agent pool`},
		{map[string]any{"images": []string{"app"}}, "contextId: upload the build context first"},
		{map[string]any{"images": []string{"app"}, "contextId": "sha256:" + strings.Repeat("0", 64)}, "no such build context was uploaded"},
		{map[string]any{"images": []string{"app"}, "contextId": ctxID, "runType": "TaskRun"}, "run a task with POST"},
		{map[string]any{"images": []string{"app"}, "contextId": ctxID, "secrets": 1}, `unknown field "secrets"`},
	} {
		r := e.call(e.owner, "POST", "/api/registries/default/runs", tt.body)
		if r.status != 400 || !strings.Contains(r.message(t), tt.want) {
			t.Errorf("queue %v: %d %s, want 400 with %q", tt.body, r.status, r.body, tt.want)
		}
	}

	e.must(201, e.owner, "POST", "/api/registries/default/runs", map[string]any{"images": []string{"b"}, "contextId": ctxID})
	e.must(201, e.owner, "POST", "/api/registries/default/runs", map[string]any{"images": []string{"c"}, "contextId": ctxID})
	if got := e.names(e.owner, "/api/registries/default/runs"); strings.Join(got, " ") != "ca3 ca2 ca1" {
		t.Errorf("runs = %v", got)
	}
	if got := e.names(e.owner, "/api/registries/default/runs?top=1"); strings.Join(got, " ") != "ca3" {
		t.Errorf("runs, top 1 = %v", got)
	}
	if got := e.must(200, e.owner, "GET", "/api/registries/default/runs/ca2", nil); got["name"] != "ca2" {
		t.Errorf("show ca2 = %v", got)
	}

	// Cancel a queued run: Canceled at once, and again without an error.
	c := e.must(200, e.owner, "POST", "/api/registries/default/runs/ca2/cancel", nil)
	if p := props(t, c); p["status"] != "Canceled" || p["finishTime"] == nil {
		t.Errorf("canceled = %v", p)
	}
	e.must(200, e.owner, "POST", "/api/registries/default/runs/ca2/cancel", nil)
	if got := e.names(e.owner, "/api/registries/default/runs?status=canceled"); strings.Join(got, " ") != "ca2" {
		t.Errorf("canceled runs = %v", got)
	}
	r = e.call(e.owner, "GET", "/api/registries/default/runs?status=Done", nil)
	if r.status != 400 || !strings.Contains(r.message(t), `status "Done": want one of Queued, Started, Running`) {
		t.Errorf("bad status: %d %s", r.status, r.body)
	}
	r = e.call(e.owner, "GET", "/api/registries/default/runs/ca9", nil)
	if r.status != 404 || r.message(t) != `run "ca9" of registry "default" not found` {
		t.Errorf("unknown run: %d %s", r.status, r.body)
	}
	r = e.call(e.owner, "POST", "/api/registries/default/runs/ca9/cancel", nil)
	if r.status != 404 {
		t.Errorf("cancel unknown run: %d %s", r.status, r.body)
	}

	// The log of a queued run is empty, as text.
	status, b, h := e.raw(e.owner, "GET", "/api/registries/default/runs/ca1/log", "", nil)
	if status != 200 || len(b) != 0 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("log of a queued run: %d %q %s", status, b, h.Get("Content-Type"))
	}
	status, b, _ = e.raw(e.owner, "GET", "/api/registries/default/runs/ca1/log?follow=maybe", "", nil)
	if status != 400 {
		t.Errorf("log?follow=maybe: %d %s", status, b)
	}
}

// Queueing and canceling need push rights; reading needs those or Reader.
func TestRunRoles(t *testing.T) {
	e := newEnv(t)
	ctxID := e.uploadContext(e.owner)
	e.must(201, e.owner, "POST", "/api/registries/default/runs", map[string]any{"images": []string{"app"}, "contextId": ctxID})
	pusher := e.newUser("pusher", "AcrPush", "/registries/default")
	reader := e.newUser("reader", "Reader", "/registries/default")
	puller := e.newUser("puller", "AcrPull", "/registries/default")
	other := e.newUser("other", "Owner", "/registries/default/repositories/app")

	queue := map[string]any{"images": []string{"app"}, "contextId": ctxID}
	for _, tt := range []struct {
		who        string
		tok        string
		read, push bool
	}{
		{"AcrPush", pusher, true, true},
		{"Reader", reader, true, false},
		{"AcrPull", puller, false, false},
		{"Owner of a repository", other, false, false},
	} {
		want := func(ok bool, success int) int {
			if ok {
				return success
			}
			return 403
		}
		if r := e.call(tt.tok, "GET", "/api/registries/default/runs", nil); r.status != want(tt.read, 200) {
			t.Errorf("%s lists runs: %d %s", tt.who, r.status, r.body)
		}
		if r := e.call(tt.tok, "GET", "/api/registries/default/runs/ca1", nil); r.status != want(tt.read, 200) {
			t.Errorf("%s shows a run: %d", tt.who, r.status)
		}
		if status, _, _ := e.raw(tt.tok, "GET", "/api/registries/default/runs/ca1/log", "", nil); status != want(tt.read, 200) {
			t.Errorf("%s reads a log: %d", tt.who, status)
		}
		r := e.call(tt.tok, "POST", "/api/registries/default/runs", queue)
		if r.status != want(tt.push, 201) {
			t.Errorf("%s queues a run: %d %s", tt.who, r.status, r.body)
		}
		if !tt.push && !strings.Contains(r.message(t), "may not queue or cancel runs at scope /registries/default: that needs the role AcrPush, Contributor or Owner there") {
			t.Errorf("%s refused with %q", tt.who, r.message(t))
		}
		if status, _, _ := e.raw(tt.tok, "POST", "/api/registries/default/buildContexts", "application/gzip", tarGz(t, "x")); status != want(tt.push, 201) {
			t.Errorf("%s uploads a context: %d", tt.who, status)
		}
	}
	if r := e.call(reader, "POST", "/api/registries/default/runs/ca1/cancel", nil); r.status != 403 {
		t.Errorf("Reader cancels: %d", r.status)
	}
	if r := e.call(puller, "GET", "/api/registries/default/runs", nil); !strings.Contains(r.message(t), "that needs the role AcrPush, Reader, Contributor or Owner there") {
		t.Errorf("AcrPull refused with %q", r.message(t))
	}
	if r := e.call(pusher, "POST", "/api/registries/default/runs/ca1/cancel", nil); r.status != 200 {
		t.Errorf("AcrPush cancels: %d %s", r.status, r.body)
	}
	if r := e.call("", "GET", "/api/registries/default/runs", nil); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}

// A context is streamed with a limit of its own, far over maxBody.
func TestBuildContextSize(t *testing.T) {
	e := newEnv(t)
	big := tarGz(t, strings.Repeat("incompressible? no, but large enough", 1))
	big = append(big, bytes.Repeat([]byte{'x'}, 3<<20)...) // 3 MiB: over the 1 MiB of JSON calls
	status, b, _ := e.raw(e.owner, "POST", "/api/registries/default/buildContexts", "application/gzip", big)
	if status != 201 {
		t.Fatalf("upload of 3 MiB: %d %s", status, b)
	}
	var out struct {
		ContextID string
		Size      int64
	}
	json.Unmarshal(b, &out)
	if out.ContextID != digest(big) || out.Size != int64(len(big)) {
		t.Errorf("upload answered %s", b)
	}
}
