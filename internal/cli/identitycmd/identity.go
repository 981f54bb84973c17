// Package identitycmd holds `berth identity …`: user-assigned managed
// identities, which build tasks run as. It reaches the server only through
// pkg/client (the server's identities live in internal/identity, which the
// CLI must not import, hence the package's name).
package identitycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdIdentity returns `berth identity` and its verbs.
func NewCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage user-assigned managed identities",
		Long: `Manage user-assigned managed identities. A managed identity signs in with
nothing of its own: its tokens are only issued to the build runs of tasks it
is assigned to. Give it roles with "berth role assignment create --assignee
<principalId>".`,
		Example: `  berth identity create -n builder
  berth role assignment create --assignee "$(berth identity show -n builder --query properties.principalId -o tsv)" \
    --role AcrPush --scope /registries/blogbuildtest`,
	}
	cmd.AddCommand(NewCmdCreate(f, nil), NewCmdShow(f, nil), NewCmdList(f, nil), NewCmdDelete(f, nil))
	return cmd
}

// Options are the inputs of `berth identity create|show|list|delete`.
type Options struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name string // "" for list
}

type verb struct {
	use, short, long, example string
	named, output             bool
	run                       func(context.Context, *Options) error
}

// newCmd builds one verb: they differ only in their call.
func newCmd(f *cmdutil.Factory, v verb, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use: v.use, Short: v.short, Long: v.long, Example: v.example,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v.named && opts.Name == "" {
				return errors.New("give the identity's name with -n/--name")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return v.run(cmd.Context(), opts)
		},
	}
	if v.named {
		cmd.Flags().StringVarP(&opts.Name, "name", "n", "", "name of the identity")
	}
	if v.output {
		cmdutil.AddOutputFlags(cmd, &opts.Output)
	}
	return cmd
}

// NewCmdCreate returns `berth identity create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(f, verb{
		use: "create -n NAME", short: "Create a user-assigned managed identity",
		long: `Create a user-assigned managed identity and print it, with the principalId to
give roles to. An identity that exists is an error.`,
		example: `  berth identity create -n builder
  berth identity create -n builder --query properties.principalId -o tsv`,
		named: true, output: true,
		run: createRun,
	}, runF)
}

// NewCmdShow returns `berth identity show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(f, verb{
		use: "show -n NAME", short: "Show a user-assigned managed identity",
		example: `  berth identity show -n builder
  berth identity show -n builder --query properties.clientId -o tsv`,
		named: true, output: true,
		run: showRun,
	}, runF)
}

// NewCmdList returns `berth identity list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(f, verb{
		use: "list", short: "List user-assigned managed identities",
		example: `  berth identity list -o table
  berth identity list --query "[].name" -o tsv`,
		output: true,
		run:    listRun,
	}, runF)
}

// NewCmdDelete returns `berth identity delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmd(f, verb{
		use: "delete -n NAME", short: "Delete a user-assigned managed identity",
		long:    `Delete a user-assigned managed identity; tokens issued to it stop working at once.`,
		example: `  berth identity delete -n builder`,
		named:   true,
		run:     deleteRun,
	}, runF)
}

func createRun(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	id, err := c.Identities().Create(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, id)
}

func showRun(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	id, err := c.Identities().Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, id)
}

func listRun(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ids, err := c.Identities().List(ctx)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, ids)
}

func deleteRun(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return c.Identities().Delete(ctx, opts.Name)
}
