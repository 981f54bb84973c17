// Package privateendpoint holds `berth private-endpoint …`: a registry's
// private endpoints, each an address the server listens on for that
// registry alone while the endpoint is approved. The server validates the
// address and opens and closes the listener; this package only asks. It
// reaches the server only through pkg/client.
package privateendpoint

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdPrivateEndpoint returns `berth private-endpoint` and its verbs.
func NewCmdPrivateEndpoint(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "private-endpoint",
		Short: "Manage a registry's private endpoints, listeners of its own",
		Long: `Manage a registry's private endpoints. A private endpoint is an address
(HOST:PORT) on which the server listens for one registry alone. It is created
Pending, and nothing listens until it is approved; rejecting or deleting it
closes the listener and the connections open on it.

Requests that arrive on an approved endpoint reach only its registry, whatever
their Host header, and pass the registry's network rules as private-link
traffic: they are served even with public network access disabled. Only the
data plane (/v2/, /oauth2/, /acr/v1/) is served there; manage the registry
through the server's public address.

Commands take -r/--registry, or use defaults.registry when it is absent.`,
		Example: `  berth private-endpoint create -r blogbuildtest -n build --address 127.0.4.1:5000
  berth private-endpoint approve -r blogbuildtest -n build
  berth private-endpoint list -r blogbuildtest -o table`,
	}
	cmd.AddCommand(NewCmdCreate(f), NewCmdApprove(f), NewCmdReject(f), NewCmdShow(f), NewCmdList(f), NewCmdDelete(f))
	return cmd
}

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "private endpoint name")
	_ = cmd.MarkFlagRequired("name")
}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}
