package tokencmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdUpdate returns `berth token update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	var in client.TokenUpdate // "" leaves a field as it is
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "update [-r REGISTRY] -n NAME [--status enabled|disabled] [--scope-map MAP]",
		Short: "Enable or disable a token, or change its scope map",
		Long: `Enable or disable a token, or give it another scope map. A disabled token
stops working at once, and works again when enabled.`,
		Example: `  berth token update -r blogbuildtest -n ci-pull --status disabled
  berth token update -r blogbuildtest -n ci-pull --scope-map _repositories_pull`,
		PreRunE: func(*cobra.Command, []string) error {
			if in.Status == "" && in.ScopeMapID == "" {
				return errors.New("nothing to update: give --status or --scope-map")
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Tokens(registry).Update(ctx, name, in)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmdutil.EnumVar(cmd, &in.Status, "status", "", "", statuses, "enable or disable the token")
	cmd.Flags().StringVar(&in.ScopeMapID, "scope-map", "", "name of the scope map to give the token")
	return cmd
}
