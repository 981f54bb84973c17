// Package sp holds `berth sp …`: service principals, the identities of
// automation, which sign in with an application ID and a secret. It reaches
// the server only through pkg/client.
package sp

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdSP returns `berth sp` and its verbs.
func NewCmdSP(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sp",
		Short: "Manage service principals, the identities of automation",
		Long: `Manage service principals: identities for CI systems and other automation,
which sign in with an application ID (appId) and a secret, to the management
API ("berth login --service-principal") and to registries (docker login with
the appId as user name and the secret as password).`,
		Example: `  berth sp create-for-rbac -n ci --role AcrPush --scopes /registries/blogbuildtest
  berth sp list -o table
  berth sp credential reset --id 8a1c…
  berth sp update --id 8a1c… --trusted-service true`,
	}
	cmd.AddCommand(
		NewCmdCreateForRBAC(f, nil),
		NewCmdList(f),
		NewCmdShow(f),
		NewCmdUpdate(f),
		NewCmdDelete(f),
		NewCmdCredential(f),
	)
	return cmd
}

// credentialsWarning is printed on standard error with a new secret.
const credentialsWarning = "The output includes a secret that is shown only now. Keep it safe, and out of source control.\n"
