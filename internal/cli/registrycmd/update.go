package registrycmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdUpdate returns `berth registry update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var name, defaultAction string
	var publicNetwork, trustedServices *bool
	var in client.RegistryUpdate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use: "update [-n NAME] [--admin-enabled true|false] [--anonymous-pull-enabled true|false]\n" +
			"  [--public-network-enabled true|false] [--default-action Allow|Deny] [--allow-trusted-services true|false]",
		Short: "Change a registry's settings",
		Long: `Change a registry's settings; those not given stay as they are.

The admin user (user name: the registry's name) is off by default; see
"berth registry credential show" for its passwords. Anonymous pull, also off
by default, lets anyone pull the registry's content without credentials.

The network perimeter: with --public-network-enabled false the registry is
reached only through its private endpoints. Otherwise --default-action says
what happens to addresses that no IP rule names ("berth network-rule add"):
Allow (the default) or Deny. --allow-trusted-services (on by default) lets
berth's trusted services, such as import, through whatever the rules say.`,
		Example: `  berth registry update -n blogbuildtest --admin-enabled true
  berth registry update -n blogbuildtest --anonymous-pull-enabled true

  # Only the addresses of the IP rules may reach the registry
  berth registry update -n blogbuildtest --default-action Deny

  # Only private endpoints, and no trusted services
  berth registry update -n blogbuildtest --public-network-enabled false --allow-trusted-services false`,
		PreRunE: func(*cobra.Command, []string) error {
			if defaultAction != "" {
				a, err := canonical("--default-action", defaultAction, client.ActionAllow, client.ActionDeny)
				if err != nil {
					return err
				}
				in.NetworkRuleSet = &client.NetworkRuleSetUpdate{DefaultAction: a}
			}
			if publicNetwork != nil {
				in.PublicNetworkAccess = pick(*publicNetwork, client.PublicNetworkEnabled, client.PublicNetworkDisabled)
			}
			if trustedServices != nil {
				in.NetworkRuleBypassOptions = pick(*trustedServices, client.BypassAzureServices, client.BypassNone)
			}
			if in == (client.RegistryUpdate{}) {
				return errors.New("nothing to update: give --admin-enabled, --anonymous-pull-enabled, " +
					"--public-network-enabled, --default-action or --allow-trusted-services")
			}
			return resolveName(f, &name)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().Update(ctx, name, in)
	})
	nameFlag(cmd, &name)
	cmdutil.BoolVar(cmd, &in.AdminUserEnabled, "admin-enabled", "enable or disable the admin user")
	cmdutil.BoolVar(cmd, &in.AnonymousPull, "anonymous-pull-enabled", "let anyone pull without credentials, or not")
	cmdutil.BoolVar(cmd, &publicNetwork, "public-network-enabled", "allow access from public networks, or only through private endpoints")
	cmd.Flags().StringVar(&defaultAction, "default-action", "", "what to do with addresses no IP rule names: Allow or Deny")
	_ = cmd.RegisterFlagCompletionFunc("default-action", cobra.FixedCompletions([]string{client.ActionAllow, client.ActionDeny}, cobra.ShellCompDirectiveNoFileComp))
	cmdutil.BoolVar(cmd, &trustedServices, "allow-trusted-services", "let trusted services through the network rules, or not")
	return cmd
}

// canonical returns the value of values that s names, ignoring case, as
// the server spells it.
func canonical(flag, s string, values ...string) (string, error) {
	for _, v := range values {
		if strings.EqualFold(s, v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("invalid %s %q: use %s", flag, s, strings.Join(values, " or "))
}

func pick(b bool, ifTrue, ifFalse string) string {
	if b {
		return ifTrue
	}
	return ifFalse
}
