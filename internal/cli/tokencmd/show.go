package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ShowOptions are the inputs of `berth token show`.
type ShowOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
	Name     string
}

// NewCmdShow returns `berth token show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a token (never its passwords' values)",
		Example: `  berth token show -r blogbuildtest -n ci-pull
  berth token show -r blogbuildtest -n ci-pull --query properties.status -o tsv`,
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
	tok, err := c.Tokens(opts.Registry).Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, tok)
}
