package taskcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth task create` and `berth task
// update`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
	Name     string
	Flags    specFlags

	// spec is the checked flags; parse fills it. changed says which flags
	// were given.
	spec    *spec
	changed func(string) bool
}

const specHelp = `The task's step is one of:

  -f FILE       a multi-step task file (YAML, version v1.1.0), read here
                and stored with the task; -f - reads standard input
  --cmd "…"     a command: an image and its arguments, run as a container
                (built-ins such as "berth purge …" run the berth CLI)
  -t IMAGE...   a Dockerfile build pushed as IMAGE (repository[:tag]);
                then -f names the Dockerfile inside the context (default
                Dockerfile), as in az acr task create

-c/--context is a directory or a .tar.gz file, packed and uploaded as berth
build does; or /dev/null (an empty context), a git URL
(https://host/repo.git, optionally #ref:folder) or
oci://<loginServer>/<repo>:<tag> (an artifact whose files are the context),
which the agent fetches when the task runs.

--set NAME=VALUE gives {{.Values.NAME}} (over those of --values FILE, a YAML
map); --set-secret NAME=VALUE too, but its value is never shown.

--assign-identity gives the task managed identities: [system] (alone, the
flag means [system]) makes a system-assigned one with the task; other words
name user-assigned identities (berth identity create). With --auth-mode None
runs get no token for the registry by themselves: only the task's
credentials (berth task credential add).

--schedule "[name:]cron" runs it on a timer: five cron fields in UTC
(minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly,
@monthly, @yearly; unnamed timers are named t1, t2, …; repeat it for more. --base-image-trigger-enabled false stops runs
when a base image is pushed anew.`

// NewCmdCreate returns `berth task create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "create [-r REGISTRY] -n NAME -c CONTEXT (-f FILE | --cmd COMMAND | -t IMAGE... [-f DOCKERFILE]) [flags]",
		Short: "Create a task: a stored run, started by hand, on a timer or by a base image update",
		Long: `Create a task of a registry: a run stored to be started by hand (berth task
run), on a timer, or when a base image it was built on is pushed anew. It
prints the task; the system-assigned identity's principalId is in
identity.principalId. Progress lines of an upload go to standard error.

` + specHelp,
		Example: `  # S2.3: build the Dockerfile of an oci:// artifact with a system-assigned identity
  berth task create -t helloworld -r blogbuildtest -n helloworldtask \
    -c oci://127.0.3.1:5000/hello-world.dockerfile:1.0 -f Dockerfile --assign-identity [system]

  # S3: a scheduled purge with no automatic registry credential
  berth task create -r blogbuildtest -n mypurgetask -c /dev/null \
    --cmd "berth purge --filter 'hello-world:.*' --untagged --ago 1d" \
    --assign-identity [system] --auth-mode None --base-image-trigger-enabled false \
    --schedule "0 1 * * Sun"

  # S4: a task file, values given at each run
  berth task create -r blogbuildtest -n mybuildtask -f acb.yaml -c /dev/null \
    --assign-identity --auth-mode None --base-image-trigger-enabled false

  # A local directory, uploaded; two named timers; a user-assigned identity
  berth task create -r blogbuildtest -n nightly -c ./app -t app:{{.Run.ID}} \
    --schedule "night:0 2 * * *" --schedule "noon:0 12 * * Mon-Fri" --assign-identity builder`,
		Args: cobra.ArbitraryArgs, // the words after --assign-identity
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.parse(f, cmd, args, nil); err != nil {
				return err
			}
			switch {
			case !opts.changed("context"):
				return errors.New("give the context with -c/--context: a directory, a .tar.gz file, /dev/null, a git URL or oci://…")
			case !opts.spec.stepGiven:
				return errors.New("give what the task runs: -f FILE (a task file), --cmd COMMAND, or -t IMAGE (a Dockerfile build)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func (o *CreateOptions) addFlags(cmd *cobra.Command) {
	registryFlag(cmd, &o.Registry)
	nameFlag(cmd, &o.Name)
	o.Flags.add(cmd)
	cmdutil.AddOutputFlags(cmd, &o.Output)
}

// parse checks the flags and the registry; dockerTask is update's.
func (o *CreateOptions) parse(f *cmdutil.Factory, cmd *cobra.Command, args []string, dockerTask func() (bool, error)) error {
	o.changed = cmd.Flags().Changed
	s, err := o.Flags.parse(cmd, args, o.IO.In, dockerTask)
	if err != nil {
		return err
	}
	o.spec = s
	return resolveRegistry(f, &o.Registry)
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	s, fl := opts.spec, opts.Flags
	src, err := ResolveSource(ctx, opts.IO, opts.IO.ErrOut, c.Runs(opts.Registry), opts.Registry, fl.Context, s.uploadDockerfile)
	if err != nil {
		return err
	}
	step := s.step
	step.ContextID, step.ContextPath = src.ContextID, src.ContextPath
	task, err := c.Tasks(opts.Registry).Create(ctx, opts.Name, client.TaskCreate{
		Identities:              s.identities,
		Platform:                fl.Platform,
		AgentPool:               fl.AgentPool,
		Timeout:                 fl.Timeout,
		Step:                    step,
		SecretValues:            s.secrets,
		BaseImageTriggerEnabled: fl.BaseImageTrigger,
		TimerTriggers:           s.timers,
		AuthMode:                fl.AuthMode,
		Status:                  fl.Status,
	})
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, task)
}

// NewCmdUpdate returns `berth task update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "update [-r REGISTRY] -n NAME [flags of create]",
		Short: "Change a task",
		Long: `Change a task: only what the flags given say changes, and it prints the task.

--set and --values merge into the task's values, --set-secret into its
secret values (NAME= deletes one). --schedule replaces all the timers;
--schedule none removes them.
-c replaces the context (a local one is uploaded). -f, --cmd or -t replace
the step; for a task that builds a Dockerfile, -f alone names the new
Dockerfile in the context. --assign-identity adds identities (berth task
identity remove takes them away).

` + specHelp,
		Example: `  # Run it on Sundays at 1:00 and at noon, and no more on base image updates
  berth task update -r blogbuildtest -n mypurgetask \
    --schedule "0 1 * * Sun" --schedule "noon:0 12 * * *" --base-image-trigger-enabled false

  # A new command; a value
  berth task update -r blogbuildtest -n mypurgetask --cmd "berth purge --filter 'hello-world:.*' --ago 7d" --set keep=3

  # Upload the current directory as the new context, disable the task
  berth task update -r blogbuildtest -n mybuildtask -c . --status Disabled`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dockerTask := func() (bool, error) {
				c, err := opts.Client()
				if err != nil {
					return false, err
				}
				if err := resolveRegistry(f, &opts.Registry); err != nil {
					return false, err
				}
				task, err := c.Tasks(opts.Registry).Get(cmd.Context(), opts.Name)
				return task.Properties.Step.Type == "Docker", err
			}
			if err := opts.parse(f, cmd, args, dockerTask); err != nil {
				return err
			}
			if cmd.Flags().NFlag() == countChanged(cmd, "registry", "name", "output", "query") {
				return errors.New("give at least one thing to change: see --help")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// countChanged counts which of names were given.
func countChanged(cmd *cobra.Command, names ...string) int {
	n := 0
	for _, name := range names {
		if cmd.Flags().Changed(name) {
			n++
		}
	}
	return n
}

func updateRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	s, fl, changed := opts.spec, opts.Flags, opts.changed
	in := client.TaskUpdate{
		ImageNames:              s.step.ImageNames,
		Values:                  s.step.Values,
		SecretValues:            s.secrets,
		BaseImageTriggerEnabled: fl.BaseImageTrigger,
		AssignIdentities:        s.identities,
	}
	if changed("schedule") {
		in.TimerTriggers = &s.timers
	}
	set := func(name string, p **string, v string) {
		if changed(name) {
			*p = &v
		}
	}
	set("platform", &in.Platform, fl.Platform)
	set("agent-pool", &in.AgentPool, fl.AgentPool)
	set("status", &in.Status, fl.Status)
	set("auth-mode", &in.AuthMode, fl.AuthMode)
	if changed("timeout") {
		in.Timeout = &fl.Timeout
	}
	switch s.step.Type {
	case "Cmd":
		in.Cmd = &s.step.Cmd
	case "FileTask":
		in.TaskFile = &s.step.TaskFile
		in.TaskFilePath = &s.step.TaskFilePath
	case "Docker":
		if changed("file") { // -t alone keeps the task's Dockerfile
			in.DockerFilePath = &s.step.DockerFilePath
		}
	}
	if s.hasContext {
		src, err := ResolveSource(ctx, opts.IO, opts.IO.ErrOut, c.Runs(opts.Registry), opts.Registry, fl.Context, s.uploadDockerfile)
		if err != nil {
			return err
		}
		// Both are sent: the one not used is cleared.
		in.ContextID, in.ContextPath = &src.ContextID, &src.ContextPath
	}
	task, err := c.Tasks(opts.Registry).Update(ctx, opts.Name, in)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, task)
}
