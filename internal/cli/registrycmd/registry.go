// Package registrycmd holds `berth registry …`: create, show, list, update
// and delete registries, show and renew the admin user's passwords, and
// `registry login`, which turns the identity token of `berth login` into a
// registry refresh token for docker-compatible clients; and list-denials
// and list-changes, the audit of a registry's network perimeter. It
// reaches the server only through pkg/client.
package registrycmd

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdRegistry returns `berth registry` and its verbs.
func NewCmdRegistry(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Manage registries, their admin user, and log in to them",
		Long: `Manage registries: create, show, list, update and delete them, show and renew
the admin user's passwords, log docker-compatible clients in to them, and
read the audit of their network perimeter (list-denials, list-changes).

Commands that work on one registry take -n/--name, or use defaults.registry
("berth config set defaults.registry=NAME") when it is absent.`,
		Example: `  berth registry create -n myregistry --location local --login-server 127.0.3.1:5000
  berth registry show -n myregistry --query properties.loginServer -o tsv
  berth registry login -n myregistry`,
	}
	cmd.AddCommand(
		NewCmdCreate(f),
		NewCmdShow(f),
		NewCmdShowUsage(f),
		NewCmdList(f),
		NewCmdUpdate(f),
		NewCmdDelete(f),
		NewCmdCredential(f),
		NewCmdLogin(f, nil),
		NewCmdListDenials(f),
		NewCmdListChanges(f),
	)
	return cmd
}

// nameFlag adds -n/--name, the registry a command works on.
func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "registry name (default: defaults.registry)")
}

// resolveName fills *name from defaults.registry when -n was not given.
func resolveName(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryNameFlag("-n/--name", *name)
	*name = n
	return err
}
