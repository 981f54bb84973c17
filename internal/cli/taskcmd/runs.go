package taskcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ListRunsOptions are the inputs of `berth task list-runs`.
type ListRunsOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions
	Now    func() time.Time

	Registry string
	Top      int
	Status   string
	Task     string
}

// NewCmdListRuns returns `berth task list-runs`.
func NewCmdListRuns(f *cmdutil.Factory, runF func(context.Context, *ListRunsOptions) error) *cobra.Command {
	opts := &ListRunsOptions{IO: f.IOStreams, Client: f.Client, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "list-runs [-r REGISTRY] [-n TASK] [--top N] [--run-status STATUS]",
		Short: "List a registry's runs, newest first",
		Long: `List the runs of a registry, newest first: at most --top of them (default
100, at most 1000), of status --run-status when given (Queued, Started,
Running, Succeeded, Failed, Canceled, Error or Timeout, in any case), of
the task -n/--name when given.

-o table shows one line per run: its id, status, type, task, platform,
trigger (with what triggered it: the timer's name, or the base image
pushed), agent pool, start time and duration (so far, for a run that has
not ended).
Other formats show the runs as the server answers them; --query selects
from that.`,
		Example: `  berth task list-runs -r blogbuildtest -o table

  # The runs of one task
  berth task list-runs -r blogbuildtest -n mypurgetask -o table

  # The last five failed runs
  berth task list-runs -r blogbuildtest --top 5 --run-status Failed -o table

  # Ids of the runs still waiting for an agent
  berth task list-runs -r blogbuildtest --run-status Queued --query "[].name" -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if opts.Top < 0 || opts.Top > 1000 {
				return fmt.Errorf("--top %d: give 1 to 1000", opts.Top)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRunsRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	cmd.Flags().IntVar(&opts.Top, "top", 0, "at most this many runs, the newest (1 to 1000; default 100)")
	cmd.Flags().StringVarP(&opts.Task, "name", "n", "", "only runs of this task")
	cmd.Flags().StringVar(&opts.Status, "run-status", "", "only runs of this status: Queued, Started, Running, Succeeded, Failed, Canceled, Error or Timeout")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

// runRow is a run as -o table shows it.
type runRow struct {
	RunID     string `json:"runId"`
	Status    string `json:"status"`
	RunType   string `json:"runType"`
	Task      string `json:"task"`
	Platform  string `json:"platform"`
	Trigger   string `json:"trigger"`
	AgentPool string `json:"agentPool"`
	Started   string `json:"started"`
	Duration  string `json:"duration"`
}

func listRunsRun(ctx context.Context, opts *ListRunsOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	list, err := c.Runs(opts.Registry).List(ctx, client.RunQuery{Top: opts.Top, Status: opts.Status, Task: opts.Task})
	if err != nil {
		return err
	}
	if opts.Output.Format != cmdutil.FormatTable || opts.Output.Query != "" {
		return cmdutil.Print(opts.IO, opts.Output, list)
	}
	rows := []runRow{}
	for _, run := range list {
		p := run.Properties
		row := runRow{RunID: p.RunID, Status: p.Status, RunType: p.RunType, Task: p.Task, Platform: p.Platform, Trigger: p.Trigger, AgentPool: p.AgentPool}
		if p.TriggeredBy != "" {
			row.Trigger += " (" + p.TriggeredBy + ")"
		}
		if p.StartTime != nil {
			row.Started = p.StartTime.UTC().Format(time.RFC3339)
			row.Duration = clock(cmdutil.RunDuration(run, opts.Now()))
		}
		rows = append(rows, row)
	}
	return cmdutil.Print(opts.IO, opts.Output, rows)
}

// clock shows a duration as hh:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// NewCmdShowRun returns `berth task show-run`.
func NewCmdShowRun(f *cmdutil.Factory) *cobra.Command {
	var registry, runID string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show-run [-r REGISTRY] --run-id ID",
		Short: "Show a run",
		Long: `Show a run: its status, type, agent pool and agent, times, the images it
pushes (imageNames) and pushed (outputImages, with their digests), the
dependency report of its agent, and the error it ended with. Build args are
never shown; secret build args are only ever given to the agent that runs
the build.`,
		Example: `  berth task show-run -r blogbuildtest --run-id ca1

  # The digests it pushed
  berth task show-run -r blogbuildtest --run-id ca1 --query "properties.outputImages[].digest" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Runs(registry).Get(ctx, runID)
	})
	registryFlag(cmd, &registry)
	runIDFlag(cmd, &runID, true)
	return cmd
}

// NewCmdCancelRun returns `berth task cancel-run`.
func NewCmdCancelRun(f *cmdutil.Factory) *cobra.Command {
	var registry, runID string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "cancel-run [-r REGISTRY] --run-id ID",
		Short: "Cancel a run",
		Long: `Cancel a run. A run still Queued is Canceled at once. A run an agent holds
(Started or Running) shows cancelRequested until its agent learns of it, at
its next heartbeat (within seconds), stops the run and reports it Canceled.
Canceling a run that is already canceled changes nothing; a run that ended
otherwise cannot be canceled.

It prints the run as it is after the call.`,
		Example: `  berth task cancel-run -r blogbuildtest --run-id ca7

  # Cancel every queued run
  for id in $(berth task list-runs -r blogbuildtest --run-status Queued --query "[].name" -o tsv); do
    berth task cancel-run -r blogbuildtest --run-id "$id" -o none
  done`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Runs(registry).Cancel(ctx, runID)
	})
	registryFlag(cmd, &registry)
	runIDFlag(cmd, &runID, true)
	return cmd
}
