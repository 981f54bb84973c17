package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth token list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's tokens",
		Example: `  berth token list -r blogbuildtest
  berth token list -r blogbuildtest --query "[].{name:name, status:properties.status, scopeMap:properties.scopeMapId}" -o table`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Tokens(registry).List(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}
