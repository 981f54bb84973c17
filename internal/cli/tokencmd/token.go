// Package tokencmd holds `berth token …`: a registry's tokens, user names
// with two passwords whose rights are their scope map's. It reaches the
// server only through pkg/client (the server's JWTs live in
// internal/token, hence the package's name).
package tokencmd

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdToken returns `berth token` and its verbs.
func NewCmdToken(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage a registry's repository-scoped tokens",
		Long: `Manage a registry's tokens. A token is a user name (the token's name) with two
passwords, each with an optional expiry, that docker-compatible clients log
in with; it may do what its scope map allows (see "berth scope-map"), and
nothing while disabled.

Commands take -r/--registry, or use defaults.registry when it is absent.`,
		Example: `  berth token create -r blogbuildtest -n ci-pull --repository 'samples/*' content/read
  berth token update -r blogbuildtest -n ci-pull --status disabled
  berth token credential generate -r blogbuildtest -n ci-pull --password2 --expiration-in-days 30`,
	}
	credential := &cobra.Command{
		Use:     "credential",
		Short:   "Make new token passwords",
		Example: `  berth token credential generate -r blogbuildtest -n ci-pull --password1`,
	}
	credential.AddCommand(NewCmdCredentialGenerate(f, nil))
	cmd.AddCommand(
		NewCmdCreate(f, nil),
		NewCmdUpdate(f),
		NewCmdShow(f),
		NewCmdList(f),
		NewCmdDelete(f),
		credential,
	)
	return cmd
}

// passwordsWarning is printed on standard error with new passwords.
const passwordsWarning = "The output includes passwords that are shown only now. Keep them safe, and out of source control.\n"

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "token name, which is also its user name")
	_ = cmd.MarkFlagRequired("name")
}

var statuses = []string{"enabled", "disabled"}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}
