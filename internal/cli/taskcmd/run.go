package taskcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/buildcmd"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// RunOptions are the inputs of `berth task run`.
type RunOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions // the queued run's, with --no-wait
	// PollInterval is how often --no-logs asks how the run stands.
	PollInterval time.Duration

	Registry   string
	Name       string
	Context    string // "": the task's
	ValuesFile string
	Set        []string
	SetSecret  []string
	NoLogs     bool
	NoWait     bool

	request client.TaskRunRequest // without its context; filled by RunE
}

// NewCmdRun returns `berth task run`.
func NewCmdRun(f *cmdutil.Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, Client: f.Client, PollInterval: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "run [-r REGISTRY] -n NAME [--set NAME=VALUE]... [--set-secret NAME=VALUE]... [-c CONTEXT] [--no-logs] [--no-wait]",
		Short: "Run a task now and follow its log",
		Long: `Run a task now, then show the run's log as it goes on and end, as berth build
does, with one of

  Run ID: ca3 was successful after 12s
  Run ID: ca4 failed after 3s. Error: <why>

The exit status is 0 only when the run succeeded. --no-logs waits without
showing the log and prints only that last line; --no-wait returns once the
run is queued and prints the queued run (-o and --query apply to it; the
progress lines then go to standard error).

--set NAME=VALUE (over those of --values FILE) and --set-secret NAME=VALUE
give this run values over the task's. -c replaces the task's context for
this run only: a directory or .tar.gz (uploaded), /dev/null, a git URL or
oci://….`,
		Example: `  # S2.3
  berth task run -r blogbuildtest -n helloworldtask

  # S4: a task file's values, and the current directory as the context
  berth task run -r blogbuildtest -n mybuildtask --set image=myrepo:mytag --set dockerfile=Dockerfile -c .

  # Queue it and print the run's id only
  berth task run -r blogbuildtest -n mypurgetask --no-wait --query name -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := buildcmd.CheckQueuedOutput(cmd, opts.NoWait); err != nil {
				return err
			}
			values, secrets, err := Values(opts.ValuesFile, opts.Set, opts.SetSecret)
			if err != nil {
				return err
			}
			opts.request = client.TaskRunRequest{Values: values, SecretValues: secrets}
			if cmd.Flags().Changed("context") {
				if _, err := ContextKind(opts.Context); err != nil {
					return err
				}
			}
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	fl := cmd.Flags()
	fl.StringVarP(&opts.Context, "context", "c", "", "this run's context instead of the task's: a directory or .tar.gz (uploaded), /dev/null, a git URL or oci://…")
	fl.StringVar(&opts.ValuesFile, "values", "", "a YAML file of values, name: value")
	fl.StringArrayVar(&opts.Set, "set", nil, "a value NAME=VALUE for this run, over the task's and --values; may be repeated")
	fl.StringArrayVar(&opts.SetSecret, "set-secret", nil, "a value NAME=VALUE that is never shown; may be repeated")
	fl.BoolVar(&opts.NoLogs, "no-logs", false, "do not show the log: wait for the end and print how the run ended")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "return once the run is queued, printing the run")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	runs := c.Runs(opts.Registry)
	status := opts.IO.Out
	if opts.NoWait {
		status = opts.IO.ErrOut
	}
	req := opts.request
	if opts.Context != "" {
		src, err := ResolveSource(ctx, opts.IO, status, runs, opts.Registry, opts.Context, "")
		if err != nil {
			return err
		}
		req.ContextID, req.ContextPath = src.ContextID, src.ContextPath
	}
	run, err := c.Tasks(opts.Registry).Run(ctx, opts.Name, req)
	if err != nil {
		return err
	}
	return FollowQueued(ctx, opts.IO, status, runs, opts.Registry, run, opts.NoWait, opts.NoLogs, opts.Output, opts.PollInterval)
}

// FollowQueued reports a queued run: with noWait it prints the run;
// otherwise it follows it to its end as berth build does.
func FollowQueued(ctx context.Context, ios *cmdutil.IOStreams, status io.Writer, runs client.Runs, registry string, run client.Run, noWait, noLogs bool, out cmdutil.OutputOptions, poll time.Duration) error {
	runID := run.Properties.RunID
	fmt.Fprintf(status, "Queued a run with ID: %s\n", runID)
	if noWait {
		return cmdutil.Print(ios, out, run)
	}
	return buildcmd.FollowRun(ctx, ios, runs, registry, runID, noLogs, poll)
}
