package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth token delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME",
		Short: "Delete a token",
		Long: `Delete a token; its passwords stop working at once. Its scope map stays (see
"berth scope-map delete").`,
		Example: `  berth token delete -r blogbuildtest -n ci-pull`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) error {
		return c.Tokens(registry).Delete(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
