package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// auditFlags adds --since and --top, which narrow both audit listings.
func auditFlags(cmd *cobra.Command, q *client.AuditQuery) {
	cmd.Flags().StringVar(&q.Since, "since", "", "only records this recent: a duration (30m, 24h, 7d, 1d12h) or an RFC 3339 time (default: all kept)")
	cmd.Flags().IntVar(&q.Top, "top", 0, "at most this many records, the newest (1 to 1000; default 100)")
}

// NewCmdListDenials returns `berth registry list-denials`.
func NewCmdListDenials(f *cmdutil.Factory) *cobra.Command {
	var name string
	var q client.AuditQuery
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list-denials [-n NAME] [--since DURATION] [--top N]",
		Short: "List the requests the registry's network rules refused",
		Long: `List the data-plane requests that the registry's network rules refused,
newest first: when, from which client address, with which identity (when the
request carried a token), the method, the path, and why (denied: no IP rule
lets the address in; public-access-disabled: public network access is off).

The server keeps denials for 30 days, and at most the 100,000 newest of each
registry. Reading them needs Reader, Contributor or Owner on the registry.`,
		Example: `  berth registry list-denials -n blogbuildtest

  # The last hour, as a table
  berth registry list-denials -n blogbuildtest --since 1h -o table

  # Which addresses were refused this week
  berth registry list-denials -n blogbuildtest --since 7d --top 1000 --query "[].clientIp" -o tsv | sort | uniq -c`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().ListNetworkDenials(ctx, name, q)
	})
	nameFlag(cmd, &name)
	auditFlags(cmd, &q)
	return cmd
}

// NewCmdListChanges returns `berth registry list-changes`.
func NewCmdListChanges(f *cmdutil.Factory) *cobra.Command {
	var name string
	var q client.AuditQuery
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list-changes [-n NAME] [--since DURATION] [--top N]",
		Short: "List who changed the registry's network perimeter, what and when",
		Long: `List the changes of the registry's network settings (public network access,
default action, IP rules, bypass options) and of its private endpoint
connections (created, approved, rejected, deleted), newest first: when, who
(the principal's name, id and type), and what: "changes" gives each property
changed with its old and new value ("from", "to"), or, for the IP rules,
the rules added and removed; "summary" says the same in one line. A request
that left every setting as it was is not recorded.

Reading them needs Reader, Contributor or Owner on the registry.`,
		Example: `  berth registry list-changes -n blogbuildtest

  # Who changed what this month, as a table
  berth registry list-changes -n blogbuildtest --since 30d -o table

  # Only the IP rules added by the last change
  berth registry list-changes -n blogbuildtest --top 1 --query "[0].changes.\"networkRuleSet.ipRules\".added" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().ListNetworkChanges(ctx, name, q)
	})
	nameFlag(cmd, &name)
	auditFlags(cmd, &q)
	return cmd
}
