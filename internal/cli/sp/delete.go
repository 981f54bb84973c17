package sp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth sp delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var appID string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete --id APPID",
		Short: "Delete a service principal",
		Long: `Delete a service principal and its role assignments; its secrets and the
tokens issued to it stop working at once.`,
		Example: `  berth sp delete --id "$APP_ID"`,
	}, func(ctx context.Context, c *client.Client) error {
		return c.ServicePrincipals().Delete(ctx, appID)
	})
	idFlag(cmd, &appID)
	return cmd
}
