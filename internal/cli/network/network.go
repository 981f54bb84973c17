// Package network holds `berth network …`: what the network perimeter needs
// to know of berth itself, for now the service tags that name the egress
// addresses of its agent pools. It reaches the server only through
// pkg/client.
package network

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdNetwork returns `berth network` and its verbs.
func NewCmdNetwork(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Look up berth's network addresses, for network rules",
		Example: `  berth network list-service-tags --location local \
    --query "values[?id=='BerthTasks.local'].properties.addressPrefixes[]" -o tsv`,
	}
	cmd.AddCommand(NewCmdListServiceTags(f))
	return cmd
}

// NewCmdListServiceTags returns `berth network list-service-tags`.
func NewCmdListServiceTags(f *cmdutil.Factory) *cobra.Command {
	var location string
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "list-service-tags --location LOCATION",
		Short: "List the address prefixes of berth's services in a location",
		Long: `List the service tags of a location: BerthTasks.<location> names the egress
address prefixes of the public agent pools that run builds and tasks there.
Add them as IP rules ("berth network-rule add") to let builds reach a
registry whose default action is Deny.

The answer is {"values": [...]}, each value with id, name and properties
(region, addressPrefixes, changeNumber, which changes whenever the prefixes
do).`,
		Example: `  berth network list-service-tags --location local

  # One prefix a line
  berth network list-service-tags --location local \
    --query "values[?id=='BerthTasks.local'].properties.addressPrefixes[]" -o tsv`,
	}, func(ctx context.Context, c *client.Client) (any, error) {
		tags, err := c.ServiceTags(ctx, location)
		if err != nil {
			return nil, err
		}
		// The whole object, so that queries written for the API's answer
		// work on the command's.
		return struct {
			Values []client.ServiceTag `json:"values"`
		}{tags}, nil
	})
	cmd.Flags().StringVarP(&location, "location", "l", "", "location (region) of the service tags, such as local")
	_ = cmd.MarkFlagRequired("location")
	return cmd
}
