// Package resource holds `berth resource show|update`: the generic, az
// style commands that work on a resource by type and name (or by ID) and on
// its JSON as the server sends it, without knowing its fields. Only
// registries are supported for now. It reaches the server only through
// pkg/client.
package resource

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdResource returns `berth resource` and its verbs.
func NewCmdResource(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resource",
		Short: "Show and change any resource as JSON",
		Long: `Show and change a resource by its type and name, or by its ID, working on
its JSON as the server sends it. Supported types: registries.`,
		Example: `  berth resource show --resource-type registries --name blogbuildtest
  berth resource update --resource-type registries --name blogbuildtest \
    --set properties.networkRuleBypassAllowedForTasks=true`,
	}
	cmd.AddCommand(NewCmdShow(f), NewCmdUpdate(f, nil))
	return cmd
}

// types are the resource types the commands support.
var types = []string{"registries"}

// Target is the resource a command works on, as the flags name it.
type Target struct {
	Type string // --resource-type
	Name string // -n/--name
	ID   string // --ids
}

func targetFlags(cmd *cobra.Command, t *Target) {
	cmd.Flags().StringVar(&t.Type, "resource-type", "", "type of the resource: "+strings.Join(types, ", "))
	cmd.Flags().StringVarP(&t.Name, "name", "n", "", "name of the resource")
	cmd.Flags().StringVar(&t.ID, "ids", "", "ID of the resource, such as /registries/myregistry, instead of --resource-type and --name")
	_ = cmd.RegisterFlagCompletionFunc("resource-type", cobra.FixedCompletions(types, cobra.ShellCompDirectiveNoFileComp))
}

// resolve returns the ID of the resource t names.
func (t Target) resolve() (string, error) {
	if t.ID != "" {
		if t.Type != "" || t.Name != "" {
			return "", errors.New("give --ids, or --resource-type and --name, not both")
		}
		typ, name, ok := strings.Cut(strings.TrimPrefix(t.ID, "/"), "/")
		if !strings.HasPrefix(t.ID, "/") || !ok || name == "" || strings.Contains(name, "/") {
			return "", fmt.Errorf("invalid --ids %q: want /<type>/<name>, such as /registries/myregistry", t.ID)
		}
		if !isType(typ) {
			return "", fmt.Errorf("unsupported resource type %q in --ids %q: only %s are supported", typ, t.ID, strings.Join(types, ", "))
		}
		return t.ID, nil
	}
	if t.Type == "" || t.Name == "" {
		return "", errors.New("give --resource-type and --name, or --ids")
	}
	if !isType(t.Type) {
		return "", fmt.Errorf("unsupported --resource-type %q: only %s are supported", t.Type, strings.Join(types, ", "))
	}
	return "/" + strings.ToLower(t.Type) + "/" + t.Name, nil
}

func isType(s string) bool {
	for _, t := range types {
		if strings.EqualFold(s, t) {
			return true
		}
	}
	return false
}
