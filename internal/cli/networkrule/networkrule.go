// Package networkrule holds `berth network-rule …`: add, remove and list
// the IP rules of a registry's network perimeter. The server validates and
// normalises rules; this package only edits the list it gets and sends it
// back whole. It reaches the server only through pkg/client.
package networkrule

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdNetworkRule returns `berth network-rule` and its verbs.
func NewCmdNetworkRule(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network-rule",
		Short: "Manage the IP rules of a registry's network perimeter",
		Long: `Manage the IP rules of a registry: IPv4 addresses or CIDRs (at most 100) that
may reach the registry when its default action is Deny
("berth registry update --default-action Deny").

Commands take -n/--name, or use defaults.registry when it is absent.`,
		Example: `  berth network-rule add -n blogbuildtest --ip-address 127.0.0.1/32
  berth network-rule list -n blogbuildtest --query "ipRules[].value" -o tsv
  berth network-rule remove -n blogbuildtest --ip-address 127.0.0.1/32`,
	}
	cmd.AddCommand(
		NewCmdAdd(f, nil),
		NewCmdRemove(f, nil),
		NewCmdList(f),
	)
	return cmd
}

// nameFlag adds -n/--name, the registry a command works on.
func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "registry name (default: defaults.registry)")
}

// resolveName fills *name from defaults.registry when -n was not given.
func resolveName(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryNameFlag("-n/--name", *name)
	*name = n
	return err
}

// ruleSet returns r's rule set as the commands print it: never null, and
// with an empty list rather than none.
func ruleSet(r client.Registry) client.NetworkRuleSet {
	var s client.NetworkRuleSet
	if r.Properties.NetworkRuleSet != nil {
		s = *r.Properties.NetworkRuleSet
	}
	if s.IPRules == nil {
		s.IPRules = []client.IPRule{}
	}
	return s
}
