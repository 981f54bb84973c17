package registrycmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth registry delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var name string
	var yes bool
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-n NAME] [--yes]",
		Short: "Delete a registry and all its content",
		Long: `Delete a registry with all its repositories, images, scope maps and tokens.

On a terminal it asks for confirmation unless --yes is given; in a script
(standard input not a terminal) it refuses to run without --yes. The
server's default registry cannot be deleted.`,
		Example: `  berth registry delete -n blogbuildtest
  berth registry delete -n blogbuildtest --yes`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := resolveName(f, &name); err != nil {
				return err
			}
			return cmdutil.Confirm(f.IOStreams, yes, fmt.Sprintf("delete registry %q and all its content", name))
		},
	}, func(ctx context.Context, c *client.Client) error {
		return c.Registries().Delete(ctx, name)
	})
	nameFlag(cmd, &name)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
