package privateendpoint

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth private-endpoint show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a private endpoint",
		Example: `  berth private-endpoint show -r blogbuildtest -n build
  berth private-endpoint show -r blogbuildtest -n build --query properties.privateLinkServiceConnectionState.status -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.PrivateEndpoints(registry).Get(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdList returns `berth private-endpoint list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's private endpoints",
		Example: `  berth private-endpoint list -r blogbuildtest
  berth private-endpoint list -r blogbuildtest -o tsv \
    --query "[].[name, properties.address, properties.privateLinkServiceConnectionState.status]"`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.PrivateEndpoints(registry).List(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}
