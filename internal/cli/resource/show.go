package resource

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth resource show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var t Target
	var id string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show (--resource-type TYPE --name NAME | --ids ID)",
		Short: "Show a resource as the server sends it",
		Example: `  berth resource show --resource-type registries --name blogbuildtest \
    --query properties.networkRuleBypassAllowedForTasks
  berth resource show --ids /registries/blogbuildtest`,
		PreRunE: func(*cobra.Command, []string) (err error) {
			id, err = t.resolve()
			return err
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.GetByID(ctx, id)
	})
	targetFlags(cmd, &t)
	return cmd
}
