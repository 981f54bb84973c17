package privateendpoint

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCreate returns `berth private-endpoint create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var registry, name, address, description string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "create [-r REGISTRY] -n NAME --address HOST:PORT [--description TEXT]",
		Short: "Create a private endpoint, pending approval",
		Long: `Create a private endpoint of a registry at an address, in the state Pending:
nothing listens there until "berth private-endpoint approve".

The address is an IP address or localhost with a port: 127.0.4.1:5000,
[::1]:5000, localhost:5000. A non-loopback address needs a server that serves
TLS (the endpoint then serves TLS too) or runs with --insecure, as its public
listeners do. The address must be free: neither a listen address of the
server nor another endpoint's.`,
		Example: `  berth private-endpoint create -r blogbuildtest -n build --address 127.0.4.1:5000

  # Say what it is for; the description shows in its connection state
  berth private-endpoint create -r blogbuildtest -n ci --address 10.0.0.5:5000 \
    --description "CI network"`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.PrivateEndpoints(registry).Create(ctx, name, address, description)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().StringVar(&address, "address", "", "HOST:PORT the endpoint listens on, such as 127.0.4.1:5000")
	_ = cmd.MarkFlagRequired("address")
	cmd.Flags().StringVar(&description, "description", "", "what the endpoint is for")
	return cmd
}
