package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/agent"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/ocilayout"
	"github.com/berth-project/berth/internal/regclient"
	"github.com/berth-project/berth/pkg/client"
)

// runSteps runs a quick run or task run of steps with the admin as the
// run's credential, and returns how it ended and its log.
func (e *buildEnv) runSteps(runID string, steps agent.Steps, job agent.Job) (agent.Result, string) {
	e.t.Helper()
	job.RunID, job.Registry, job.LoginServer = runID, "default", e.host
	if job.Username == "" && steps.AuthMode != agent.AuthModeNone {
		job.Username, job.Password = "admin", "pw"
	}
	if steps.Context == "" && job.Context == nil {
		steps.Context = "/dev/null"
	}
	job.Steps = &steps
	var log bytes.Buffer
	r := e.exec.Run(context.Background(), job, &log)
	e.t.Logf("run %s log:\n%s", runID, log.String())
	return r, log.String()
}

func wantLines(t *testing.T, log string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("the log has no %q", w)
		}
	}
}

// TestTaskRunBuildPush: a two-step file builds an image tagged with the
// run's registry and id, then pushes it; the dependency report names it
// and its base image.
func TestTaskRunBuildPush(t *testing.T) {
	e := newBuildEnv(t)
	const file = `version: v1.1.0
steps:
  - id: build
    build: -t $Registry/app:{{.Run.ID}} -f docker/Dockerfile --build-arg WHO={{.Values.who}} .
  - id: test
    cmd: $Registry/app:$ID cat /greeting
  - id: push
    push:
      - $Registry/app:{{.Run.ID}}
`
	r, log := e.runSteps("cb1", agent.Steps{TaskFile: file, Context: "", Values: map[string]string{"who": "tasks"}}, agent.Job{
		Context: e.context(map[string]string{
			"Dockerfile": "FROM " + e.base + "\nARG WHO\nRUN echo \"hello $WHO\" > /greeting\n",
		}),
	})
	// The Dockerfile is in a sub-directory of the context.
	if r.Succeeded || !strings.Contains(r.Error, "no Dockerfile docker/Dockerfile") {
		t.Fatalf("a missing Dockerfile: %+v", r)
	}

	r, log = e.runSteps("cb2", agent.Steps{TaskFile: strings.Replace(file, "-f docker/Dockerfile ", "", 1), Context: "", Values: map[string]string{"who": "tasks"}}, agent.Job{
		Context: e.context(map[string]string{
			"Dockerfile": "FROM " + e.base + "\nARG WHO\nRUN echo \"hello $WHO\" > /greeting\n",
		}),
	})
	if !r.Succeeded {
		t.Fatalf("run failed: %s", r.Error)
	}
	wantLines(t, log,
		"Downloading source code...", "Finished downloading source code",
		"Logging in to registry: "+e.host, "Successfully logged into "+e.host,
		"Executing step ID: build. Timeout(sec): 600, Working directory: '', Network: 'default'",
		"Pulling base image: "+e.base,
		"Step ID: build marked as successful (elapsed time in seconds: ",
		"Executing step ID: test. Timeout(sec): 600",
		"Using image "+e.host+"/app:cb2, built by an earlier step",
		"hello tasks\n",
		"Pushing image: "+e.host+"/app:cb2, attempt 1",
		"Successfully pushed image: "+e.host+"/app:cb2",
		"Step ID: push marked as successful",
		"The following dependencies were found:", "repository: app\n", "tag: cb2", "repository: base/busybox",
	)
	if strings.Index(log, "Step ID: build marked") > strings.Index(log, "Executing step ID: test") {
		t.Errorf("the test step started before the build ended")
	}
	if len(r.Outputs) != 1 || r.Outputs[0].Repository != "app" || r.Outputs[0].Tag != "cb2" ||
		len(r.Dependencies) != 1 || len(r.Dependencies[0].Runtime) != 1 || r.Dependencies[0].Runtime[0].Repository != "base/busybox" {
		t.Fatalf("result %+v", r)
	}
	if files := e.pulled("app:cb2"); files["greeting"] != "hello tasks\n" {
		t.Errorf("the pushed image's greeting: %q", files["greeting"])
	}

	// A Dockerfile run (a task with a Dockerfile) is the same two steps.
	r, log = e.runSteps("cb3", agent.Steps{Docker: &agent.DockerStep{Images: []string{"docker/app:v1"}}}, agent.Job{
		Context: e.context(map[string]string{"Dockerfile": "FROM " + e.base + "\n"}),
	})
	if !r.Succeeded || len(r.Outputs) != 1 || r.Outputs[0].Repository != "docker/app" {
		t.Fatalf("Dockerfile run: %+v", r)
	}
	wantLines(t, log, "Executing step ID: build. Timeout(sec): 28800", "Executing step ID: push. Timeout(sec): 3600")

	// Pushing what no step built fails, naming the image.
	r, log = e.runSteps("cb4", agent.Steps{TaskFile: "version: v1.1.0\nsteps:\n  - push: [$Registry/never:built]\n"}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "image "+e.host+"/never:built was not built by an earlier build step") {
		t.Fatalf("push of an image not built: %+v", r)
	}
	wantLines(t, log, "Step ID: acb_step_0 marked as failed")
}

// TestQuickRunCmd: a cmd step runs its image with the file's and the
// step's env, --set values and secrets; every secret value is redacted
// from the log, and so is the run's password.
func TestQuickRunCmd(t *testing.T) {
	e := newBuildEnv(t)
	const secret = "s3cr3t-value-42"
	file := `version: v1.1.0
env: [GREETING=hello]
secrets:
  - id: tok
steps:
  - id: hello
    cmd: $Registry/base/busybox:1 sh -c 'echo "$GREETING {{.Values.who}} in $(pwd) on $ID"; echo "token $TOKEN"; echo "password pw"; ls /workspace'
    env: ["TOKEN={{.Secrets.tok}}"]
`
	r, log := e.runSteps("cc2", agent.Steps{TaskFile: file, Context: "",
		Values: map[string]string{"who": "world"}, SecretValues: map[string]string{"tok": secret}},
		agent.Job{Context: e.context(map[string]string{"Dockerfile": "FROM scratch\n"})})
	if !r.Succeeded {
		t.Fatalf("run failed: %s", r.Error)
	}
	wantLines(t, log,
		"Executing step ID: hello. Timeout(sec): 600, Working directory: '', Network: 'default'",
		"Pulling image: "+e.base,
		"hello world in /workspace on cc2\n", // $ID is an alias, expanded before the file is read
		"token ***\n", "password ***\n", "Dockerfile\n",
		"Step ID: hello marked as successful",
	)
	if strings.Contains(log, secret) {
		t.Errorf("the log shows the secret")
	}

	// --cmd: one step, acb_step_0, with aliases expanded.
	r, log = e.runSteps("cc3", agent.Steps{Cmd: "$Registry/base/busybox:1 echo run $ID of {{.Values.who}}", Values: map[string]string{"who": "cmd"}}, agent.Job{RunTimeout: 120 * time.Second})
	if !r.Succeeded {
		t.Fatalf("--cmd run failed: %s", r.Error)
	}
	wantLines(t, log, "Executing step ID: acb_step_0. Timeout(sec): 120, Working directory: '', Network: 'default'", "run cc3 of cmd\n")
	if strings.Contains(log, "Downloading source code") {
		t.Errorf("a /dev/null run downloaded source")
	}

	// A step past its timeout ends the run as timed out.
	r, log = e.runSteps("cc5", agent.Steps{TaskFile: "version: v1.1.0\nsteps:\n  - id: slow\n    cmd: $Registry/base/busybox:1 sleep 60\n    timeout: 3\n"}, agent.Job{})
	if r.Succeeded || !r.TimedOut || !strings.Contains(r.Error, "step slow timed out") {
		t.Fatalf("a step past its timeout: %+v", r)
	}
	wantLines(t, log, "Step ID: slow timed out after 3 seconds")

	// A failing command fails the run with its status; ignoreErrors lets
	// the next step run.
	r, log = e.runSteps("cc4", agent.Steps{TaskFile: `version: v1.1.0
steps:
  - id: fails
    cmd: $Registry/base/busybox:1 sh -c 'exit 3'
    ignoreErrors: true
  - id: after
    cmd: $Registry/base/busybox:1 echo after
  - id: fails-for-good
    cmd: $Registry/base/busybox:1 sh -c 'exit 4'
  - id: never
    cmd: $Registry/base/busybox:1 echo never
`}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "step fails-for-good failed") || !strings.Contains(r.Error, "status 4") || !strings.Contains(r.Error, "steps not run: never") {
		t.Fatalf("failing steps: %+v", r)
	}
	wantLines(t, log, "after\n", "Step ID: fails failed and its errors are ignored", "Error: ")
	if strings.Contains(log, "Executing step ID: never") {
		t.Errorf("a step after a failure ran")
	}
}

// TestStepsValidationError: a file that does not validate fails the run
// before any step, saying which step and key.
func TestStepsValidationError(t *testing.T) {
	e := newBuildEnv(t)
	r, log := e.runSteps("cv1", agent.Steps{TaskFile: `version: v1.1.0
steps:
  - id: hello
    cmd: $Registry/base/busybox:1 echo hi
  - id: bad
    build: -t x --bogus .
`}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, `steps[1] (id "bad")`) || !strings.Contains(r.Error, "--bogus") {
		t.Fatalf("validation error: %+v", r)
	}
	if strings.Contains(log, "Executing step") || strings.Contains(log, "Logging in") || !strings.Contains(log, "--bogus") {
		t.Errorf("the log of an invalid file")
	}
	r, _ = e.runSteps("cv2", agent.Steps{Cmd: "berth login -u x"}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "berth login is not a built-in command of a run: the built-ins are berth purge, berth import") {
		t.Fatalf("an unknown built-in: %+v", r)
	}
	// berth import needs an identity the server imports on the rights of.
	r, _ = e.runSteps("cv4", agent.Steps{Cmd: "berth import --source x/a:1"}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "--use-identity [system]") {
		t.Fatalf("berth import without an identity: %+v", r)
	}
	r, _ = e.runSteps("cv3", agent.Steps{Cmd: "$Registry/x echo {{.Values.nope}}"}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "nope") {
		t.Fatalf("a --cmd without its value: %+v", r)
	}
}

// TestBuiltinPurge: `berth purge` in a run lists what it would delete
// with --dry-run and deletes it without, through the run's registry's
// metadata API with the run's credential: the default run credential,
// and a task identity's token exchanged at the registry.
func TestBuiltinPurge(t *testing.T) {
	e := newBuildEnv(t)
	ctx := context.Background()
	admin := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"})
	src, _ := ocilayout.Create(t.TempDir())
	ref, _ := regclient.ParseReference(e.base)
	p, err := admin.Pull(ctx, ref, src, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v1", "v2"} {
		r, _ := regclient.ParseReference(e.host + "/app:" + tag)
		if _, err := admin.Push(ctx, src, p.Manifest, r); err != nil {
			t.Fatal(err)
		}
		r, _ = regclient.ParseReference(e.host + "/keep:" + tag)
		if _, err := admin.Push(ctx, src, p.Manifest, r); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // --ago 0d: updated before now

	const cmd = "berth purge --filter 'app:.*' --untagged --ago 0d"
	r, log := e.runSteps("cp1", agent.Steps{Cmd: cmd + " --dry-run"}, agent.Job{})
	if !r.Succeeded {
		t.Fatalf("dry run failed: %s", r.Error)
	}
	wantLines(t, log, "Would delete: "+e.host+"/app:v1\n", "Would delete: "+e.host+"/app:v2\n",
		"Would delete: "+e.host+"/app@"+string(p.Manifest.Digest))
	if strings.Contains(log, "/keep") {
		t.Errorf("the dry run would delete what the filter does not select")
	}
	if _, _, err := admin.Manifest(ctx, regclient.Reference{Host: e.host, Repository: "app", Tag: "v1"}, "v1"); err != nil {
		t.Fatalf("the dry run deleted app:v1: %v", err)
	}

	// The real run, with a task identity's token exchanged at the registry
	// (authMode None: no default credential).
	login, err := client.New("http://" + e.host)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	r, log = e.runSteps("cp2", agent.Steps{Cmd: cmd, AuthMode: agent.AuthModeNone,
		RegistryCredentials: []agent.RegistryCredential{{LoginServer: e.host, Identity: "[system]"}}}, agent.Job{
		IdentityToken: func(ctx context.Context, identity string) (string, error) {
			asked = append(asked, identity)
			tok, err := login.Login(ctx, client.LoginRequest{Username: "admin", Password: "pw"})
			return tok.AccessToken, err
		},
	})
	if !r.Succeeded || len(asked) != 1 || asked[0] != "[system]" {
		t.Fatalf("purge with an identity: %+v (identities asked: %v)", r, asked)
	}
	wantLines(t, log, "Logging in to registry: "+e.host, "Successfully logged into "+e.host,
		"Deleted: "+e.host+"/app:v1\n", "Number of deleted tags: 2", "Number of deleted manifests: 1")
	if _, _, err := admin.Manifest(ctx, regclient.Reference{Host: e.host, Repository: "app", Tag: "v1"}, "v1"); err == nil {
		t.Errorf("app:v1 is still there")
	}
	if _, _, err := admin.Manifest(ctx, regclient.Reference{Host: e.host, Repository: "keep", Tag: "v1"}, "v1"); err != nil {
		t.Errorf("keep:v1 went: %v", err)
	}

	// An identity whose token cannot be had fails the run at login.
	r, _ = e.runSteps("cp3", agent.Steps{Cmd: cmd, AuthMode: agent.AuthModeNone,
		RegistryCredentials: []agent.RegistryCredential{{LoginServer: e.host, Identity: "[system]"}}}, agent.Job{
		IdentityToken: func(context.Context, string) (string, error) { return "", errors.New("no such identity") },
	})
	if r.Succeeded || !strings.Contains(r.Error, "failed to log in to registry "+e.host) || !strings.Contains(r.Error, "no such identity") {
		t.Fatalf("a failing identity: %+v", r)
	}
	// No credential at all: purge says what is missing.
	r, _ = e.runSteps("cp4", agent.Steps{Cmd: cmd, AuthMode: agent.AuthModeNone}, agent.Job{})
	if r.Succeeded || !strings.Contains(r.Error, "the run has no credential for it") {
		t.Fatalf("purge without a credential: %+v", r)
	}
	// Behind a firewall closed to the agent's egress address, the run
	// fails at login with the registry's denial.
	e.patch(`{"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]}}`)
	r, log = e.runSteps("cp5", agent.Steps{Cmd: cmd}, agent.Job{})
	want := "denied: client with IP '" + egress + "' is not allowed access"
	if r.Succeeded || !strings.Contains(r.Error, want) || strings.Contains(log, "Executing step") {
		t.Fatalf("behind the firewall: %+v", r)
	}
}

// TestOCIContextWithIdentity (S2.3): a task whose context is an ORAS
// artifact in its registry, authMode None and a credential of its
// identity: the artifact is fetched and the image pushed with the token
// exchanged at the registry, from the agent's egress address.
func TestOCIContextWithIdentity(t *testing.T) {
	e := newBuildEnv(t)
	ctx := context.Background()
	l, _ := ocilayout.Create(t.TempDir())
	cfg, _ := l.PutBytes(oci.MediaTypeEmptyJSON, []byte("{}"))
	layer, _ := l.PutBytes("application/vnd.oci.image.layer.v1.tar", []byte("FROM "+e.base+"\nRUN echo from oci > /where\n"))
	layer.Annotations = map[string]string{"org.opencontainers.image.title": "Dockerfile"}
	body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": oci.MediaTypeImageManifest,
		"artifactType": "application/vnd.example.context", "config": cfg, "layers": []oci.Descriptor{layer}})
	m, _ := l.PutBytes(oci.MediaTypeImageManifest, body)
	ref, _ := regclient.ParseReference(e.host + "/hello-world.dockerfile:1.0")
	if _, err := regclient.New(regclient.Options{PlainHTTP: true, Username: "admin", Password: "pw"}).Push(ctx, l, m, ref); err != nil {
		t.Fatal(err)
	}
	login, _ := client.New("http://" + e.host)
	r, log := e.runSteps("co1", agent.Steps{
		Docker: &agent.DockerStep{Images: []string{"helloworld:{{.Run.ID}}"}, Dockerfile: "Dockerfile"}, Context: "oci://" + ref.String(),
		AuthMode: agent.AuthModeNone, RegistryCredentials: []agent.RegistryCredential{{LoginServer: e.host, Identity: "[system]"}},
	}, agent.Job{IdentityToken: func(ctx context.Context, identity string) (string, error) {
		tok, err := login.Login(ctx, client.LoginRequest{Username: "admin", Password: "pw"})
		return tok.AccessToken, err
	}})
	if !r.Succeeded {
		t.Fatalf("run failed: %s", r.Error)
	}
	wantLines(t, log, "Downloading source code from oci://"+ref.String(), "Finished downloading source code",
		"Logging in to registry: "+e.host, "Successfully pushed image: "+e.host+"/helloworld:")
	if files := e.pulled(r.Outputs[0].Repository + ":" + r.Outputs[0].Tag); files["where"] != "from oci\n" {
		t.Errorf("the image built from the oci:// context: %q", files["where"])
	}
}

// A build step's --no-cache runs every step of the Dockerfile afresh.
func TestBuildStepNoCache(t *testing.T) {
	e := newBuildEnv(t)
	files := map[string]string{"Dockerfile": "FROM " + e.base + "\nRUN echo cache me > /cached\n"}
	build := func(runID, flags string) string {
		t.Helper()
		file := "version: v1.1.0\nsteps:\n  - build: -t $Registry/nocache:1 " + flags + " .\n"
		r, log := e.runSteps(runID, agent.Steps{TaskFile: file, Context: ""}, agent.Job{Context: e.context(files)})
		if !r.Succeeded {
			t.Fatalf("run %s: %+v", runID, r)
		}
		return log
	}
	// runCached reports whether BuildKit's progress shows the RUN step
	// as cached: "#N [1/2] RUN …" then "#N CACHED".
	runCached := func(log string) bool {
		for _, line := range strings.Split(log, "\n") {
			if vertex, rest, ok := strings.Cut(line, " "); ok && strings.HasSuffix(rest, "RUN echo cache me > /cached") {
				return strings.Contains(log, vertex+" CACHED")
			}
		}
		t.Fatalf("the log shows no RUN step:\n%s", log)
		return false
	}
	build("cn1", "")
	if !runCached(build("cn2", "")) {
		t.Fatal("the same build again did not use the cache")
	}
	if runCached(build("cn3", "--no-cache")) {
		t.Error("a --no-cache build used the cache for its RUN step")
	}
}
