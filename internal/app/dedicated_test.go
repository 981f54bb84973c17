package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/internal/config"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
	"github.com/berth-project/berth/pkg/buildcontext"
	"github.com/berth-project/berth/pkg/client"
)

// TestDedicatedPoolBuild builds on real BuildKit with the agent of a
// dedicated pool attached to a private endpoint, on a registry closed to
// the public: the pool's agent, leaving from the endpoint's address,
// reaches the registry through the endpoint with the run's own credential
// and pushes; the same build on the public pool is denied. The agents
// follow the pool: none at count 0 (the run waits), one again at count 1.
func TestDedicatedPoolBuild(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("BuildKit's runc worker needs Linux and root")
	}
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t, "127.0.0.1")
	pe := freePort(t, "127.0.2.9")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	t.Setenv("PATH", filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	startServer(t, cfg)
	ctx := context.Background()

	// The base image, pushed by the owner while the registry is public.
	layout := t.TempDir()
	desc, err := buildengine.WriteBusyboxImage(layout, "", "busybox")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ocilayout.Open(layout)
	base, _ := regclient.ParseReference(addr + "/base/busybox:1")
	owner := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
	if _, err := owner.Push(ctx, l, desc, base); err != nil {
		t.Fatal(err)
	}

	m := newMatrixEnv(t, nil, addr)
	m.patch(`{"publicNetworkAccess":"Disabled"}`)
	m.api("PUT", "/api/registries/default/privateEndpointConnections/pe1", `{"properties":{"address":"`+pe+`"}}`, nil)
	m.api("POST", "/api/registries/default/privateEndpointConnections/pe1/approve", ``, nil)
	m.api("PUT", "/api/registries/default/agentPools/vnet", `{"properties":{"count":1,"privateEndpoint":"pe1"}}`, nil)

	c, err := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(m.idToken)))
	if err != nil {
		t.Fatal(err)
	}
	runs := c.Runs("default")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base.String()+"\nRUN echo built > /built\n"), 0o644)
	rc, _, err := buildcontext.Pack(ctx, dir, buildcontext.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tgz bytes.Buffer
	tgz.ReadFrom(rc)
	rc.Close()
	bc, err := runs.UploadContext(ctx, bytes.NewReader(tgz.Bytes()), int64(tgz.Len()))
	if err != nil {
		t.Fatal(err)
	}
	queue := func(image, pool string) client.Run {
		t.Helper()
		run, err := runs.QueueBuild(ctx, client.QuickBuild{Images: []string{image}, ContextID: bc.ContextID, AgentPool: pool})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	follow := func(run client.Run) (client.Run, string) {
		t.Helper()
		fctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		var log bytes.Buffer
		run, err := runs.FollowLog(fctx, run.Name, &log)
		if err != nil {
			t.Fatalf("follow %s: %v\n%s", run.Name, err, log.String())
		}
		return run, log.String()
	}

	run, log := follow(queue("vnet/app:v1", "vnet"))
	if run.Properties.Status != client.RunSucceeded || run.Properties.AgentPool != "vnet" || run.Properties.Agent != "vnet-1" {
		t.Fatalf("run %s on the dedicated pool: %s %q, pool %q, agent %q\n%s", run.Name, run.Properties.Status, run.Properties.Error,
			run.Properties.AgentPool, run.Properties.Agent, log)
	}
	for _, want := range []string{"Reaching registry " + addr + " through its private endpoint at " + pe,
		"Logging in to registry: " + addr, "Successfully pushed image: " + addr + "/vnet/app:v1"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q:\n%s", want, log)
		}
	}

	run, log = follow(queue("public/app:v1", "local"))
	want := "denied: client with IP '127.0.1.10' is not allowed access. Refer docs/network.md to grant access."
	if run.Properties.Status != client.RunFailed || !strings.Contains(run.Properties.Error, want) {
		t.Fatalf("run on the public pool: %s %q\n%s", run.Properties.Status, run.Properties.Error, log)
	}

	// No agent at count 0: the run waits; it runs when an agent is back.
	m.api("PATCH", "/api/registries/default/agentPools/vnet", `{"properties":{"count":0}}`, nil)
	time.Sleep(time.Second) // the agent stops within a reload
	waiting := queue("vnet/app:v2", "vnet")
	time.Sleep(2 * time.Second)
	if got, err := runs.Get(ctx, waiting.Name); err != nil || got.Properties.Status != client.RunQueued {
		t.Fatalf("run %s with no agent in its pool: %+v, %v", waiting.Name, got.Properties, err)
	}
	m.api("PATCH", "/api/registries/default/agentPools/vnet", `{"properties":{"count":1}}`, nil)
	if run, log = follow(waiting); run.Properties.Status != client.RunSucceeded {
		t.Fatalf("run %s after the agent came back: %s %q\n%s", run.Name, run.Properties.Status, run.Properties.Error, log)
	}
}
