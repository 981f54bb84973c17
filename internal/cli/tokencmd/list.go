package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ListOptions are the inputs of `berth token list`.
type ListOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
}

// NewCmdList returns `berth token list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's tokens",
		Example: `  berth token list -r blogbuildtest
  berth token list -r blogbuildtest --query "[].{name:name, status:properties.status, scopeMap:properties.scopeMapId}" -o table`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	toks, err := c.Tokens(opts.Registry).List(ctx)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, toks)
}
