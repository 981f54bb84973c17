package sp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth sp delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	AppID string
}

// NewCmdDelete returns `berth sp delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "delete --id APPID",
		Short: "Delete a service principal",
		Long: `Delete a service principal and its role assignments; its secrets and the
tokens issued to it stop working at once.`,
		Example: `  berth sp delete --id "$APP_ID"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	idFlag(cmd, &opts.AppID)
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.ServicePrincipals().Delete(ctx, opts.AppID)
}
