package runcmd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	secret    = "hunter2-s3cr3t"
	acb       = "version: v1.1.0\nsteps:\n  - cmd: hello-world\n"
)

func run(status, finish, errMsg string) string {
	end := "null"
	if finish != "" {
		end = `"` + finish + `"`
	}
	return `{"id":"/registries/blogbuildtest/runs/ca5","name":"ca5","type":"runs","properties":{"runId":"ca5","status":"` + status +
		`","runType":"QuickRun","trigger":"Manual","createTime":"2026-01-02T03:04:00Z","startTime":"2026-01-02T03:04:01Z","finishTime":` + end +
		`,"error":"` + errMsg + `"}}`
}

var (
	queued    = run("Queued", "", "")
	succeeded = run("Succeeded", "2026-01-02T03:04:05Z", "")
	failed    = run("Failed", "2026-01-02T03:04:03Z", "step s1 failed")
)

func newCmd(f *cmdutil.Factory) *cobra.Command {
	return NewCmdRun(f, func(ctx context.Context, o *RunOptions) error {
		o.PollInterval = time.Millisecond
		return runRun(ctx, o)
	})
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("image: app:v1\ntag: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	queue := func(body string) clitest.Stub {
		return clitest.Stub{Method: "POST", Path: runsPath, Body: body, Reply: queued}
	}
	follow := func(end string) []clitest.Stub {
		return []clitest.Stub{
			{Method: "GET", Path: runsPath + "/ca5/log?follow=true", Reply: "Executing step ID: s1\n"},
			{Method: "GET", Path: runsPath + "/ca5", Reply: end},
		}
	}
	upload := clitest.Stub{Method: "POST", Path: ctxPath, Check: func(*testing.T, []byte) {}, Reply: `{"contextId":"` + contextID + `","size":2345}`}
	uploadLines := "Packing source code into tar to upload...\nUploading archived source code from '" + dir + "'...\nSending context (2.290 KiB) to registry: blogbuildtest...\n"
	r := []string{"-r", "blogbuildtest"}
	with := func(more ...string) []string { return append(slices.Clone(r), more...) }
	const purge = "berth purge --filter 'hello-world:.*' --ago 1d --dry-run"
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "a command, no context", Args: with("--cmd", purge, "/dev/null"),
			Stubs: append([]clitest.Stub{queue(`{"runType":"QuickRun","cmd":"` + purge + `","contextPath":"/dev/null"}`)}, follow(succeeded)...),
			Out:   "Queued a run with ID: ca5\nWaiting for an agent...\nExecuting step ID: s1\nRun ID: ca5 was successful after 4s\n"},
		{Name: "-f - from standard input, a local context, values", Stdin: acb,
			Args: with("-f", "-", "--values", values, "--set", "image=app:v2", "--set-secret", "token="+secret,
				"--timeout", "300", "--platform", "linux/arm64", "--agent-pool", "pool2", dir),
			Stubs: append([]clitest.Stub{upload, queue(`{"runType":"QuickRun","taskFile":"` + strings.ReplaceAll(acb, "\n", `\n`) + `",
				"values":{"image":"app:v2","tag":"1"},"secretValues":{"token":"` + secret + `"},"contextId":"` + contextID + `",
				"platform":"linux/arm64","timeout":300,"agentPool":"pool2"}`)}, follow(succeeded)...),
			Out: uploadLines + "Queued a run with ID: ca5\nWaiting for an agent...\nExecuting step ID: s1\nRun ID: ca5 was successful after 4s\n"},
		{Name: "no wait, a git context", Args: with("--cmd", "hello-world", "--no-wait", "--query", "properties.status", "-o", "tsv", "https://github.com/me/app.git#main"),
			Stubs:  []clitest.Stub{queue(`{"runType":"QuickRun","cmd":"hello-world","contextPath":"https://github.com/me/app.git#main"}`)},
			Out:    "Queued\n",
			ErrOut: "Queued a run with ID: ca5\n"},
		{Name: "no logs", Args: with("--cmd", "hello-world", "--no-logs", "/dev/null"),
			Stubs: []clitest.Stub{queue(`{"runType":"QuickRun","cmd":"hello-world","contextPath":"/dev/null"}`),
				{Method: "GET", Path: runsPath + "/ca5", Reply: queued}, {Method: "GET", Path: runsPath + "/ca5", Reply: succeeded}},
			Out: "Queued a run with ID: ca5\nWaiting for an agent...\nRun ID: ca5 was successful after 4s\n"},
		{Name: "failed", Args: with("--cmd", "hello-world", "/dev/null"),
			Stubs:   append([]clitest.Stub{queue(`{"runType":"QuickRun","cmd":"hello-world","contextPath":"/dev/null"}`)}, follow(failed)...),
			Out:     "Queued a run with ID: ca5\nWaiting for an agent...\nExecuting step ID: s1\nRun ID: ca5 failed after 2s. Error: step s1 failed\n",
			WantErr: "Run ID: ca5 failed after 2s. Error: step s1 failed"},
		// Bad command lines: nothing is sent.
		{Name: "neither -f nor --cmd", Args: with("/dev/null"), WantErr: "give what to run: -f FILE (a task file; - for standard input) or --cmd COMMAND"},
		{Name: "both", Args: with("-f", "-", "--cmd", "x", "/dev/null"), WantErr: "give -f/--file or --cmd, not both"},
		{Name: "no context", Args: with("--cmd", "x"), WantErr: "give one context: a directory, a .tar.gz file, /dev/null, a git URL or oci://… (got 0 arguments)"},
		{Name: "missing context", Args: with("--cmd", "x", filepath.Join(dir, "nope")),
			WantErr: "the context " + filepath.Join(dir, "nope") + " does not exist: give a directory, a .tar.gz file, /dev/null, a git URL or oci://…"},
		{Name: "standard input twice", Args: with("-f", "-", "-"), WantErr: "a context on standard input is not taken here: give a directory, a .tar.gz file, /dev/null, a git URL or oci://…"},
		{Name: "empty standard input", Args: with("-f", "-", "/dev/null"), WantErr: "-f -: the task file is empty"},
		{Name: "bad --set-secret", Args: with("--cmd", "x", "--set-secret", secret, "/dev/null"), WantErr: "--set-secret: give NAME=VALUE; an argument has no '=' (it is not shown: it may be the secret)"},
		{Name: "timeout", Args: with("--cmd", "x", "--timeout", "-5", "/dev/null"), WantErr: "--timeout -5: give 1 to 28800 seconds"},
		{Name: "-o without --no-wait", Args: with("--cmd", "x", "-o", "tsv", "/dev/null"), WantErr: "-o/--output and --query format the queued run, which only --no-wait prints"},
	})
}
