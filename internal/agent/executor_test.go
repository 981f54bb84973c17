package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/app"
	"github.com/berth-project/berth/internal/buildcontext"
	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	packctx "github.com/berth-project/berth/pkg/buildcontext"
)

const egress = "127.0.1.10"

// buildEnv is a berth server, a BuildKit daemon and an executor bound to
// the local pool's egress address, with busybox pushed as base/busybox:1.
type buildEnv struct {
	t    *testing.T
	host string // the registry's login server
	exec *agent.Executor
	base string // the base image reference
}

func newBuildEnv(t *testing.T) *buildEnv {
	t.Helper()
	d := startEngine(t)

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	srv, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "pw", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	e := &buildEnv{t: t, host: strings.TrimPrefix(ts.URL, "http://")}

	layout := t.TempDir()
	desc, err := buildengine.WriteBusyboxImage(layout, "", "busybox")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ocilayout.Open(layout)
	e.base = e.host + "/base/busybox:1"
	ref, _ := regclient.ParseReference(e.base)
	admin := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
	if _, err := admin.Push(context.Background(), l, desc, ref); err != nil {
		t.Fatalf("push the base image: %v", err)
	}
	e.exec = &agent.Executor{
		Engine: agent.Buildctl{Command: d.Buildctl},
		Extract: func(ctx context.Context, r io.Reader, dest string) error {
			return buildcontext.Extract(ctx, r, dest, buildcontext.Limits{})
		},
		Egress: netip.MustParseAddr(egress), WorkDir: t.TempDir(), PlainHTTP: true,
	}
	return e
}

// context packs files into a build context.
func (e *buildEnv) context(files map[string]string) io.Reader {
	e.t.Helper()
	dir := e.t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	rc, _, err := packctx.Pack(context.Background(), dir, packctx.PackOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	io.Copy(&buf, rc)
	return &buf
}

func TestQuickBuild(t *testing.T) {
	e := newBuildEnv(t)
	const secret = "s3cr3t-token-value"
	job := agent.Job{
		RunID: "ca1", LoginServer: e.host, Images: []string{"buildtest/hello-world:v1"}, Push: true,
		BuildArgs:       map[string]string{"GREETING": "hello"},
		SecretBuildArgs: map[string]string{"TOKEN": secret},
		Context: e.context(map[string]string{
			"Dockerfile": "FROM " + e.base + "\nARG GREETING\nARG TOKEN\nWORKDIR /app\nENV WHO=berth\n" +
				"RUN echo \"$GREETING $WHO\" > greeting && echo \"token $TOKEN\" && echo ${#TOKEN} > toklen\nCOPY hello.txt .\n",
			"hello.txt": "hi from the context\n",
		}),
		Username: "admin", Password: "pw",
	}
	var log bytes.Buffer
	r := e.exec.Run(context.Background(), job, &log)
	if !r.Succeeded {
		t.Fatalf("run failed: %s\n%s", r.Error, log.String())
	}
	for _, want := range []string{
		"Logging in to registry: " + e.host, "Pulling base image: " + e.base,
		"Executing step ID: build. Timeout(sec): 28800", "Executing step ID: push. Timeout(sec): 3600",
		"Successfully pushed image: " + e.host + "/buildtest/hello-world:v1",
		"The following dependencies were found:", "repository: base/busybox",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log has no %q:\n%s", want, log.String())
		}
	}
	t.Logf("log:\n%s", log.String())
	if strings.Contains(log.String(), secret) {
		t.Errorf("the log shows the secret build arg:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "token ***") {
		t.Errorf("the secret's echo is not redacted in the log:\n%s", log.String())
	}
	if len(r.Outputs) != 1 || r.Outputs[0].Repository != "buildtest/hello-world" || r.Dependencies[0].Runtime[0].Repository != "base/busybox" {
		t.Fatalf("result %+v", r)
	}

	// The pushed image holds what the Dockerfile made, and its history
	// does not hold the secret.
	l, _ := ocilayout.Create(t.TempDir())
	ref, _ := regclient.ParseReference(e.host + "/buildtest/hello-world:v1")
	p, err := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"}).Pull(context.Background(), ref, l, "linux/amd64")
	if err != nil || p.Digest != r.Outputs[0].Digest {
		t.Fatalf("pull the built image: %+v %v", p, err)
	}
	files := imageFiles(t, l, p.Manifest)
	if files["app/greeting"] != "hello berth\n" || files["app/hello.txt"] != "hi from the context\n" || files["app/toklen"] != "18\n" {
		t.Errorf("image files: greeting %q hello %q toklen %q", files["app/greeting"], files["app/hello.txt"], files["app/toklen"])
	}
	if cfg := configOf(t, l, p.Manifest); strings.Contains(cfg, secret) {
		t.Errorf("the image config holds the secret: %s", cfg)
	}
}

// TestQuickBuildBehindFirewall: with the registry closed to the agent's
// egress address, the run fails at login with the registry's denial.
func TestQuickBuildBehindFirewall(t *testing.T) {
	e := newBuildEnv(t)
	e.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]}}`)
	var log bytes.Buffer
	r := e.exec.Run(context.Background(), agent.Job{
		RunID: "ca2", LoginServer: e.host, Images: []string{"buildtestfromvm/hello-world:v1"}, Push: true,
		Context:  e.context(map[string]string{"Dockerfile": "FROM " + e.base + "\n"}),
		Username: "admin", Password: "pw",
	}, &log)
	want := "denied: client with IP '" + egress + "' is not allowed access. Refer docs/network.md to grant access."
	if r.Succeeded || !strings.Contains(r.Error, want) || !strings.Contains(log.String(), want) {
		t.Fatalf("run behind the firewall: %+v\n%s", r, log.String())
	}
}

func TestFailingRun(t *testing.T) {
	e := newBuildEnv(t)
	var log bytes.Buffer
	r := e.exec.Run(context.Background(), agent.Job{
		RunID: "ca3", LoginServer: e.host, Images: []string{"x:v1"}, Push: true,
		Context:  e.context(map[string]string{"Dockerfile": "FROM " + e.base + "\nRUN echo about to fail && exit 3\n"}),
		Username: "admin", Password: "pw",
	}, &log)
	if r.Succeeded || !strings.Contains(r.Error, "failed to build the image") || !strings.Contains(log.String(), "about to fail") {
		t.Fatalf("failing RUN: %+v\n%s", r, log.String())
	}
}

func (e *buildEnv) patch(props string) {
	e.t.Helper()
	resp, err := http.PostForm("http://"+e.host+"/identity/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"pw"}})
	if err != nil {
		e.t.Fatal(err)
	}
	var id struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&id)
	resp.Body.Close()
	req, _ := http.NewRequest("PATCH", "http://"+e.host+"/api/registries/default", strings.NewReader(`{"properties":`+props+`}`))
	req.Header.Set("Authorization", "Bearer "+id.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("PATCH: %v %v", resp, err)
	}
}

func configOf(t *testing.T, l *ocilayout.Layout, m oci.Descriptor) string {
	t.Helper()
	var man struct{ Config oci.Descriptor }
	b, _ := l.Bytes(m.Digest)
	json.Unmarshal(b, &man)
	cfg, err := l.Bytes(man.Config.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return string(cfg)
}
