package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth user delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Name string
}

// NewCmdDelete returns `berth user delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "delete -n NAME",
		Short: "Delete a user",
		Long: `Delete a user and its role assignments; its password and the tokens issued
to it stop working at once.`,
		Example: `  berth user delete -n alice`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.Users().Delete(ctx, opts.Name)
}
