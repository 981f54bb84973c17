package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth token delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Registry string
	Name     string
}

// NewCmdDelete returns `berth token delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME",
		Short: "Delete a token",
		Long: `Delete a token; its passwords stop working at once. Its scope map stays (see
"berth scope-map delete").`,
		Example: `  berth token delete -r blogbuildtest -n ci-pull`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.Tokens(opts.Registry).Delete(ctx, opts.Name)
}
