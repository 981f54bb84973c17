package role

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCreate returns `berth role assignment create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var in client.RoleAssignmentCreate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "create --assignee PRINCIPAL --role ROLE --scope SCOPE",
		Short: "Give a principal a role at a scope",
		Long: `Give a principal a role at a scope. The assignee is a principalId, a service
principal's appId, a user name or a managed identity's name.`,
		Example: `  berth role assignment create --assignee alice --role AcrPush --scope /registries/blogbuildtest

  # A task's system-assigned identity may push to its registry
  principalID=$(berth task show -n helloworldtask -r blogbuildtest --query identity.principalId -o tsv)
  registryID=$(berth registry show -n blogbuildtest --query id -o tsv)
  berth role assignment create --assignee "$principalID" --scope "$registryID" --role AcrPush`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.RoleAssignments().Create(ctx, in)
	})
	fl := cmd.Flags()
	fl.StringVar(&in.Assignee, "assignee", "", "principalId, appId, user name or managed identity name")
	fl.StringVar(&in.Role, "role", "", "role: "+roles)
	fl.StringVar(&in.Scope, "scope", "", "scope: /, /registries/NAME or /registries/NAME/repositories/REPO")
	for _, n := range []string{"assignee", "role", "scope"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}
