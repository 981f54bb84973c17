// Package runcmd holds `berth run`, the quick run: a multi-step task file
// or a command run once on the registry's agents, without storing a task.
// It shares contexts, values and task files with berth task run (package
// taskcmd), and follows the run as berth build does. It only asks the
// server, through pkg/client.
package runcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/buildcmd"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/taskcmd"
	"github.com/berth-project/berth/pkg/client"
)

// RunOptions are the inputs of `berth run`.
type RunOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions // the queued run's, with --no-wait
	// PollInterval is how often --no-logs asks how the run stands.
	PollInterval time.Duration

	Registry   string
	File       string // a task file; "-" is standard input
	Cmd        string
	ValuesFile string
	Set        []string
	SetSecret  []string
	Timeout    int
	Platform   string
	AgentPool  string
	NoLogs     bool
	NoWait     bool
	Context    string

	request client.QuickRun // without its context; filled by RunE
}

// NewCmdRun returns `berth run`.
func NewCmdRun(f *cmdutil.Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, Client: f.Client, PollInterval: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "run [-r REGISTRY] (-f FILE | --cmd COMMAND) [--set NAME=VALUE]... [flags] CONTEXT",
		Short: "Run a task file or a command once on the registry's agents",
		Long: `Run a multi-step task file (-f FILE, YAML; -f - reads standard input) or a
command (--cmd "IMAGE ARGS…") once on the registry's agents, without storing
a task: a quick run. CONTEXT is a directory or a .tar.gz file (packed and
uploaded as berth build does), /dev/null (none), a git URL
(https://host/repo.git, optionally #ref:folder) or
oci://<loginServer>/<repo>:<tag>.

--set NAME=VALUE gives {{.Values.NAME}} (over those of --values FILE, a YAML
map); --set-secret NAME=VALUE too, but its value is never shown.

The command then shows the run's log and ends, as berth build does, with

  Run ID: ca5 was successful after 4s

and exit status 0 only when the run succeeded. --no-logs waits without the
log; --no-wait prints the queued run (-o, --query; the progress lines then
go to standard error).`,
		Example: `  # A task file against the current directory
  berth run -r blogbuildtest -f acb.yaml --set image=myrepo:mytag --set dockerfile=Dockerfile .

  # A command with no context
  berth run -r blogbuildtest --cmd "berth purge --filter 'hello-world:.*' --ago 1d --dry-run" /dev/null

  # A task file on standard input
  cat acb.yaml | berth run -r blogbuildtest -f - --values values.yaml .`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("give one context: a directory, a .tar.gz file, /dev/null, a git URL or oci://… (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = args[0]
			if err := opts.validate(cmd); err != nil {
				return err
			}
			name, err := f.RegistryName(opts.Registry)
			if err != nil {
				return err
			}
			opts.Registry = name
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Registry, "registry", "r", "", "registry name (default: defaults.registry)")
	fl.StringVarP(&opts.File, "file", "f", "", "the task file (YAML) to run; - reads standard input")
	fl.StringVar(&opts.Cmd, "cmd", "", "a command to run: an image and its arguments")
	fl.StringVar(&opts.ValuesFile, "values", "", "a YAML file of values, name: value")
	fl.StringArrayVar(&opts.Set, "set", nil, "a value NAME=VALUE for {{.Values.NAME}}, over --values; may be repeated")
	fl.StringArrayVar(&opts.SetSecret, "set-secret", nil, "a value NAME=VALUE that is never shown; may be repeated")
	fl.IntVar(&opts.Timeout, "timeout", 0, fmt.Sprintf("seconds the run may take, 1 to %d (default 600)", buildcmd.MaxTimeout))
	fl.StringVar(&opts.Platform, "platform", "", "OS/ARCH[/VARIANT] (default linux/amd64)")
	fl.StringVar(&opts.AgentPool, "agent-pool", "", "the agent pool to run on (default the registry's location's)")
	fl.BoolVar(&opts.NoLogs, "no-logs", false, "do not show the log: wait for the end and print how the run ended")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "return once the run is queued, printing the run")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

// validate checks the flags and the context, reads the task file and
// fills o.request: nothing is sent for a bad command line.
func (o *RunOptions) validate(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	if err := buildcmd.CheckQueuedOutput(cmd, o.NoWait); err != nil {
		return err
	}
	if changed("timeout") {
		if err := buildcmd.CheckTimeout(o.Timeout); err != nil {
			return err
		}
	}
	switch {
	case changed("file") && changed("cmd"):
		return errors.New("give -f/--file or --cmd, not both")
	case changed("cmd") && strings.TrimSpace(o.Cmd) == "":
		return errors.New("--cmd is empty: give an image and its arguments")
	case !changed("file") && !changed("cmd"):
		return errors.New("give what to run: -f FILE (a task file; - for standard input) or --cmd COMMAND")
	}
	if _, err := taskcmd.ContextKind(o.Context); err != nil {
		return err
	}
	values, secrets, err := taskcmd.Values(o.ValuesFile, o.Set, o.SetSecret)
	if err != nil {
		return err
	}
	o.request = client.QuickRun{Cmd: o.Cmd, Values: values, SecretValues: secrets,
		Platform: o.Platform, Timeout: o.Timeout, AgentPool: o.AgentPool}
	if changed("file") {
		if o.request.TaskFile, err = taskcmd.ReadTaskFile(o.File, o.IO.In); err != nil {
			return err
		}
	}
	return nil
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
	src, err := taskcmd.ResolveSource(ctx, opts.IO, status, runs, opts.Registry, opts.Context, "")
	if err != nil {
		return err
	}
	req := opts.request
	req.ContextID, req.ContextPath = src.ContextID, src.ContextPath
	run, err := runs.QueueRun(ctx, req)
	if err != nil {
		return err
	}
	return taskcmd.FollowQueued(ctx, opts.IO, status, runs, opts.Registry, run, opts.NoWait, opts.NoLogs, opts.Output, opts.PollInterval)
}
