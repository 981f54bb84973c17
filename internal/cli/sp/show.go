package sp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ShowOptions are the inputs of `berth sp show`.
type ShowOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	AppID string
}

// NewCmdShow returns `berth sp show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "show --id APPID",
		Short: "Show a service principal (never its secret)",
		Example: `  berth sp show --id "$APP_ID"
  berth sp show --id "$APP_ID" --query properties.secretExpiresAt -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	idFlag(cmd, &opts.AppID)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func idFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "id", "", "application ID (appId) of the service principal")
	_ = cmd.MarkFlagRequired("id")
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	sp, err := c.ServicePrincipals().Get(ctx, opts.AppID)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, sp)
}
