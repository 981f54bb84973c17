package runcmd_test

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const runsPath = "/api/registries/blogbuildtest/runs"

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

// Through the root: berth run and berth task run exit 1 on a failed run,
// whose last line is the only report.
func TestExitStatusThroughRoot(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		queue clitest.Stub
	}{
		{[]string{"run", "-r", "blogbuildtest", "--cmd", "hello-world", "/dev/null"},
			clitest.Stub{Method: "POST", Path: runsPath, Body: `{"runType":"QuickRun","cmd":"hello-world","contextPath":"/dev/null"}`, Reply: queued}},
		{[]string{"task", "run", "-r", "blogbuildtest", "-n", "mytask"},
			clitest.Stub{Method: "POST", Path: "/api/registries/blogbuildtest/tasks/mytask/run", Body: `{}`, Reply: queued}},
	} {
		for _, end := range []struct {
			reply string
			code  int
			last  string
		}{{succeeded, 0, "Run ID: ca5 was successful after 4s"}, {failed, 1, "Run ID: ca5 failed after 2s. Error: step s1 failed"}} {
			t.Run(strings.Join(tt.args[:2], " ")+" "+end.last, func(t *testing.T) {
				e := clitest.New(t)
				e.Register(tt.queue,
					clitest.Stub{Method: "GET", Path: runsPath + "/ca5/log?follow=true", Reply: "Executing step ID: s1\n"},
					clitest.Stub{Method: "GET", Path: runsPath + "/ca5", Reply: end.reply})
				ios, _, out, errOut := cmdutil.Test()
				code := cli.Run(context.Background(), cmdutil.NewFactory(ios, e.Dir, "test"), tt.args)
				if code != end.code || !strings.HasSuffix(out.String(), "Executing step ID: s1\n"+end.last+"\n") || errOut.Len() != 0 {
					t.Errorf("exit %d, stdout %q, stderr %q; want %d and the last line %q", code, out.String(), errOut.String(), end.code, end.last)
				}
			})
		}
	}
}
