package networkrule

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth network-rule list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-n NAME]",
		Short: "List a registry's IP rules and default action",
		Example: `  berth network-rule list -n blogbuildtest
  berth network-rule list -n blogbuildtest --query "ipRules[].value" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		r, err := c.Registries().Get(ctx, name)
		if err != nil {
			return nil, err
		}
		return ruleSet(r), nil
	})
	nameFlag(cmd, &name)
	return cmd
}
