package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/agent"
)

type agentOptions struct {
	server, pool, token, egress, dataDir, buildkit, name string
	plainHTTP                                            bool
}

func newAgentCmd() *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent --server URL --pool NAME --token TOKEN --egress-address ADDR",
		Short: "Run a build agent of an agent pool",
		Long: `Run a build agent: it leases the runs of its agent pool from the server's
agent API, builds them with BuildKit and pushes the results. Every registry
connection a run makes (its login, base image pulls, pushes) leaves from
--egress-address, so a registry's network rules judge the run as they would
any client at that address: give an address inside the pool's egress
prefixes (the service tag BerthTasks.<location> of a public pool).

The agent starts its own buildkitd (state under --data-dir) at the first run,
or uses a running one with --buildkit-addr. "make engine" installs BuildKit.
The pool's token is in <server data dir>/agent-token for the pool "local", or
the token set for the pool in the server's config. berth serve already runs
one agent of the pool "local" in process.`,
		Example: `  berth agent --server http://127.0.0.1:5000 --pool local \
    --token "$(cat berth-data/agent-token)" --egress-address 127.0.1.11`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run() },
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "the berth server's URL, such as http://127.0.0.1:5000")
	f.StringVar(&o.pool, "pool", "local", "the agent pool it serves (its token names it to the server)")
	f.StringVar(&o.token, "token", "", "the pool's token (default: $BERTH_AGENT_TOKEN)")
	f.StringVar(&o.egress, "egress-address", "", "the IPv4 address every registry connection of a run leaves from")
	f.StringVar(&o.dataDir, "data-dir", "berth-agent", "where runs are unpacked and BuildKit keeps its state")
	f.StringVar(&o.buildkit, "buildkit-addr", "", "use a running buildkitd, such as unix:///run/buildkit/buildkitd.sock")
	f.StringVar(&o.name, "name", "", `the agent's name in runs (default "<pool>-<egress address>")`)
	f.BoolVar(&o.plainHTTP, "plain-http", true, "talk to registries over http (loopback set-ups); false for https")
	_ = cmd.MarkFlagRequired("server")
	_ = cmd.MarkFlagRequired("egress-address")
	return cmd
}

func (o *agentOptions) run() error {
	if o.token == "" {
		o.token = strings.TrimSpace(os.Getenv("BERTH_AGENT_TOKEN"))
	}
	if o.token == "" {
		return errors.New("give the pool's token with --token or $BERTH_AGENT_TOKEN")
	}
	egress, err := netip.ParseAddr(o.egress)
	if err != nil || !egress.Is4() {
		return fmt.Errorf("--egress-address %q: want an IPv4 address", o.egress)
	}
	if o.name == "" {
		o.name = o.pool + "-" + o.egress
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ag, err := agent.New(agent.Options{Server: o.server, Token: o.token, Name: o.name, Egress: egress,
		DataDir: o.dataDir, BuildkitAddr: o.buildkit, PlainHTTP: o.plainHTTP, Log: log})
	if err != nil {
		return err
	}
	defer ag.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Info("agent started", "server", o.server, "pool", o.pool, "egress", o.egress)
	return ag.Serve(ctx)
}
