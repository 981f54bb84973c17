package buildcmd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// Through the root, as S1 runs it: exit 0 only when the run succeeded; a
// failed run's last line is its only report, with no "Error:" line added.
func TestBuildExitStatus(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM 127.0.3.1:5000/base/busybox:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const runs = "/api/registries/blogbuildtest/runs"
	ended := func(status, errMsg string) string {
		return `{"name":"ca2","properties":{"runId":"ca2","status":"` + status + `","createTime":"2026-01-02T03:04:00Z",` +
			`"startTime":"2026-01-02T03:04:05Z","finishTime":"2026-01-02T03:04:14Z","error":"` + errMsg + `"}}`
	}
	for _, tt := range []struct {
		status, errMsg string
		code           int
		last           string
	}{
		{"Succeeded", "", 0, "Run ID: ca2 was successful after 9s"},
		{"Failed", "denied: client with IP '127.0.1.10' is not allowed access.", 1,
			"Run ID: ca2 failed after 9s. Error: denied: client with IP '127.0.1.10' is not allowed access."},
		{"Canceled", "", 1, "Run ID: ca2 was canceled after 9s"},
		{"Error", "the agent stopped answering (lease expired)", 1, "Run ID: ca2 failed after 9s. Error: the agent stopped answering (lease expired)"},
	} {
		t.Run(tt.status, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(
				clitest.Stub{Method: "POST", Path: "/api/registries/blogbuildtest/buildContexts", Check: func(*testing.T, []byte) {},
					Reply: `{"contextId":"sha256:7b3c0f5c9d1f8e2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c","size":100}`},
				clitest.Stub{Method: "POST", Path: runs, Reply: `{"name":"ca2","properties":{"runId":"ca2","status":"Queued"}}`,
					Body: `{"runType":"QuickBuild","images":["buildtestfromvm/hello-world:v1"],"dockerfile":"Dockerfile","push":true,` +
						`"contextId":"sha256:7b3c0f5c9d1f8e2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"}`},
				clitest.Stub{Method: "GET", Path: runs + "/ca2/log?follow=true", Reply: "Logging in to registry: 127.0.3.1:5000\n"},
				clitest.Stub{Method: "GET", Path: runs + "/ca2", Reply: ended(tt.status, tt.errMsg)},
			)
			ios, _, out, errOut := cmdutil.Test()
			code := cli.Run(context.Background(), cmdutil.NewFactory(ios, e.Dir, "test"),
				[]string{"build", "-r", "blogbuildtest", "--image", "buildtestfromvm/hello-world:v1", "--file", "Dockerfile", dir})
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			if !strings.HasSuffix(out.String(), "Logging in to registry: 127.0.3.1:5000\n"+tt.last+"\n") {
				t.Errorf("stdout does not end with the log and %q:\n%s", tt.last, out.String())
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr %q, want nothing", errOut.String())
			}
		})
	}
}
