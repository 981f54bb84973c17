package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdResetPassword returns `berth user reset-password`.
func NewCmdResetPassword(f *cmdutil.Factory) *cobra.Command {
	var name, password string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "reset-password -n NAME [-p PASSWORD]",
		Short: "Give a user a new password",
		Long: `Give a user a new password; the old one stops working at once. Without -p
the password is asked for twice without echo on a terminal, or read as one
line of standard input otherwise.`,
		Example: `  berth user reset-password -n alice
  echo "$NEW_PASSWORD" | berth user reset-password -n ci-bot`,
	}, func(ctx context.Context, c *client.Client) error {
		pw, err := passwordOrAsk(f.IOStreams, password)
		if err != nil {
			return err
		}
		return c.Users().ResetPassword(ctx, name, pw)
	})
	nameFlag(cmd, &name)
	passwordFlag(cmd, &password)
	return cmd
}
