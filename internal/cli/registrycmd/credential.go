package registrycmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCredential returns `berth registry credential` and its verbs.
func NewCmdCredential(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Show and renew the admin user's passwords",
		Long: `Show and renew the passwords of a registry's admin user, whose user name is
the registry's name. The admin user must be enabled first:
"berth registry update -n NAME --admin-enabled true".`,
		Example: `  berth registry credential show -n blogbuildtest
  berth registry credential renew -n blogbuildtest --password-name password2`,
	}
	cmd.AddCommand(NewCmdCredentialShow(f), NewCmdCredentialRenew(f))
	return cmd
}

// NewCmdCredentialShow returns `berth registry credential show`.
func NewCmdCredentialShow(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-n NAME]",
		Short: "Show the admin user's name and passwords",
		Example: `  berth registry credential show -n blogbuildtest

  # The first password alone
  berth registry credential show -n blogbuildtest --query "passwords[0].value" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().ListCredentials(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdCredentialRenew returns `berth registry credential renew`.
func NewCmdCredentialRenew(f *cmdutil.Factory) *cobra.Command {
	var name, passwordName string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "renew [-n NAME] --password-name password|password2",
		Short: "Give one admin password a new value",
		Long: `Give one of the admin user's two passwords a new value; the old value stops
working at once and the other password is left alone, so that clients can
move to it first.`,
		Example: `  berth registry credential renew -n blogbuildtest --password-name password2`,
		PreRunE: func(*cobra.Command, []string) error { return resolveName(f, &name) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Registries().RegenerateCredential(ctx, name, passwordName)
	})
	nameFlag(cmd, &name)
	cmdutil.EnumVar(cmd, &passwordName, "password-name", "", "", []string{"password", "password2"}, "the password to renew")
	_ = cmd.MarkFlagRequired("password-name")
	return cmd
}
