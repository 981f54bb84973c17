package scopemap

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth scope-map delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	var yes bool
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME [--yes]",
		Short: "Delete a scope map",
		Long: `Delete a user-defined scope map. A map that a token uses cannot be deleted,
nor can the system maps. On a terminal it asks for confirmation unless --yes
is given; in a script it refuses to run without --yes.`,
		Example: `  berth scope-map delete -r blogbuildtest -n samples-read --yes`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := resolveRegistry(f, &registry); err != nil {
				return err
			}
			return cmdutil.Confirm(f.IOStreams, yes, fmt.Sprintf("delete scope map %q of registry %q", name, registry))
		},
	}, func(ctx context.Context, c *client.Client) error {
		return c.ScopeMaps(registry).Delete(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
