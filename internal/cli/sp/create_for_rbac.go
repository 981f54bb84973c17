package sp

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateForRBACOptions are the inputs of `berth sp create-for-rbac`.
type CreateForRBACOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name   string
	Role   string
	Scopes []string
	Years  int
}

// NewCmdCreateForRBAC returns `berth sp create-for-rbac`.
func NewCmdCreateForRBAC(f *cmdutil.Factory, runF func(context.Context, *CreateForRBACOptions) error) *cobra.Command {
	opts := &CreateForRBACOptions{IO: f.IOStreams, Client: f.Client}
	var scopes *cmdutil.ArgFlags
	cmd := &cobra.Command{
		Use:   "create-for-rbac -n NAME [--role ROLE --scopes ID...] [--years N]",
		Short: "Create a service principal and, optionally, its role assignments",
		Long: `Create a service principal with a secret, and print its appId, displayName,
password (the secret, shown only now), tenant, principalId and the secret's
expiry (--years, default 1).

With --role and --scopes the principal gets that role at each scope: "/"
(everything), a registry's ID (/registries/NAME, see "berth registry show
--query id") or a repository's (/registries/NAME/repositories/REPO).
--scopes takes one or more IDs after it, separated by spaces.`,
		Example: `  # A CI identity that may push to one registry
  berth sp create-for-rbac -n ci --role AcrPush --scopes /registries/blogbuildtest

  # Pull from two registries
  berth sp create-for-rbac -n puller --role AcrPull --scopes /registries/one /registries/two

  # Then log in with it
  crane auth login 127.0.3.1:5000 -u "$APP_ID" -p "$PASSWORD"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			uses, err := scopes.Resolve(args)
			if err != nil {
				return err
			}
			for _, u := range uses {
				opts.Scopes = append(opts.Scopes, u.Values()...)
			}
			switch {
			case opts.Name == "":
				return errors.New("give the service principal's name with -n/--name")
			case opts.Role != "" && len(opts.Scopes) == 0:
				return errors.New("--role needs --scopes: the scopes to assign the role at")
			case opts.Role == "" && len(opts.Scopes) > 0:
				return errors.New("--scopes needs --role: the role to assign at them")
			case opts.Years < 0:
				return fmt.Errorf("--years must be positive, not %d", opts.Years)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createForRBACRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Name, "name", "n", "", "display name of the service principal")
	fl.StringVar(&opts.Role, "role", "", "role to assign at --scopes: AcrPull, AcrPush, AcrDelete, AcrImageSigner, Reader, Contributor, Owner")
	scopes = cmdutil.NewArgFlags(cmd)
	scopes.Var("scopes", "", "ID...", "scope IDs to assign --role at, separated by spaces")
	fl.IntVar(&opts.Years, "years", 0, "years the secret is valid (default 1)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createForRBACRun(ctx context.Context, opts *CreateForRBACOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	secret, err := c.ServicePrincipals().Create(ctx, client.ServicePrincipalCreate{
		Name: opts.Name, Years: opts.Years, Role: opts.Role, Scopes: opts.Scopes,
	})
	if err != nil {
		return err
	}
	fmt.Fprint(opts.IO.ErrOut, credentialsWarning)
	return cmdutil.Print(opts.IO, opts.Output, secret)
}
