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
	cmd.AddCommand(NewCmdCredentialShow(f, nil), NewCmdCredentialRenew(f, nil))
	return cmd
}

// CredentialShowOptions are the inputs of `berth registry credential show`.
type CredentialShowOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name string
}

// NewCmdCredentialShow returns `berth registry credential show`.
func NewCmdCredentialShow(f *cmdutil.Factory, runF func(context.Context, *CredentialShowOptions) error) *cobra.Command {
	opts := &CredentialShowOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "show [-n NAME]",
		Short: "Show the admin user's name and passwords",
		Example: `  berth registry credential show -n blogbuildtest

  # The first password alone
  berth registry credential show -n blogbuildtest --query "passwords[0].value" -o tsv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return credentialShowRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func credentialShowRun(ctx context.Context, opts *CredentialShowOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	cred, err := c.Registries().ListCredentials(ctx, opts.Name)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, cred)
}

// CredentialRenewOptions are the inputs of `berth registry credential renew`.
type CredentialRenewOptions struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Name         string
	PasswordName string
}

// NewCmdCredentialRenew returns `berth registry credential renew`.
func NewCmdCredentialRenew(f *cmdutil.Factory, runF func(context.Context, *CredentialRenewOptions) error) *cobra.Command {
	opts := &CredentialRenewOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "renew [-n NAME] --password-name password|password2",
		Short: "Give one admin password a new value",
		Long: `Give one of the admin user's two passwords a new value; the old value stops
working at once and the other password is left alone, so that clients can
move to it first.`,
		Example: `  berth registry credential renew -n blogbuildtest --password-name password2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveName(f, &opts.Name); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return credentialRenewRun(cmd.Context(), opts)
		},
	}
	nameFlag(cmd, &opts.Name)
	cmdutil.EnumVar(cmd, &opts.PasswordName, "password-name", "", "", []string{"password", "password2"}, "the password to renew")
	_ = cmd.MarkFlagRequired("password-name")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func credentialRenewRun(ctx context.Context, opts *CredentialRenewOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	cred, err := c.Registries().RegenerateCredential(ctx, opts.Name, opts.PasswordName)
	if err != nil {
		return err
	}
	return cmdutil.Print(opts.IO, opts.Output, cred)
}
