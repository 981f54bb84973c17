package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/scopemap"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth token create`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry string
	Name     string
	ScopeMap string   // --scope-map; or
	Actions  []string // --repository: a scope map <Name>-scope-map is made with these
	Status   string
}

// NewCmdCreate returns `berth token create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	var repos *cmdutil.ArgFlags
	cmd := &cobra.Command{
		Use:   "create [-r REGISTRY] -n NAME (--scope-map MAP | --repository REPO ACTION...) [--status enabled|disabled]",
		Short: "Create a token and print its passwords",
		Long: `Create a token with the rights of a scope map, and print it with its user name
and both passwords (properties.credentials), which are shown only now.

Give an existing scope map with --scope-map, or the rights themselves with
--repository: a scope map named <NAME>-scope-map is then made for the
token first (and removed again if the token cannot be made). A token that
exists is an error; see "berth token update" and "berth token credential
generate".

` + scopemap.RepositoryHelp,
		Example: `  # A token that may pull samples/* and nothing else
  berth token create -r blogbuildtest -n ci-pull --repository 'samples/*' content/read

  # With a scope map made beforehand, or a system one
  berth token create -r blogbuildtest -n ci-push --scope-map _repositories_push

  # Log in with it
  PASSWORD=$(berth token create -r blogbuildtest -n ci-pull --repository 'samples/*' content/read \
    --query "properties.credentials.passwords[0].value" -o tsv)
  crane auth login 127.0.3.1:5000 -u ci-pull -p "$PASSWORD"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			uses, err := repos.Resolve(args)
			if err != nil {
				return err
			}
			switch {
			case opts.ScopeMap != "" && len(uses) > 0:
				return errors.New("give either --scope-map or --repository, not both")
			case opts.ScopeMap == "" && len(uses) == 0:
				return errors.New("give the token's rights with --scope-map MAP or --repository REPO ACTION...")
			}
			if opts.Actions, err = scopemap.RepositoryActions(uses); err != nil {
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
	cmd.Flags().StringVar(&opts.ScopeMap, "scope-map", "", "name of the scope map that gives the token its rights")
	repos = cmdutil.NewArgFlags(cmd)
	repos.Var("repository", "", "REPO ACTION...", "a repository and the actions allowed on it (see above)")
	cmdutil.EnumVar(cmd, &opts.Status, "status", "", "enabled", statuses, "whether the token may be used")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	tokens := c.Tokens(opts.Registry)
	scopeMap, made := opts.ScopeMap, false
	if len(opts.Actions) > 0 {
		// The server refuses an existing token (409), but only after the
		// scope map would have been made: ask first.
		if _, err := tokens.Get(ctx, opts.Name); err == nil {
			return fmt.Errorf("token %q already exists in registry %q: use `berth token update` or `berth token credential generate`", opts.Name, opts.Registry)
		} else if e, ok := client.AsError(err); !ok || e.Status != http.StatusNotFound {
			return err
		}
		scopeMap = opts.Name + "-scope-map"
		maps := c.ScopeMaps(opts.Registry)
		if err := scopemap.MustNotExist(ctx, maps, opts.Registry, scopeMap); err != nil {
			return fmt.Errorf("%w, or give it with --scope-map", err)
		}
		if _, err := maps.Create(ctx, scopeMap, "Made for token "+opts.Name, opts.Actions); err != nil {
			return fmt.Errorf("creating scope map %q: %w", scopeMap, err)
		}
		made = true
	}
	tok, err := tokens.Create(ctx, opts.Name, scopeMap, opts.Status)
	if err != nil {
		if made {
			// Leave nothing half made behind; the token's error is the one to report.
			if derr := c.ScopeMaps(opts.Registry).Delete(ctx, scopeMap); derr != nil {
				fmt.Fprintf(opts.IO.ErrOut, "Warning: scope map %q was left behind: %v\n", scopeMap, derr)
			}
		}
		return err
	}
	fmt.Fprint(opts.IO.ErrOut, passwordsWarning)
	return cmdutil.Print(opts.IO, opts.Output, tok)
}
