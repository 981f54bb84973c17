package sp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth sp list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list",
		Short: "List service principals",
		Example: `  berth sp list
  berth sp list --query "[].{name:name, appId:properties.appId, expires:properties.secretExpiresAt}" -o table`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.ServicePrincipals().List(ctx)
	})
}
