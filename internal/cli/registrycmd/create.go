package registrycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth registry create`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name         string
	Location     string
	LoginServer  string
	AdminEnabled *bool
}

// NewCmdCreate returns `berth registry create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Name == "" {
				return errors.New("give the registry's name with -n/--name")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Name, "name", "n", "", "name of the new registry")
	fl.StringVarP(&opts.Location, "location", "l", "", "region of the registry, e.g. local (default: the server's)")
	fl.StringVar(&opts.LoginServer, "login-server", "", "host:port the registry's data plane is served at")
	cmdutil.BoolVar(cmd, &opts.AdminEnabled, "admin-enabled", "enable the admin user (default false)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	in := client.RegistryCreate{Location: opts.Location, LoginServer: opts.LoginServer}
	if opts.AdminEnabled != nil {
		in.AdminUserEnabled = *opts.AdminEnabled
	}
	reg, err := c.Registries().Create(ctx, opts.Name, in)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, reg)
}
