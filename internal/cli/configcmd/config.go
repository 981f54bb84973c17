// Package configcmd holds `berth config set|get|unset`, which edit the
// user's config.yaml (see package userconfig for where it lives).
package configcmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/userconfig"
)

// NewCmdConfig returns `berth config` and its verbs.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Manage the CLI's settings (server, defaults.registry)",
		Long: `Manage the CLI's settings in config.yaml, in $BERTH_CONFIG_DIR or the "berth"
directory of the user config directory. Known keys:

` + keyHelp() + `
An environment variable overrides the file.`,
		Example: `  berth config set defaults.registry=myregistry
  berth config get
  berth config unset defaults.registry`,
	}
	cmd.AddCommand(NewCmdSet(f, nil), NewCmdGet(f, nil), NewCmdUnset(f, nil))
	return cmd
}

func keyHelp() string {
	var b strings.Builder
	for _, k := range userconfig.Keys {
		fmt.Fprintf(&b, "  %-18s %s (env %s", k.Name, k.Help, k.Env)
		if k.Default != "" {
			fmt.Fprintf(&b, ", default %s", k.Default)
		}
		b.WriteString(")\n")
	}
	return b.String()
}

func completeKeys(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return userconfig.KnownKeys(), cobra.ShellCompDirectiveNoFileComp
}
