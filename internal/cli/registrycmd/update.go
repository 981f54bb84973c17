package registrycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// UpdateOptions are the inputs of `berth registry update`.
type UpdateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name          string
	AdminEnabled  *bool
	AnonymousPull *bool
}

// NewCmdUpdate returns `berth registry update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "update [-n NAME] [--admin-enabled true|false] [--anonymous-pull-enabled true|false]",
		Short: "Change a registry's settings",
		Long: `Change a registry's settings; those not given stay as they are.

The admin user (user name: the registry's name) is off by default; see
"berth registry credential show" for its passwords. Anonymous pull, also off
by default, lets anyone pull the registry's content without credentials.`,
		Example: `  berth registry update -n blogbuildtest --admin-enabled true
  berth registry update -n blogbuildtest --anonymous-pull-enabled true`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.AdminEnabled == nil && opts.AnonymousPull == nil {
				return errors.New("nothing to update: give --admin-enabled or --anonymous-pull-enabled")
			}
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmdutil.BoolVar(cmd, &opts.AdminEnabled, "admin-enabled", "enable or disable the admin user")
	cmdutil.BoolVar(cmd, &opts.AnonymousPull, "anonymous-pull-enabled", "let anyone pull without credentials, or not")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	reg, err := c.Registries().Update(ctx, opts.Name, client.RegistryUpdate{AdminUserEnabled: opts.AdminEnabled, AnonymousPull: opts.AnonymousPull})
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, reg)
}
