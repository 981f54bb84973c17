package scopemap

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ListOptions are the inputs of `berth scope-map list`.
type ListOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
}

// NewCmdList returns `berth scope-map list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's scope maps, the system maps included",
		Example: `  berth scope-map list -r blogbuildtest
  berth scope-map list -r blogbuildtest --query "[?properties.type=='UserDefined'].name" -o tsv`,
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
	maps, err := c.ScopeMaps(opts.Registry).List(ctx)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, maps)
}
