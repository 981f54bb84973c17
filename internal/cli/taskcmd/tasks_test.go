package taskcmd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const (
	tasksPath = "/api/registries/blogbuildtest/tasks"
	ctxPath   = "/api/registries/blogbuildtest/buildContexts"
	contextID = "sha256:7b3c0f5c9d1f8e2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
	// secret is every --set-secret value: no output may hold it.
	secret = "hunter2-s3cr3t"
)

// task is a task's answer, with credentials and identity as given (JSON).
func task(name, creds, identity string) string {
	if identity != "" {
		identity = `"identity":` + identity + `,`
	}
	return `{"id":"/registries/blogbuildtest/tasks/` + name + `","name":"` + name + `","type":"tasks",` + identity +
		`"properties":{"status":"Enabled","platform":"linux/amd64","timeout":3600,"step":{"type":"Cmd","contextPath":"/dev/null","cmd":"hello-world"},` +
		`"trigger":{"baseImageTrigger":{"enabled":true}},"credentials":{"customRegistries":` + creds + `},"authMode":"Default",` +
		`"creationDate":"2026-01-02T03:04:00Z","lastUpdated":"2026-01-02T03:04:00Z"}}`
}

var plainTask = task("mytask", "{}", "")

// capture keeps the body of an upload, which the stub server sees on its
// own goroutine.
type capture struct {
	mu   sync.Mutex
	body []byte
}

func (c *capture) get() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.body
}

func uploadStub(got *capture) clitest.Stub {
	return clitest.Stub{Method: "POST", Path: ctxPath, Reply: `{"contextId":"` + contextID + `","size":2345}`,
		Check: func(_ *testing.T, body []byte) {
			if got != nil {
				got.mu.Lock()
				got.body = body
				got.mu.Unlock()
			}
		}}
}

// tarNames lists the entries of a tar.gz.
func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("upload is not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			slices.Sort(names)
			return names
		}
		if err != nil {
			t.Fatalf("upload is not a tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

// writeFiles writes files (name → content) in a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// uploadLines are the progress lines of an upload of dir.
func uploadLines(dir string) string {
	return "Packing source code into tar to upload...\n" +
		"Uploading archived source code from '" + dir + "'...\n" +
		"Sending context (2.290 KiB) to registry: blogbuildtest...\n"
}

const acb = `version: v1.1.0
steps:
  - build: -t $Registry/{{.Values.image}} -f {{.Values.dockerfile}} .
  - push:
    - $Registry/{{.Values.image}}
`

func noSecret(t *testing.T, e *clitest.Env, err error) {
	t.Helper()
	if strings.Contains(e.Out.String()+e.ErrOut.String(), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
		t.Errorf("the output or error shows a secret value: %q %q %v", e.Out.String(), e.ErrOut.String(), err)
	}
}

// Each command line becomes exactly the task create request it says.
func TestTaskCreate(t *testing.T) {
	files := writeFiles(t, map[string]string{"acb.yaml": acb, "values.yaml": "image: app:v1\nretries: 3\ndockerfile: Dockerfile\n"})
	taskFile, valuesFile := filepath.Join(files, "acb.yaml"), filepath.Join(files, "values.yaml")
	r := []string{"-r", "blogbuildtest", "-n", "mytask", "--query", "name", "-o", "tsv"}
	put := func(body string) []clitest.Stub {
		return []clitest.Stub{{Method: "PUT", Path: tasksPath + "/mytask", Body: body, Reply: plainTask}}
	}
	const purge = "berth purge --filter 'hello-world:.*' --untagged --ago 1d --dry-run"
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f, nil) }, []clitest.Case{
		{Name: "S2.3: -t with -f, the Dockerfile in an oci:// context",
			Args: append(r, "-t", "helloworld", "-c", "oci://127.0.3.1:5000/hello-world.dockerfile:1.0", "-f", "Dockerfile", "--assign-identity", "[system]"),
			Stubs: put(`{"identities":["[system]"],"step":{"type":"Docker","contextPath":"oci://127.0.3.1:5000/hello-world.dockerfile:1.0",
				"imageNames":["helloworld"],"dockerFilePath":"Dockerfile"}}`),
			Out: "mytask\n"},
		{Name: "S3: a scheduled command",
			Args: append(r, "--cmd", purge, "-c", "/dev/null", "--assign-identity", "[system]", "--auth-mode", "None",
				"--base-image-trigger-enabled", "false", "--schedule", "0 1 * * Sun"),
			Stubs: put(`{"identities":["[system]"],"step":{"type":"Cmd","contextPath":"/dev/null","cmd":"` + strings.ReplaceAll(purge, `'`, `'`) + `"},
				"baseImageTriggerEnabled":false,"timerTriggers":[{"name":"t1","schedule":"0 1 * * Sun","enabled":true}],"authMode":"None"}`),
			Out: "mytask\n"},
		{Name: "S4: a task file; a bare --assign-identity is [system]",
			Args: append(r, "-f", taskFile, "-c", "/dev/null", "--assign-identity", "--auth-mode", "None", "--base-image-trigger-enabled", "false"),
			Stubs: put(`{"identities":["[system]"],"step":{"type":"FileTask","contextPath":"/dev/null","taskFile":` + jsonString(acb) +
				`,"taskFilePath":"` + taskFile + `"},"baseImageTriggerEnabled":false,"authMode":"None"}`),
			Out: "mytask\n"},
		{Name: "-f - reads standard input", Args: append(r, "-f", "-", "-c", "https://github.com/me/app.git#main:src"), Stdin: acb,
			Stubs: put(`{"step":{"type":"FileTask","contextPath":"https://github.com/me/app.git#main:src","taskFile":` + jsonString(acb) + `}}`),
			Out:   "mytask\n"},
		{Name: "user-assigned identities after the flag",
			Args:  append(r, "--cmd", "hello-world", "-c", "/dev/null", "--assign-identity", "builder", "pusher", "--assign-identity", "[system]", "builder"),
			Stubs: put(`{"identities":["builder","pusher","[system]"],"step":{"type":"Cmd","contextPath":"/dev/null","cmd":"hello-world"}}`),
			Out:   "mytask\n"},
		{Name: "values: --values, --set over it, --set-secret",
			Args: append(r, "--cmd", "hello-world", "-c", "/dev/null", "--values", valuesFile, "--set", "image=app:v2",
				"--set", "empty=", "--set-secret", "token="+secret),
			Stubs: put(`{"step":{"type":"Cmd","contextPath":"/dev/null","cmd":"hello-world",
				"values":{"image":"app:v2","retries":"3","dockerfile":"Dockerfile","empty":""}},"secretValues":{"token":"` + secret + `"}}`),
			Out: "mytask\n"},
		{Name: "timers named and not; every other flag",
			Args: append(r, "-t", "app:{{.Run.ID}}", "-t", "app:latest", "--file", "docker/ci.Dockerfile", "-c", "http://git.local/app.git",
				"--schedule", "t1:0 2 * * *", "--schedule", "  0   1 * * Sun ", "--schedule", "noon:0 12 * * Mon-Fri",
				"--agent-pool", "pool2", "--timeout", "600", "--platform", "linux/arm64/v8", "--status", "Disabled", "--base-image-trigger-enabled", "true"),
			Stubs: put(`{"platform":"linux/arm64/v8","agentPool":"pool2","timeout":600,
				"step":{"type":"Docker","contextPath":"http://git.local/app.git","imageNames":["app:{{.Run.ID}}","app:latest"],"dockerFilePath":"docker/ci.Dockerfile"},
				"baseImageTriggerEnabled":true,"status":"Disabled",
				"timerTriggers":[{"name":"t1","schedule":"0 2 * * *","enabled":true},{"name":"t2","schedule":"0 1 * * Sun","enabled":true},
				                 {"name":"noon","schedule":"0 12 * * Mon-Fri","enabled":true}]}`),
			Out: "mytask\n"},
	})
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// A local context is packed, uploaded, and its contextId used; the
// progress lines go to standard error, the task to standard output.
func TestTaskCreateUploadsALocalContext(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n", "docker/ci.Dockerfile": "FROM scratch\n", ".dockerignore": "*.log\n", "a.log": "x", "src/main.go": "package main\n", ".git/config": "x"})
	var got capture
	e := clitest.New(t)
	e.Register(uploadStub(&got), clitest.Stub{Method: "PUT", Path: tasksPath + "/mytask", Reply: plainTask,
		Body: `{"step":{"type":"Docker","contextId":"` + contextID + `","imageNames":["app:v1"],"dockerFilePath":"docker/ci.Dockerfile"}}`})
	if err := e.Run(NewCmdCreate(e.F, nil), "-r", "blogbuildtest", "-n", "mytask", "-c", dir, "-t", "app:v1", "-f", "docker/ci.Dockerfile", "-o", "none"); err != nil {
		t.Fatal(err)
	}
	if want := []string{".dockerignore", "Dockerfile", "docker/", "docker/ci.Dockerfile", "src/", "src/main.go"}; !slices.Equal(tarNames(t, got.get()), want) {
		t.Errorf("uploaded %q, want %q", tarNames(t, got.get()), want)
	}
	if e.ErrOut.String() != uploadLines(dir) || e.Out.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", e.Out.String(), e.ErrOut.String())
	}
}

// Bad command lines fail before anything is sent (the stub server fails
// the test on any request), and never show a secret value.
func TestTaskCreateValidation(t *testing.T) {
	dir := writeFiles(t, map[string]string{"acb.yaml": acb, "empty.yaml": "\n", "bad-values.yaml": "- a\n- b\n", "nested.yaml": "a:\n  b: c\n"})
	r := []string{"-r", "blogbuildtest", "-n", "mytask"}
	cmdTask := append(slices.Clone(r), "-c", "/dev/null", "--cmd", "hello-world")
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no context", with(r, "--cmd", "x"), "give the context with -c/--context: a directory, a .tar.gz file, /dev/null, a git URL or oci://…"},
		{"no step", with(r, "-c", "/dev/null"), "give what the task runs: -f FILE (a task file), --cmd COMMAND, or -t IMAGE (a Dockerfile build)"},
		{"--cmd and -t", with(cmdTask, "-t", "app"), "give one of -f/--file (a task file), --cmd (a command) or -t/--image (a Dockerfile build), not several"},
		{"--cmd and -f", with(cmdTask, "-f", "acb.yaml"), "give one of -f/--file (a task file), --cmd (a command) or -t/--image (a Dockerfile build), not several"},
		{"empty --cmd", with(r, "-c", "/dev/null", "--cmd", " "), "--cmd is empty: give an image and its arguments"},
		{"missing task file", with(r, "-c", "/dev/null", "-f", filepath.Join(dir, "nope.yaml")), "-f " + filepath.Join(dir, "nope.yaml") + ": open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{"empty task file", with(r, "-c", "/dev/null", "-f", filepath.Join(dir, "empty.yaml")), "-f " + filepath.Join(dir, "empty.yaml") + ": the task file is empty"},
		{"empty standard input", with(r, "-c", "/dev/null", "-f", "-"), "-f -: the task file is empty"},
		{"-t with an absolute Dockerfile", with(r, "-c", "/dev/null", "-t", "app", "-f", "/etc/Dockerfile"), "-f /etc/Dockerfile: with -t, -f is the Dockerfile's path inside the context, relative to its root"},
		{"--set without =", with(cmdTask, "--set", "image"), "--set image: give NAME=VALUE"},
		{"--set bad name", with(cmdTask, "--set", "my-image=x"), `--set my-image=x: "my-image" is not a value name: letters, digits and '_', not starting with a digit`},
		{"--set-secret without =", with(cmdTask, "--set-secret", secret), "--set-secret: give NAME=VALUE; an argument has no '=' (it is not shown: it may be the secret)"},
		{"--set-secret bad name", with(cmdTask, "--set-secret", "1x="+secret), `--set-secret 1x=…: "1x" is not a value name: letters, digits and '_', not starting with a digit`},
		{"a value and a secret", with(cmdTask, "--set", "token=a", "--set-secret", "token="+secret), "value token is given both as a value and with --set-secret: give it once"},
		{"--values not a map", with(cmdTask, "--values", filepath.Join(dir, "bad-values.yaml")), "--values " + filepath.Join(dir, "bad-values.yaml") + ": not a YAML map of names to values: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}"},
		{"--values nested", with(cmdTask, "--values", filepath.Join(dir, "nested.yaml")), "--values " + filepath.Join(dir, "nested.yaml") + ": a is not a string, number or boolean"},
		{"cron of four fields", with(cmdTask, "--schedule", "0 1 * *"), `--schedule "0 1 * *": give five cron fields (minute hour day-of-month month day-of-week, UTC), such as "0 1 * * Sun"; got 4`},
		{"bad timer name", with(cmdTask, "--schedule", "my timer:0 1 * * *"), `--schedule "my timer:0 1 * * *": the timer's name "my timer" must be letters, digits, '_' and '-'`},
		{"a timer twice", with(cmdTask, "--schedule", "a:0 1 * * *", "--schedule", "a:0 2 * * *"), `--schedule "a:0 2 * * *": a timer named a is given twice`},
		{"bad auth mode", with(cmdTask, "--auth-mode", "none"), `invalid argument "none" for "--auth-mode" flag: must be one of Default, None`},
		{"bad status", with(cmdTask, "--status", "On"), `invalid argument "On" for "--status" flag: must be one of Enabled, Disabled`},
		{"bad trigger flag", with(cmdTask, "--base-image-trigger-enabled", "no"), `invalid argument "no" for "--base-image-trigger-enabled" flag: must be true or false`},
		{"timeout 0", with(cmdTask, "--timeout", "0"), "--timeout 0: give 1 to 28800 seconds"},
		{"bad platform", with(cmdTask, "--platform", "amd64"), "--platform amd64: give OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8"},
		{"missing local context", with(r, "--cmd", "x", "-c", filepath.Join(dir, "nope")), "the context " + filepath.Join(dir, "nope") + " does not exist: give a directory, a .tar.gz file, /dev/null, a git URL or oci://…"},
		{"a URL that is not git", with(r, "--cmd", "x", "-c", "https://example.com/app.tar.gz"), "context https://example.com/app.tar.gz: a URL context must be a git repository ending in .git, optionally with #ref:folder, such as https://github.com/me/app.git#main:src"},
		{"another scheme", with(r, "--cmd", "x", "-c", "s3://bucket/app"), "context s3://bucket/app: give a directory, a .tar.gz file, /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<loginServer>/<repo>:<tag>"},
		{"a word before any identity flag", with(cmdTask, "extra"), `unexpected argument "extra"`},
		{"no name", []string{"-r", "blogbuildtest", "-c", "/dev/null", "--cmd", "x"}, `required flag(s) "name" not set`},
		{"no registry", []string{"-n", "t", "-c", "/dev/null", "--cmd", "x"}, "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			err := e.Run(NewCmdCreate(e.F, nil), tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
			noSecret(t, e, err)
		})
	}
}

// update sends only what its flags say.
func TestTaskUpdate(t *testing.T) {
	taskFile := filepath.Join(writeFiles(t, map[string]string{"acb.yaml": acb}), "acb.yaml")
	r := []string{"-r", "blogbuildtest", "-n", "mytask", "-o", "none"}
	patch := func(body string) clitest.Stub {
		return clitest.Stub{Method: "PATCH", Path: tasksPath + "/mytask", Body: body, Reply: plainTask}
	}
	dockerTask := strings.Replace(plainTask, `"type":"Cmd"`, `"type":"Docker"`, 1)
	get := func(reply string) clitest.Stub {
		return clitest.Stub{Method: "GET", Path: tasksPath + "/mytask", Reply: reply}
	}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f, nil) }, []clitest.Case{
		{Name: "status and a value", Args: append(r, "--status", "Disabled", "--set", "a=1"),
			Stubs: []clitest.Stub{patch(`{"status":"Disabled","values":{"a":"1"}}`)}},
		{Name: "secrets merged, one deleted", Args: append(r, "--set-secret", "token="+secret, "--set-secret", "old="),
			Stubs: []clitest.Stub{patch(`{"secretValues":{"token":"` + secret + `","old":""}}`)}},
		{Name: "timers replaced", Args: append(r, "--schedule", "0 1 * * Sun", "--schedule", "noon:0 12 * * *"),
			Stubs: []clitest.Stub{patch(`{"timerTriggers":[{"name":"t1","schedule":"0 1 * * Sun","enabled":true},{"name":"noon","schedule":"0 12 * * *","enabled":true}]}`)}},
		{Name: "timers removed", Args: append(r, "--schedule", "none"),
			Stubs: []clitest.Stub{patch(`{"timerTriggers":[]}`)}},
		{Name: "a cron macro", Args: append(r, "--schedule", "nightly:@daily"),
			Stubs: []clitest.Stub{patch(`{"timerTriggers":[{"name":"nightly","schedule":"@daily","enabled":true}]}`)}},
		{Name: "a remote context clears the uploaded one", Args: append(r, "-c", "/dev/null"),
			Stubs: []clitest.Stub{patch(`{"contextPath":"/dev/null","contextId":""}`)}},
		{Name: "a command", Args: append(r, "--cmd", "hello-world --verbose", "--timeout", "60", "--auth-mode", "Default", "--base-image-trigger-enabled", "false"),
			Stubs: []clitest.Stub{patch(`{"cmd":"hello-world --verbose","timeout":60,"authMode":"Default","baseImageTriggerEnabled":false}`)}},
		{Name: "identities added", Args: append(r, "--assign-identity", "--platform", "linux/arm64", "--agent-pool", "pool2"),
			Stubs: []clitest.Stub{patch(`{"assignIdentities":["[system]"],"platform":"linux/arm64","agentPool":"pool2"}`)}},
		{Name: "-t alone keeps the Dockerfile", Args: append(r, "-t", "app:v2"),
			Stubs: []clitest.Stub{patch(`{"imageNames":["app:v2"]}`)}},
		{Name: "-f of a task that runs a task file", Args: append(r, "-f", taskFile),
			Stubs: []clitest.Stub{get(strings.Replace(plainTask, `"type":"Cmd"`, `"type":"FileTask"`, 1)),
				patch(`{"taskFile":` + jsonString(acb) + `,"taskFilePath":"` + taskFile + `"}`)}},
		{Name: "-f of a Dockerfile task names the Dockerfile", Args: append(r, "-f", "docker/ci.Dockerfile"),
			Stubs: []clitest.Stub{get(dockerTask), patch(`{"dockerFilePath":"docker/ci.Dockerfile"}`)}},
		{Name: "-f - from standard input", Args: append(r, "-f", "-"), Stdin: acb,
			Stubs: []clitest.Stub{get(plainTask), patch(`{"taskFile":` + jsonString(acb) + `,"taskFilePath":""}`)}},
		{Name: "not found", Args: append(r, "--status", "Enabled"),
			Stubs:   []clitest.Stub{{Method: "PATCH", Path: tasksPath + "/mytask", Body: `{"status":"Enabled"}`, Status: 404, Reply: clitest.NotFound("task 'mytask'")}},
			WantErr: "task 'mytask' was not found"},
		{Name: "nothing to change", Args: r, WantErr: "give at least one thing to change: see --help"},
		{Name: "bad input, nothing sent", Args: append(r, "--schedule", "daily"), WantErr: `--schedule "daily": give five cron fields (minute hour day-of-month month day-of-week, UTC), such as "0 1 * * Sun"; got 1`},
	})
}

// update -c DIR uploads it and sends its contextId.
func TestTaskUpdateUploadsALocalContext(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	var got capture
	e := clitest.New(t)
	e.Register(uploadStub(&got), clitest.Stub{Method: "PATCH", Path: tasksPath + "/mytask", Reply: plainTask,
		Body: `{"contextId":"` + contextID + `","contextPath":""}`})
	if err := e.Run(NewCmdUpdate(e.F, nil), "-r", "blogbuildtest", "-n", "mytask", "-c", dir, "--query", "name", "-o", "tsv"); err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, got.get()); !slices.Equal(names, []string{"Dockerfile"}) {
		t.Errorf("uploaded %q", names)
	}
	if e.Out.String() != "mytask\n" || e.ErrOut.String() != uploadLines(dir) {
		t.Errorf("stdout %q, stderr %q", e.Out.String(), e.ErrOut.String())
	}
}

func TestTaskShowListDelete(t *testing.T) {
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
		{Name: "show", Args: []string{"-r", "blogbuildtest", "-n", "mytask", "--query", "properties.step.cmd", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: tasksPath + "/mytask", Reply: plainTask}}, Out: "hello-world\n"},
		{Name: "not found", Args: []string{"-r", "blogbuildtest", "-n", "nope"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: tasksPath + "/nope", Status: 404, Reply: clitest.NotFound("task 'nope'")}},
			WantErr: "task 'nope' was not found"},
	})
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
		{Name: "list", Args: []string{"-r", "blogbuildtest", "--query", "[].name", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: tasksPath, Reply: `{"value":[` + plainTask + `,` + task("other", "{}", "") + `]}`}},
			Out:   "mytask\nother\n"},
	})
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
		{Name: "delete prints nothing", Args: []string{"-r", "blogbuildtest", "-n", "mytask"},
			Stubs: []clitest.Stub{{Method: "DELETE", Path: tasksPath + "/mytask", Status: 204}}},
		{Name: "no name", Args: []string{"-r", "blogbuildtest"}, WantErr: `required flag(s) "name" not set`},
	})
}

// task run sends its values and context, then follows the run as berth
// build does; only a success returns no error.
func TestTaskRun(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	taskRun := strings.NewReplacer(`"QuickBuild"`, `"TaskRun"`, `"trigger":"Manual"`, `"trigger":"Manual","task":"mytask"`)
	queued := taskRun.Replace(run("ca3", "Queued", "", "", ""))
	ok := taskRun.Replace(run("ca3", "Succeeded", "2026-01-02T03:04:05Z", "2026-01-02T03:04:17Z", ""))
	failed := taskRun.Replace(run("ca3", "Failed", "2026-01-02T03:04:05Z", "2026-01-02T03:04:08Z", "step build failed"))
	post := func(body string) clitest.Stub {
		return clitest.Stub{Method: "POST", Path: tasksPath + "/mytask/run", Body: body, Reply: queued}
	}
	follow := func(end string) []clitest.Stub {
		return []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca3/log?follow=true", Reply: "Logging in to registry: 127.0.3.1:5000\n"},
			{Method: "GET", Path: runsPath + "/ca3", Reply: end},
		}
	}
	r := []string{"-r", "blogbuildtest", "-n", "mytask"}
	tests := []struct {
		name    string
		args    []string
		stubs   []clitest.Stub
		out     string
		errOut  string
		wantErr string
	}{
		{name: "S2.3: followed to success", args: r, stubs: append([]clitest.Stub{post(`{}`)}, follow(ok)...),
			out: "Queued a run with ID: ca3\nWaiting for an agent...\nLogging in to registry: 127.0.3.1:5000\nRun ID: ca3 was successful after 12s\n"},
		{name: "S4: values and a local context", args: append(slices.Clone(r), "--set", "image=myrepo:mytag", "--set", "dockerfile=Dockerfile", "--set-secret", "token="+secret, "-c", dir),
			stubs: append([]clitest.Stub{uploadStub(nil), post(`{"values":{"image":"myrepo:mytag","dockerfile":"Dockerfile"},"secretValues":{"token":"` + secret + `"},"contextId":"` + contextID + `"}`)}, follow(ok)...),
			out:   uploadLines(dir) + "Queued a run with ID: ca3\nWaiting for an agent...\nLogging in to registry: 127.0.3.1:5000\nRun ID: ca3 was successful after 12s\n"},
		{name: "a remote context", args: append(slices.Clone(r), "-c", "oci://127.0.3.1:5000/ctx:1", "--no-wait", "--query", "name", "-o", "tsv"),
			stubs: []clitest.Stub{post(`{"contextPath":"oci://127.0.3.1:5000/ctx:1"}`)},
			out:   "ca3\n", errOut: "Queued a run with ID: ca3\n"},
		{name: "failed", args: r, stubs: append([]clitest.Stub{post(`{}`)}, follow(failed)...),
			out:     "Queued a run with ID: ca3\nWaiting for an agent...\nLogging in to registry: 127.0.3.1:5000\nRun ID: ca3 failed after 3s. Error: step build failed\n",
			wantErr: "Run ID: ca3 failed after 3s. Error: step build failed"},
		{name: "no logs", args: append(slices.Clone(r), "--no-logs"),
			stubs: []clitest.Stub{post(`{}`), {Method: "GET", Path: runsPath + "/ca3", Reply: queued}, {Method: "GET", Path: runsPath + "/ca3", Reply: ok}},
			out:   "Queued a run with ID: ca3\nWaiting for an agent...\nRun ID: ca3 was successful after 12s\n"},
		{name: "refused", args: r,
			stubs:   []clitest.Stub{{Method: "POST", Path: tasksPath + "/mytask/run", Body: `{}`, Status: 409, Reply: `{"error":{"code":"Conflict","message":"task mytask is Disabled"}}`}},
			wantErr: "task mytask is Disabled"},
		{name: "-o without --no-wait", args: append(slices.Clone(r), "-o", "tsv"), wantErr: "-o/--output and --query format the queued run, which only --no-wait prints"},
		{name: "bad --set", args: append(slices.Clone(r), "--set", "x"), wantErr: "--set x: give NAME=VALUE"},
		{name: "bad context", args: append(slices.Clone(r), "-c", "ftp://x/y"), wantErr: "context ftp://x/y: give a directory, a .tar.gz file, /dev/null, a git URL (https://…/repo.git#ref:folder) or oci://<loginServer>/<repo>:<tag>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(tt.stubs...)
			err := e.Run(NewCmdRun(e.F, func(ctx context.Context, o *RunOptions) error {
				o.PollInterval = time.Millisecond
				return runRun(ctx, o)
			}), tt.args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var silent *cmdutil.SilentError
			if strings.HasPrefix(tt.wantErr, "Run ID:") && !errors.As(err, &silent) {
				t.Errorf("a failed run's error must be a SilentError (its summary was printed): %T", err)
			}
			if e.Out.String() != tt.out || e.ErrOut.String() != tt.errOut {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr %q, want %q", e.Out.String(), tt.out, e.ErrOut.String(), tt.errOut)
			}
			noSecret(t, e, err)
		})
	}
}

func TestTaskCredential(t *testing.T) {
	const ls = "127.0.3.1:5000"
	withIdentity := task("mytask", `{"`+ls+`":{"identity":"[system]"}}`, "")
	get := func(reply string) clitest.Stub {
		return clitest.Stub{Method: "GET", Path: tasksPath + "/mytask", Reply: reply}
	}
	patch := func(body, reply string) clitest.Stub {
		return clitest.Stub{Method: "PATCH", Path: tasksPath + "/mytask", Body: body, Reply: reply}
	}
	r := []string{"-r", "blogbuildtest", "-n", "mytask", "--login-server", ls}
	with := func(more ...string) []string { return append(slices.Clone(r), more...) }
	// Each verb alone: a subcommand executed runs its root instead.
	credCmd := func(verb string) func(f *cmdutil.Factory) *cobra.Command {
		return func(f *cmdutil.Factory) *cobra.Command {
			return map[string]func(*cmdutil.Factory) *cobra.Command{
				"add":    func(f *cmdutil.Factory) *cobra.Command { return newCmdCredentialSet(f, true) },
				"update": func(f *cmdutil.Factory) *cobra.Command { return newCmdCredentialSet(f, false) },
				"remove": newCmdCredentialRemove,
				"list":   newCmdCredentialList,
			}[verb](f)
		}
	}
	clitest.RunCases(t, credCmd("add"), []clitest.Case{
		{Name: "S2.3: the system identity", Args: with("--use-identity", "[system]"),
			Stubs: []clitest.Stub{get(plainTask), patch(`{"credentials":{"`+ls+`":{"identity":"[system]"}}}`, withIdentity)},
			Out:   "{\n  \"" + ls + "\": {\n    \"identity\": \"[system]\"\n  }\n}\n"},
		{Name: "a bare --use-identity is [system]", Args: with("--use-identity", "-o", "none"),
			Stubs: []clitest.Stub{get(plainTask), patch(`{"credentials":{"`+ls+`":{"identity":"[system]"}}}`, withIdentity)}},
		{Name: "a user-assigned identity's client id", Args: with("--use-identity", "0b4c-client", "-o", "none"),
			Stubs: []clitest.Stub{get(plainTask), patch(`{"credentials":{"`+ls+`":{"identity":"0b4c-client"}}}`, withIdentity)}},
		{Name: "user name and password, never shown", Args: with("-u", "ci", "-p", secret),
			Stubs: []clitest.Stub{get(plainTask), patch(`{"credentials":{"`+ls+`":{"userName":"ci","password":"`+secret+`"}}}`,
				// even a server that sent the password back
				task("mytask", `{"`+ls+`":{"userName":"ci","password":"`+secret+`","hasPassword":true}}`, ""))},
			Out: "{\n  \"" + ls + "\": {\n    \"userName\": \"ci\",\n    \"hasPassword\": true\n  }\n}\n"},
		{Name: "already has one", Args: with("--use-identity"), Stubs: []clitest.Stub{get(withIdentity)},
			WantErr: "task mytask has a credential for " + ls + " already: change it with berth task credential update"},
		{Name: "neither", Args: r, WantErr: "give --use-identity [system|CLIENT_ID], or both -u/--username and -p/--password"},
		{Name: "no password", Args: with("-u", "ci"), WantErr: "give --use-identity [system|CLIENT_ID], or both -u/--username and -p/--password"},
		{Name: "both", Args: with("--use-identity", "-u", "ci", "-p", "x"), WantErr: "give --use-identity or -u/-p, not both"},
		{Name: "two identities", Args: with("--use-identity", "a", "b"), WantErr: "--use-identity: give one identity, not 2"},
		{Name: "no login server", Args: []string{"-r", "blogbuildtest", "-n", "mytask", "--use-identity"}, WantErr: `required flag(s) "login-server" not set`},
	})
	clitest.RunCases(t, credCmd("update"), []clitest.Case{
		{Name: "update", Args: with("-u", "ci", "-p", secret, "-o", "none"),
			Stubs: []clitest.Stub{get(withIdentity), patch(`{"credentials":{"`+ls+`":{"userName":"ci","password":"`+secret+`"}}}`, plainTask)}},
		{Name: "none to update", Args: with("--use-identity"), Stubs: []clitest.Stub{get(plainTask)},
			WantErr: "task mytask has no credential for " + ls + ": add one with berth task credential add"},
	})
	clitest.RunCases(t, credCmd("remove"), []clitest.Case{
		{Name: "remove sends null", Args: r, Stubs: []clitest.Stub{{Method: "PATCH", Path: tasksPath + "/mytask", Reply: plainTask,
			Check: func(t *testing.T, body []byte) {
				if string(body) != `{"credentials":{"`+ls+`":null}}` {
					t.Errorf("body %s, want the login server mapped to null", body)
				}
			}}}, Out: "{}\n"},
	})
	clitest.RunCases(t, credCmd("list"), []clitest.Case{
		{Name: "list", Args: []string{"-r", "blogbuildtest", "-n", "mytask", "--query", "keys(@)", "-o", "tsv"},
			Stubs: []clitest.Stub{get(withIdentity)}, Out: ls + "\n"},
		{Name: "none", Args: []string{"-r", "blogbuildtest", "-n", "mytask"},
			Stubs: []clitest.Stub{get(task("mytask", "null", ""))}, Out: "{}\n"},
	})
}

func TestTaskIdentity(t *testing.T) {
	const ident = `{"type":"SystemAssigned, UserAssigned","principalId":"p-1","clientId":"c-1",` +
		`"userAssignedIdentities":{"p-2":{"name":"builder","principalId":"p-2","clientId":"c-2"}}}`
	withIdentity := task("mytask", "{}", ident)
	patch := func(body string) clitest.Stub {
		return clitest.Stub{Method: "PATCH", Path: tasksPath + "/mytask", Body: body, Reply: withIdentity}
	}
	idCmd := func(verb string) func(f *cmdutil.Factory) *cobra.Command {
		return func(f *cmdutil.Factory) *cobra.Command {
			if verb == "show" {
				return newCmdIdentityShow(f)
			}
			return newCmdIdentityChange(f, verb == "assign")
		}
	}
	r := []string{"-r", "blogbuildtest", "-n", "mytask", "--query", "principalId", "-o", "tsv"}
	with := func(more ...string) []string { return append(slices.Clone(r), more...) }
	clitest.RunCases(t, idCmd("assign"), []clitest.Case{
		{Name: "[system] by default", Args: r, Stubs: []clitest.Stub{patch(`{"assignIdentities":["[system]"]}`)}, Out: "p-1\n"},
		{Name: "several", Args: with("--identities", "[system]", "builder"), Stubs: []clitest.Stub{patch(`{"assignIdentities":["[system]","builder"]}`)}, Out: "p-1\n"},
	})
	clitest.RunCases(t, idCmd("remove"), []clitest.Case{
		{Name: "remove", Args: with("--identities", "builder"), Stubs: []clitest.Stub{patch(`{"removeIdentities":["builder"]}`)}, Out: "p-1\n"},
		{Name: "nothing named", Args: r, WantErr: "give the identities to remove with --identities: [system] or user-assigned identities"},
	})
	clitest.RunCases(t, idCmd("show"), []clitest.Case{
		{Name: "show", Args: []string{"-r", "blogbuildtest", "-n", "mytask", "--query", "userAssignedIdentities.*.name", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: tasksPath + "/mytask", Reply: withIdentity}}, Out: "builder\n"},
		{Name: "none", Args: []string{"-r", "blogbuildtest", "-n", "mytask"},
			Stubs: []clitest.Stub{{Method: "GET", Path: tasksPath + "/mytask", Reply: plainTask}}, Out: "{\n  \"type\": \"None\"\n}\n"},
	})
}
