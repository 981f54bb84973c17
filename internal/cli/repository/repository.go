// Package repository holds `berth repository …`: the repositories, tags and
// manifests of a registry, their locks, and deleting and untagging images.
// It works over the data plane (the registry's /acr/v1/ metadata API, with
// a registry token obtained as `berth registry login` does), so the
// registry's network rules, RBAC and locks apply to it as to docker; it
// reaches the server only through pkg/client.
package repository

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// NewCmdRepository returns `berth repository` and its verbs.
func NewCmdRepository(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repository",
		Short: "List, show, lock, untag and delete a registry's repositories and images",
		Long: `List and show the repositories, tags and manifests of a registry, change their
locks (write, delete, read and list enabled), untag images and delete them.

These commands use the registry's data plane: the metadata API under
/acr/v1/ at the registry's login server, with a registry token exchanged
for your "berth login" identity (as "berth registry login" does). The
registry's network rules apply, and so do your roles on it: reading needs
AcrPull, Reader, AcrPush, Contributor or Owner; deleting and untagging need
AcrDelete, Contributor or Owner; changing locks needs AcrPush,
Contributor or Owner. Locks are honoured by docker pushes and
pulls and by deletes; see docs/metadata-api.md.

Commands take -r/--registry, or use defaults.registry when it is absent.
An image is repo:tag or repo@digest.`,
		Example: `  berth repository list -r blogbuildtest
  berth repository show-tags -r blogbuildtest --repository samples/hello --orderby time_desc --top 5
  berth repository update -r blogbuildtest --image samples/hello:v1 --write-enabled false
  berth repository delete -r blogbuildtest --image samples/hello:v0 --yes`,
	}
	cmd.AddCommand(NewCmdList(f), NewCmdShow(f), NewCmdShowTags(f), NewCmdShowManifests(f),
		NewCmdUpdate(f), NewCmdDelete(f), NewCmdUntag(f))
	return cmd
}

func registryFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "registry", "r", "", "registry name (default: defaults.registry)")
}

// resolveRegistry fills *name from defaults.registry when -r was not given.
func resolveRegistry(f *cmdutil.Factory, name *string) error {
	n, err := f.RegistryName(*name)
	*name = n
	return err
}

// image is a parsed --image: a repository and a tag or a digest.
type image struct {
	Repository string
	Tag        string
	Digest     string
}

func (i image) String() string {
	if i.Digest != "" {
		return i.Repository + "@" + i.Digest
	}
	return i.Repository + ":" + i.Tag
}

// parseImage reads repo:tag or repo@digest.
func parseImage(s string) (image, error) {
	bad := func(why string) (image, error) {
		return image{}, fmt.Errorf("--image %q: %s; give repo:tag or repo@digest", s, why)
	}
	if repo, digest, ok := strings.Cut(s, "@"); ok {
		if repo == "" {
			return bad("no repository")
		}
		if algo, hex, ok := strings.Cut(digest, ":"); !ok || algo == "" || hex == "" {
			return bad("the digest is not algorithm:hex")
		}
		return image{Repository: repo, Digest: digest}, nil
	}
	i := strings.LastIndex(s, ":")
	if i < 0 || strings.Contains(s[i:], "/") {
		return bad("no tag")
	}
	if s[:i] == "" {
		return bad("no repository")
	}
	if s[i+1:] == "" {
		return bad("an empty tag")
	}
	return image{Repository: s[:i], Tag: s[i+1:]}, nil
}

// exactlyOne checks that one of --repository and --image was given.
func exactlyOne(repository, img string) error {
	switch {
	case repository == "" && img == "":
		return errors.New("give --repository or --image")
	case repository != "" && img != "":
		return errors.New("give --repository or --image, not both")
	}
	return nil
}

// orderBy maps --orderby to the API's orderby.
func orderBy(flag string) string {
	switch flag {
	case "time_desc":
		return "timedesc"
	case "time_asc":
		return "timeasc"
	}
	return ""
}
