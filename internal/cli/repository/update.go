package repository

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// NewCmdUpdate returns `berth repository update`.
func NewCmdUpdate(f *cmdutil.Factory) *cobra.Command {
	var registry, repository, img string
	var parsed image
	var u client.AttributesUpdate
	cmd := cmdutil.CallAndPrint(f, &cobra.Command{
		Use:   "update [-r REGISTRY] (--image repo:tag|repo@digest | --repository REPO) [--write-enabled B] [--delete-enabled B] [--read-enabled B] [--list-enabled B]",
		Short: "Lock or unlock a tag, a manifest or a repository",
		Long: `Change the locks of a tag (--image repo:tag), a manifest (--image
repo@digest) or a whole repository (--repository), and print it after the
change. Only the attributes given change; each takes true or false.

  --write-enabled false   refuses pushing the tag to other content (a push of
                          the same content is allowed), and deleting it or
                          its manifest; on a repository, any push into it
  --delete-enabled false  refuses deleting the tag, manifest or repository
                          (and, for a tag, its manifest); purge skips it
  --read-enabled false    refuses pulls by that tag, or of that manifest
  --list-enabled false    leaves it out of listings (tags/list, _tags,
                          _manifests, _catalog); pulls still work

A refused push or delete fails with the registry's 403 DENIED error naming
the lock. Changing locks is never itself locked; it is how a lock is
lifted. It needs the rights to push (AcrPush, Contributor or Owner).`,
		Example: `  # Lock a release: no overwrite, no delete
  berth repository update -r blogbuildtest --image samples/hello:v1 --write-enabled false --delete-enabled false

  # Lift the lock
  berth repository update -r blogbuildtest --image samples/hello:v1 --write-enabled true --delete-enabled true

  # Hide a manifest from listings
  berth repository update -r blogbuildtest --image samples/hello@sha256:0f3a… --list-enabled false

  # Freeze a whole repository
  berth repository update -r blogbuildtest --repository samples/hello --write-enabled false`,
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
			if u.Empty() {
				return errors.New("nothing to change: give --write-enabled, --delete-enabled, --read-enabled or --list-enabled")
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
			return m.UpdateRepository(ctx, repository, u)
		case parsed.Digest != "":
			return m.UpdateManifest(ctx, parsed.Repository, parsed.Digest, u)
		default:
			return m.UpdateTag(ctx, parsed.Repository, parsed.Tag, u)
		}
	})
	registryFlag(cmd, &registry)
	cmd.Flags().StringVar(&img, "image", "", "the tag (repo:tag) or manifest (repo@digest) to change")
	cmd.Flags().StringVar(&repository, "repository", "", "the repository to change, as a whole")
	cmdutil.BoolVar(cmd, &u.WriteEnabled, "write-enabled", "allow pushing over it and deleting it")
	cmdutil.BoolVar(cmd, &u.DeleteEnabled, "delete-enabled", "allow deleting it")
	cmdutil.BoolVar(cmd, &u.ReadEnabled, "read-enabled", "allow pulling it")
	cmdutil.BoolVar(cmd, &u.ListEnabled, "list-enabled", "show it in listings")
	return cmd
}
