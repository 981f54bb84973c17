// Package role holds `berth role assignment …`: who holds which role at
// which scope. It reaches the server only through pkg/client.
package role

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// roles is shown in the help; the server has the authoritative list.
const roles = "AcrPull, AcrPush, AcrDelete, AcrImageSigner, Reader, Contributor, Owner"

// NewCmdRole returns `berth role` and its groups.
func NewCmdRole(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Manage role assignments",
		Example: `  berth role assignment create --assignee alice --role AcrPush --scope /registries/blogbuildtest
  berth role assignment list --assignee alice -o table`,
	}
	assignment := &cobra.Command{
		Use:   "assignment",
		Short: "Give principals roles at scopes, list and remove them",
		Long: `A role assignment gives a principal (a user, a service principal or a managed
identity) a role at a scope. Roles: ` + roles + `.
Scopes: / (everything), /registries/NAME (a registry and all in it; the
registry's "id"), /registries/NAME/repositories/REPO (one repository).
Managing role assignments needs the Owner role at a scope that covers them.`,
		Example: `  berth role assignment create --assignee alice --role AcrPull --scope /registries/blogbuildtest
  berth role assignment list --scope /registries/blogbuildtest
  berth role assignment delete --assignee alice --role AcrPull`,
	}
	assignment.AddCommand(NewCmdCreate(f), NewCmdList(f), NewCmdDelete(f, nil))
	cmd.AddCommand(assignment)
	return cmd
}
