package scopemap

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth scope-map create`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry    string
	Name        string
	Actions     []string // "repositories/<repo>/<action>"
	Description string
}

// NewCmdCreate returns `berth scope-map create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	var repos *cmdutil.ArgFlags
	cmd := &cobra.Command{
		Use:   "create [-r REGISTRY] -n NAME --repository REPO ACTION... [--repository REPO ACTION...] [--description TEXT]",
		Short: "Create a scope map",
		Long: `Create a scope map in a registry. A scope map that exists is an error; see
"berth scope-map update".

` + RepositoryHelp,
		Example: `  berth scope-map create -r blogbuildtest -n samples-read --repository 'samples/*' content/read metadata/read

  # Push to one repository, pull from another
  berth scope-map create -r blogbuildtest -n ci --description "CI of app" \
    --repository app content/read content/write --repository 'base/*' content/read`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			uses, err := repos.Resolve(args)
			if err != nil {
				return err
			}
			if len(uses) == 0 {
				return errors.New("give at least one --repository REPO ACTION...")
			}
			if opts.Actions, err = RepositoryActions(uses); err != nil {
				return err
			}
			if err := resolveRegistry(f, &opts.Registry); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	registryFlag(cmd, &opts.Registry)
	nameFlag(cmd, &opts.Name)
	repos = cmdutil.NewArgFlags(cmd)
	repos.Var("repository", "", "REPO ACTION...", "a repository and the actions allowed on it (see above)")
	cmd.Flags().StringVar(&opts.Description, "description", "", "what the scope map is for")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	maps := c.ScopeMaps(opts.Registry)
	if err := MustNotExist(ctx, maps, opts.Registry, opts.Name); err != nil {
		return err
	}
	sm, err := maps.Create(ctx, opts.Name, opts.Description, opts.Actions)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, sm)
}

// MustNotExist returns an error unless scope map name is absent from
// registry: a PUT would replace it, and with it the rights of every token
// that uses it.
func MustNotExist(ctx context.Context, maps client.ScopeMaps, registry, name string) error {
	_, err := maps.Get(ctx, name)
	if err == nil {
		return fmt.Errorf("scope map %q already exists in registry %q: use `berth scope-map update` to change it", name, registry)
	}
	if e, ok := client.AsError(err); ok && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}
