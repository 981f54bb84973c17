// Package agentpool holds `berth agentpool …`: a registry's dedicated agent
// pools, agents the server runs for that registry's runs alone, reaching
// it through one of its private endpoints when the pool names one. The
// server validates the pool and starts and stops its agents; this package
// only asks. It reaches the server only through pkg/client.
package agentpool

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdAgentPool returns `berth agentpool` and its verbs.
func NewCmdAgentPool(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agentpool",
		Short: "Manage a registry's dedicated agent pools",
		Long: `Manage a registry's dedicated agent pools. A dedicated pool is a set of build
agents that the server runs for one registry's runs alone ("count" of them in
each server replica, sharing its BuildKit). Runs go to it when they name it:
berth build --agent-pool NAME.

A pool attached to a private endpoint (--private-endpoint) reaches the
registry through that endpoint for every registry request of its runs (login,
base image pulls, pushes), and its agents leave from the endpoint's own
address: its runs work even when the registry's public network access is
disabled. Its runs are refused while the endpoint is not approved. A pool
without an endpoint reaches the login server from an address of its own
(shown in egressPrefixes), which the registry's network rules can allow.

Each pool has its own agent token, which no command shows: only the server's
own agents hold it. Pool names are per registry and cannot be a public
pool's name (such as local).

Commands take -r/--registry, or use defaults.registry when it is absent.`,
		Example: `  berth private-endpoint create -r blogbuildtest -n pe1 --address 127.0.2.1:5000
  berth private-endpoint approve -r blogbuildtest -n pe1
  berth agentpool create -r blogbuildtest -n vnetpool --private-endpoint pe1 --count 1
  berth build -r blogbuildtest --agent-pool vnetpool --image app:v1 .`,
	}
	cmd.AddCommand(NewCmdCreate(f), NewCmdShow(f), NewCmdList(f), NewCmdUpdate(f), NewCmdDelete(f))
	return cmd
}

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

func nameFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "name", "n", "", "agent pool name")
	_ = cmd.MarkFlagRequired("name")
}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}

// NewCmdCreate returns `berth agentpool create`.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	var registry, name, endpoint string
	var count int
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "create [-r REGISTRY] -n NAME [--count N] [--private-endpoint PE]",
		Short: "Create a dedicated agent pool",
		Long: fmt.Sprintf(`Create a dedicated agent pool of a registry with --count agents (default 1,
at most %d; 0 creates it with none running). The server starts its agents
within a moment.

--private-endpoint names one of the registry's private endpoints (berth
private-endpoint create): the pool's agents reach the registry through it, and
leave from its address. The endpoint must exist; it must be approved before
runs can be queued on the pool.`, maxCount),
		Example: `  berth agentpool create -r blogbuildtest -n vnetpool --private-endpoint pe1 --count 1

  # A pool of two agents that reach the login server from an address of their own
  berth agentpool create -r blogbuildtest -n ci --count 2 --query properties.egressPrefixes -o tsv`,
		PreRunE: func(*cobra.Command, []string) error {
			if count < 0 || count > maxCount {
				return fmt.Errorf("--count %d: give 0 to %d agents", count, maxCount)
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.AgentPools(registry).Create(ctx, name, count, endpoint)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().IntVar(&count, "count", 1, "how many agents the server runs for the pool")
	cmd.Flags().StringVar(&endpoint, "private-endpoint", "", "the registry's private endpoint the agents reach it through")
	return cmd
}

// maxCount is the server's bound on a pool's agents, checked here too so
// that a typo fails before any request.
const maxCount = 10

// NewCmdShow returns `berth agentpool show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] -n NAME",
		Short: "Show a dedicated agent pool",
		Example: `  berth agentpool show -r blogbuildtest -n vnetpool
  berth agentpool show -r blogbuildtest -n vnetpool --query properties.egressPrefixes -o tsv`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.AgentPools(registry).Get(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	return cmd
}

// NewCmdList returns `berth agentpool list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	var registry string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list [-r REGISTRY]",
		Short: "List a registry's dedicated agent pools",
		Example: `  berth agentpool list -r blogbuildtest
  berth agentpool list -r blogbuildtest -o tsv \
    --query "[].[name, properties.count, properties.privateEndpoint]"`,
		PreRunE: func(*cobra.Command, []string) error { return resolveRegistry(f, &registry) },
	}, func(ctx context.Context, c *client.Client) (any, error) {
		return c.AgentPools(registry).List(ctx)
	})
	registryFlag(cmd, &registry)
	return cmd
}

// NewCmdUpdate returns `berth agentpool update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var registry, name, endpoint string
	var count int
	var in client.AgentPoolUpdate
	cmd := &cobra.Command{
		Use:   "update [-r REGISTRY] -n NAME [--count N] [--private-endpoint PE]",
		Short: "Change a dedicated agent pool's count or private endpoint",
		Long: `Change how many agents a dedicated pool has, or the private endpoint they
reach the registry through; --private-endpoint "" detaches the pool from its
endpoint. The server starts or stops agents to match within a moment; an agent
stopped while it runs a build ends that run as an error.`,
		Example: `  berth agentpool update -r blogbuildtest -n vnetpool --count 3
  berth agentpool update -r blogbuildtest -n vnetpool --private-endpoint ""`,
	}
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Flags().Changed("count") {
			if count < 0 || count > maxCount {
				return fmt.Errorf("--count %d: give 0 to %d agents", count, maxCount)
			}
			in.Count = &count
		}
		if cmd.Flags().Changed("private-endpoint") {
			in.PrivateEndpoint = &endpoint
		}
		if in.Count == nil && in.PrivateEndpoint == nil {
			return errors.New("nothing to update: give --count, --private-endpoint or both")
		}
		return resolveRegistry(f, &registry)
	}
	cmd = cmdutil.CallAndPrint(f, cmd, func(ctx context.Context, c *client.Client) (any, error) {
		return c.AgentPools(registry).Update(ctx, name, in)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().IntVar(&count, "count", 0, "how many agents the server runs for the pool, 0 to 10")
	cmd.Flags().StringVar(&endpoint, "private-endpoint", "", `the registry's private endpoint the agents reach it through ("": none)`)
	return cmd
}

// NewCmdDelete returns `berth agentpool delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, name string
	var yes bool
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] -n NAME [--yes]",
		Short: "Delete a dedicated agent pool and stop its agents",
		Long: `Delete a dedicated agent pool: the server stops its agents. A pool with runs
that have not ended cannot be deleted; cancel them first (berth task
cancel-run). On a terminal it asks for confirmation unless --yes is given; in
a script it refuses to run without --yes.`,
		Example: `  berth agentpool delete -r blogbuildtest -n vnetpool --yes`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := resolveRegistry(f, &registry); err != nil {
				return err
			}
			return cmdutil.Confirm(f.IOStreams, yes, fmt.Sprintf("delete agent pool %q of registry %q", name, registry))
		},
	}, func(ctx context.Context, c *client.Client) error {
		return c.AgentPools(registry).Delete(ctx, name)
	})
	registryFlag(cmd, &registry)
	nameFlag(cmd, &name)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
