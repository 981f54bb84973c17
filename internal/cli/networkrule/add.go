package networkrule

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// Options are the inputs of `berth network-rule add` and `remove`.
type Options struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry  string
	IPAddress string
}

// NewCmdAdd returns `berth network-rule add`.
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmdEdit(f, runF, addRun, &cobra.Command{
		Use:   "add [-n NAME] --ip-address ADDRESS",
		Short: "Let an IPv4 address or CIDR reach a registry",
		Long: `Add an IP rule to a registry: an IPv4 address (10.0.0.5) or CIDR (10.0.0.0/24)
that may reach it when its default action is Deny. The server normalises the
rule (10.1.2.3/24 becomes 10.1.2.0/24); adding a rule the registry already
has changes nothing. Prints the registry's rule set.`,
		Example: `  berth network-rule add -n blogbuildtest --ip-address 127.0.0.1/32

  # Let berth's build agents of a region through
  berth network list-service-tags --location local \
    --query "values[?id=='BerthTasks.local'].properties.addressPrefixes[]" -o tsv
  berth network-rule add -n blogbuildtest --ip-address 127.0.1.0/24`,
	})
}

// NewCmdRemove returns `berth network-rule remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	return newCmdEdit(f, runF, removeRun, &cobra.Command{
		Use:   "remove [-n NAME] --ip-address ADDRESS",
		Short: "Remove an IP rule from a registry",
		Long: `Remove the IP rule of an IPv4 address or CIDR from a registry (10.0.0.5 and
10.0.0.5/32 name the same rule). Prints the registry's rule set.`,
		Example: `  berth network-rule remove -n blogbuildtest --ip-address 127.0.1.0/24`,
	})
}

// newCmdEdit completes cmd, add or remove: both take the same flags and
// differ in run.
func newCmdEdit(f *cmdutil.Factory, runF func(context.Context, *Options) error,
	run func(context.Context, *Options) error, cmd *cobra.Command) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client}
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := resolveName(f, &opts.Registry); err != nil {
			return err
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return run(cmd.Context(), opts)
	}
	nameFlag(cmd, &opts.Registry)
	cmd.Flags().StringVar(&opts.IPAddress, "ip-address", "", "IPv4 address or CIDR, such as 10.0.0.5 or 10.0.0.0/24")
	_ = cmd.MarkFlagRequired("ip-address")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

func addRun(ctx context.Context, opts *Options) error {
	return edit(ctx, opts, func(rules []client.IPRule) ([]client.IPRule, bool, error) {
		if slices.ContainsFunc(rules, func(r client.IPRule) bool { return sameRange(r.Value, opts.IPAddress) }) {
			return rules, false, nil
		}
		return append(rules, client.IPRule{Action: client.ActionAllow, Value: opts.IPAddress}), true, nil
	})
}

func removeRun(ctx context.Context, opts *Options) error {
	return edit(ctx, opts, func(rules []client.IPRule) ([]client.IPRule, bool, error) {
		out := slices.DeleteFunc(slices.Clone(rules), func(r client.IPRule) bool { return sameRange(r.Value, opts.IPAddress) })
		if len(out) == len(rules) {
			return nil, false, fmt.Errorf("registry %q has no IP rule %q", opts.Registry, opts.IPAddress)
		}
		return out, true, nil
	})
}

// edit gets the registry's rules, changes them with change and, when they
// changed, sends the whole list back (a PATCH replaces the list); then it
// prints the rule set.
func edit(ctx context.Context, opts *Options, change func([]client.IPRule) ([]client.IPRule, bool, error)) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	regs := c.Registries()
	r, err := regs.Get(ctx, opts.Registry)
	if err != nil {
		return err
	}
	rules, changed, err := change(ruleSet(r).IPRules)
	if err != nil {
		return err
	}
	if changed {
		in := client.RegistryUpdate{NetworkRuleSet: &client.NetworkRuleSetUpdate{IPRules: rules}}
		if r, err = regs.Update(ctx, opts.Registry, in); err != nil {
			return err
		}
	}
	return cmdutil.Print(opts.IO, opts.Output, ruleSet(r))
}

// sameRange reports whether two rules cover the same addresses, as the
// server compares them: 10.0.0.5 and 10.0.0.5/32 are the same, and so are
// 10.1.2.3/24 and 10.1.2.0/24. What does not parse is compared as text; the
// server says what is wrong with it.
func sameRange(a, b string) bool {
	p, okA := prefix(a)
	q, okB := prefix(b)
	if okA && okB {
		return p == q
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

func prefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, 32), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}
