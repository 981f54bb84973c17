package role

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// DeleteOptions are the inputs of `berth role assignment delete`.
type DeleteOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	IDs    []string                    // --ids; else Filter
	Filter client.RoleAssignmentFilter // Assignee is required with it
}

// NewCmdDelete returns `berth role assignment delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, Client: f.Client}
	var ids *cmdutil.ArgFlags
	cmd := &cobra.Command{
		Use:   "delete (--ids ID... | --assignee PRINCIPAL [--role ROLE] [--scope SCOPE])",
		Short: "Remove role assignments",
		Long: `Remove role assignments, named by their IDs (--ids takes one or more after it,
separated by spaces), or every one of an assignee that matches --role and
--scope when given. Matching nothing is an error.`,
		Example: `  berth role assignment delete --assignee alice --role AcrPush --scope /registries/blogbuildtest
  berth role assignment delete --assignee alice
  berth role assignment delete --ids /roleAssignments/3f2a… /roleAssignments/9b1c…`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			uses, err := ids.Resolve(args)
			if err != nil {
				return err
			}
			for _, u := range uses {
				opts.IDs = append(opts.IDs, u.Values()...)
			}
			filtered := opts.Filter != client.RoleAssignmentFilter{}
			switch {
			case len(opts.IDs) > 0 && filtered:
				return errors.New("give either --ids or --assignee with --role and --scope, not both")
			case len(opts.IDs) == 0 && opts.Filter.Assignee == "":
				return errors.New("give --ids, or --assignee (with --role and --scope to narrow it)")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	ids = cmdutil.NewArgFlags(cmd)
	ids.Var("ids", "", "ID...", "IDs of the role assignments to remove, separated by spaces")
	filterFlags(cmd, &opts.Filter)
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if len(opts.IDs) > 0 {
		for _, id := range opts.IDs {
			if err := c.RoleAssignments().Delete(ctx, id); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
		}
		return nil
	}
	ras, err := c.RoleAssignments().List(ctx, opts.Filter)
	if err != nil {
		return err
	}
	if len(ras) == 0 {
		return errors.New("no role assignment matches " + describe(opts.Filter))
	}
	for _, ra := range ras {
		if err := c.RoleAssignments().Delete(ctx, ra.ID); err != nil {
			return fmt.Errorf("%s: %w", ra.ID, err)
		}
		p := ra.Properties
		fmt.Fprintf(opts.IO.ErrOut, "Deleted %s: %s for %s at %s.\n", ra.ID, p.RoleDefinitionName, p.PrincipalName, p.Scope)
	}
	return nil
}

func describe(f client.RoleAssignmentFilter) string {
	s := "--assignee " + f.Assignee
	if f.Role != "" {
		s += " --role " + f.Role
	}
	if f.Scope != "" {
		s += " --scope " + f.Scope
	}
	return s
}
