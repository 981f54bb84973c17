package scopemap

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth scope-map delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Registry string
	Name     string
	Yes      bool
}

// NewCmdDelete returns `berth scope-map delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME [--yes]",
		Short: "Delete a scope map",
		Long: `Delete a user-defined scope map. A map that a token uses cannot be deleted,
nor can the system maps. On a terminal it asks for confirmation unless --yes
is given; in a script it refuses to run without --yes.`,
		Example: `  berth scope-map delete -r blogbuildtest -n samples-read --yes`,
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
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	if err := cmdutil.Confirm(opts.IO, opts.Yes, fmt.Sprintf("delete scope map %q of registry %q", opts.Name, opts.Registry)); err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.ScopeMaps(opts.Registry).Delete(ctx, opts.Name)
}
