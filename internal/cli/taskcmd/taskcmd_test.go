package taskcmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
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
		`","status":"` + status + `","runType":"QuickBuild","trigger":"Manual","agentPool":"local","agent":"a1","platform":"linux/amd64",` +
		`"createTime":"2026-01-02T03:04:00Z","startTime":` + q(start) + `,"finishTime":` + q(finish) +
		`,"imageNames":["app:` + id + `"],"timeout":28800,"cancelRequested":false,"outputImages":[],"dependencies":null,"error":"` + errMsg + `"}}`
}

var (
	ca2 = run("ca2", "Running", "2026-01-02T03:05:00Z", "", "")
	ca1 = run("ca1", "Succeeded", "2026-01-02T03:04:05Z", "2026-01-02T03:04:32Z", "")
	// ca3 is a task's run, started by its timer t1.
	ca3 = strings.NewReplacer(`"ca1"`, `"ca3"`, "/ca1", "/ca3", `"runType":"QuickBuild","trigger":"Manual"`,
		`"runType":"TaskRun","trigger":"Timer","triggeredBy":"t1","task":"mypurgetask"`).Replace(ca1)
)

const runsPath = "/api/registries/blogbuildtest/runs"

func TestListRuns(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdListRuns(f, func(ctx context.Context, o *ListRunsOptions) error {
			o.Now = func() time.Time { return time.Date(2026, 1, 2, 4, 6, 7, 0, time.UTC) }
			return listRunsRun(ctx, o)
		})
	}
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "table", Args: []string{"-r", "blogbuildtest", "-o", "table"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath, Reply: `{"value":[` + ca3 + `,` + ca2 + `,` + ca1 + `,` + run("ca0", "Queued", "", "", "") + `]}`}},
			Out: `RunId  Status     RunType     Task         Platform     Trigger     AgentPool  Started               Duration
-----  ---------  ----------  -----------  -----------  ----------  ---------  --------------------  --------
ca3    Succeeded  TaskRun     mypurgetask  linux/amd64  Timer (t1)  local      2026-01-02T03:04:05Z  00:00:27
ca2    Running    QuickBuild               linux/amd64  Manual      local      2026-01-02T03:05:00Z  01:01:07
ca1    Succeeded  QuickBuild               linux/amd64  Manual      local      2026-01-02T03:04:05Z  00:00:27
ca0    Queued     QuickBuild               linux/amd64  Manual      local
`},
		{Name: "top and status, query", Args: []string{"-r", "blogbuildtest", "--top", "2", "--run-status", "succeeded", "--query", "[].name", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath + "?top=2&status=succeeded", Reply: `{"value":[` + ca1 + `]}`}},
			Out:   "ca1\n"},
		{Name: "of one task", Args: []string{"-r", "blogbuildtest", "-n", "mypurgetask", "--query", "[].name", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath + "?task=mypurgetask", Reply: `{"value":[` + ca1 + `]}`}},
			Out:   "ca1\n"},
		{Name: "json", Args: []string{"-r", "blogbuildtest", "--query", "[0].properties.{status:status, images:imageNames}"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath, Reply: `{"value":[` + ca1 + `]}`}},
			Out:   "{\n  \"status\": \"Succeeded\",\n  \"images\": [\n    \"app:ca1\"\n  ]\n}\n"},
		{Name: "none, table", Args: []string{"-r", "blogbuildtest", "-o", "table"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath, Reply: `{"value":[]}`}}},
		{Name: "bad status", Args: []string{"-r", "blogbuildtest", "--run-status", "Done"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath + "?status=Done", Status: 400,
				Reply: `{"error":{"code":"InvalidRequest","message":"status \"Done\": want one of Queued, Started, Running, Succeeded, Failed, Canceled, Error, Timeout"}}`}},
			WantErr: `status "Done": want one of Queued, Started, Running, Succeeded, Failed, Canceled, Error, Timeout`},
		{Name: "top out of range", Args: []string{"-r", "blogbuildtest", "--top", "1001"}, WantErr: "--top 1001: give 1 to 1000"},
		{Name: "no registry", WantErr: "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	})
}

func TestShowAndCancelRun(t *testing.T) {
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShowRun(f) }, []clitest.Case{
		{Name: "show", Args: []string{"-r", "blogbuildtest", "--run-id", "ca1", "--query", "properties.status", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: runsPath + "/ca1", Reply: ca1}}, Out: "Succeeded\n"},
		{Name: "not found", Args: []string{"-r", "blogbuildtest", "--run-id", "ca9"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: runsPath + "/ca9", Status: 404, Reply: clitest.NotFound("run 'ca9'")}},
			WantErr: "run 'ca9' was not found"},
		{Name: "no run id", Args: []string{"-r", "blogbuildtest"}, WantErr: `required flag(s) "run-id" not set`},
	})
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCancelRun(f) }, []clitest.Case{
		{Name: "cancel", Args: []string{"-r", "blogbuildtest", "--run-id", "ca2", "--query", "properties.[status, cancelRequested]", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "POST", Path: runsPath + "/ca2/cancel", Reply: strings.Replace(ca2, `"cancelRequested":false`, `"cancelRequested":true`, 1)}},
			Out:   "Running\ntrue\n"},
		{Name: "ended", Args: []string{"-r", "blogbuildtest", "--run-id", "ca1"},
			Stubs: []clitest.Stub{{Method: "POST", Path: runsPath + "/ca1/cancel", Status: 409,
				Reply: `{"error":{"code":"Conflict","message":"run ca1 of registry \"blogbuildtest\" already ended: Succeeded"}}`}},
			WantErr: `run ca1 of registry "blogbuildtest" already ended: Succeeded`},
	})
}

func TestLogs(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdLogs(f, nil) }
	failed := run("ca3", "Failed", "2026-01-02T03:04:05Z", "2026-01-02T03:04:14Z", "step build failed")
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "a run", Args: []string{"-r", "blogbuildtest", "--run-id", "ca1"},
			Stubs: []clitest.Stub{
				{Method: "GET", Path: runsPath + "/ca1/log?follow=true", Reply: "Step 1/1 : FROM scratch\n"},
				{Method: "GET", Path: runsPath + "/ca1", Reply: ca1},
			},
			Out: "Step 1/1 : FROM scratch\nRun ID: ca1 was successful after 27s\n"},
		{Name: "the newest, failed, log without a last newline", Args: []string{"-r", "blogbuildtest"},
			Stubs: []clitest.Stub{
				{Method: "GET", Path: runsPath + "?top=1", Reply: `{"value":[` + failed + `]}`},
				{Method: "GET", Path: runsPath + "/ca3/log?follow=true", Reply: "exit status 1"},
				{Method: "GET", Path: runsPath + "/ca3", Reply: failed},
			},
			Out:    "exit status 1\nRun ID: ca3 failed after 9s. Error: step build failed\n",
			ErrOut: "Showing the log of run ca3, the newest\n"},
		{Name: "no runs", Args: []string{"-r", "blogbuildtest"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: runsPath + "?top=1", Reply: `{"value":[]}`}},
			WantErr: `registry "blogbuildtest" has no runs`},
		{Name: "the newest of a task", Args: []string{"-r", "blogbuildtest", "-n", "mypurgetask"},
			Stubs: []clitest.Stub{
				{Method: "GET", Path: runsPath + "?task=mypurgetask&top=1", Reply: `{"value":[` + failed + `]}`},
				{Method: "GET", Path: runsPath + "/ca3/log?follow=true", Reply: "exit status 1\n"},
				{Method: "GET", Path: runsPath + "/ca3", Reply: failed},
			},
			Out:    "exit status 1\nRun ID: ca3 failed after 9s. Error: step build failed\n",
			ErrOut: "Showing the log of run ca3, the newest\n"},
		{Name: "a task with no runs", Args: []string{"-r", "blogbuildtest", "-n", "idle"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: runsPath + "?task=idle&top=1", Reply: `{"value":[]}`}},
			WantErr: `task "idle" of registry "blogbuildtest" has no runs`},
		{Name: "a task and a run id", Args: []string{"-r", "blogbuildtest", "-n", "idle", "--run-id", "ca1"},
			WantErr: "give -n/--name or --run-id, not both"},
		{Name: "not found", Args: []string{"-r", "blogbuildtest", "--run-id", "ca9"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: runsPath + "/ca9/log?follow=true", Status: 404, Reply: clitest.NotFound("run 'ca9'")}},
			WantErr: "run 'ca9' was not found"},
	})
}

func TestRunSummary(t *testing.T) {
	for _, tt := range []struct{ status, want string }{
		{"Succeeded", "Run ID: ca1 was successful after 27s"},
		{"Canceled", "Run ID: ca1 was canceled after 27s"},
		{"Timeout", "Run ID: ca1 timed out after 27s"},
		{"Error", "Run ID: ca1 failed after 27s"},
	} {
		var r = parseRun(t, strings.Replace(ca1, "Succeeded", tt.status, 1))
		if got := cmdutil.RunSummary(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.status, got, tt.want)
		}
	}
}

func parseRun(t *testing.T, s string) client.Run {
	t.Helper()
	var r client.Run
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}
