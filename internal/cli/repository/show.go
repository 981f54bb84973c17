package repository

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdShow returns `berth repository show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	var registry, repository, img string
	var parsed image
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "show [-r REGISTRY] (--repository REPO | --image repo:tag|repo@digest)",
		Short: "Show a repository, a tag or a manifest, with its locks",
		Long: `Show the attributes of a repository (--repository: its times, counts of
manifests and tags, and changeableAttributes), of a tag (--image repo:tag)
or of a manifest (--image repo@digest).

changeableAttributes are the locks: deleteEnabled, writeEnabled,
readEnabled and listEnabled (see "berth repository update").`,
		Example: `  berth repository show -r blogbuildtest --repository samples/hello
  berth repository show -r blogbuildtest --image samples/hello:v1
  berth repository show -r blogbuildtest --image samples/hello:v1 --query changeableAttributes.writeEnabled -o tsv`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := exactlyOne(repository, img); err != nil {
				return err
			}
			if img != "" {
				var err error
				if parsed, err = parseImage(img); err != nil {
					return err
				}
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) (any, error) {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return nil, err
		}
		switch {
		case repository != "":
			return m.Repository(ctx, repository)
		case parsed.Digest != "":
			return m.Manifest(ctx, parsed.Repository, parsed.Digest)
		default:
			return m.Tag(ctx, parsed.Repository, parsed.Tag)
		}
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&repository, "repository", "", "the repository's name")
	cmd.Flags().StringVar(&img, "image", "", "an image: repo:tag or repo@digest")
	return cmd
}
