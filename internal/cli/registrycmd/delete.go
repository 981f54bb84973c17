package registrycmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth registry delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Name string
	Yes  bool
}

// NewCmdDelete returns `berth registry delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "delete [-n NAME] [--yes]",
		Short: "Delete a registry and all its content",
		Long: `Delete a registry with all its repositories, images, scope maps and tokens.

On a terminal it asks for confirmation unless --yes is given; in a script
(standard input not a terminal) it refuses to run without --yes. The
server's default registry cannot be deleted.`,
		Example: `  berth registry delete -n blogbuildtest
  berth registry delete -n blogbuildtest --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	if err := cmdutil.Confirm(opts.IO, opts.Yes, fmt.Sprintf("delete registry %q and all its content", opts.Name)); err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.Registries().Delete(ctx, opts.Name)
}
