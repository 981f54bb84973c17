// Package user holds `berth user …`: the users who sign in with a name and
// a password (managing them needs the Owner role at /). It reaches the
// server only through pkg/client.
package user

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdUser returns `berth user` and its verbs.
func NewCmdUser(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage users (Owner at / only)",
		Long: `Manage the users who sign in with a name and a password ("berth login -u").
A new user may do nothing until given a role with "berth role assignment
create --assignee <name>".`,
		Example: `  berth user create -n alice
  berth role assignment create --assignee alice --role AcrPush --scope /registries/blogbuildtest
  berth user reset-password -n alice`,
	}
	cmd.AddCommand(NewCmdCreate(f), NewCmdList(f), NewCmdDelete(f), NewCmdResetPassword(f))
	return cmd
}

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "user name")
	_ = cmd.MarkFlagRequired("name")
}

func passwordFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "password", "p", "", "password, 8 characters or more (asked for when absent)")
}

// passwordOrAsk returns given (-p), or else asks for the password with
// readPassword.
func passwordOrAsk(io *cmdutil.IOStreams, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	return readPassword(io)
}

// readPassword asks for a password without echo, twice, on a terminal, or
// reads it as one line of standard input otherwise.
func readPassword(io *cmdutil.IOStreams) (string, error) {
	pw, err := io.ReadSecret("Password: ")
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("no password given")
	}
	if io.InIsTerminal {
		again, err := io.ReadSecret("Confirm password: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the passwords do not match")
		}
	}
	return pw, nil
}
