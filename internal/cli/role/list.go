package role

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth role assignment list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var filter client.RoleAssignmentFilter
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [--assignee PRINCIPAL] [--role ROLE] [--scope SCOPE]",
		Short: "List role assignments",
		Long:  `List the role assignments that match every filter given (all without filters).`,
		Example: `  berth role assignment list
  berth role assignment list --assignee alice
  berth role assignment list --scope /registries/blogbuildtest \
    --query "[].{who:properties.principalName, role:properties.roleDefinitionName}" -o table`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.RoleAssignments().List(ctx, filter)
	})
	filterFlags(cmd, &filter)
	return cmd
}

func filterFlags(cmd *cobra.Command, f *client.RoleAssignmentFilter) {
	fl := cmd.Flags()
	fl.StringVar(&f.Assignee, "assignee", "", "only those of this principalId, appId, user name or identity name")
	fl.StringVar(&f.Role, "role", "", "only those of this role")
	fl.StringVar(&f.Scope, "scope", "", "only those at this scope")
}
