package sp

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCredential returns `berth sp credential` and its verbs.
func NewCmdCredential(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "credential",
		Short:   "Manage a service principal's secret",
		Example: `  berth sp credential reset --id "$APP_ID" --years 2`,
	}
	cmd.AddCommand(NewCmdCredentialReset(f, nil))
	return cmd
}

// CredentialResetOptions are the inputs of `berth sp credential reset`.
type CredentialResetOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	AppID string
	Years int
}

// NewCmdCredentialReset returns `berth sp credential reset`.
func NewCmdCredentialReset(f *cmdutil.Factory, runF func(context.Context, *CredentialResetOptions) error) *cobra.Command {
	opts := &CredentialResetOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "reset --id APPID [--years N]",
		Short: "Replace a service principal's secret",
		Long: `Give a service principal a new secret, valid --years (default 1), and print
it like "berth sp create-for-rbac" does. The old secrets stop working at once.`,
		Example: `  berth sp credential reset --id "$APP_ID"
  NEW_SECRET=$(berth sp credential reset --id "$APP_ID" --query password -o tsv)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Years < 0 {
				return fmt.Errorf("--years must be positive, not %d", opts.Years)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return credentialResetRun(cmd.Context(), opts)
		},
	}
	idFlag(cmd, &opts.AppID)
	cmd.Flags().IntVar(&opts.Years, "years", 0, "years the new secret is valid (default 1)")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func credentialResetRun(ctx context.Context, opts *CredentialResetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	secret, err := c.ServicePrincipals().ResetCredential(ctx, opts.AppID, opts.Years)
	if err != nil {
		return err
	}
	fmt.Fprint(opts.IO.ErrOut, credentialsWarning)
	return cmdutil.Print(opts.IO, opts.Output, secret)
}
