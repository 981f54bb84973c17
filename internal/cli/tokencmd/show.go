package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth token show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a token (never its passwords' values)",
		Example: `  berth token show -r blogbuildtest -n ci-pull
  berth token show -r blogbuildtest -n ci-pull --query properties.status -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Tokens(registry).Get(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
