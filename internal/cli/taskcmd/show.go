package taskcmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "the task's name")
	_ = cmd.MarkFlagRequired("name")
}

// NewCmdShow returns `berth task show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a task",
		Long: `Show a task: its step (task file, command or Dockerfile build), context,
values (the names of its secret values, never their values), identity,
credentials (hasPassword, never a password), triggers and status.`,
		Example: `  berth task show -r blogbuildtest -n helloworldtask

  # The system-assigned identity's principal, for a role assignment
  berth task show -r blogbuildtest -n helloworldtask --query identity.principalId -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Tasks(registry).Get(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdList returns `berth task list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's tasks",
		Example: `  berth task list -r blogbuildtest
  berth task list -r blogbuildtest -o tsv --query "[].[name, properties.status, properties.step.type]"`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Tasks(registry).List(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}

// NewCmdDelete returns `berth task delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME",
		Short: "Delete a task and its system-assigned identity",
		Long: `Delete a task, without asking, and its system-assigned identity with the role
assignments of that identity. Its runs stay in berth task list-runs. It
prints nothing.`,
		Example: `  berth task delete -r blogbuildtest -n mypurgetask`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) error {
		return c.Tasks(registry).Delete(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
