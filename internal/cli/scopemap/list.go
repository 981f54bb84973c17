package scopemap

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth scope-map list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's scope maps, the system maps included",
		Example: `  berth scope-map list -r blogbuildtest
  berth scope-map list -r blogbuildtest --query "[?properties.type=='UserDefined'].name" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.ScopeMaps(registry).List(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}
