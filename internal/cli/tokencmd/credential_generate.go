package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CredentialGenerateOptions are the inputs of `berth token credential generate`.
type CredentialGenerateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry         string
	Name             string
	Passwords        []string // "password1", "password2"
	ExpirationInDays int
	Expiration       time.Time
}

// NewCmdCredentialGenerate returns `berth token credential generate`.
func NewCmdCredentialGenerate(f *cmdutil.Factory, runF func(context.Context, *CredentialGenerateOptions) error) *cobra.Command {
	opts := &CredentialGenerateOptions{IO: f.IOStreams, Client: f.Client}
	var password1, password2 bool
	var expiration string
	cmd := &cobra.Command{
		Use:   "generate [-r REGISTRY] -n NAME [--password1] [--password2] [--expiration-in-days N | --expiration TIME]",
		Short: "Give a token's passwords new values",
		Long: `Give one or both of a token's passwords new values, and print them with the
user name; they are shown only now. The old values stop working at once.
Without --password1 or --password2 both are made.

A password never expires unless --expiration-in-days or --expiration (RFC
3339, e.g. 2027-01-31T00:00:00Z) is given.`,
		Example: `  berth token credential generate -r blogbuildtest -n ci-pull --password1
  berth token credential generate -r blogbuildtest -n ci-pull --password2 --expiration-in-days 30 \
    --query "passwords[0].value" -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if password1 {
				opts.Passwords = append(opts.Passwords, "password1")
			}
			if password2 {
				opts.Passwords = append(opts.Passwords, "password2")
			}
			if len(opts.Passwords) == 0 {
				opts.Passwords = []string{"password1", "password2"}
			}
			switch {
			case opts.ExpirationInDays < 0:
				return fmt.Errorf("--expiration-in-days must be positive, not %d", opts.ExpirationInDays)
			case opts.ExpirationInDays > 0 && expiration != "":
				return errors.New("give --expiration-in-days or --expiration, not both")
			case expiration != "":
				t, err := time.Parse(time.RFC3339, expiration)
				if err != nil {
					return fmt.Errorf("--expiration %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", expiration)
				}
				opts.Expiration = t
			}
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return credentialGenerateRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	fl := cmd.Flags()
	fl.BoolVar(&password1, "password1", false, "make a new password1")
	fl.BoolVar(&password2, "password2", false, "make a new password2")
	fl.IntVar(&opts.ExpirationInDays, "expiration-in-days", 0, "days until the new passwords expire (default: never)")
	fl.StringVar(&expiration, "expiration", "", "time the new passwords expire, RFC 3339 (default: never)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func credentialGenerateRun(ctx context.Context, opts *CredentialGenerateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	var out client.TokenCredentials
	for _, name := range opts.Passwords {
		cred, err := c.Tokens(opts.Registry).GenerateCredential(ctx, opts.Name, client.TokenPasswordRequest{
			Name: name, Expiry: opts.Expiration, ExpirationInDays: opts.ExpirationInDays,
		})
		if err != nil {
			if len(out.Passwords) > 0 {
				// The first password is already replaced: show it rather than lose it.
				fmt.Fprint(opts.IO.ErrOut, passwordsWarning)
				_ = cmdutil.Print(opts.IO, opts.Output, out)
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		out.Username = cred.Username
		out.Passwords = append(out.Passwords, cred.Passwords...)
	}
	fmt.Fprint(opts.IO.ErrOut, passwordsWarning)
	return cmdutil.Print(opts.IO, opts.Output, out)
}
