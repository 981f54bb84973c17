package taskcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdCredential returns `berth task credential` and its verbs.
func NewCmdCredential(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Manage the registries a task's runs log in to",
		Long: `Manage a task's credentials: the registries, besides its own, that its runs
log in to, keyed by login server, each with a managed identity of the task
(--use-identity [system] or a user-assigned identity's client id) or a user
name and password. A run logs in with each; with --auth-mode None they are
the only credentials it has. Passwords are never shown: list shows
hasPassword.`,
		Example: `  # S2.3
  berth task credential add -r blogbuildtest -n helloworldtask \
    --login-server 127.0.3.1:5000 --use-identity [system]
  berth task credential list -r blogbuildtest -n helloworldtask`,
	}
	cmd.AddCommand(newCmdCredentialSet(f, true), newCmdCredentialSet(f, false), newCmdCredentialRemove(f), newCmdCredentialList(f))
	return cmd
}

// newCmdCredentialSet returns `credential add` (add) or `credential
// update`: the same flags, add for a login server without a credential,
// update for one with.
func newCmdCredentialSet(f *cmdutil.Factory, add bool) *cobra.Command {
	var registry, name, loginServer, username, password string
	var out cmdutil.OutputOptions
	verb, short, example := "update", "Change the credential of a login server", `  berth task credential update -r blogbuildtest -n helloworldtask \
    --login-server 127.0.3.1:5000 --use-identity 7f3c…-client-id`
	if add {
		verb, short, example = "add", "Add a credential for a login server", `  # The task's system-assigned identity, exchanged at the target's /oauth2/exchange
  berth task credential add -r blogbuildtest -n helloworldtask \
    --login-server 127.0.3.1:5000 --use-identity [system]

  # A user name and password
  berth task credential add -r blogbuildtest -n mybuildtask \
    --login-server registry.example.com -u ci -p "$CI_PASSWORD"`
	}
	cmd := &cobra.Command{
		Use:   verb + " [-r REGISTRY] -n NAME --login-server SERVER (--use-identity [IDENTITY] | -u USER -p PASSWORD)",
		Short: short,
		Long: short + ` of a task: with --use-identity, a managed identity
of the task ([system], the default when the flag has no value, or a
user-assigned identity's client id); or a user name and password (-u, -p).
` + map[bool]string{
			true:  "A login server that has a credential already is refused: use update.",
			false: "A login server without a credential is refused: use add."}[add] + `
It prints the task's credentials, without passwords.`,
		Example: example,
		Args:    cobra.ArbitraryArgs, // the identity after a bare --use-identity
	}
	identity := cmdutil.NewArgFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		uses, err := identity.Resolve(args)
		if err != nil {
			return err
		}
		var ids []string
		for _, u := range uses {
			ids = appendIdentities(ids, u, true)
		}
		cred := &client.RegistryCredential{UserName: username, Password: password}
		switch {
		case len(ids) > 1:
			return fmt.Errorf("--use-identity: give one identity, not %d", len(ids))
		case len(ids) == 1 && (username != "" || password != ""):
			return errors.New("give --use-identity or -u/-p, not both")
		case len(ids) == 1:
			cred = &client.RegistryCredential{Identity: ids[0]}
		case username == "" || password == "":
			return errors.New("give --use-identity [system|CLIENT_ID], or both -u/--username and -p/--password")
		}
		if err := resolveRegistry(f, &registry); err != nil {
			return err
		}
		c, err := f.Client()
		if err != nil {
			return err
		}
		tasks := c.Tasks(registry)
		task, err := tasks.Get(cmd.Context(), name)
		if err != nil {
			return err
		}
		_, has := task.Properties.Credentials.CustomRegistries[loginServer]
		switch {
		case add && has:
			return fmt.Errorf("task %s has a credential for %s already: change it with berth task credential update", name, loginServer)
		case !add && !has:
			return fmt.Errorf("task %s has no credential for %s: add one with berth task credential add", name, loginServer)
		}
		task, err = tasks.Update(cmd.Context(), name, client.TaskUpdate{Credentials: map[string]*client.RegistryCredential{loginServer: cred}})
		if err != nil {
			return err
		}
		return cmdutil.Print(f.IOStreams, out, credentials(task))
	}
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	loginServerFlag(cmd, &loginServer)
	identity.Var("use-identity", "", "IDENTITY", "log in with a managed identity of the task: [system] (the default) or a user-assigned identity's client id")
	cmd.Flags().Lookup("use-identity").NoOptDefVal = systemIdentity
	cmd.Flags().StringVarP(&username, "username", "u", "", "the user name to log in with")
	cmd.Flags().StringVarP(&password, "password", "p", "", "the password to log in with; never shown")
	cmdutil.AddOutputFlags(cmd, &out)
	return cmd
}

func loginServerFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "login-server", "", "the registry's login server, such as 127.0.3.1:5000")
	_ = cmd.MarkFlagRequired("login-server")
}

// credentials are what credential commands print: the customRegistries
// map, never nil, and never a password even if a server sent one.
func credentials(task client.Task) map[string]client.RegistryCredential {
	m := map[string]client.RegistryCredential{}
	for server, cred := range task.Properties.Credentials.CustomRegistries {
		cred.Password = ""
		m[server] = cred
	}
	return m
}

func newCmdCredentialRemove(f *cmdutil.Factory) *cobra.Command {
	var registry, name, loginServer string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:     "remove [-r REGISTRY] -n NAME --login-server SERVER",
		Short:   "Remove the credential of a login server",
		Long:    `Remove the credential of a login server from a task. It prints the credentials left.`,
		Example: `  berth task credential remove -r blogbuildtest -n helloworldtask --login-server 127.0.3.1:5000`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		// A nil credential is sent as null, which deletes it.
		task, err := c.Tasks(registry).Update(ctx, name, client.TaskUpdate{Credentials: map[string]*client.RegistryCredential{loginServer: nil}})
		return credentials(task), err
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	loginServerFlag(cmd, &loginServer)
	return cmd
}

func newCmdCredentialList(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY] -n NAME",
		Short: "List a task's credentials",
		Long:  `List a task's credentials, keyed by login server: the identity, or the user name and hasPassword; never a password.`,
		Example: `  berth task credential list -r blogbuildtest -n helloworldtask
  berth task credential list -r blogbuildtest -n helloworldtask --query "keys(@)" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		task, err := c.Tasks(registry).Get(ctx, name)
		return credentials(task), err
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}
