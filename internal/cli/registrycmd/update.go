package registrycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdUpdate returns `berth registry update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var name string
	var in client.RegistryUpdate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "update [-n NAME] [--admin-enabled true|false] [--anonymous-pull-enabled true|false]",
		Short: "Change a registry's settings",
		Long: `Change a registry's settings; those not given stay as they are.

The admin user (user name: the registry's name) is off by default; see
"berth registry credential show" for its passwords. Anonymous pull, also off
by default, lets anyone pull the registry's content without credentials.`,
		Example: `  berth registry update -n blogbuildtest --admin-enabled true
  berth registry update -n blogbuildtest --anonymous-pull-enabled true`,
		PreRunE: func(*cobra.Command, []string) error {
			if in.AdminUserEnabled == nil && in.AnonymousPull == nil {
				return errors.New("nothing to update: give --admin-enabled or --anonymous-pull-enabled")
			}
			return resolveName(f, &name)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().Update(ctx, name, in)
	})
	nameFlag(cmd, &name)
	cmdutil.BoolVar(cmd, &in.AdminUserEnabled, "admin-enabled", "enable or disable the admin user")
	cmdutil.BoolVar(cmd, &in.AnonymousPull, "anonymous-pull-enabled", "let anyone pull without credentials, or not")
	return cmd
}
