package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ShowOptions are the inputs of `berth registry show`.
type ShowOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name string
}

// NewCmdShow returns `berth registry show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "show [-n NAME]",
		Short: "Show a registry",
		Example: `  berth registry show -n blogbuildtest

  # The registry's ID, the scope of role assignments on it
  berth registry show -n blogbuildtest --query id -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	reg, err := c.Registries().Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, reg)
}
