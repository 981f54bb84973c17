package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testserver"
	"github.com/berth-project/berth/internal/testserver/gitserver"
)

// Quick runs, a git context served by a real git smart-HTTP server on
// loopback, secret values, task-file validation and the base-image
// trigger, with the real CLI, server, agent and BuildKit.

// berthRun runs `berth run` and returns its output and whether it exited 0.
func (n *netScenario) berthRun(args ...string) (string, bool) {
	n.t.Helper()
	stdout, stderr, err := n.owner.exec("", testserver.Binary(n.t), append([]string{"run", "-r", netReg}, args...))
	return stdout + stderr, err == nil
}

type runView struct {
	Properties struct {
		RunID        string `json:"runId"`
		Status       string `json:"status"`
		Trigger      string `json:"trigger"`
		TriggeredBy  string `json:"triggeredBy"`
		Task         string `json:"task"`
		Dependencies []struct {
			Runtime []struct {
				Repository string `json:"repository"`
				Digest     string `json:"digest"`
			} `json:"runtimeDependency"`
		} `json:"dependencies"`
	} `json:"properties"`
}

func TestQuickRunsGitAndBaseImageTrigger(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	base := n.pushBase()

	t.Log("== a quick run: values, secret values and aliases; no secret in any log")
	const secret = "s3cr3t-value-42"
	out, ok := n.berthRun("--set", "who=world", "--set-secret", "token="+secret,
		"--cmd", "$Registry/base/busybox:1 sh -c 'echo hello {{.Values.who}} from $RegistryName token={{.Secrets.token}}'", "/dev/null")
	if !ok || !strings.Contains(out, "hello world from "+netReg+" token=***") {
		t.Fatalf("the quick run did not print what it should:\n%s", out)
	}
	runID := strings.TrimSpace(o.berth("task", "list-runs", "-r", netReg, "--top", "1", "--query", "[0].properties.runId", "-o", "tsv"))
	if strings.Contains(out, secret) || strings.Contains(o.berth("task", "logs", "-r", netReg, "--run-id", runID), secret) {
		t.Errorf("a --set-secret value is in the run's log")
	}

	t.Log("== a task file with an error: refused, naming the step and the key, and no run")
	bad := filepath.Join(o.home, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: v1.1.0\nsteps:\n  - id: both\n    build: -t app .\n    cmd: busybox true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, ok := n.berthRun("-f", bad, "/dev/null"); ok || !strings.Contains(out, `steps[0] (id "both")`) || !strings.Contains(out, "build") {
		t.Errorf("a bad task file: exit 0 %v, want an error naming the step and the key:\n%s", ok, out)
	}
	if last := strings.TrimSpace(o.berth("task", "list-runs", "-r", netReg, "--top", "1", "--query", "[0].properties.runId", "-o", "tsv")); last != runID {
		t.Errorf("a refused task file queued run %s", last)
	}

	t.Log("== a task on a git context, built on the base image")
	git := gitserver.Start(t)
	url, _ := git.CreateRepo(t, "app", map[string]string{
		"sub/Dockerfile": "FROM " + base + "\nCOPY hello.txt /hello.txt\n",
		"sub/hello.txt":  "hello from git\n",
		"README":         "not in the context\n",
	}, "main")
	o.berth("task", "create", "-r", netReg, "-n", "gittask", "-t", "gitapp:v1", "-c", url+"#main:sub")
	n.wantTaskRun(true, "git context", "", "-n", "gittask")
	if got := o.tool("crane", "--insecure", "export", n.loginServer+"/gitapp:v1", "-"); !strings.Contains(got, "hello from git") {
		t.Errorf("the image built from git lacks the repository's file")
	}

	t.Log("== a push of the base image runs the task again")
	layer := filepath.Join(o.home, "extra.tar")
	if err := os.WriteFile(layer, layerTar(t, "extra.txt", "a new base\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.tool("crane", "--insecure", "append", "-b", base, "-f", layer, "-t", base)
	newBase := strings.TrimSpace(o.tool("crane", "--insecure", "digest", base))
	var triggered runView
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var rs []runView
		o.berthJSON(&rs, "task", "list-runs", "-r", netReg, "--top", "5")
		if len(rs) > 0 && rs[0].Properties.Trigger == "BaseImageUpdate" && rs[0].Properties.Status == "Succeeded" {
			o.berthJSON(&triggered, "task", "show-run", "-r", netReg, "--run-id", rs[0].Properties.RunID)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful BaseImageUpdate run within 2 minutes; runs: %+v", rs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	p := triggered.Properties
	if p.Task != "gittask" || !strings.HasSuffix(p.TriggeredBy, "/base/busybox:1@"+newBase) {
		t.Errorf("the triggered run is of %q, triggered by %q; want gittask by base/busybox:1@%s", p.Task, p.TriggeredBy, newBase)
	}
	if len(p.Dependencies) == 0 || len(p.Dependencies[0].Runtime) == 0 || p.Dependencies[0].Runtime[0].Digest != newBase {
		t.Errorf("the triggered run's runtime dependency is %+v, want the new base %s", p.Dependencies, newBase)
	}
	// One push, one run.
	time.Sleep(3 * time.Second)
	var rs []runView
	o.berthJSON(&rs, "task", "list-runs", "-r", netReg, "--top", "5")
	count := 0
	for _, r := range rs {
		if r.Properties.Trigger == "BaseImageUpdate" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("one push of the base made %d runs", count)
	}
}

func TestBuiltinImportInATask(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner
	n.firewall()

	t.Log("== berth import as a built-in of a task, on its system-assigned identity's rights")
	o.berth("task", "create", "-r", netReg, "-n", "importtask", "-c", "/dev/null", "--assign-identity", "[system]",
		"--cmd", "berth import --source "+n.ref+" -t imported/hello-world:v1")
	principal := strings.TrimSpace(o.berth("task", "show", "-n", "importtask", "-r", netReg, "--query", "identity.principalId", "-o", "tsv"))
	// With the default run credential the agent's egress address meets
	// the firewall.
	out := n.wantTaskRun(false, "no credential", "", "-n", "importtask")
	if !strings.Contains(out, "client with IP '"+agentIP+"' is not allowed access") {
		t.Errorf("the run with the default credential did not meet the firewall:\n%s", out)
	}
	n.grant(principal, "AcrPush")
	o.berth("task", "credential", "add", "-n", "importtask", "-r", netReg, "--login-server", n.loginServer, "--use-identity", "[system]")
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")
	n.wantTaskRun(true, "import", "", "-n", "importtask")
	if src, dst := o.tool("crane", "--insecure", "digest", n.ref), o.tool("crane", "--insecure", "digest", n.loginServer+"/imported/hello-world:v1"); src != dst {
		t.Errorf("imported %s, want %s", dst, src)
	}
}
