package tokencmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// UpdateOptions are the inputs of `berth token update`.
type UpdateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
	Name     string
	Status   string // "" leaves it
	ScopeMap string // "" leaves it
}

// NewCmdUpdate returns `berth token update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "update [-r REGISTRY] -n NAME [--status enabled|disabled] [--scope-map MAP]",
		Short: "Enable or disable a token, or change its scope map",
		Long: `Enable or disable a token, or give it another scope map. A disabled token
stops working at once, and works again when enabled.`,
		Example: `  berth token update -r blogbuildtest -n ci-pull --status disabled
  berth token update -r blogbuildtest -n ci-pull --scope-map _repositories_pull`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Status == "" && opts.ScopeMap == "" {
				return errors.New("nothing to update: give --status or --scope-map")
			}
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	cmdutil.EnumVar(cmd, &opts.Status, "status", "", "", statuses, "enable or disable the token")
	cmd.Flags().StringVar(&opts.ScopeMap, "scope-map", "", "name of the scope map to give the token")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	tok, err := c.Tokens(opts.Registry).Update(ctx, opts.Name, client.TokenUpdate{Status: opts.Status, ScopeMapID: opts.ScopeMap})
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, tok)
}
