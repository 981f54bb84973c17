package scopemap

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ShowOptions are the inputs of `berth scope-map show`.
type ShowOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
	Name     string
}

// NewCmdShow returns `berth scope-map show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a scope map",
		Example: `  berth scope-map show -r blogbuildtest -n samples-read
  berth scope-map show -r blogbuildtest -n _repositories_pull --query properties.actions -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	sm, err := c.ScopeMaps(opts.Registry).Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, sm)
}
