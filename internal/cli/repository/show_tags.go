package repository

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

var orderByValues = []string{"time_desc", "time_asc"}

// NewCmdShowTags returns `berth repository show-tags`.
func NewCmdShowTags(f *cmdutil.Factory) *cobra.Command {
	var registry, repository, order string
	var top int
	var detail bool
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show-tags [-r REGISTRY] --repository REPO [--orderby time_desc|time_asc] [--top N] [--detail]",
		Short: "List a repository's tags",
		Long: `List the tags of a repository: their names, or with --detail each tag's
digest, times and locks. Tags are in name order, or by last update time
with --orderby time_desc (newest first) or time_asc. --top N shows only the
first N. A tag whose listEnabled is false is left out.`,
		Example: `  berth repository show-tags -r blogbuildtest --repository samples/hello

  # The five most recently pushed tags, with their digests and locks
  berth repository show-tags -r blogbuildtest --repository samples/hello --orderby time_desc --top 5 --detail -o table`,
		PreRunE: func(*cobra.Command, []string) error {
			if top < 0 {
				return fmt.Errorf("--top %d: give a positive number", top)
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return nil, err
		}
		tags, err := m.Tags(ctx, repository, client.ListQuery{OrderBy: orderBy(order), Top: top})
		if err != nil || detail {
			return tags, err
		}
		names := make([]string, 0, len(tags))
		for _, t := range tags {
			names = append(names, t.Name)
		}
		return names, nil
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&repository, "repository", "", "the repository's name")
	_ = cmd.MarkFlagRequired("repository")
	cmdutil.EnumVar(cmd, &order, "orderby", "", "", orderByValues, "order by last update time: time_desc or time_asc (default: by name)")
	cmd.Flags().IntVar(&top, "top", 0, "show at most this many")
	cmd.Flags().BoolVar(&detail, "detail", false, "show each tag's digest, times and locks, not only its name")
	return cmd
}

// NewCmdShowManifests returns `berth repository show-manifests`.
func NewCmdShowManifests(f *cmdutil.Factory) *cobra.Command {
	var registry, repository, order string
	var top int
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show-manifests [-r REGISTRY] --repository REPO [--orderby time_desc|time_asc] [--top N]",
		Short: "List a repository's manifests",
		Long: `List the manifests of a repository: digest, size, times, platform, media
types, tags (every tag, listed or not) and locks. Manifests are in digest
order, or by last update time with --orderby time_desc (newest first) or
time_asc. --top N shows only the first N. A manifest whose listEnabled is
false is left out. An untagged manifest has no tags field.`,
		Example: `  berth repository show-manifests -r blogbuildtest --repository samples/hello

  # Digests of the untagged manifests
  berth repository show-manifests -r blogbuildtest --repository samples/hello --query "[?!tags].digest" -o tsv`,
		PreRunE: func(*cobra.Command, []string) error {
			if top < 0 {
				return fmt.Errorf("--top %d: give a positive number", top)
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return nil, err
		}
		return m.Manifests(ctx, repository, client.ListQuery{OrderBy: orderBy(order), Top: top})
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&repository, "repository", "", "the repository's name")
	_ = cmd.MarkFlagRequired("repository")
	cmdutil.EnumVar(cmd, &order, "orderby", "", "", orderByValues, "order by last update time: time_desc or time_asc (default: by digest)")
	cmd.Flags().IntVar(&top, "top", 0, "show at most this many")
	return cmd
}
