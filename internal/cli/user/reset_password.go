package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// ResetPasswordOptions are the inputs of `berth user reset-password`.
type ResetPasswordOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)

	Name     string
	Password string
}

// NewCmdResetPassword returns `berth user reset-password`.
func NewCmdResetPassword(f *cmdutil.Factory, runF func(context.Context, *ResetPasswordOptions) error) *cobra.Command {
	opts := &ResetPasswordOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "reset-password -n NAME [-p PASSWORD]",
		Short: "Give a user a new password",
		Long: `Give a user a new password; the old one stops working at once. Without -p
the password is asked for twice without echo on a terminal, or read as one
line of standard input otherwise.`,
		Example: `  berth user reset-password -n alice
  echo "$NEW_PASSWORD" | berth user reset-password -n ci-bot`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return resetPasswordRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	passwordFlag(cmd, &opts.Password)
	return cmd
}

func resetPasswordRun(ctx context.Context, opts *ResetPasswordOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if opts.Password == "" {
		if opts.Password, err = readPassword(opts.IO); err != nil {
			return err
		}
	}
	return c.Users().ResetPassword(ctx, opts.Name, opts.Password)
}
