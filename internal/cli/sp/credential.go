package sp

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCredential returns `berth sp credential` and its verbs.
func NewCmdCredential(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "credential",
		Short:   "Manage a service principal's secret",
		Example: `  berth sp credential reset --id "$APP_ID" --years 2`,
	}
	cmd.AddCommand(NewCmdCredentialReset(f))
	return cmd
}

// NewCmdCredentialReset returns `berth sp credential reset`.
func NewCmdCredentialReset(f *cmdutil.Factory) *cobra.Command {
	var appID string
	var years int
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "reset --id APPID [--years N]",
		Short: "Replace a service principal's secret",
		Long: `Give a service principal a new secret, valid --years (default 1), and print
it like "berth sp create-for-rbac" does. The old secrets stop working at once.`,
		Example: `  berth sp credential reset --id "$APP_ID"
  NEW_SECRET=$(berth sp credential reset --id "$APP_ID" --query password -o tsv)`,
		PreRunE: func(*cobra.Command, []string) error {
			if years < 0 {
				return fmt.Errorf("--years must be positive, not %d", years)
			}
			return nil
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		secret, err := c.ServicePrincipals().ResetCredential(ctx, appID, years)
		if err != nil {
			return nil, err
		}
		fmt.Fprint(f.IOStreams.ErrOut, credentialsWarning)
		return secret, nil
	})
	idFlag(cmd, &appID)
	cmd.Flags().IntVar(&years, "years", 0, "years the new secret is valid (default 1)")
	return cmd
}
