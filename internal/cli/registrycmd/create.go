package registrycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCreate returns `berth registry create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var name string
	var in client.RegistryCreate
	var adminEnabled *bool
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "create -n NAME [--location LOCATION] [--login-server HOST:PORT]",
		Short: "Create a registry",
		Long: `Create a registry. Its name is 5 to 50 lowercase letters and digits, unique on
the server.

--login-server is the address clients reach the registry's data plane at,
host:port. Without it the server names it <name>.<domain> when it has a
domain, and otherwise the registry has none and is reached only when it is
the server's default registry. On one machine without DNS, give each
registry a loopback address of its own that the server listens on.`,
		Example: `  berth registry create -n blogbuildtest --location local --login-server 127.0.3.1:5000

  # With the admin user enabled from the start
  berth registry create -n myregistry --admin-enabled true`,
		PreRunE: func(*cobra.Command, []string) error {
			if name == "" {
				return errors.New("give the registry's name with -n/--name")
			}
			return nil
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		if adminEnabled != nil {
			in.AdminUserEnabled = *adminEnabled
		}
		return c.Registries().Create(ctx, name, in)
	})
	fl := cmd.Flags()
	fl.StringVarP(&name, "name", "n", "", "name of the new registry")
	fl.StringVarP(&in.Location, "location", "l", "", "region of the registry, e.g. local (default: the server's)")
	fl.StringVar(&in.LoginServer, "login-server", "", "host:port the registry's data plane is served at")
	cmdutil.BoolVar(cmd, &adminEnabled, "admin-enabled", "enable the admin user (default false)")
	return cmd
}
