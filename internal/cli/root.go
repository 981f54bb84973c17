// Package cli is berth's command tree for users: it parses flags, calls the
// server through pkg/client and prints results. It never imports server
// packages; the server's own command (serve) is added by cmd/berth.
//
// A command lives in internal/cli/<noun>/<verb>.go as an options struct, a
// NewCmdX(f *cmdutil.Factory, runF) constructor and an xRun(opts) function
// (see package cmdutil for the shared pieces). A command that is one call
// to the server (show, list, delete and the like) is a NewCmdX(f) built by
// cmdutil.CallAndPrint or cmdutil.Call instead.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/agentpool"
	"github.com/berth-project/berth/internal/cli/auth"
	"github.com/berth-project/berth/internal/cli/buildcmd"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/configcmd"
	"github.com/berth-project/berth/internal/cli/credhelper"
	"github.com/berth-project/berth/internal/cli/identitycmd"
	"github.com/berth-project/berth/internal/cli/importcmd"
	"github.com/berth-project/berth/internal/cli/network"
	"github.com/berth-project/berth/internal/cli/networkrule"
	"github.com/berth-project/berth/internal/cli/privateendpoint"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/cli/registrycmd"
	"github.com/berth-project/berth/internal/cli/repository"
	"github.com/berth-project/berth/internal/cli/resource"
	"github.com/berth-project/berth/internal/cli/role"
	"github.com/berth-project/berth/internal/cli/runcmd"
	"github.com/berth-project/berth/internal/cli/scopemap"
	"github.com/berth-project/berth/internal/cli/sp"
	"github.com/berth-project/berth/internal/cli/taskcmd"
	"github.com/berth-project/berth/internal/cli/tokencmd"
	"github.com/berth-project/berth/internal/cli/user"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// NewRoot returns the root command with every user command, plus extra
// (the server's commands, added by main).
func NewRoot(f *cmdutil.Factory, extra ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "berth",
		Short: "berth: a self-hosted container registry with identities, network rules and builds",
		Long: `berth is a self-hosted container registry platform: an OCI registry, identities
with roles and scoped tokens, a network perimeter per registry, and a build and
task service.

Start a server on the embedded default (SQLite and files under ./berth-data,
listening on 127.0.0.1:5000):

  berth serve`,
		Example: `  berth serve
  berth login -u admin
  berth config set defaults.registry=default`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.AddCommand(&cobra.Command{
		Use:     "version",
		Short:   "Print berth's version",
		Example: "  berth version",
		Args:    cobra.NoArgs,
		Run:     func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), Version) },
	})
	root.AddCommand(
		auth.NewCmdLogin(f, nil),
		auth.NewCmdLogout(f, nil),
		configcmd.NewCmdConfig(f),
		registrycmd.NewCmdRegistry(f),
		repository.NewCmdRepository(f),
		purge.NewCmdPurge(f, nil),
		importcmd.NewCmdImport(f, nil),
		networkrule.NewCmdNetworkRule(f),
		network.NewCmdNetwork(f),
		privateendpoint.NewCmdPrivateEndpoint(f),
		agentpool.NewCmdAgentPool(f),
		resource.NewCmdResource(f),
		sp.NewCmdSP(f),
		identitycmd.NewCmdIdentity(f),
		user.NewCmdUser(f),
		role.NewCmdRole(f),
		scopemap.NewCmdScopeMap(f),
		tokencmd.NewCmdToken(f),
		buildcmd.NewCmdBuild(f, nil),
		taskcmd.NewCmdTask(f),
		runcmd.NewCmdRun(f, nil),
		credhelper.NewCmdCredentialHelper(f),
	)
	root.AddCommand(extra...)
	return root
}

// Run runs the command line args with f and returns the exit status: 0, or
// 1 after writing "Error: <message>" to f's error stream (unless the command
// reported it already: cmdutil.SilentError).
func Run(ctx context.Context, f *cmdutil.Factory, args []string, extra ...*cobra.Command) int {
	root := NewRoot(f, extra...)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var silent *cmdutil.SilentError
		if !errors.As(err, &silent) {
			fmt.Fprintln(f.IOStreams.ErrOut, "Error: "+err.Error())
		}
		return 1
	}
	return 0
}

// Main runs the command line and exits with its status.
func Main(extra ...*cobra.Command) {
	f := cmdutil.NewFactory(cmdutil.System(), "", Version)
	os.Exit(Run(context.Background(), f, os.Args[1:], extra...))
}
