package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCreate returns `berth user create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var name, password string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "create -n NAME [-p PASSWORD]",
		Short: "Create a user",
		Long: `Create a user. Without -p the password is asked for twice without echo on a
terminal, or read as one line of standard input otherwise. A user that
exists is an error; see "berth user reset-password".`,
		Example: `  berth user create -n alice
  echo "$PASSWORD" | berth user create -n ci-bot`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		pw, err := passwordOrAsk(f.IOStreams, password)
		if err != nil {
			return nil, err
		}
		return c.Users().Create(ctx, name, pw)
	})
	nameFlag(cmd, &name)
	passwordFlag(cmd, &password)
	return cmd
}
