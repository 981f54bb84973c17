package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/buildengine"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/internal/testserver"
)

// SCENARIOS.md S1 and S2 (ways 1 and 2) with real builds: `berth build`
// against `berth serve`, whose in-process agent of the pool local builds
// on BuildKit and reaches the registry from 127.0.1.10.

// pushBase pushes a busybox image, made from Debian's busybox-static, as
// base/busybox:1 with the owner's registry credentials.
func (n *netScenario) pushBase() string {
	n.t.Helper()
	dir := n.t.TempDir()
	desc, err := buildengine.WriteBusyboxImage(dir, "", "busybox")
	if err != nil {
		n.t.Fatal(err)
	}
	l, _ := ocilayout.Open(dir)
	ref, _ := regclient.ParseReference(n.loginServer + "/base/busybox:1")
	c := regclient.New(regclient.Options{PlainHTTP: true, Username: nullUser, Password: n.refresh})
	if _, err := c.Push(context.Background(), l, desc, ref); err != nil {
		n.t.Fatalf("push the base image: %v", err)
	}
	return ref.String()
}

// build runs `berth build` in the context directory dir and returns its
// output and whether it exited 0.
func (n *netScenario) build(dir, image string) (string, bool) {
	n.t.Helper()
	stdout, stderr, err := n.owner.exec(dir, testserver.Binary(n.t),
		[]string{"build", "-r", netReg, "--image", image, "--file", "Dockerfile", "."})
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		n.t.Fatalf("berth build: %v\n%s%s", err, stdout, stderr)
	}
	return stdout + stderr, err == nil
}

func (n *netScenario) wantBuild(dir, image, runID string, ok bool, when string) string {
	n.t.Helper()
	out, succeeded := n.build(dir, image)
	switch {
	case ok && (!succeeded || !strings.Contains(out, "Run ID: "+runID+" was successful after")):
		n.t.Fatalf("%s: berth build of %s did not succeed as %s:\n%s", when, image, runID, out)
	case !ok && (succeeded || !strings.Contains(out, "Run ID: "+runID+" failed after")):
		n.t.Fatalf("%s: berth build of %s did not fail as %s:\n%s", when, image, runID, out)
	}
	return out
}

func TestS1S2Builds(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	base := n.pushBase()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN echo hello from a build > /hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Log("== S1: a quick build")
	out := n.wantBuild(dir, "buildtest/hello-world:v1", "ca1", true, "S1")
	for _, want := range []string{"Packing source code into tar to upload...", "Queued a build with ID: ca1",
		"Logging in to registry: " + n.loginServer, "Executing step ID: build", "Executing step ID: push",
		"The following dependencies were found:", "repository: buildtest/hello-world", "repository: base/busybox"} {
		if !strings.Contains(out, want) {
			t.Errorf("S1 output has no %q:\n%s", want, out)
		}
	}
	o.tool("crane", "--insecure", "manifest", n.loginServer+"/buildtest/hello-world:v1")

	t.Log("== S1: the firewall stops the build")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Deny")
	o.berth("network-rule", "add", "-n", netReg, "--ip-address", "127.0.0.1/32")
	o.tool("crane", "--insecure", "manifest", n.loginServer+"/buildtest/hello-world:v1") // still works from 127.0.0.1
	out = n.wantBuild(dir, "buildtestfromvm/hello-world:v1", "ca2", false, "default action Deny")
	if want := "denied: client with IP '" + agentIP + "' is not allowed access. Refer docs/network.md to grant access."; !strings.Contains(out, want) {
		t.Fatalf("the failed build does not say %q:\n%s", want, out)
	}

	t.Log("== S2 way 1: default action Allow")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Allow")
	n.wantBuild(dir, "buildtestfromvm/hello-world:v1", "ca3", true, "default action Allow")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Deny")

	t.Log("== S2 way 2: the service tag's prefixes")
	prefixes := strings.TrimSpace(o.berth("network", "list-service-tags", "--location", "local",
		"--query", "values[?id=='BerthTasks.local'].properties.addressPrefixes[]", "-o", "tsv"))
	o.berth("network-rule", "add", "-n", netReg, "--ip-address", prefixes)
	n.wantBuild(dir, "buildtestfromvm/hello-world:v2", "ca4", true, "with the service tag's rule")
	o.berth("network-rule", "remove", "-n", netReg, "--ip-address", prefixes)
	n.wantBuild(dir, "buildtestfromvm/hello-world:v3", "ca5", false, "after the rule is removed")
}
