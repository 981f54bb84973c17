package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver"
)

// The build half of SCENARIOS.md S6: with public access disabled, a build
// on a dedicated agent pool attached to the registry's private endpoint
// succeeds, its every registry request going through the endpoint; the
// same build on the public pool local is denied.

// buildOn runs `berth build --agent-pool pool` in dir and returns its
// output and whether it exited 0.
func (n *netScenario) buildOn(dir, pool, image string) (string, bool) {
	n.t.Helper()
	stdout, stderr, err := n.owner.exec(dir, testserver.Binary(n.t),
		[]string{"build", "-r", netReg, "--agent-pool", pool, "--image", image, "."})
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		n.t.Fatalf("berth build: %v\n%s%s", err, stdout, stderr)
	}
	return stdout + stderr, err == nil
}

func TestS6Build(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	base := n.pushBase() // before public access goes: the owner pushes from 127.0.0.1
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN echo hello from the private network > /hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.2.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pe := ln.Addr().String()
	ln.Close()

	t.Log("== S6: public access off, a private endpoint approved")
	o.berth("registry", "update", "-n", netReg, "--public-network-enabled", "false", "-o", "none")
	o.berth("private-endpoint", "create", "-r", netReg, "-n", "pe1", "--address", pe, "-o", "none")
	o.berth("private-endpoint", "approve", "-r", netReg, "-n", "pe1", "-o", "none")
	waitUntil(t, "the approved endpoint listens", func() bool { return !peRefused(pe) })

	t.Log("== a dedicated pool on the endpoint")
	var pool struct {
		ID         string `json:"id"`
		Properties struct {
			Kind            string   `json:"kind"`
			Count           int      `json:"count"`
			PrivateEndpoint string   `json:"privateEndpoint"`
			EgressPrefixes  []string `json:"egressPrefixes"`
		} `json:"properties"`
	}
	o.berthJSON(&pool, "agentpool", "create", "-r", netReg, "-n", "vnetpool", "--private-endpoint", "pe1", "--count", "1")
	p := pool.Properties
	if pool.ID != "/registries/"+netReg+"/agentPools/vnetpool" || p.Kind != "dedicated" || p.Count != 1 || p.PrivateEndpoint != "pe1" ||
		fmt.Sprint(p.EgressPrefixes) != "[127.0.2.1/32]" {
		t.Fatalf("agentpool create answered %+v", pool)
	}
	if got := strings.TrimSpace(o.berth("agentpool", "list", "-r", netReg, "-o", "tsv",
		"--query", "[].[name, properties.count, properties.privateEndpoint]")); got != "vnetpool\t1\tpe1" {
		t.Errorf("agentpool list: %q", got)
	}

	t.Log("== the build on the dedicated pool succeeds")
	out, ok := n.buildOn(dir, "vnetpool", "x:v1")
	if !ok || !strings.Contains(out, "Run ID: ca1 was successful after") {
		t.Fatalf("the build on vnetpool did not succeed:\n%s", out)
	}
	for _, want := range []string{"Reaching registry " + n.loginServer + " through its private endpoint at " + pe,
		"Logging in to registry: " + n.loginServer, "Successfully pushed image: " + n.loginServer + "/x:v1",
		"repository: base/busybox"} {
		if !strings.Contains(out, want) {
			t.Errorf("the build's output has no %q:\n%s", want, out)
		}
	}
	// The image is there, through the endpoint; the login server refuses.
	sameLogin(t, filepath.Join(o.dockerConfig, "config.json"), n.loginServer, pe)
	o.tool("crane", "--insecure", "manifest", pe+"/x:v1")
	o.refused("crane", "--insecure", "manifest", n.loginServer+"/x:v1")
	if got := strings.TrimSpace(o.berth("task", "show-run", "-r", netReg, "--run-id", "ca1", "-o", "tsv",
		"--query", "[[properties.agentPool, properties.agent]]")); got != "vnetpool\tvnetpool-1" {
		t.Errorf("the run names pool and agent %q", got)
	}

	t.Log("== the same build on the public pool is denied")
	out, ok = n.buildOn(dir, "local", "x:v2")
	want := "denied: client with IP '" + agentIP + "' is not allowed access. Refer docs/network.md to grant access."
	if ok || !strings.Contains(out, "Run ID: ca2 failed after") || !strings.Contains(out, want) {
		t.Fatalf("the build on the public pool did not fail with %q:\n%s", want, out)
	}

	t.Log("== the endpoint stays while the pool uses it")
	if out := o.berthFails("private-endpoint", "delete", "-r", netReg, "-n", "pe1", "--yes"); !strings.Contains(out, "used by the agent pool vnetpool") {
		t.Errorf("deleting the pool's endpoint: %s", out)
	}
	o.berth("agentpool", "update", "-r", netReg, "-n", "vnetpool", "--count", "0", "-o", "none")
	o.berth("agentpool", "delete", "-r", netReg, "-n", "vnetpool", "--yes")
	if out := o.berthFails("agentpool", "show", "-r", netReg, "-n", "vnetpool"); !strings.Contains(out, "not found") {
		t.Errorf("show after delete: %q", out)
	}
	o.berth("private-endpoint", "delete", "-r", netReg, "-n", "pe1", "--yes")
}
