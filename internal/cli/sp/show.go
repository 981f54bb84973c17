package sp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth sp show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var appID string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show --id APPID",
		Short: "Show a service principal (never its secret)",
		Example: `  berth sp show --id "$APP_ID"
  berth sp show --id "$APP_ID" --query properties.secretExpiresAt -o tsv`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.ServicePrincipals().Get(ctx, appID)
	})
	idFlag(cmd, &appID)
	return cmd
}

func idFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "id", "", "application ID (appId) of the service principal")
	_ = cmd.MarkFlagRequired("id")
}
