// Package buildcmd holds `berth build`, the quick build: it packs a local
// build context (pkg/buildcontext), uploads it and queues the build through
// pkg/client, then follows the run's log to its end. The server queues the
// run and an agent builds it; this package knows neither, only their API.
package buildcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/buildcontext"
	"github.com/berth-project/berth/pkg/client"
)

// BuildOptions are the inputs of `berth build`.
type BuildOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions // the queued run's, with --no-wait
	// PollInterval is how often --no-logs asks how the run stands.
	PollInterval time.Duration

	Registry        string
	Images          []string
	Dockerfile      string   // relative to the context directory
	BuildArgs       []string // NAME=VALUE
	SecretBuildArgs []string // NAME=VALUE; the values are never printed
	Platform        string
	Target          string
	NoPush          bool
	NoLogs          bool
	NoWait          bool
	Timeout         int // seconds; 0: the server's default
	AgentPool       string
	Context         string // a directory, a .tar.gz file, or "-" for standard input

	// request is the build to queue, checked and filled by validate; the
	// context id comes from the upload.
	request client.QuickBuild
}

// NewCmdBuild returns `berth build`.
func NewCmdBuild(f *cmdutil.Factory, runF func(context.Context, *BuildOptions) error) *cobra.Command {
	opts := &BuildOptions{IO: f.IOStreams, Client: f.Client, PollInterval: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "build [-r REGISTRY] -t IMAGE[:TAG]... [-f DOCKERFILE] [flags] CONTEXT",
		Short: "Build an image from a local context on the registry's agents, and push it",
		Long: `Build an image on the registry's build agents and push it to the registry: a
quick build. CONTEXT is a directory, a .tar.gz file, or - for a .tar.gz on
standard input.

A directory is packed as a tar.gz first: files that its .dockerignore leaves
out (or <Dockerfile>.dockerignore, when there is one) are not sent, nor are
.git, .svn, .hg and .bzr folders; the Dockerfile and the ignore files always
are. The context is uploaded to the server, which queues the build for an
agent of the registry's agent pool (or of --agent-pool). The command then
shows the run's log as it goes on and ends with one of

  Run ID: ca1 was successful after 27s
  Run ID: ca2 failed after 9s. Error: <why>

Its exit status is 0 only when the run succeeded; it is 1 when the run
failed, timed out, was canceled or ended in an error. With --no-logs it
waits without showing the log and prints only that last line; with
--no-wait it returns once the build is queued and prints the queued run
(-o and --query apply to it; the progress lines then go to standard error).
Follow such a run with berth task logs.

-t/--image names an image to push, as repository[:tag] relative to the
registry (latest when there is no tag), without its login server; give it
once per tag. {{.Run.ID}} in a name is replaced by the run's id. -f/--file is
the Dockerfile's path relative to the context (default Dockerfile).

--build-arg NAME=VALUE is passed to the Dockerfile's ARG NAME.
--secret-build-arg NAME=VALUE is too, but its value is stored sealed, given
only to the agent that runs the build, kept out of the log, and never shown
by berth. Either may be repeated.

Progress lines go to standard output, with a progress bar of the upload when
standard output is a terminal.`,
		Example: `  # Build ./Dockerfile in the current directory and push buildtest/hello-world:v1
  berth build -r blogbuildtest --image buildtest/hello-world:v1 --file Dockerfile .

  # Two tags, one of them the run's id; build args; the stage "release"
  berth build -r blogbuildtest -t app:{{.Run.ID}} -t app:latest \
    --build-arg VERSION=1.2 --secret-build-arg NPM_TOKEN="$NPM_TOKEN" --target release ./app

  # A Dockerfile elsewhere in the context, a build that pushes nothing
  berth build -r blogbuildtest -f docker/ci.Dockerfile --no-push .

  # A context on standard input; queue it and print the run's id only
  git archive --format=tar.gz HEAD | berth build -r blogbuildtest -t app:v2 --no-wait --query name -o tsv -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("give one build context: a directory, a .tar.gz file, or - for standard input (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = args[0]
			if err := CheckQueuedOutput(cmd, opts.NoWait); err != nil {
				return err
			}
			if cmd.Flags().Changed("timeout") {
				if err := CheckTimeout(opts.Timeout); err != nil {
					return err
				}
			}
			if err := opts.validate(); err != nil {
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
			return buildRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Registry, "registry", "r", "", "registry name (default: defaults.registry)")
	fl.StringArrayVarP(&opts.Images, "image", "t", nil, "image to push, repository[:tag] relative to the registry; repeat for more tags")
	fl.StringVarP(&opts.Dockerfile, "file", "f", "", "the Dockerfile's path, relative to the context (default Dockerfile)")
	fl.StringArrayVar(&opts.BuildArgs, "build-arg", nil, "build arg NAME=VALUE; may be repeated")
	fl.StringArrayVar(&opts.SecretBuildArgs, "secret-build-arg", nil, "build arg NAME=VALUE whose value is never shown; may be repeated")
	fl.StringVar(&opts.Platform, "platform", "", "the image's platform, OS/ARCH[/VARIANT] (default linux/amd64)")
	fl.StringVar(&opts.Target, "target", "", "the Dockerfile stage to build (default the last)")
	fl.BoolVar(&opts.NoPush, "no-push", false, "build only: push no image")
	fl.BoolVar(&opts.NoLogs, "no-logs", false, "do not show the log: wait for the end and print how the run ended")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "return once the build is queued, printing the run")
	fl.IntVar(&opts.Timeout, "timeout", 0, fmt.Sprintf("seconds the run may take, 1 to %d (default %d)", MaxTimeout, MaxTimeout))
	fl.StringVar(&opts.AgentPool, "agent-pool", "", "the agent pool to build on (default the registry's location's)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func buildRun(ctx context.Context, opts *BuildOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	runs := c.Runs(opts.Registry)
	// With --no-wait, standard output is the queued run, for scripts.
	status := opts.IO.Out
	if opts.NoWait {
		status = opts.IO.ErrOut
	}

	contextID, err := UploadContext(ctx, opts.IO, status, runs, opts.Registry, opts.Context, opts.request.Dockerfile)
	if err != nil {
		return err
	}

	req := opts.request
	req.ContextID = contextID
	run, err := runs.QueueBuild(ctx, req)
	if err != nil {
		return err
	}
	runID := run.Properties.RunID
	fmt.Fprintf(status, "Queued a build with ID: %s\n", runID)
	if opts.NoWait {
		return cmdutil.Print(opts.IO, opts.Output, run)
	}
	return FollowRun(ctx, opts.IO, runs, opts.Registry, runID, opts.NoLogs, opts.PollInterval)
}

// CheckQueuedOutput refuses -o/--output and --query without --no-wait:
// they format the queued run, which only --no-wait prints. berth run and
// berth task run take them on the same terms.
func CheckQueuedOutput(cmd *cobra.Command, noWait bool) error {
	if !noWait && (cmd.Flags().Changed("output") || cmd.Flags().Changed("query")) {
		return errors.New("-o/--output and --query format the queued run, which only --no-wait prints")
	}
	return nil
}

// UploadContext packs context arg (a directory, a .tar.gz file, or "-" for
// ios.In), always keeping dockerfile ("" means Dockerfile, relative to the
// context), and uploads it for registry, with the progress lines on status
// and a progress bar when status is a terminal's standard output. It
// returns the uploaded context's id. berth task and berth run upload their
// local contexts through it.
func UploadContext(ctx context.Context, ios *cmdutil.IOStreams, status io.Writer, runs client.Runs, registry, arg, dockerfile string) (string, error) {
	fmt.Fprintln(status, "Packing source code into tar to upload...")
	// Pack's goroutine reports progress as soon as it starts, before the
	// bar, which needs Pack's totals, exists.
	var bar atomic.Pointer[cmdutil.ProgressBar]
	body, total, err := buildcontext.Pack(ctx, arg, buildcontext.PackOptions{
		Dockerfile: dockerfile,
		Stdin:      ios.In,
		Progress: func(done buildcontext.Stats) {
			if b := bar.Load(); b != nil {
				b.Set(done.Bytes)
			}
		},
	})
	if err != nil {
		return "", err
	}
	defer body.Close()
	from := "standard input"
	if arg != "-" {
		abs, err := filepath.Abs(arg)
		if err != nil {
			return "", err
		}
		from = "'" + abs + "'"
	}
	fmt.Fprintf(status, "Uploading archived source code from %s...\n", from)
	if ios.OutIsTerminal && status == ios.Out {
		bar.Store(cmdutil.NewProgressBar(status, total.Bytes))
	}
	// An archive passed through is sent as it is: its size is known. A
	// directory's tar.gz is made while it is sent.
	size := int64(-1)
	if total.Files < 0 {
		size = total.Bytes
	}
	uploaded, err := runs.UploadContext(ctx, body, size)
	if b := bar.Load(); b != nil {
		b.Finish()
	}
	if err != nil {
		return "", fmt.Errorf("uploading the build context: %w", err)
	}
	fmt.Fprintf(status, "Sending context (%s) to registry: %s...\n", cmdutil.FormatBytes(uploaded.Size), registry)
	return uploaded.ContextID, nil
}

// FollowRun waits for run runID of registry to end, showing its log on
// ios.Out as it goes on (or, with noLogs, asking how it stands every poll),
// then prints the summary line. Only a run that succeeded returns nil; any
// other end returns a cmdutil.SilentError, the summary being its report.
// berth task run and berth run end the same way.
func FollowRun(ctx context.Context, ios *cmdutil.IOStreams, runs client.Runs, registry, runID string, noLogs bool, poll time.Duration) error {
	fmt.Fprintln(ios.Out, "Waiting for an agent...")
	var run client.Run
	var err error
	if noLogs {
		run, err = waitRun(ctx, runs, runID, poll)
	} else {
		out := &lastByte{w: ios.Out, last: '\n'}
		run, err = runs.FollowLog(ctx, runID, out)
		if out.last != '\n' {
			fmt.Fprintln(ios.Out)
		}
	}
	if err != nil {
		return fmt.Errorf("%w (run %s goes on without this command: follow it with `berth task logs -r %s --run-id %s`)", err, runID, registry, runID)
	}
	summary := cmdutil.RunSummary(run)
	fmt.Fprintln(ios.Out, summary)
	if run.Properties.Status != client.RunSucceeded {
		// The summary said why, on the same stream as the log.
		return &cmdutil.SilentError{Err: errors.New(summary)}
	}
	return nil
}

// waitRun asks how run runID stands every interval until it ended. Like
// FollowLog, it rides out a connection that fails now and then, but not
// an answer of the server.
func waitRun(ctx context.Context, runs client.Runs, runID string, every time.Duration) (client.Run, error) {
	failures := 0
	for {
		run, err := runs.Get(ctx, runID)
		switch {
		case err == nil:
			if client.RunEnded(run.Properties.Status) {
				return run, nil
			}
			failures = 0
		case ctx.Err() != nil:
			return run, ctx.Err()
		default:
			if _, isAPI := client.AsError(err); isAPI {
				return run, err
			}
			if failures++; failures > 10 {
				return run, err
			}
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(every):
		}
	}
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
