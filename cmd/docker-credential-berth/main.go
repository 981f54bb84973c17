// Command docker-credential-berth is berth's docker credential helper: put
// it on PATH and name it in docker's config.json ("credsStore": "berth") so
// that docker, podman, crane, oras, regctl, skopeo and helm get registry
// tokens made and renewed from the identity token of `berth login`. It is
// `berth credential-helper` (see internal/cli/credhelper) under the name the
// protocol looks for.
package main

import (
	"context"
	"os"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

func main() {
	f := cmdutil.NewFactory(cmdutil.System(), "", cli.Version)
	os.Exit(cli.Run(context.Background(), f, append([]string{"credential-helper"}, os.Args[1:]...)))
}
