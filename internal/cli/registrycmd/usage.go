package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShowUsage returns `berth registry show-usage`.
func NewCmdShowUsage(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show-usage [-n NAME]",
		Short: "Show what a registry stores: bytes (each blob and manifest counted once) and counts",
		Long: `Show what a registry stores: Size in bytes, counting each blob and manifest
once however many repositories share it, and the numbers of repositories,
manifests and blobs. Deleted content is counted until garbage collection
reclaims it, after its grace period (gcGracePeriod, 1 hour by default).`,
		Example: `  berth registry show-usage -n blogbuildtest

  # Only the bytes stored
  berth registry show-usage -n blogbuildtest --query "value[?name=='Size'].currentValue" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().Usage(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}
