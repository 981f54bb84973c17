package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth registry list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list",
		Short: "List the registries you may read",
		Example: `  berth registry list
  berth registry list --query "[].{name:name, loginServer:properties.loginServer}" -o table`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().List(ctx)
	})
}
