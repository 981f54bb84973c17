package repository

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth repository list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's repositories",
		Long: `List the names of a registry's repositories, in order, every page of them
(GET /acr/v1/_catalog). A repository whose listEnabled is false is left out.`,
		Example: `  berth repository list -r blogbuildtest
  berth repository list -r blogbuildtest -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return nil, err
		}
		return m.Catalog(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}
