package scopemap

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth scope-map show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a scope map",
		Example: `  berth scope-map show -r blogbuildtest -n samples-read
  berth scope-map show -r blogbuildtest -n _repositories_pull --query properties.actions -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.ScopeMaps(registry).Get(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
