// Package taskcmd holds `berth task …`: the runs of a registry (quick
// builds now; stored tasks later), how they stand, their logs, and
// canceling them. The server queues runs and agents execute them; this
// package only asks, through pkg/client.
package taskcmd

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdTask returns `berth task` and its verbs.
func NewCmdTask(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Show, follow and cancel a registry's runs",
		Long: `Show, follow and cancel the runs of a registry. A run is one execution of a
quick build (berth build) or of a task, done by an agent of an agent pool.
Each run of a registry has a short id: ca1, ca2, … (counting in base 36:
ca9 is followed by caa, and caz by ca10).

A run is Queued until an agent leases it, Started once leased, Running once
the agent began, and ends Succeeded, Failed, Canceled, Error (the agent
stopped answering, or the run could not be done) or Timeout.

Reading runs needs AcrPush, Reader, Contributor or Owner on the registry;
canceling needs AcrPush, Contributor or Owner. Commands take -r/--registry,
or use defaults.registry when it is absent.`,
		Example: `  berth task list-runs -r blogbuildtest -o table
  berth task logs -r blogbuildtest
  berth task cancel-run -r blogbuildtest --run-id ca7`,
	}
	cmd.AddCommand(NewCmdListRuns(f, nil), NewCmdShowRun(f), NewCmdLogs(f, nil), NewCmdCancelRun(f))
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
