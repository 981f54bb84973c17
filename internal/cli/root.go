// Package cli is berth's command tree for users: it parses flags, calls the
// server through pkg/client and prints results. It never imports server
// packages; the server's own command (serve) is added by cmd/berth.
package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// NewRoot returns the root command with every user command, plus extra
// (the server's commands, added by main).
func NewRoot(extra ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "berth",
		Short: "berth: a self-hosted container registry with identities, network rules and builds",
		Long: `berth is a self-hosted container registry platform: an OCI registry, identities
with roles and scoped tokens, a network perimeter per registry, and a build and
task service.

Start a server on the embedded default (SQLite and files under ./berth-data,
listening on 127.0.0.1:5000):

  berth serve`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print berth's version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), Version) },
	})
	root.AddCommand(extra...)
	return root
}

// Main runs the command line and exits with its status.
func Main(extra ...*cobra.Command) {
	if err := NewRoot(extra...).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error: "+err.Error())
		os.Exit(1)
	}
}
