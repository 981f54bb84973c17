package taskcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdIdentity returns `berth task identity` and its verbs.
func NewCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage a task's managed identities",
		Long: `Manage the managed identities of a task: its system-assigned identity
([system], made with the task and deleted with it) and user-assigned
identities (berth identity create). A run can get tokens for them, to log
in to the registries of the task's credentials; an identity needs role
assignments like any other.`,
		Example: `  berth task identity assign -r blogbuildtest -n helloworldtask
  berth task identity show -r blogbuildtest -n helloworldtask --query principalId -o tsv`,
	}
	cmd.AddCommand(newCmdIdentityChange(f, true), newCmdIdentityChange(f, false), newCmdIdentityShow(f))
	return cmd
}

// identityOf is a task's identity as identity commands print it.
func identityOf(task client.Task) *client.TaskIdentity {
	if task.Identity == nil {
		return &client.TaskIdentity{Type: "None"}
	}
	return task.Identity
}

func newCmdIdentityChange(f *cmdutil.Factory, assign bool) *cobra.Command {
	var registry, name string
	use, short, long, example := "remove", "Remove identities from a task",
		`Remove identities from a task: [system] deletes its system-assigned identity;
other words name user-assigned identities. It prints the task's identity.`,
		`  berth task identity remove -r blogbuildtest -n helloworldtask --identities builder
  berth task identity remove -r blogbuildtest -n helloworldtask --identities [system]`
	if assign {
		use, short, long, example = "assign", "Give a task managed identities",
			`Give a task managed identities: [system] (the default) makes its
system-assigned identity; other words name user-assigned identities (name,
client id or principal id). It prints the task's identity, with the new
principalId.`,
			`  berth task identity assign -r blogbuildtest -n helloworldtask
  berth task identity assign -r blogbuildtest -n helloworldtask --identities [system] builder`
	}
	var ids *cmdutil.ArgFlags // made once the command exists
	var list []string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:     use + " [-r REGISTRY] -n NAME --identities IDENTITY...",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cobra.ArbitraryArgs, // the words after --identities
		PreRunE: func(_ *cobra.Command, args []string) error {
			uses, err := ids.Resolve(args)
			if err != nil {
				return err
			}
			for _, u := range uses {
				list = appendIdentities(list, u, false)
			}
			if len(list) == 0 {
				if !assign {
					return errors.New("give the identities to remove with --identities: [system] or user-assigned identities")
				}
				list = []string{systemIdentity}
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		in := client.TaskUpdate{RemoveIdentities: list}
		if assign {
			in = client.TaskUpdate{AssignIdentities: list}
		}
		task, err := c.Tasks(registry).Update(ctx, name, in)
		return identityOf(task), err
	})
	ids = cmdutil.NewArgFlags(cmd)
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	ids.Var("identities", "", "IDENTITY...", "[system] and user-assigned identities (names, client ids or principal ids)")
	return cmd
}

func newCmdIdentityShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a task's identities",
		Long: `Show a task's identity: its type (None, SystemAssigned, UserAssigned or both),
the system-assigned identity's principalId and clientId, and the
user-assigned identities.`,
		Example: `  berth task identity show -r blogbuildtest -n helloworldtask --query principalId -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		task, err := c.Tasks(registry).Get(ctx, name)
		return identityOf(task), err
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
