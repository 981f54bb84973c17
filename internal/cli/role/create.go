package role

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth role assignment create`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Assignee string
	Role     string
	Scope    string
}

// NewCmdCreate returns `berth role assignment create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "create --assignee PRINCIPAL --role ROLE --scope SCOPE",
		Short: "Give a principal a role at a scope",
		Long: `Give a principal a role at a scope. The assignee is a principalId, a service
principal's appId, a user name or a managed identity's name.`,
		Example: `  berth role assignment create --assignee alice --role AcrPush --scope /registries/blogbuildtest

  # A task's system-assigned identity may push to its registry
  principalID=$(berth task show -n helloworldtask -r blogbuildtest --query identity.principalId -o tsv)
  registryID=$(berth registry show -n blogbuildtest --query id -o tsv)
  berth role assignment create --assignee "$principalID" --scope "$registryID" --role AcrPush`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Assignee, "assignee", "", "principalId, appId, user name or managed identity name")
	fl.StringVar(&opts.Role, "role", "", "role: "+roles)
	fl.StringVar(&opts.Scope, "scope", "", "scope: /, /registries/NAME or /registries/NAME/repositories/REPO")
	for _, n := range []string{"assignee", "role", "scope"} {
		_ = cmd.MarkFlagRequired(n)
	}
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ra, err := c.RoleAssignments().Create(ctx, client.RoleAssignmentCreate{Assignee: opts.Assignee, Role: opts.Role, Scope: opts.Scope})
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, ra)
}
