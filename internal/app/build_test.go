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

// TestLocalAgentBuild queues quick builds on a server whose in-process
// agent (pool local, egress 127.0.1.10) runs them on a real BuildKit: the
// first succeeds and pushes with the run's own credential; with the
// registry closed to the agent's egress, the next fails at login with the
// registry's denial; a run's credential stops working when the run ends.
func TestLocalAgentBuild(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("BuildKit's runc worker needs Linux and root")
	}
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t, "127.0.0.1")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = []string{addr}
	// The engine installed by make engine, linked into bin/.
	t.Setenv("PATH", filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	startServer(t, cfg)
	ctx := context.Background()

	// The base image, pushed by the owner.
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
	c, err := client.New("http://"+addr, client.WithTokenSource(client.StaticToken(m.idToken)))
	if err != nil {
		t.Fatal(err)
	}
	runs := c.Runs("default")
	build := func(image string) (client.Run, string) {
		t.Helper()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base.String()+"\nRUN echo built > /built\n"), 0o644)
		rc, _, err := buildcontext.Pack(ctx, dir, buildcontext.PackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var tgz bytes.Buffer
		tgz.ReadFrom(rc)
		rc.Close()
		bc, err := runs.UploadContext(ctx, &tgz, int64(tgz.Len()))
		if err != nil {
			t.Fatal(err)
		}
		run, err := runs.QueueBuild(ctx, client.QuickBuild{Images: []string{image}, ContextID: bc.ContextID})
		if err != nil {
			t.Fatal(err)
		}
		fctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		var log bytes.Buffer
		run, err = runs.FollowLog(fctx, run.Name, &log)
		if err != nil {
			t.Fatalf("follow %s: %v\n%s", run.Name, err, log.String())
		}
		return run, log.String()
	}

	run, log := build("buildtest/hello-world:v1")
	if run.Properties.Status != client.RunSucceeded || run.Name != "ca1" {
		t.Fatalf("run %s: %s %s\n%s", run.Name, run.Properties.Status, run.Properties.Error, log)
	}
	if !strings.Contains(log, "Logging in to registry: "+addr) || !strings.Contains(log, "Successfully pushed image: "+addr+"/buildtest/hello-world:v1") {
		t.Errorf("log:\n%s", log)
	}
	if len(run.Properties.OutputImages) != 1 || run.Properties.OutputImages[0].Repository != "buildtest/hello-world" {
		t.Errorf("output images %+v", run.Properties.OutputImages)
	}

	m.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1/32"}]}}`)
	run, log = build("buildtestfromvm/hello-world:v1")
	want := "denied: client with IP '127.0.1.10' is not allowed access. Refer docs/network.md to grant access."
	if run.Properties.Status != client.RunFailed || !strings.Contains(run.Properties.Error, want) || !strings.Contains(log, want) {
		t.Fatalf("run behind the firewall: %s %q\n%s", run.Properties.Status, run.Properties.Error, log)
	}
}
