package importcmd_test

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
	"github.com/berth-project/berth/internal/cli/importcmd"
)

const result = `{"source":"127.0.3.1:5000/app:v1","digest":"sha256:aa","mediaType":"application/vnd.oci.image.index.v1+json",` +
	`"targets":[{"repository":"app","tags":["v1"]}],"manifests":3,"blobs":3,"blobsCopied":3,"bytesCopied":42}`

func TestImport(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return importcmd.NewCmdImport(f, nil) }
	clitest.RunCases(t, newCmd, []clitest.Case{{
		Name: "from a registry of the server",
		Args: []string{"-r", "blogbuildtest", "--source", "127.0.3.1:5000/app:v1", "-o", "tsv", "--query", "digest"},
		Stubs: []clitest.Stub{{Method: "POST", Path: "/api/registries/blogbuildtest/importImage",
			Body:  `{"source":{"registryUri":"127.0.3.1:5000","sourceImage":"app:v1"},"mode":"NoForce"}`,
			Reply: result}},
		Out: "sha256:aa\n",
	}, {
		Name: "external, forced, tags, no wait",
		Args: []string{"-r", "blogbuildtest", "--source", "registry.example.com/lib/app@sha256:aa", "-t", "a:1", "-t", "b:2",
			"-u", "me", "-p", "secret", "--force", "--no-wait", "-o", "none"},
		Stubs: []clitest.Stub{{Method: "POST", Path: "/api/registries/blogbuildtest/importImage?noWait=true",
			Body: `{"source":{"registryUri":"registry.example.com","sourceImage":"lib/app@sha256:aa",` +
				`"credentials":{"username":"me","password":"secret"}},"targetTags":["a:1","b:2"],"mode":"Force"}`,
			Status: 202, Reply: `{"source":"registry.example.com/lib/app@sha256:aa","targets":[]}`}},
	}, {
		Name:    "a source without a login server",
		Args:    []string{"-r", "blogbuildtest", "--source", "app:v1"},
		WantErr: `--source "app:v1": want LOGINSERVER/REPO:TAG or LOGINSERVER/REPO@DIGEST`,
	}, {
		Name:    "a user without a password",
		Args:    []string{"-r", "blogbuildtest", "--source", "r.example.com/app:v1", "-u", "me"},
		WantErr: `-u/--username and -p/--password go together`,
	}, {
		Name: "an existing tag",
		Args: []string{"-r", "blogbuildtest", "--source", "127.0.3.1:5000/app:v1"},
		Stubs: []clitest.Stub{{Method: "POST", Path: "/api/registries/blogbuildtest/importImage",
			Body:   `{"source":{"registryUri":"127.0.3.1:5000","sourceImage":"app:v1"},"mode":"NoForce"}`,
			Status: 409, Reply: `{"error":{"code":"Conflict","message":"app:v1 already exists in registry blogbuildtest; use --force (mode Force) to overwrite it"}}`}},
		WantErr: `app:v1 already exists in registry blogbuildtest; use --force (mode Force) to overwrite it`,
	}})
}
