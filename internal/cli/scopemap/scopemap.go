// Package scopemap holds `berth scope-map …`: a registry's lists of
// repository actions that tokens are given. It also parses the
// `--repository REPO ACTION...` flags that `berth token create` shares. It
// reaches the server only through pkg/client.
package scopemap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// Actions are what a scope map may allow on a repository.
var Actions = []string{"content/read", "content/write", "content/delete", "metadata/read", "metadata/write"}

// RepositoryHelp explains a --repository flag, for commands' long help.
const RepositoryHelp = `--repository takes a repository and then one or more actions, separated by
spaces: --repository samples/* content/read metadata/read. The repository is
a name, prefix/* (every repository under prefix/) or * (all of them); quote
a pattern with * in it if your shell would expand it. The actions are
content/read, content/write, content/delete, metadata/read and
metadata/write. Repeat the flag for more repositories; other flags may come
before or after. Each pair becomes the scope map action
repositories/<REPO>/<ACTION>.`

// NewCmdScopeMap returns `berth scope-map` and its verbs.
func NewCmdScopeMap(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scope-map",
		Short: "Manage a registry's scope maps, the rights tokens are given",
		Long: `Manage a registry's scope maps. A scope map is a list of actions on
repositories; a token (see "berth token") may do what its scope map lists.
Every registry has three system maps: _repositories_pull,
_repositories_push and _repositories_admin.

Commands take -r/--registry, or use defaults.registry when it is absent.`,
		Example: `  berth scope-map create -r blogbuildtest -n samples-read --repository 'samples/*' content/read metadata/read
  berth scope-map list -r blogbuildtest -o table`,
	}
	cmd.AddCommand(NewCmdCreate(f, nil), NewCmdUpdate(f, nil), NewCmdShow(f), NewCmdList(f), NewCmdDelete(f))
	return cmd
}

// RepositoryActions turns uses of --repository flags into scope map
// actions, in order and without repeats.
func RepositoryActions(uses []cmdutil.ArgFlagUse) ([]string, error) {
	var out []string
	for _, u := range uses {
		repo := u.Value
		if repo == "" || strings.ContainsAny(repo, " \t\r\n") {
			return nil, fmt.Errorf("--%s: %q is not a repository", u.Flag, repo)
		}
		if slices.Contains(Actions, repo) {
			return nil, fmt.Errorf("--%s: give the repository before its actions, as in --%s samples/* %s", u.Flag, u.Flag, repo)
		}
		if len(u.Args) == 0 {
			return nil, fmt.Errorf("--%s %s: give one or more actions after the repository: %s", u.Flag, repo, strings.Join(Actions, ", "))
		}
		for _, a := range u.Args {
			if !slices.Contains(Actions, a) {
				return nil, fmt.Errorf("--%s %s: unknown action %q: use %s", u.Flag, repo, a, strings.Join(Actions, ", "))
			}
			action := "repositories/" + repo + "/" + a
			if !slices.Contains(out, action) {
				out = append(out, action)
			}
		}
	}
	return out, nil
}

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "scope map name")
	_ = cmd.MarkFlagRequired("name")
}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}
