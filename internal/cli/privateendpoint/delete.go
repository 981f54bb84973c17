package privateendpoint

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth private-endpoint delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	var yes bool
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME [--yes]",
		Short: "Delete a private endpoint and close its listener",
		Long: `Delete a private endpoint: the server closes its listener and the connections
open on it, and its address is free again. On a terminal it asks for
confirmation unless --yes is given; in a script it refuses to run without
--yes.`,
		Example: `  berth private-endpoint delete -r blogbuildtest -n build --yes`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := resolveRegistry(f, &registry); err != nil {
				return err
			}
			return cmdutil.Confirm(f.IOStreams, yes, fmt.Sprintf("delete private endpoint %q of registry %q", name, registry))
		},
	}, func(ctx context.Context, c *client.Client) error {
		return c.PrivateEndpoints(registry).Delete(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
