package repository

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// registryAuth is the Authorization a data-plane call carries: the refresh
// token of the exchange below, as the password of the null user.
var registryAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("00000000-0000-0000-0000-000000000000:refresh-1"))

// connect is what every command does first: find the registry (no login
// server of its own, so it is reached at the stub server's address) and
// exchange the identity token for a registry token.
func connect(host string) []clitest.Stub {
	return []clitest.Stub{
		{Method: "GET", Path: "/api/registries/blogbuildtest",
			Reply: `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","properties":{}}`},
		{Method: "POST", Path: "/oauth2/exchange", NoAuth: true,
			Form:  url.Values{"grant_type": {"access_token"}, "service": {host}, "access_token": {clitest.IdentityToken}},
			Reply: `{"refresh_token":"refresh-1"}`},
	}
}

const unlocked = `{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}`

const tagV1 = `{"name":"v1","digest":"sha256:aaa","createdTime":"2026-11-25T10:59:31.3995256Z","lastUpdateTime":"2026-11-25T10:59:31.3995256Z","signed":false,"changeableAttributes":`

func TestCommands(t *testing.T) {
	type tc struct {
		name    string
		cmd     func(*cmdutil.Factory) *cobra.Command
		args    []string
		stubs   []clitest.Stub // after connect
		out     string
		wantErr string
	}
	cases := []tc{
		{name: "list", cmd: NewCmdList, args: []string{"-r", "blogbuildtest", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/_catalog?n=100", Auth: registryAuth, Reply: `{"repositories":["a/first","lib/app"]}`}},
			out:   "a/first\nlib/app\n"},
		{name: "show-tags names", cmd: NewCmdShowTags,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--orderby", "time_desc", "--top", "1", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app/_tags?n=1&orderby=timedesc", Auth: registryAuth,
				Reply: `{"registry":"x","imageName":"lib/app","tags":[` + tagV1 + unlocked + `}]}`}},
			out: "v1\n"},
		{name: "show-tags detail", cmd: NewCmdShowTags,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--detail", "--query", "[].digest", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app/_tags?n=100", Auth: registryAuth,
				Reply: `{"registry":"x","imageName":"lib/app","tags":[` + tagV1 + unlocked + `}]}`}},
			out: "sha256:aaa\n"},
		{name: "show-manifests", cmd: NewCmdShowManifests,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--orderby", "time_asc", "--query", "[].digest", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app/_manifests?n=100&orderby=timeasc", Auth: registryAuth,
				Reply: `{"manifests":[{"digest":"sha256:aaa","imageSize":3,"tags":["v1"],"changeableAttributes":` + unlocked + `}]}`}},
			out: "sha256:aaa\n"},
		{name: "show repository", cmd: NewCmdShow,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--query", "tagCount", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app", Auth: registryAuth,
				Reply: `{"imageName":"lib/app","manifestCount":1,"tagCount":2,"changeableAttributes":` + unlocked + `}`}},
			out: "2\n"},
		{name: "show tag", cmd: NewCmdShow,
			args:  []string{"-r", "blogbuildtest", "--image", "lib/app:v1", "--query", "changeableAttributes.writeEnabled", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app/_tags/v1", Auth: registryAuth, Reply: `{"tag":` + tagV1 + unlocked + `}}`}},
			out:   "true\n"},
		{name: "show manifest", cmd: NewCmdShow,
			args: []string{"-r", "blogbuildtest", "--image", "lib/app@sha256:aaa", "--query", "tags[0]", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "GET", Path: "/acr/v1/lib/app/_manifests/sha256:aaa", Auth: registryAuth,
				Reply: `{"manifest":{"digest":"sha256:aaa","tags":["v1"],"changeableAttributes":` + unlocked + `}}`}},
			out: "v1\n"},
		{name: "lock a tag", cmd: NewCmdUpdate,
			args: []string{"-r", "blogbuildtest", "--image", "lib/app:v1", "--write-enabled", "false", "--delete-enabled", "FALSE", "--query", "changeableAttributes.writeEnabled", "-o", "tsv"},
			stubs: []clitest.Stub{{Method: "PATCH", Path: "/acr/v1/lib/app/_tags/v1", Auth: registryAuth,
				Body:  `{"writeEnabled":false,"deleteEnabled":false}`,
				Reply: `{"tag":` + tagV1 + `{"deleteEnabled":false,"writeEnabled":false,"readEnabled":true,"listEnabled":true}}}`}},
			out: "false\n"},
		{name: "lock a manifest", cmd: NewCmdUpdate,
			args: []string{"-r", "blogbuildtest", "--image", "lib/app@sha256:aaa", "--list-enabled", "false", "-o", "none"},
			stubs: []clitest.Stub{{Method: "PATCH", Path: "/acr/v1/lib/app/_manifests/sha256:aaa", Auth: registryAuth,
				Body: `{"listEnabled":false}`, Reply: `{"manifest":{"digest":"sha256:aaa"}}`}}},
		{name: "lock a repository", cmd: NewCmdUpdate,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--read-enabled", "true", "-o", "none"},
			stubs: []clitest.Stub{{Method: "PATCH", Path: "/acr/v1/lib/app", Auth: registryAuth,
				Body: `{"readEnabled":true}`, Reply: `{"imageName":"lib/app"}`}}},
		{name: "delete by tag deletes its manifest", cmd: NewCmdDelete,
			args: []string{"-r", "blogbuildtest", "--image", "lib/app:v1", "--yes"},
			stubs: []clitest.Stub{
				{Method: "GET", Path: "/acr/v1/lib/app/_tags/v1", Auth: registryAuth, Reply: `{"tag":` + tagV1 + unlocked + `}}`},
				{Method: "DELETE", Path: "/acr/v1/lib/app/_manifests/sha256:aaa", Auth: registryAuth, Status: 202},
			}},
		{name: "delete by digest", cmd: NewCmdDelete,
			args:  []string{"-r", "blogbuildtest", "--image", "lib/app@sha256:aaa", "--yes"},
			stubs: []clitest.Stub{{Method: "DELETE", Path: "/acr/v1/lib/app/_manifests/sha256:aaa", Auth: registryAuth, Status: 202}}},
		{name: "delete a repository", cmd: NewCmdDelete,
			args: []string{"-r", "blogbuildtest", "--repository", "lib/app", "--yes"},
			stubs: []clitest.Stub{{Method: "DELETE", Path: "/acr/v1/lib/app", Auth: registryAuth, Status: 202,
				Reply: `{"manifestsDeleted":["sha256:aaa"],"tagsDeleted":["v1"]}`}}},
		{name: "delete refused by a lock", cmd: NewCmdDelete,
			args: []string{"-r", "blogbuildtest", "--image", "lib/app@sha256:aaa", "--yes"},
			stubs: []clitest.Stub{{Method: "DELETE", Path: "/acr/v1/lib/app/_manifests/sha256:aaa", Auth: registryAuth, Status: 403,
				Reply: `{"errors":[{"code":"DENIED","message":"the operation is disallowed on tag lib/app:v1: deleteEnabled is false"}]}`}},
			wantErr: "the operation is disallowed on tag lib/app:v1: deleteEnabled is false"},
		{name: "untag", cmd: NewCmdUntag,
			args:  []string{"-r", "blogbuildtest", "--image", "lib/app:v1"},
			stubs: []clitest.Stub{{Method: "DELETE", Path: "/acr/v1/lib/app/_tags/v1", Auth: registryAuth, Status: 202}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := clitest.New(t)
			e.Register(connect(e.Server.Host())...)
			e.Register(c.stubs...)
			err := e.Run(c.cmd(e.F), c.args...)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if got := e.Out.String(); got != c.out {
				t.Errorf("stdout %q, want %q", got, c.out)
			}
		})
	}
}

// TestBadInput: nothing reaches the server.
func TestBadInput(t *testing.T) {
	type tc struct {
		name string
		cmd  func(*cmdutil.Factory) *cobra.Command
		args []string
		err  string
	}
	r := []string{"-r", "blogbuildtest"}
	cases := []tc{
		{"update without a change", NewCmdUpdate, append(r, "--image", "a:v1"),
			"nothing to change: give --write-enabled, --delete-enabled, --read-enabled or --list-enabled"},
		{"update not a bool", NewCmdUpdate, append(r, "--image", "a:v1", "--write-enabled", "no"),
			`invalid argument "no" for "--write-enabled" flag: must be true or false`},
		{"update without a target", NewCmdUpdate, append(r, "--write-enabled", "false"), "give --repository or --image"},
		{"update both targets", NewCmdUpdate, append(r, "--image", "a:v1", "--repository", "a", "--write-enabled", "false"),
			"give --repository or --image, not both"},
		{"image without a tag", NewCmdUpdate, append(r, "--image", "lib/app", "--write-enabled", "false"),
			`--image "lib/app": no tag; give repo:tag or repo@digest`},
		{"image with a port but no tag", NewCmdShow, append(r, "--image", "host:5000/app"),
			`--image "host:5000/app": no tag; give repo:tag or repo@digest`},
		{"image with a bad digest", NewCmdShow, append(r, "--image", "app@sha256"),
			`--image "app@sha256": the digest is not algorithm:hex; give repo:tag or repo@digest`},
		{"image with an empty tag", NewCmdShow, append(r, "--image", "app:"),
			`--image "app:": an empty tag; give repo:tag or repo@digest`},
		{"untag a digest", NewCmdUntag, append(r, "--image", "app@sha256:aaa"),
			`--image "app@sha256:aaa": untag takes repo:tag; to delete a manifest use "berth repository delete"`},
		{"delete off a terminal without --yes", NewCmdDelete, append(r, "--image", "app:v1"),
			"refusing to delete manifest app:v1 and all its tags from registry blogbuildtest without confirmation: give --yes (standard input is not a terminal to ask on)"},
		{"show-tags bad orderby", NewCmdShowTags, append(r, "--repository", "app", "--orderby", "timedesc"),
			`invalid argument "timedesc" for "--orderby" flag: must be one of time_desc, time_asc`},
		{"show-tags negative top", NewCmdShowTags, append(r, "--repository", "app", "--top", "-1"),
			"--top -1: give a positive number"},
		{"show-manifests without a repository", NewCmdShowManifests, r, `required flag(s) "repository" not set`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := clitest.New(t)
			err := e.Run(c.cmd(e.F), c.args...)
			if err == nil || err.Error() != c.err {
				t.Fatalf("error %v, want %q", err, c.err)
			}
		})
	}
}
