package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// Builtins are the berth commands a cmd step can run (`cmd: berth …`).
var Builtins = []string{"purge"}

// builtin runs a built-in berth command inside the agent, with the run's
// credentials and from its egress address; what it prints goes to the
// step's log.
func (r *stepRun) builtin(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "purge" {
		name := "berth"
		if len(args) > 0 {
			name += " " + args[0]
		}
		return fmt.Errorf("%s is not a built-in command of a run: the built-ins are berth %s", name, strings.Join(Builtins, ", berth "))
	}
	return r.purge(ctx, args[1:])
}

// purge runs `berth purge` with the real command's flags. Its registry is
// the run's own (-r may name it, or be left out), reached through its
// metadata API with the run's credential for it.
func (r *stepRun) purge(ctx context.Context, args []string) error {
	out := r.log.w
	ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}
	f := &cmdutil.Factory{IOStreams: ios, Version: "agent",
		Config: func() (*userconfig.Config, error) { return nil, errors.New("a run has no user config") },
		Client: func() (*client.Client, error) { return nil, errors.New("a run has no berth login") },
	}
	var opts *purge.Options
	cmd := purge.NewCmdPurge(f, func(_ context.Context, o *purge.Options) error { opts = o; return nil })
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	home := r.job.Registry
	if home == "" {
		home = r.job.LoginServer
	}
	cmd.PreRunE = func(c *cobra.Command, _ []string) error {
		if !c.Flags().Changed("registry") {
			return c.Flags().Set("registry", home)
		}
		return nil
	}
	if err := cmd.ExecuteContext(ctx); err != nil {
		return fmt.Errorf("berth purge: %w", err)
	}
	if opts == nil {
		return nil // --help
	}
	if opts.Registry != home && opts.Registry != r.job.LoginServer {
		return fmt.Errorf("berth purge: -r %s: a run purges its own registry, %s", opts.Registry, home)
	}
	opts.Metadata = r.metadataAPI
	return purge.Run(ctx, opts)
}

// metadataAPI is the run's registry's /acr/v1 API, reached from the egress
// address (and the private endpoint, if any) with a refresh token for the
// run's credential for it.
func (r *stepRun) metadataAPI(ctx context.Context) (*client.Metadata, string, error) {
	ls := r.job.LoginServer
	if !r.reg.credentialed(ls) {
		return nil, "", fmt.Errorf("%s: %w: give the task a credential for it (berth task credential add), or run it with authMode Default", ls, errNoCredential)
	}
	rc, err := r.reg.client(ctx, ls)
	if err != nil {
		return nil, "", err
	}
	refresh, err := rc.RefreshToken(ctx, ls)
	if err != nil {
		return nil, "", fmt.Errorf("getting a registry token from %s: %w", ls, err)
	}
	r.sec.add(refresh)
	scheme := "https://"
	if r.e.PlainHTTP {
		scheme = "http://"
	}
	c, err := client.New(scheme+ls, client.WithHTTPClient(rc.HTTPClient()), client.WithUserAgent("berth-agent"))
	if err != nil {
		return nil, "", err
	}
	return c.Metadata(ls, refresh), ls, nil
}
