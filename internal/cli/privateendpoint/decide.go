package privateendpoint

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdApprove returns `berth private-endpoint approve`.
func NewCmdApprove(f *cmdutil.Factory) *cobra.Command {
	return newCmdDecide(f, client.PrivateEndpoints.Approve, &cobra.Command{
		Use:   "approve [-r REGISTRY] -n NAME [--description TEXT]",
		Short: "Approve a private endpoint: the server starts listening on it",
		Long: `Approve a private endpoint. The server opens its listener at once (every
replica within its reload interval); a rejected endpoint can be approved
again. Without --description the connection keeps its description.`,
		Example: `  berth private-endpoint approve -r blogbuildtest -n build
  berth private-endpoint approve -r blogbuildtest -n build --description "approved for builds"`,
	})
}

// NewCmdReject returns `berth private-endpoint reject`.
func NewCmdReject(f *cmdutil.Factory) *cobra.Command {
	return newCmdDecide(f, client.PrivateEndpoints.Reject, &cobra.Command{
		Use:   "reject [-r REGISTRY] -n NAME [--description TEXT]",
		Short: "Reject a private endpoint: the server stops listening on it",
		Long: `Reject a private endpoint. The server closes its listener and the
connections open on it; the endpoint stays, Rejected, until it is approved or
deleted. Without --description the connection keeps its description.`,
		Example: `  berth private-endpoint reject -r blogbuildtest -n build --description "not this network"`,
	})
}

// newCmdDecide completes cmd, approve or reject: both take the same flags
// and differ in the call.
func newCmdDecide(f *cmdutil.Factory,
	call func(client.PrivateEndpoints, context.Context, string, *string) (client.PrivateEndpointConnection, error),
	cmd *cobra.Command) *cobra.Command {
	var registry, name, description string
	cmd.PreRunE = func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) }
	cmd = cmdutil.CallAndPrint(f, cmd, func(ctx context.Context, c *client.Client) (any, error) {
		var desc *string
		if cmd.Flags().Changed("description") {
			desc = &description
		}
		return call(c.PrivateEndpoints(registry), ctx, name, desc)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().StringVar(&description, "description", "", "why; it replaces the connection's description")
	return cmd
}
