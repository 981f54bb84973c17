package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth user delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete -n NAME",
		Short: "Delete a user",
		Long: `Delete a user and its role assignments; its password and the tokens issued
to it stop working at once.`,
		Example: `  berth user delete -n alice`,
	}, func(ctx context.Context, c *client.Client) error {
		return c.Users().Delete(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}
