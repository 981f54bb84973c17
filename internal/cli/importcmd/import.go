// Package importcmd holds `berth import`: a server-side copy of an image
// into a registry, from another registry of the server or from any OCI
// registry. The CLI only asks; the server reads the source and writes the
// target (POST /api/registries/{name}/importImage).
package importcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/pkg/client"
)

// Options are the inputs of `berth import`.
type Options struct {
	IO     *cmdutil.IOStreams
	Client func() (*client.Client, error)
	Output cmdutil.OutputOptions

	Registry   string
	Source     string
	TargetTags []string
	Username   string
	Password   string
	Force      bool
	NoWait     bool
}

// NewCmdImport returns `berth import`.
func NewCmdImport(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "import [-r REGISTRY] --source LOGINSERVER/REPO:TAG|LOGINSERVER/REPO@DIGEST [-t REPO:TAG …] [flags]",
		Short: "Copy an image into a registry, server-side",
		Long: `Import an image into a registry: the server copies its manifests (an index
with all its images) and blobs, from another registry of this server or from
any OCI registry, without the image passing through this machine.

--source is the source's login server, repository and tag or digest. Without
-t the image keeps its repository and tag (an import by digest sets no tag).
An existing target tag is an error unless --force.

Importing needs AcrPush, Contributor or Owner on the target. From a registry
of this server it also needs pull rights there (AcrPull, AcrPush, Reader,
Contributor or Owner), and it reads as the trusted service "import": a
source whose network rules refuse you is read only when it allows trusted
services (berth registry update --allow-trusted-services true). From another
registry, give its credentials with -u/-p (none: anonymous).`,
		Example: `  berth import -r blogbuildtest --source 127.0.3.1:5000/buildtest/hello-world:v1 -t hello-world:v1
  berth import -r blogbuildtest --source registry.example.com/library/alpine:3.20 -u me -p "$TOKEN" --force
  berth import -r blogbuildtest --source 127.0.3.1:5000/app@sha256:… -t app:pinned --no-wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := f.RegistryNameFlag("-r/--registry", opts.Registry)
			if err != nil {
				return err
			}
			opts.Registry = name
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Registry, "registry", "r", "", "registry to import into (default: defaults.registry)")
	fl.StringVar(&opts.Source, "source", "", "LOGINSERVER/REPO:TAG or LOGINSERVER/REPO@DIGEST")
	fl.StringArrayVarP(&opts.TargetTags, "image", "t", nil, "target REPO:TAG (repeatable; default: the source's)")
	fl.StringVarP(&opts.Username, "username", "u", "", "user name at an external source registry")
	fl.StringVarP(&opts.Password, "password", "p", "", "password or token at an external source registry")
	fl.BoolVar(&opts.Force, "force", false, "overwrite existing target tags")
	fl.BoolVar(&opts.NoWait, "no-wait", false, "return once the server accepted the import")
	_ = cmd.MarkFlagRequired("source")
	cmdutil.AddOutputFlags(cmd, &opts.Output)
	return cmd
}

// Request is the call opts make; malformed input is refused here, before
// anything is sent.
func (o *Options) Request() (client.ImportRequest, error) {
	var in client.ImportRequest
	host, image, ok := strings.Cut(strings.TrimSpace(o.Source), "/")
	if !ok || host == "" || image == "" || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return in, fmt.Errorf("--source %q: want LOGINSERVER/REPO:TAG or LOGINSERVER/REPO@DIGEST", o.Source)
	}
	if (o.Username == "") != (o.Password == "") {
		return in, fmt.Errorf("-u/--username and -p/--password go together")
	}
	in.Source = client.ImportSource{RegistryURI: host, SourceImage: image}
	if o.Username != "" {
		in.Source.Credentials = &client.ImportCredentials{Username: o.Username, Password: o.Password}
	}
	in.TargetTags = o.TargetTags
	in.Mode = client.ImportNoForce
	if o.Force {
		in.Mode = client.ImportForce
	}
	return in, nil
}

// Run imports.
func Run(ctx context.Context, o *Options) error {
	in, err := o.Request()
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	res, err := c.ImportImage(ctx, o.Registry, in, o.NoWait)
	if err != nil {
		return err
	}
	return cmdutil.Print(o.IO, o.Output, res)
}
