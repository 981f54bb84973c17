package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/importcmd"
	"github.com/berth-project/berth/internal/cli/purge"
	"github.com/berth-project/berth/internal/cli/userconfig"
	"github.com/berth-project/berth/pkg/client"
)

// Builtins are the berth commands a cmd step can run (`cmd: berth …`).
var Builtins = []string{"purge", "import"}

// builtin runs a built-in berth command inside the agent, with the run's
// credentials and from its egress address; what it prints goes to the
// step's log.
func (r *stepRun) builtin(ctx context.Context, args []string) error {
	switch {
	case len(args) > 0 && args[0] == "purge":
		return r.purge(ctx, args[1:])
	case len(args) > 0 && args[0] == "import":
		return r.importImage(ctx, args[1:])
	}
	name := "berth"
	if len(args) > 0 {
		name += " " + args[0]
	}
	return fmt.Errorf("%s is not a built-in command of a run: the built-ins are berth %s", name, strings.Join(Builtins, ", berth "))
}

// command parses args with a real berth command's flags, its output
// going to the step's log and its registry defaulting to the run's; it
// returns false for --help.
func (r *stepRun) command(ctx context.Context, name string, args []string, build func(*cmdutil.Factory) *cobra.Command) (bool, error) {
	out := r.log.w
	ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}
	f := &cmdutil.Factory{IOStreams: ios, Version: "agent",
		Config: func() (*userconfig.Config, error) { return nil, errors.New("a run has no user config") },
		Client: func() (*client.Client, error) { return nil, errors.New("a run has no berth login") },
	}
	ran := false
	cmd := build(f)
	inner := cmd.RunE
	cmd.RunE = func(c *cobra.Command, a []string) error { ran = true; return inner(c, a) }
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.PreRunE = func(c *cobra.Command, _ []string) error {
		if !c.Flags().Changed("registry") {
			return c.Flags().Set("registry", r.home())
		}
		return nil
	}
	if err := cmd.ExecuteContext(ctx); err != nil {
		return false, fmt.Errorf("berth %s: %w", name, err)
	}
	return ran, nil
}

// home is the run's registry, as -r names it.
func (r *stepRun) home() string {
	if r.job.Registry != "" {
		return r.job.Registry
	}
	return r.job.LoginServer
}

// importImage runs `berth import` with the real command's flags: the
// server imports, into the run's registry, on the rights of the identity
// the task logs in to its registry with (`berth task credential add
// --login-server <its login server> --use-identity …`), whose identity
// token the agent gets for the run.
func (r *stepRun) importImage(ctx context.Context, args []string) error {
	var opts *importcmd.Options
	ran, err := r.command(ctx, "import", args, func(f *cmdutil.Factory) *cobra.Command {
		return importcmd.NewCmdImport(f, func(_ context.Context, o *importcmd.Options) error { opts = o; return nil })
	})
	if err != nil || !ran {
		return err
	}
	if opts.Registry != r.home() && opts.Registry != r.job.LoginServer {
		return fmt.Errorf("berth import: -r %s: a run imports into its own registry, %s", opts.Registry, r.home())
	}
	opts.Registry = r.job.Registry
	identity := ""
	if st := r.job.Steps; st != nil {
		for _, c := range st.RegistryCredentials {
			if c.LoginServer == r.job.LoginServer {
				identity = c.Identity
			}
		}
	}
	if identity == "" || r.job.IdentityToken == nil || r.job.ServerURL == "" {
		return fmt.Errorf("berth import: the server imports on the rights of a managed identity: give the task one and a credential for %s with it (berth task credential add --login-server %s --use-identity [system])", r.job.LoginServer, r.job.LoginServer)
	}
	tok, err := r.job.IdentityToken(ctx, identity)
	if err != nil {
		return fmt.Errorf("berth import: an identity token for %s: %w", identity, err)
	}
	r.sec.add(tok)
	rc, err := r.reg.client(ctx, r.job.LoginServer)
	if err != nil {
		return err
	}
	c, err := client.New(r.job.ServerURL, client.WithHTTPClient(rc.HTTPClient()), client.WithUserAgent("berth-agent"),
		client.WithTokenSource(client.StaticToken(tok)))
	if err != nil {
		return err
	}
	opts.Client = func() (*client.Client, error) { return c, nil }
	return importcmd.Run(ctx, opts)
}

// purge runs `berth purge` with the real command's flags. Its registry is
// the run's own (-r may name it, or be left out), reached through its
// metadata API with the run's credential for it.
func (r *stepRun) purge(ctx context.Context, args []string) error {
	var opts *purge.Options
	ran, err := r.command(ctx, "purge", args, func(f *cmdutil.Factory) *cobra.Command {
		return purge.NewCmdPurge(f, func(_ context.Context, o *purge.Options) error { opts = o; return nil })
	})
	if err != nil || !ran {
		return err
	}
	if opts.Registry != r.home() && opts.Registry != r.job.LoginServer {
		return fmt.Errorf("berth purge: -r %s: a run purges its own registry, %s", opts.Registry, r.home())
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
