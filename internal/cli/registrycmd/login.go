package registrycmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/dockerconfig"
	"github.com/berth-project/berth/pkg/client"
)

// LoginOptions are the inputs of `berth registry login`.
type LoginOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions
	// DockerConfig returns the path of docker's config.json.
	DockerConfig func() (string, error)
	// StoreCredentials hands credentials to a docker credential helper.
	StoreCredentials func(ctx context.Context, helper string, c dockerconfig.Credentials) error

	Name        string
	ExposeToken bool
}

// ExposedToken is what --expose-token prints.
type ExposedToken struct {
	AccessToken string `json:"accessToken"` // the registry refresh token
	LoginServer string `json:"loginServer"`
	Username    string `json:"username"`
}

// NewCmdLogin returns `berth registry login`.
func NewCmdLogin(f *cmdutil.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IOStreams, Client: f.Client, DockerConfig: dockerconfig.Path, StoreCredentials: dockerconfig.Store}
	cmd := &cobra.Command{
		Use:   "login [-n NAME] [--expose-token]",
		Short: "Log docker-compatible clients in to a registry",
		Long: `Exchange the identity token of "berth login" for a registry refresh token
(valid 3 hours) at the registry's login server, and store it for docker,
podman, crane, oras, regctl, skopeo and helm under the user name
00000000-0000-0000-0000-000000000000.

The token goes where docker keeps credentials for the login server: the
credential helper named by credHelpers[<login server>] or credsStore in
docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json),
else the file's auths (mode 0600; other entries are kept).

With --expose-token nothing is written: the refresh token is printed as
accessToken, with the login server and the user name, for clients that
take them on their command line.

A registry with no login server of its own is reached at the server's
address (the default registry).`,
		Example: `  berth login -u alice
  berth registry login -n blogbuildtest
  crane pull 127.0.3.1:5000/samples/hello:v1

  # Print the token instead of storing it
  TOKEN=$(berth registry login -n blogbuildtest --expose-token --query accessToken -o tsv)
  crane auth login 127.0.3.1:5000 -u 00000000-0000-0000-0000-000000000000 -p "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmd.Flags().BoolVar(&opts.ExposeToken, "expose-token", false, "print the token instead of storing it for docker")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	reg, err := c.Registries().Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	loginServer := reg.Properties.LoginServer
	if loginServer == "" {
		loginServer = c.Host()
	}
	refresh, err := c.Exchange(ctx, loginServer)
	if err != nil {
		return fmt.Errorf("getting a refresh token from %s: %w", loginServer, err)
	}
	if opts.ExposeToken {
		return cmdutil.Print(opts.IO, opts.Output, ExposedToken{AccessToken: refresh, LoginServer: loginServer, Username: client.NullUser})
	}

	path, err := opts.DockerConfig()
	if err != nil {
		return err
	}
	dc, err := dockerconfig.Load(path)
	if err != nil {
		return err
	}
	helper, err := dc.Helper(loginServer)
	if err != nil {
		return err
	}
	if helper != "" {
		creds := dockerconfig.Credentials{ServerURL: loginServer, Username: client.NullUser, Secret: refresh}
		if err := opts.StoreCredentials(ctx, helper, creds); err != nil {
			return err
		}
	} else {
		if err := dc.SetAuth(loginServer, client.NullUser, refresh); err != nil {
			return err
		}
		if err := dc.Save(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	fmt.Fprintln(opts.IO.Out, "Login Succeeded")
	return nil
}
