package sp

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdUpdate returns `berth sp update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var appID string
	var in client.ServicePrincipalUpdate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "update --id APPID --trusted-service true|false",
		Short: "Mark a service principal as a trusted service, or not",
		Long: `Mark a service principal as a trusted service, or take the mark away, and
print it.

The tokens of a trusted service pass the network rules of every registry that
allows trusted services (networkRuleBypassOptions AzureServices, the default;
see "berth registry update --allow-trusted-services"): its public network
access, default action and IP rules do not stop them. Its role assignments
still decide what it may do there. Only an Owner at scope / may change the
mark.

Tokens issued before a change keep what they carry until they expire; to
cut a service principal off at once, delete it.`,
		Example: `  # Let an import service reach registries closed to public networks
  berth sp update --id "$APP_ID" --trusted-service true

  berth sp update --id "$APP_ID" --trusted-service false
  berth sp show --id "$APP_ID" --query properties.trustedService -o tsv`,
		PreRunE: func(*cobra.Command, []string) error {
			if in.TrustedService == nil {
				return errors.New("nothing to update: give --trusted-service true or false")
			}
			return nil
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.ServicePrincipals().Update(ctx, appID, in)
	})
	idFlag(cmd, &appID)
	cmdutil.BoolVar(cmd, &in.TrustedService, "trusted-service",
		"let its tokens pass the network rules of registries that allow trusted services, or not")
	return cmd
}
