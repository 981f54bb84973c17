package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth registry show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-n NAME]",
		Short: "Show a registry",
		Example: `  berth registry show -n blogbuildtest

  # The registry's ID, the scope of role assignments on it
  berth registry show -n blogbuildtest --query id -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().Get(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}
