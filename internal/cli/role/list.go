package role

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ListOptions are the inputs of `berth role assignment list`.
type ListOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Filter client.RoleAssignmentFilter
}

// NewCmdList returns `berth role assignment list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "list [--assignee PRINCIPAL] [--role ROLE] [--scope SCOPE]",
		Short: "List role assignments",
		Long:  `List the role assignments that match every filter given (all without filters).`,
		Example: `  berth role assignment list
  berth role assignment list --assignee alice
  berth role assignment list --scope /registries/blogbuildtest \
    --query "[].{who:properties.principalName, role:properties.roleDefinitionName}" -o table`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	filterFlags(cmd, &opts.Filter)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func filterFlags(cmd *cobra.Command, f *client.RoleAssignmentFilter) {
	fl := cmd.Flags()
	fl.StringVar(&f.Assignee, "assignee", "", "only those of this principalId, appId, user name or identity name")
	fl.StringVar(&f.Role, "role", "", "only those of this role")
	fl.StringVar(&f.Scope, "scope", "", "only those at this scope")
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ras, err := c.RoleAssignments().List(ctx, opts.Filter)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, ras)
}
