package cmdutil

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// BoolVar adds a flag that takes true or false as its value, as az's do
// (`--admin-enabled true`); a pflag bool takes none and would read "true" as
// a positional argument. *p stays nil when the flag is not given.
func BoolVar(cmd *cobra.Command, p **bool, name, usage string) {
	cmd.Flags().Var(&boolValue{p}, name, usage)
	_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion("true", "false"))
}

type boolValue struct{ p **bool }

func (b *boolValue) Type() string { return "true|false" }
func (b *boolValue) String() string {
	if b.p == nil || *b.p == nil {
		return ""
	}
	return strconv.FormatBool(**b.p)
}
func (b *boolValue) Set(s string) error {
	var v bool
	switch strings.ToLower(s) {
	case "true":
		v = true
	case "false":
	default:
		return fmt.Errorf("must be true or false")
	}
	*b.p = &v
	return nil
}

// EnumVar adds a string flag whose value must be one of values.
func EnumVar(cmd *cobra.Command, p *string, name, shorthand, value string, values []string, usage string) {
	*p = value
	cmd.Flags().VarP(&enumValue{p, values}, name, shorthand, usage)
	_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion(values...))
}

type enumValue struct {
	p      *string
	values []string
}

func (e *enumValue) Type() string   { return strings.Join(e.values, "|") }
func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.values, s) {
		return fmt.Errorf("must be one of %s", strings.Join(e.values, ", "))
	}
	*e.p = s
	return nil
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// ArgFlags are flags that take, besides their own value, the positional
// arguments that follow them, as az's multi-value options do:
//
//	--repository samples/* content/read metadata/read
//	--scopes /registries/a /registries/b
//
// pflag gives a flag one value and collects the other words as positional
// arguments, in order, while it parses. So each time one of these flags is
// set, ArgFlags notes how many positional arguments were already seen;
// Resolve then hands each use of a flag the arguments between it and the
// next use. A flag may be repeated (--repository a content/read
// --repository b content/write), and other flags may come anywhere.
type ArgFlags struct {
	fs   *pflag.FlagSet
	uses []ArgFlagUse
}

// ArgFlagUse is one use of an ArgFlags flag on the command line.
type ArgFlagUse struct {
	Flag  string   // the flag's name, without dashes
	Value string   // the flag's own value
	Args  []string // the positional arguments that followed it
	at    int      // positional arguments seen before it
}

// Values returns the flag's value followed by its arguments.
func (u ArgFlagUse) Values() []string { return append([]string{u.Value}, u.Args...) }

// NewArgFlags returns the ArgFlags of cmd. cmd must accept arbitrary
// arguments and pass them to Resolve.
func NewArgFlags(cmd *cobra.Command) *ArgFlags { return &ArgFlags{fs: cmd.Flags()} }

// Var adds flag name; valueName names its value and arguments in the help
// ("REPO ACTION...").
func (a *ArgFlags) Var(name, shorthand, valueName, usage string) {
	a.fs.VarP(&argFlagValue{a, name, valueName}, name, shorthand, usage)
}

type argFlagValue struct {
	a         *ArgFlags
	name      string
	valueName string
}

func (v *argFlagValue) Type() string   { return v.valueName }
func (v *argFlagValue) String() string { return "" }
func (v *argFlagValue) Set(s string) error {
	v.a.uses = append(v.a.uses, ArgFlagUse{Flag: v.name, Value: s, at: len(v.a.fs.Args())})
	return nil
}

// Resolve gives each use of the flags the positional arguments (args, as
// cobra passes them) that followed it. Arguments before the first use are
// an error: they belong to no flag.
func (a *ArgFlags) Resolve(args []string) ([]ArgFlagUse, error) {
	first := len(args)
	if len(a.uses) > 0 {
		first = min(a.uses[0].at, len(args))
	}
	if first > 0 {
		if len(a.uses) == 0 {
			return nil, fmt.Errorf("unexpected argument %q", args[0])
		}
		return nil, fmt.Errorf("unexpected argument %q: arguments must follow the flag they belong to", args[0])
	}
	uses := slices.Clone(a.uses)
	for i := range uses {
		end := len(args)
		if i+1 < len(uses) {
			end = min(uses[i+1].at, len(args))
		}
		uses[i].Args = slices.Clone(args[min(uses[i].at, end):end])
	}
	return uses, nil
}
