package buildcmd

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
	runsPath  = "/api/registries/blogbuildtest/runs"
	ctxPath   = "/api/registries/blogbuildtest/buildContexts"
	contextID = "sha256:7b3c0f5c9d1f8e2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
	// secret is the value of every --secret-build-arg: no output may hold it.
	secret = "hunter2-s3cr3t"
)

// run is a run's answer; status, start and finish are filled in.
func run(id, status, start, finish, errMsg string) string {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	return `{"id":"/registries/blogbuildtest/runs/` + id + `","name":"` + id + `","type":"runs","properties":{"runId":"` + id +
		`","status":"` + status + `","runType":"QuickBuild","trigger":"Manual","agentPool":"local","agent":"","platform":"linux/amd64",` +
		`"createTime":"2026-01-02T03:04:00Z","startTime":` + q(start) + `,"finishTime":` + q(finish) +
		`,"imageNames":["buildtest/hello-world:v1"],"timeout":28800,"cancelRequested":false,"outputImages":[],"dependencies":null,"error":"` + errMsg + `"}}`
}

var (
	queued    = run("ca1", "Queued", "", "", "")
	running   = run("ca1", "Running", "2026-01-02T03:04:05Z", "", "")
	succeeded = run("ca1", "Succeeded", "2026-01-02T03:04:05Z", "2026-01-02T03:04:32Z", "")
	failed    = run("ca1", "Failed", "2026-01-02T03:04:05Z", "2026-01-02T03:04:14Z",
		"denied: client with IP '127.0.1.10' is not allowed access")
)

// capture keeps the body of an upload; the stub server writes it from its
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

// uploadStub accepts a context upload, keeping its body in got.
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

func queueStub(body string) clitest.Stub {
	return clitest.Stub{Method: "POST", Path: runsPath, Body: body, Reply: queued}
}

// tree writes files (slash path → content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
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
			return names
		}
		if err != nil {
			t.Fatalf("upload is not a tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

// tarGz makes a tar.gz of files.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func newCmd(f *cmdutil.Factory) *cobra.Command {
	return NewCmdBuild(f, func(ctx context.Context, o *BuildOptions) error {
		o.PollInterval = time.Millisecond
		return buildRun(ctx, o)
	})
}

// statusLines are the lines before the log, for a context from path.
func statusLines(path string) string {
	return "Packing source code into tar to upload...\n" +
		"Uploading archived source code from " + path + "...\n" +
		"Sending context (2.290 KiB) to registry: blogbuildtest...\n" +
		"Queued a build with ID: ca1\n"
}

func noSecret(t *testing.T, e *clitest.Env, err error) {
	t.Helper()
	for what, s := range map[string]string{"stdout": e.Out.String(), "stderr": e.ErrOut.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the secret build arg's value:\n%s", what, s)
		}
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the secret build arg's value: %v", err)
	}
}

// The flags become the queued build's request. --no-wait prints the
// queued run and the progress lines go to standard error.
func TestBuildRequest(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n", "docker/ci.Dockerfile": "FROM scratch\n"})
	archive := filepath.Join(t.TempDir(), "ctx.tar.gz")
	if err := os.WriteFile(archive, tarGz(t, map[string]string{"Dockerfile": "FROM scratch\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		body string
	}{
		{"defaults", []string{"-t", "buildtest/hello-world:v1", dir},
			`{"runType":"QuickBuild","images":["buildtest/hello-world:v1"],"dockerfile":"Dockerfile","push":true,"contextId":"` + contextID + `"}`},
		{"every flag", []string{"--image", "app:{{.Run.ID}}", "-t", "app", "--file", "docker/../docker/ci.Dockerfile",
			"--build-arg", "VERSION=1.1", "--build-arg", "EMPTY=", "--build-arg", "VERSION=1.2", "--build-arg", "URL=http://x/?a=b",
			"--secret-build-arg", "NPM_TOKEN=" + secret, "--platform", "linux/arm64/v8", "--target", "release",
			"--timeout", "600", "--agent-pool", "pool2", dir},
			`{"runType":"QuickBuild","images":["app:{{.Run.ID}}","app"],"dockerfile":"docker/ci.Dockerfile",
			  "buildArgs":{"VERSION":"1.2","EMPTY":"","URL":"http://x/?a=b"},"secretBuildArgs":{"NPM_TOKEN":"` + secret + `"},
			  "target":"release","platform":"linux/arm64/v8","push":true,"timeout":600,"agentPool":"pool2","contextId":"` + contextID + `"}`},
		{"an absolute -f inside the context", []string{"-t", "app:v1", "-f", filepath.Join(dir, "docker", "ci.Dockerfile"), dir},
			`{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"docker/ci.Dockerfile","push":true,"contextId":"` + contextID + `"}`},
		{"no push, no image", []string{"--no-push", dir},
			`{"runType":"QuickBuild","images":[],"dockerfile":"Dockerfile","push":false,"contextId":"` + contextID + `"}`},
		{"an archive, -f not checked", []string{"-t", "app:v1", "-f", "other/Dockerfile", archive},
			`{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"other/Dockerfile","push":true,"contextId":"` + contextID + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(uploadStub(nil), queueStub(tt.body))
			args := append([]string{"-r", "blogbuildtest", "--no-wait", "--query", "name", "-o", "tsv"}, tt.args...)
			err := e.Run(newCmd(e.F), args...)
			if err != nil {
				t.Fatal(err)
			}
			if e.Out.String() != "ca1\n" {
				t.Errorf("stdout %q, want the run's name", e.Out.String())
			}
			ctx := tt.args[len(tt.args)-1]
			if want := statusLines("'" + ctx + "'"); e.ErrOut.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", e.ErrOut.String(), want)
			}
			noSecret(t, e, err)
		})
	}
}

// --no-wait prints the run as other commands print their results: JSON by
// default; the run never holds build args.
func TestBuildNoWaitJSON(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	e := clitest.New(t)
	e.Register(uploadStub(nil), queueStub(`{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"Dockerfile",
		"secretBuildArgs":{"TOKEN":"`+secret+`"},"push":true,"contextId":"`+contextID+`"}`))
	err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", "--secret-build-arg", "TOKEN="+secret, "--no-wait", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !clitest.JSONEqual(e.Out.String(), queued) || !strings.HasPrefix(e.Out.String(), "{\n  \"id\": ") {
		t.Errorf("stdout is not the queued run as indented JSON:\n%s", e.Out.String())
	}
	noSecret(t, e, err)
}

// A directory is packed as pkg/buildcontext packs it: .dockerignore
// honoured, VCS folders left out, the Dockerfile and ignore file kept.
func TestBuildPacksTheContext(t *testing.T) {
	dir := tree(t, map[string]string{
		"Dockerfile":       "FROM scratch\nCOPY . /\n",
		".dockerignore":    "*.log\nsecrets\nDockerfile\n!keep.log\n",
		"src/main.go":      "package main\n",
		"debug.log":        "noise",
		"keep.log":         "kept",
		"secrets/key.pem":  "private",
		".git/config":      "[core]",
		"vendor/.hg/store": "x",
	})
	var got capture
	e := clitest.New(t)
	e.Register(uploadStub(&got), queueStub(`{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"Dockerfile","push":true,"contextId":"`+contextID+`"}`))
	if err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", "--no-wait", dir); err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, got.get())
	slices.Sort(names)
	want := []string{".dockerignore", "Dockerfile", "keep.log", "src/", "src/main.go", "vendor/"}
	if !slices.Equal(names, want) {
		t.Errorf("uploaded %q, want %q", names, want)
	}
}

// An archive, from a file or standard input, is sent as it is.
func TestBuildArchiveContexts(t *testing.T) {
	raw := tarGz(t, map[string]string{"Dockerfile": "FROM scratch\n", "a.txt": "a"})
	file := filepath.Join(t.TempDir(), "ctx.tar.gz")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	body := `{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"Dockerfile","push":true,"contextId":"` + contextID + `"}`
	for _, tc := range []struct{ arg, stdin, from string }{
		{file, "", "'" + file + "'"},
		{"-", string(raw), "standard input"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			var got capture
			e := clitest.New(t)
			e.Register(uploadStub(&got), queueStub(body))
			e.In.WriteString(tc.stdin)
			if err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", "--no-wait", "-o", "none", tc.arg); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.get(), raw) {
				t.Errorf("uploaded %d bytes, not the archive's %d", len(got.get()), len(raw))
			}
			if want := statusLines(tc.from); e.ErrOut.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", e.ErrOut.String(), want)
			}
		})
	}
}

// The log is followed to the end, and the last line says how the run
// ended; only a success returns no error. A failure returns an error
// already reported, so that the root exits 1 without printing it again.
func TestBuildFollowsTheRun(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM 127.0.3.1:5000/base/busybox:1\n"})
	body := `{"runType":"QuickBuild","images":["buildtest/hello-world:v1"],"dockerfile":"Dockerfile","push":true,"contextId":"` + contextID + `"}`
	tests := []struct {
		name    string
		flags   []string
		stubs   []clitest.Stub
		tail    string
		wantErr bool
	}{
		{name: "succeeded", stubs: []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca1/log?follow=true", Reply: "Logging in to registry: 127.0.3.1:5000\nStep ID: build marked as successful\n"},
			{Method: "GET", Path: runsPath + "/ca1", Reply: succeeded},
		}, tail: "Waiting for an agent...\nLogging in to registry: 127.0.3.1:5000\nStep ID: build marked as successful\nRun ID: ca1 was successful after 27s\n"},
		{name: "failed, log without a last newline", stubs: []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca1/log?follow=true", Reply: "Logging in to registry: 127.0.3.1:5000"},
			{Method: "GET", Path: runsPath + "/ca1", Reply: failed},
		}, tail: "Waiting for an agent...\nLogging in to registry: 127.0.3.1:5000\n" +
			"Run ID: ca1 failed after 9s. Error: denied: client with IP '127.0.1.10' is not allowed access\n", wantErr: true},
		{name: "timed out", stubs: []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca1/log?follow=true", Reply: "step build\n"},
			{Method: "GET", Path: runsPath + "/ca1", Reply: run("ca1", "Timeout", "2026-01-02T03:04:05Z", "2026-01-02T03:14:05Z", "the run exceeded its timeout of 600 seconds")},
		}, tail: "Waiting for an agent...\nstep build\nRun ID: ca1 timed out after 600s. Error: the run exceeded its timeout of 600 seconds\n", wantErr: true},
		{name: "no logs: waits for the end", flags: []string{"--no-logs"}, stubs: []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca1", Reply: queued},
			{Method: "GET", Path: runsPath + "/ca1", Reply: running},
			{Method: "GET", Path: runsPath + "/ca1", Reply: succeeded},
		}, tail: "Waiting for an agent...\nRun ID: ca1 was successful after 27s\n"},
		{name: "no logs, failed", flags: []string{"--no-logs"}, stubs: []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca1", Reply: failed},
		}, tail: "Waiting for an agent...\nRun ID: ca1 failed after 9s. Error: denied: client with IP '127.0.1.10' is not allowed access\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(append([]clitest.Stub{uploadStub(nil), queueStub(body)}, tt.stubs...)...)
			args := append([]string{"-r", "blogbuildtest", "--image", "buildtest/hello-world:v1", "--file", "Dockerfile"}, tt.flags...)
			err := e.Run(newCmd(e.F), append(args, dir)...)
			if want := statusLines("'"+dir+"'") + tt.tail; e.Out.String() != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", e.Out.String(), want)
			}
			if e.ErrOut.Len() != 0 {
				t.Errorf("stderr %q", e.ErrOut.String())
			}
			var silent *cmdutil.SilentError
			switch {
			case !tt.wantErr && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr && !errors.As(err, &silent):
				t.Fatalf("error %v, want a cmdutil.SilentError (exit 1, the summary already printed)", err)
			}
		})
	}
}

// On a terminal, the upload shows a progress bar, ended before the next line.
func TestBuildProgressBarOnATerminal(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n", "big": strings.Repeat("x", 1<<20)})
	e := clitest.New(t)
	e.IO.OutIsTerminal = true
	e.Register(uploadStub(nil), queueStub(`{"runType":"QuickBuild","images":["app:v1"],"dockerfile":"Dockerfile","push":true,"contextId":"`+contextID+`"}`),
		clitest.Stub{Method: "GET", Path: runsPath + "/ca1/log?follow=true", Reply: "done\n"},
		clitest.Stub{Method: "GET", Path: runsPath + "/ca1", Reply: succeeded})
	if err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", dir); err != nil {
		t.Fatal(err)
	}
	out := e.Out.String()
	bar := "\r[" + strings.Repeat("#", 30) + "] 100%  1.000 MiB / 1.000 MiB\x1b[K\nSending context"
	if !strings.Contains(out, bar) {
		t.Errorf("no full progress bar before the next line:\n%q", out)
	}
}

// The upload fails: nothing is queued, and the error says what failed.
func TestBuildUploadRefused(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	e := clitest.New(t)
	e.Register(clitest.Stub{Method: "POST", Path: ctxPath, Status: 403, Check: func(*testing.T, []byte) {},
		Reply: `{"error":{"code":"AuthorizationFailed","message":"uploading a build context needs AcrPush, Contributor or Owner on registry blogbuildtest"}}`})
	err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", dir)
	want := "uploading the build context: uploading a build context needs AcrPush, Contributor or Owner on registry blogbuildtest"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// Bad flags and contexts fail before anything is sent (the stub server
// fails the test on any request), and no error shows a secret's value.
func TestBuildValidation(t *testing.T) {
	dir := tree(t, map[string]string{"Dockerfile": "FROM scratch\n", "sub/Dockerfile": "FROM scratch\n", "docker/": ""})
	notGzip := filepath.Join(t.TempDir(), "ctx.tar")
	if err := os.WriteFile(notGzip, []byte("plain tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	missing := filepath.Join(dir, "nope")
	r := []string{"-r", "blogbuildtest"}
	img := append(r, "-t", "app:v1")
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no context", with(img), "give one build context: a directory, a .tar.gz file, or - for standard input (got 0 arguments)"},
		{"two contexts", with(img, dir, dir), "give one build context: a directory, a .tar.gz file, or - for standard input (got 2 arguments)"},
		{"no image", with(r, dir), "give the image to push with -t/--image, such as -t buildtest/hello-world:v1, or build without pushing with --no-push"},
		{"login server", with(r, "-t", "127.0.3.1:5000/buildtest/hello-world:v1", dir),
			"-t 127.0.3.1:5000/buildtest/hello-world:v1: give the name relative to the registry, without its login server 127.0.3.1:5000: -t buildtest/hello-world:v1"},
		{"host name", with(r, "-t", "registry.example.com/app", dir),
			"-t registry.example.com/app: give the name relative to the registry, without its login server registry.example.com: -t app"},
		{"upper case", with(r, "-t", "BuildTest/App:v1", dir), "-t BuildTest/App:v1: repository names are lowercase: buildtest/app"},
		{"bad repository", with(r, "-t", "app_/x", dir),
			"-t app_/x: the repository must be lowercase letters and digits, separated by '.', '_', '__' or '-', with '/' between components"},
		{"bad tag", with(r, "-t", "app:-v1", dir), "-t app:-v1: the tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"},
		{"digest", with(r, "-t", "app@sha256:abc", dir), "-t app@sha256:abc: give repository[:tag]; a digest names an image that exists, not one to push"},
		{"build arg without =", with(img, "--build-arg", "VERSION", dir), "--build-arg VERSION: give NAME=VALUE"},
		{"build arg without name", with(img, "--build-arg", "=1", dir), "--build-arg =1: the name is empty: give NAME=VALUE"},
		{"bad build arg name", with(img, "--build-arg", "1X=1", dir), `--build-arg 1X=1: "1X" is not a build arg name: letters, digits and '_', not starting with a digit`},
		{"secret without =", with(img, "--secret-build-arg", secret, dir),
			"--secret-build-arg: give NAME=VALUE; an argument has no '=' (it is not shown: it may be the secret)"},
		{"secret without name", with(img, "--secret-build-arg", "="+secret, dir), "--secret-build-arg =…: the name is empty: give NAME=VALUE"},
		{"bad secret name", with(img, "--secret-build-arg", "NPM-TOKEN="+secret, dir),
			`--secret-build-arg NPM-TOKEN=…: "NPM-TOKEN" is not a build arg name: letters, digits and '_', not starting with a digit`},
		{"arg both plain and secret", with(img, "--build-arg", "TOKEN=x", "--secret-build-arg", "TOKEN="+secret, dir),
			"build arg TOKEN is given both with --build-arg and with --secret-build-arg: give it once"},
		{"platform", with(img, "--platform", "amd64", dir), "--platform amd64: give OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64/v8"},
		{"target", with(img, "--target", "-x", dir), "--target -x: give the name of a stage of the Dockerfile (FROM … AS name)"},
		{"timeout 0", with(img, "--timeout", "0", dir), "--timeout 0: give 1 to 28800 seconds"},
		{"timeout too long", with(img, "--timeout", "28801", dir), "--timeout 28801: give 1 to 28800 seconds"},
		{"output without --no-wait", with(img, "-o", "table", dir), "-o/--output and --query format the queued run, which only --no-wait prints"},
		{"missing context", with(img, missing), "the build context " + missing + " does not exist: give a directory, a .tar.gz file, or - for standard input"},
		{"no Dockerfile", with(img, empty), "the context " + empty + " has no Dockerfile: give its path with -f, relative to the context"},
		{"missing -f", with(img, "-f", "app.Dockerfile", dir),
			"-f app.Dockerfile: no such file in the context " + dir + " (the path is relative to the context, not to the working directory)"},
		{"-f outside", with(img, "-f", "../Dockerfile", filepath.Join(dir, "sub")),
			"-f ../Dockerfile: the Dockerfile must be inside the context " + filepath.Join(dir, "sub") + "; give its path relative to the context"},
		{"absolute -f outside", with(img, "-f", filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "sub")),
			"-f " + filepath.Join(dir, "Dockerfile") + ": the Dockerfile must be inside the context " + filepath.Join(dir, "sub") + "; give its path relative to the context"},
		{"-f a directory", with(img, "-f", "docker", dir), "-f docker: a directory, not a Dockerfile"},
		{"absolute -f in an archive", with(img, "-f", "/Dockerfile", "-"), "-f /Dockerfile: give the Dockerfile's path inside the archive, relative to its root"},
		{"not gzip", with(img, notGzip), "buildcontext: " + notGzip + " is not a gzip-compressed tar (.tar.gz)"},
		{"no registry", []string{"-t", "app:v1", dir}, "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := clitest.New(t)
			err := e.Run(newCmd(e.F), tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant   %s", err, tt.want)
			}
			noSecret(t, e, err)
			if strings.Contains(e.Out.String(), "Uploading") {
				t.Errorf("stdout %q: started an upload", e.Out.String())
			}
		})
	}
}

// -f names a path in the context, as az acr build reads it; given from the
// working directory instead, the error says what to give.
func TestBuildDockerfileFromTheWorkingDirectory(t *testing.T) {
	dir := tree(t, map[string]string{"app/docker/ci.Dockerfile": "FROM scratch\n"})
	t.Chdir(dir)
	e := clitest.New(t)
	err := e.Run(newCmd(e.F), "-r", "blogbuildtest", "-t", "app:v1", "-f", "app/docker/ci.Dockerfile", "app")
	want := "-f app/docker/ci.Dockerfile: no such file in the context app (the path is relative to the context, not to the working directory); did you mean -f docker/ci.Dockerfile?"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant   %s", err, want)
	}
}
