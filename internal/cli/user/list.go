package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdList returns `berth user list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list",
		Short: "List users",
		Example: `  berth user list
  berth user list --query "[].name" -o tsv`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Users().List(ctx)
	})
}
