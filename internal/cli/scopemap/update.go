package scopemap

import (
	"context"
	"errors"
	"slices"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// UpdateOptions are the inputs of `berth scope-map update`.
type UpdateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry    string
	Name        string
	Add         []string // actions to add
	Remove      []string // actions to remove
	Description *string  // nil: unchanged
}

// NewCmdUpdate returns `berth scope-map update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Client: f.Client}
	var repos *cmdutil.ArgFlags
	var description string
	cmd := &cobra.Command{
		Use:   "update [-r REGISTRY] -n NAME [--add-repository REPO ACTION...] [--remove-repository REPO ACTION...] [--description TEXT]",
		Short: "Add actions to a scope map or remove them",
		Long: `Add actions to a user-defined scope map, remove actions from it, or change its
description. Tokens that use it get the new rights at once. Removing an
action the map does not have changes nothing.

--add-repository and --remove-repository take their arguments as
--repository does:

` + RepositoryHelp,
		Example: `  berth scope-map update -r blogbuildtest -n samples-read --add-repository 'samples/*' content/write
  berth scope-map update -r blogbuildtest -n samples-read --remove-repository 'samples/*' metadata/read
  berth scope-map update -r blogbuildtest -n samples-read --description "read samples"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			uses, err := repos.Resolve(args)
			if err != nil {
				return err
			}
			var add, remove []cmdutil.ArgFlagUse
			for _, u := range uses {
				if u.Flag == "add-repository" {
					add = append(add, u)
				} else {
					remove = append(remove, u)
				}
			}
			if opts.Add, err = RepositoryActions(add); err != nil {
				return err
			}
			if opts.Remove, err = RepositoryActions(remove); err != nil {
				return err
			}
			if cmd.Flags().Changed("description") {
				opts.Description = &description
			}
			if len(uses) == 0 && opts.Description == nil {
				return errors.New("nothing to update: give --add-repository, --remove-repository or --description")
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
	repos = cmdutil.NewArgFlags(cmd)
	repos.Var("add-repository", "", "REPO ACTION...", "a repository and actions to allow on it")
	repos.Var("remove-repository", "", "REPO ACTION...", "a repository and actions to no longer allow on it")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	maps := c.ScopeMaps(opts.Registry)
	in := client.ScopeMapUpdate{Description: opts.Description}
	if len(opts.Add) > 0 || len(opts.Remove) > 0 {
		// PATCH replaces the whole list: start from the current one.
		sm, err := maps.Get(ctx, opts.Name)
		if err != nil {
			return err
		}
		actions := []string{}
		for _, a := range sm.Properties.Actions {
			if !slices.Contains(opts.Remove, a) {
				actions = append(actions, a)
			}
		}
		for _, a := range opts.Add {
			if !slices.Contains(actions, a) {
				actions = append(actions, a)
			}
		}
		in.Actions = actions
	}
	sm, err := maps.Update(ctx, opts.Name, in)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, sm)
}
