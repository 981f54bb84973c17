// Package taskcmd holds `berth task …`: a registry's stored tasks (create,
// update, run, their credentials and identities) and its runs (how they
// stand, their logs, canceling them). It also holds what berth run (package
// runcmd) shares with task run: contexts, values and task files. The
// server queues runs and agents execute them; this package only asks,
// through pkg/client.
package taskcmd

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdTask returns `berth task` and its verbs.
func NewCmdTask(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Manage a registry's tasks; show, follow and cancel its runs",
		Long: `Manage the tasks of a registry, and show, follow and cancel its runs.

A task is a run stored to be started by hand (berth task run), on a timer,
or when a base image it was built on is pushed anew: a multi-step task file,
a command, or a Dockerfile build, with its context, values, managed
identities and the credentials its runs log in with.

A run is one execution of a quick build (berth build), a quick run (berth
run) or a task, done by an agent of an agent pool.
Each run of a registry has a short id: ca1, ca2, … (counting in base 36:
ca9 is followed by caa, and caz by ca10).

A run is Queued until an agent leases it, Started once leased, Running once
the agent began, and ends Succeeded, Failed, Canceled, Error (the agent
stopped answering, or the run could not be done) or Timeout.

Reading runs needs AcrPush, Reader, Contributor or Owner on the registry;
canceling needs AcrPush, Contributor or Owner. Commands take -r/--registry,
or use defaults.registry when it is absent.`,
		Example: `  berth task create -r blogbuildtest -n mypurgetask -c /dev/null \
    --cmd "berth purge --filter 'hello-world:.*' --untagged --ago 1d" --schedule "0 1 * * Sun"
  berth task run -r blogbuildtest -n mypurgetask
  berth task list-runs -r blogbuildtest -o table
  berth task logs -r blogbuildtest
  berth task cancel-run -r blogbuildtest --run-id ca7`,
	}
	cmd.AddCommand(
		NewCmdCreate(f, nil), NewCmdShow(f), NewCmdList(f), NewCmdUpdate(f, nil), NewCmdDelete(f),
		NewCmdRun(f, nil), NewCmdCredential(f), NewCmdIdentity(f),
		NewCmdListRuns(f, nil), NewCmdShowRun(f), NewCmdLogs(f, nil), NewCmdCancelRun(f))
	return cmd
}

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

func runIDFlag(cmd *cobra.Command, p *string, required bool) {
	cmd.Flags().StringVar(p, "run-id", "", "the run's id, such as ca1")
	if required {
		_ = cmd.MarkFlagRequired("run-id")
	}
}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}
