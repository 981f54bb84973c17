package user

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// CreateOptions are the inputs of `berth user create`.
type CreateOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name     string
	Password string
}

// NewCmdCreate returns `berth user create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "create -n NAME [-p PASSWORD]",
		Short: "Create a user",
		Long: `Create a user. Without -p the password is asked for twice without echo on a
terminal, or read as one line of standard input otherwise. A user that
exists is an error; see "berth user reset-password".`,
		Example: `  berth user create -n alice
  echo "$PASSWORD" | berth user create -n ci-bot`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	passwordFlag(cmd, &opts.Password)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if opts.Password == "" {
		if opts.Password, err = readPassword(opts.IO); err != nil {
			return err
		}
	}
	u, err := c.Users().Create(ctx, opts.Name, opts.Password)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, u)
}
