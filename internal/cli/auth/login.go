// Package auth holds `berth login` and `berth logout`: they get an identity
// token from the server's identity endpoint and keep it, per server, in the
// user's credentials file.
package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// LoginOptions are the inputs of `berth login`.
type LoginOptions struct {
	IO     *cmdutil.IOStreams
	Config func() (*userconfig.Config, error)
	// NewClient makes an unauthenticated client for a server URL.
	NewClient func(server string) (*client.Client, error)

	Username         string
	Password         string
	ServicePrincipal bool
	Server           string // --server; "" means the configured one
}

// NewCmdLogin returns `berth login`. runF replaces loginRun in tests of the
// flags.
func NewCmdLogin(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{
		IO:        f.IOStreams,
		Config:    f.Config,
		NewClient: func(server string) (*client.Client, error) { return f.NewClient(server, nil) },
	}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a berth server",
		Long: `Log in to a berth server with a user name and password, or as a service
principal with its application ID and secret, and keep the identity token
the server gives in the user's config directory (credentials.json, mode
0600; $BERTH_CONFIG_DIR overrides the directory). Other commands send it.

The server is --server when given (then remembered as the "server" setting),
else BERTH_SERVER, else "berth config get server" (default
http://127.0.0.1:5000, the embedded default of "berth serve").

Without -p the password is asked for without echo on a terminal, or read as
one line of standard input otherwise.`,
		Example: `  # Log in to the local embedded default as admin; the password is prompted for
  berth login -u admin

  # Log in to another server, which later commands then use
  berth login --server https://berth.example.com -u alice

  # Log in as a service principal, the secret read from standard input
  echo "$SP_SECRET" | berth login --service-principal -u "$SP_APP_ID"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Server != "" {
				s, err := userconfig.NormalizeServer(opts.Server)
				if err != nil {
					return fmt.Errorf("--server: %w", err)
				}
				opts.Server = s
			}
			if opts.ServicePrincipal && opts.Username == "" {
				return errors.New("--service-principal needs -u/--username with the application ID")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Username, "username", "u", "", "user name, or application ID with --service-principal")
	fl.StringVarP(&opts.Password, "password", "p", "", "password or secret (prompted for when absent)")
	fl.BoolVar(&opts.ServicePrincipal, "service-principal", false, "log in as a service principal")
	fl.StringVar(&opts.Server, "server", "", "URL of the berth server, remembered for later commands")
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
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
	if opts.Username == "" {
		if !opts.IO.InIsTerminal {
			return errors.New("give -u/--username (standard input is not a terminal to ask on)")
		}
		if opts.Username, err = opts.IO.ReadLine("Username: "); err != nil {
			return err
		}
		if opts.Username == "" {
			return errors.New("no user name given")
		}
	}
	if opts.Password == "" {
		if opts.Password, err = opts.IO.ReadSecret("Password: "); err != nil {
			return err
		}
		if opts.Password == "" {
			return errors.New("no password given")
		}
	}

	c, err := opts.NewClient(server)
	if err != nil {
		return err
	}
	req := client.LoginRequest{Username: opts.Username, Password: opts.Password}
	kind := "user"
	if opts.ServicePrincipal {
		req = client.LoginRequest{ClientID: opts.Username, ClientSecret: opts.Password}
		kind = "servicePrincipal"
	}
	tok, err := c.Login(ctx, req)
	if err != nil {
		return err
	}
	err = cfg.SaveLogin(userconfig.Login{
		Server: server, Principal: opts.Username, PrincipalType: kind,
		Token: tok.AccessToken, ExpiresAt: tok.ExpiresAt,
	})
	if err != nil {
		return fmt.Errorf("keeping the token: %w", err)
	}
	if opts.Server != "" {
		if err := cfg.Set("server", server); err != nil {
			return err
		}
		if err := cfg.Save(); err != nil {
			return fmt.Errorf("remembering the server: %w", err)
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "Logged in to %s as %s.\n", server, opts.Username)
	return nil
}
