package taskcmd

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// LogsOptions are the inputs of `berth task logs`.
type LogsOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Registry string
	RunID    string // "": the newest run
	Task     string // with no RunID: the newest run of this task
}

// NewCmdLogs returns `berth task logs`.
func NewCmdLogs(f *cmdutil.Factory, runF func(context.Context, *LogsOptions) error) *cobra.Command {
	opts := &LogsOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "logs [-r REGISTRY] [-n TASK | --run-id ID]",
		Short: "Show a run's log, following it while the run goes on",
		Long: `Show the log of a run, by default the newest run of the registry (of the
task -n/--name when given). While the
run is queued or running, the log is followed as it grows (from whichever
server replica you reach, and resumed where it left off if the connection
is cut) until the run ends. The last line says how the run ended:

  Run ID: ca1 was successful after 27s

The exit status is 0 whatever the run's outcome; it is 1 when the log could
not be read.`,
		Example: `  # Follow the newest run
  berth task logs -r blogbuildtest

  # The newest run of a task
  berth task logs -r blogbuildtest -n mypurgetask

  berth task logs -r blogbuildtest --run-id ca7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if opts.Task != "" && opts.RunID != "" {
				return fmt.Errorf("give -n/--name or --run-id, not both")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logsRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	runIDFlag(cmd, &opts.RunID, false)
	cmd.Flags().StringVarP(&opts.Task, "name", "n", "", "show the newest run of this task")
	return cmd
}

func logsRun(ctx context.Context, opts *LogsOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	runs := c.Runs(opts.Registry)
	if opts.RunID == "" {
		newest, err := runs.List(ctx, client.RunQuery{Top: 1, Task: opts.Task})
		if err != nil {
			return err
		}
		if len(newest) == 0 && opts.Task != "" {
			return fmt.Errorf("task %q of registry %q has no runs", opts.Task, opts.Registry)
		}
		if len(newest) == 0 {
			return fmt.Errorf("registry %q has no runs", opts.Registry)
		}
		opts.RunID = newest[0].Name
		fmt.Fprintf(opts.IO.ErrOut, "Showing the log of run %s, the newest\n", opts.RunID)
	}
	out := &lastByte{w: opts.IO.Out, last: '\n'}
	run, err := runs.FollowLog(ctx, opts.RunID, out)
	if err != nil {
		return err
	}
	if out.last != '\n' {
		fmt.Fprintln(opts.IO.Out)
	}
	fmt.Fprintln(opts.IO.Out, cmdutil.RunSummary(run))
	return nil
}

// lastByte remembers the last byte written through it, so that the
// summary starts on a line of its own.
type lastByte struct {
	w    io.Writer
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.last = p[len(p)-1]
	}
	return l.w.Write(p)
}
