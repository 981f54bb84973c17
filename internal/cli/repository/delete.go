package repository

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdDelete returns `berth repository delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	var registry, repository, img string
	var yes bool
	var parsed image
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "delete [-r REGISTRY] (--image repo:tag|repo@digest | --repository REPO) [--yes]",
		Short: "Delete an image's manifest and all its tags, or a whole repository",
		Long: `Delete a manifest and every tag that names it: the manifest repo:tag names
(so other tags of the same manifest go too), or repo@digest. To remove one
tag only, use "berth repository untag". --repository deletes a repository
with all its tags and manifests.

A lock refuses the delete with the registry's 403 DENIED error: deleteEnabled
or writeEnabled false on the manifest, on a tag of it, or on the
repository. Nothing is deleted then. Blobs no manifest uses any more are
removed later by garbage collection.

Off a terminal, --yes is required.`,
		Example: `  berth repository delete -r blogbuildtest --image samples/hello:v0 --yes
  berth repository delete -r blogbuildtest --image samples/hello@sha256:0f3a… --yes
  berth repository delete -r blogbuildtest --repository samples/old --yes`,
		PreRunE: func(*cobra.Command, []string) error {
			if err := exactlyOne(repository, img); err != nil {
				return err
			}
			what := "repository " + repository
			if img != "" {
				var err error
				if parsed, err = parseImage(img); err != nil {
					return err
				}
				what = "manifest " + parsed.String() + " and all its tags"
			}
			if err := resolveRegistry(f, &registry); err != nil {
				return err
			}
			return cmdutil.Confirm(f.IOStreams, yes, "delete "+what+" from registry "+registry)
		},
	}, func(ctx context.Context, c *client.Client) error {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return err
		}
		if repository != "" {
			_, err := m.DeleteRepository(ctx, repository)
			return err
		}
		digest := parsed.Digest
		if digest == "" {
			t, err := m.Tag(ctx, parsed.Repository, parsed.Tag)
			if err != nil {
				return err
			}
			if t.Digest == "" {
				return fmt.Errorf("the registry did not say which manifest %s names", parsed)
			}
			digest = t.Digest
		}
		return m.DeleteManifest(ctx, parsed.Repository, digest)
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&img, "image", "", "the image whose manifest to delete: repo:tag or repo@digest")
	cmd.Flags().StringVar(&repository, "repository", "", "the repository to delete, with everything in it")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// NewCmdUntag returns `berth repository untag`.
func NewCmdUntag(f *cmdutil.Factory) *cobra.Command {
	var registry, img string
	var parsed image
	cmd := cmdutil.Call(f, &cobra.Command{
		Use:   "untag [-r REGISTRY] --image repo:tag",
		Short: "Remove a tag, keeping its manifest",
		Long: `Remove one tag from a repository. The manifest it named stays, with its
other tags, and can still be pulled by digest (a purge with --untagged may
remove it later if no tag is left).

A lock refuses it with the registry's 403 DENIED error: deleteEnabled or
writeEnabled false on the tag or on the repository.`,
		Example: `  berth repository untag -r blogbuildtest --image samples/hello:latest`,
		PreRunE: func(*cobra.Command, []string) error {
			var err error
			if parsed, err = parseImage(img); err != nil {
				return err
			}
			if parsed.Digest != "" {
				return fmt.Errorf("--image %q: untag takes repo:tag; to delete a manifest use \"berth repository delete\"", img)
			}
			return resolveRegistry(f, &registry)
		},
	}, func(ctx context.Context, c *client.Client) error {
		m, _, err := c.RegistryMetadata(ctx, registry)
		if err != nil {
			return err
		}
		return m.DeleteTag(ctx, parsed.Repository, parsed.Tag)
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&img, "image", "", "the tag to remove: repo:tag")
	_ = cmd.MarkFlagRequired("image")
	return cmd
}
