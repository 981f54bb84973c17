// Package identitycmd holds `berth identity …`: user-assigned managed
// identities, which build tasks run as. It reaches the server only through
// pkg/client (the server's identities live in internal/identity, which the
// CLI must not import, hence the package's name).
package identitycmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdIdentity returns `berth identity` and its verbs.
func NewCmdIdentity(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage user-assigned managed identities",
		Long: `Manage user-assigned managed identities. A managed identity signs in with
nothing of its own: its tokens are only issued to the build runs of tasks it
is assigned to. Give it roles with "berth role assignment create --assignee
<principalId>".`,
		Example: `  berth identity create -n builder
  berth role assignment create --assignee "$(berth identity show -n builder --query properties.principalId -o tsv)" \
    --role AcrPush --scope /registries/blogbuildtest
  berth identity update -n builder --trusted-service true`,
	}
	cmd.AddCommand(NewCmdCreate(f), NewCmdShow(f), NewCmdList(f), NewCmdUpdate(f), NewCmdDelete(f))
	return cmd
}

// nameFlag adds -n/--name; nameGiven checks it was given.
func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "name of the identity")
}

// nameGiven is a PreRunE that fails when -n/--name was not given, in words
// of its own rather than cobra's "required flag(s)".
func nameGiven(name *string) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error {
		if *name == "" {
			return errors.New("give the identity's name with -n/--name")
		}
		return nil
	}
}

// NewCmdCreate returns `berth identity create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use: "create -n NAME", Short: "Create a user-assigned managed identity",
		Long: `Create a user-assigned managed identity and print it, with the principalId to
give roles to. An identity that exists is an error.`,
		Example: `  berth identity create -n builder
  berth identity create -n builder --query properties.principalId -o tsv`,
		PreRunE: nameGiven(&name),
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Identities().Create(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdShow returns `berth identity show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use: "show -n NAME", Short: "Show a user-assigned managed identity",
		Example: `  berth identity show -n builder
  berth identity show -n builder --query properties.clientId -o tsv`,
		PreRunE: nameGiven(&name),
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Identities().Get(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdList returns `berth identity list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.CallAndPrint(f, &cobra.Command{
		Use: "list", Short: "List user-assigned managed identities",
		Example: `  berth identity list -o table
  berth identity list --query "[].name" -o tsv`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Identities().List(ctx)
	})
}

// NewCmdUpdate returns `berth identity update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var name string
	var in client.ManagedIdentityUpdate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "update -n NAME --trusted-service true|false",
		Short: "Mark a user-assigned managed identity as a trusted service, or not",
		Long: `Mark a user-assigned managed identity as a trusted service, or take the mark
away, and print it.

The tokens of a trusted service pass the network rules of every registry that
allows trusted services (networkRuleBypassOptions AzureServices, the default;
see "berth registry update --allow-trusted-services"): its public network
access, default action and IP rules do not stop them. Its role assignments
still decide what it may do there. Only an Owner at scope / may change the
mark. A task's system-assigned identity cannot be marked: it has the tasks
exception ("networkRuleBypassAllowedForTasks") instead.

Tokens issued before a change keep what they carry until they expire; to
cut an identity off at once, delete it.`,
		Example: `  # Let the runs of tasks that use builder reach registries closed to public networks
  berth identity update -n builder --trusted-service true

  berth identity update -n builder --trusted-service false
  berth identity show -n builder --query properties.trustedService -o tsv`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if err := nameGiven(&name)(cmd, args); err != nil {
				return err
			}
			if in.TrustedService == nil {
				return errors.New("nothing to update: give --trusted-service true or false")
			}
			return nil
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.Identities().Update(ctx, name, in)
	})
	nameFlag(cmd, &name)
	cmdutil.BoolVar(cmd, &in.TrustedService, "trusted-service",
		"let its tokens pass the network rules of registries that allow trusted services, or not")
	return cmd
}

// NewCmdDelete returns `berth identity delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var name string
	cmd := cmdutil.Call(f, &cobra.Command{
		Use: "delete -n NAME", Short: "Delete a user-assigned managed identity",
		Long:    `Delete a user-assigned managed identity; tokens issued to it stop working at once.`,
		Example: `  berth identity delete -n builder`,
		PreRunE: nameGiven(&name),
	}, func(ctx context.Context, c *client.Client) error {
		return c.Identities().Delete(ctx, name)
	})
	nameFlag(cmd, &name)
	return cmd
}
