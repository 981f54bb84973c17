package auth

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// LogoutOptions are the inputs of `berth logout`.
type LogoutOptions struct {
	IO     *cmdutil.IOStreams
	Config func() (*userconfig.Config, error)

	Server string // --server; "" means the configured one
}

// NewCmdLogout returns `berth logout`.
func NewCmdLogout(f *cmdutil.Factory, runF func(*LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IOStreams, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the identity token kept for a server",
		Long: `Delete the identity token that "berth login" kept for the server (--server,
else BERTH_SERVER, else "berth config get server"). Tokens kept for other
servers stay.`,
		Example: `  berth logout
  berth logout --server https://berth.example.com`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if opts.Server != "" {
				s, err := userconfig.NormalizeServer(opts.Server)
				if err != nil {
					return fmt.Errorf("--server: %w", err)
				}
				opts.Server = s
			}
			if runF != nil {
				return runF(opts)
			}
			return logoutRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Server, "server", "", "URL of the berth server to log out of")
	return cmd
}

func logoutRun(opts *LogoutOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	server := opts.Server
	if server == "" {
		if server, err = cfg.Server(); err != nil {
			return err
		}
	}
	found, err := cfg.DeleteLogin(server)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("not logged in to %s", server)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Logged out of %s.\n", server)
	return nil
}
