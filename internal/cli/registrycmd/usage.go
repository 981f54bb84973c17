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
	var out cmdutil.OutputOptions
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "show-usage [-n NAME]",
		Short: "Show what a registry stores: bytes (each blob and manifest counted once) and counts",
		Long: `Show what a registry stores: Size in bytes, counting each blob and manifest
once however many repositories share it, and the numbers of repositories,
manifests and blobs. Deleted content is counted until garbage collection
reclaims it, after its grace period (gcGracePeriod, 1 hour by default).`,
		Example: `  berth registry show-usage -n blogbuildtest

  # One row per figure
  berth registry show-usage -n blogbuildtest -o table

  # Only the bytes stored
  berth registry show-usage -n blogbuildtest --query "value[?name=='Size'].currentValue | [0]" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) error {
		u, err := c.Registries().Usage(ctx, name)
		if err != nil {
			return err
		}
		// A table of {"value": [...]} would be empty: show its rows, as
		// az acr show-usage does; json and --query keep the whole answer.
		if out.Query == "" && (out.Format == cmdutil.FormatTable || out.Format == cmdutil.FormatTSV) {
			return cmdutil.Print(f.IOStreams, out, u.Value)
		}
		return cmdutil.Print(f.IOStreams, out, u)
	})
	cmdutil.AddOutputFlags(cmd, &out)
	nameFlag(cmd, &name)
	return cmd
}
