package cmdutil

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/pkg/client"
)

// CallAndPrint makes cmd a command that sends one request and prints the
// answer: it adds -o/--output and --query, and its RunE gets the client,
// calls call and renders what call returns with Print.
//
// cmd carries the help (Use, Short, Long, Example) and the command's own
// flags, added by the caller after this returns. Args is cobra.NoArgs
// unless set. What must happen before the client is made (filling the
// registry from defaults.registry, checking flags together, asking for
// confirmation) goes in cmd.PreRunE, which cobra runs first.
//
// Commands with more to do than one call keep the options struct and runF
// of the package doc; these have nothing a runF test could look at that the
// stub server does not see.
func CallAndPrint(f *Factory, cmd *cobra.Command, call func(context.Context, *client.Client) (any, error)) *cobra.Command {
	var out OutputOptions
	AddOutputFlags(cmd, &out)
	return Call(f, cmd, func(ctx context.Context, c *client.Client) error {
		v, err := call(ctx, c)
		if err != nil {
			return err
		}
		return Print(f.IOStreams, out, v)
	})
}

// Call is CallAndPrint for a command that prints nothing, such as delete:
// no output flags, and call only returns an error.
func Call(f *Factory, cmd *cobra.Command, call func(context.Context, *client.Client) error) *cobra.Command {
	if cmd.Args == nil {
		cmd.Args = cobra.NoArgs
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := f.Client()
		if err != nil {
			return err
		}
		return call(cmd.Context(), c)
	}
	return cmd
}
