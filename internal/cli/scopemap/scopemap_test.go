package scopemap

import (
	"context"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

// The --repository REPO ACTION... forms a user may type, parsed by the real
// command (flags, then RepositoryActions).
func TestRepositoryParsing(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "one repository, one action", args: []string{"--repository", "samples/*", "content/read"},
			want: []string{"repositories/samples/*/content/read"}},
		{name: "several actions", args: []string{"--repository", "samples/*", "content/read", "metadata/read"},
			want: []string{"repositories/samples/*/content/read", "repositories/samples/*/metadata/read"}},
		{name: "flags before and after", args: []string{"-r", "reg", "--repository", "a", "content/read", "--description", "d"},
			want: []string{"repositories/a/content/read"}},
		{name: "repeated, flags between", args: []string{"--repository", "a", "content/read", "content/write", "--description", "d", "--repository", "*", "metadata/read"},
			want: []string{"repositories/a/content/read", "repositories/a/content/write", "repositories/*/metadata/read"}},
		{name: "= form", args: []string{"--repository=b", "content/delete"}, want: []string{"repositories/b/content/delete"}},
		{name: "repeats dropped", args: []string{"--repository", "a", "content/read", "content/read", "--repository", "a", "content/read"},
			want: []string{"repositories/a/content/read"}},
		{name: "no actions", args: []string{"--repository", "a"},
			wantErr: "--repository a: give one or more actions after the repository: content/read, content/write, content/delete, metadata/read, metadata/write"},
		{name: "no actions before the next", args: []string{"--repository", "a", "--repository", "b", "content/read"},
			wantErr: "--repository a: give one or more actions after the repository: content/read, content/write, content/delete, metadata/read, metadata/write"},
		{name: "unknown action", args: []string{"--repository", "a", "pull"},
			wantErr: `--repository a: unknown action "pull": use content/read, content/write, content/delete, metadata/read, metadata/write`},
		{name: "action first", args: []string{"--repository", "content/read", "samples/*"},
			wantErr: "--repository: give the repository before its actions, as in --repository samples/* content/read"},
		{name: "argument before the flag", args: []string{"content/read", "--repository", "a", "content/read"},
			wantErr: `unexpected argument "content/read": arguments must follow the flag they belong to`},
		{name: "no flag", args: []string{"-r", "reg"}, wantErr: "give at least one --repository REPO ACTION..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := cmdutil.Test()
			var got *CreateOptions
			cmd := NewCmdCreate(cmdutil.NewFactory(ios, t.TempDir(), "test"), func(_ context.Context, o *CreateOptions) error { got = o; return nil })
			t.Setenv("BERTH_DEFAULTS_REGISTRY", "reg")
			cmd.SetArgs(append([]string{"-n", "m"}, tt.args...))
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Actions, tt.want) {
				t.Errorf("actions %q, want %q", got.Actions, tt.want)
			}
		})
	}
}

const smJSON = `{"id":"/registries/reg/scopeMaps/samples-read","name":"samples-read","type":"scopeMaps","properties":{
"description":"read samples","actions":["repositories/samples/*/content/read","repositories/samples/*/metadata/read"],"type":"UserDefined","createdAt":"2026-01-02T03:04:05Z"}}`

const smOut = `{
  "id": "/registries/reg/scopeMaps/samples-read",
  "name": "samples-read",
  "type": "scopeMaps",
  "properties": {
    "description": "read samples",
    "actions": [
      "repositories/samples/*/content/read",
      "repositories/samples/*/metadata/read"
    ],
    "type": "UserDefined",
    "createdAt": "2026-01-02T03:04:05Z"
  }
}
`

const smPath = "/api/registries/reg/scopeMaps/samples-read"

var (
	smAbsent = clitest.Stub{Method: "GET", Path: smPath, Status: 404, Reply: clitest.NotFound("scope map 'samples-read'")}
	smGet    = clitest.Stub{Method: "GET", Path: smPath, Reply: smJSON}
)

func TestCreate(t *testing.T) {
	put := clitest.Stub{Method: "PUT", Path: smPath, Status: 201, Reply: smJSON,
		Body: `{"properties":{"description":"read samples","actions":["repositories/samples/*/content/read","repositories/samples/*/metadata/read"]}}`}
	args := []string{"-r", "reg", "-n", "samples-read", "--repository", "samples/*", "content/read", "metadata/read", "--description", "read samples"}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f, nil) }, []clitest.Case{
		{Name: "json", Args: args, Stubs: []clitest.Stub{smAbsent, put}, Out: smOut},
		{Name: "tsv", Args: append(args, "-o", "tsv"), Stubs: []clitest.Stub{smAbsent, put},
			Out: "/registries/reg/scopeMaps/samples-read\tsamples-read\tscopeMaps\n"},
		{Name: "query", Args: append(args, "--query", "properties.actions", "-o", "tsv"), Stubs: []clitest.Stub{smAbsent, put},
			Out: "repositories/samples/*/content/read\nrepositories/samples/*/metadata/read\n"},
		{Name: "no description", Args: []string{"-r", "reg", "-n", "samples-read", "--repository", "a", "content/read", "-o", "none"},
			Stubs: []clitest.Stub{smAbsent, {Method: "PUT", Path: smPath, Status: 201, Reply: smJSON,
				Body: `{"properties":{"actions":["repositories/a/content/read"]}}`}}},
		{Name: "exists", Args: args, Stubs: []clitest.Stub{smGet},
			WantErr: "scope map \"samples-read\" already exists in registry \"reg\": use `berth scope-map update` to change it"},
		{Name: "registry unknown", Args: args,
			Stubs:   []clitest.Stub{{Method: "GET", Path: smPath, Status: 404, Reply: clitest.NotFound("registry 'reg'")}, {Method: "PUT", Path: smPath, Status: 404, Body: put.Body, Reply: clitest.NotFound("registry 'reg'")}},
			WantErr: "registry 'reg' was not found"},
	})
}

func TestUpdate(t *testing.T) {
	patch := func(body string) clitest.Stub {
		return clitest.Stub{Method: "PATCH", Path: smPath, Body: body, Reply: smJSON}
	}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f, nil) }, []clitest.Case{
		{Name: "add and remove", Args: []string{"-r", "reg", "-n", "samples-read", "--add-repository", "samples/*", "content/write", "content/read",
			"--remove-repository", "samples/*", "metadata/read", "-o", "tsv"},
			Stubs: []clitest.Stub{smGet, patch(`{"properties":{"actions":["repositories/samples/*/content/read","repositories/samples/*/content/write"]}}`)},
			Out:   "/registries/reg/scopeMaps/samples-read\tsamples-read\tscopeMaps\n"},
		{Name: "description only, no GET", Args: []string{"-r", "reg", "-n", "samples-read", "--description", "", "--query", "name", "-o", "tsv"},
			Stubs: []clitest.Stub{patch(`{"properties":{"description":""}}`)}, Out: "samples-read\n"},
		{Name: "remove what is absent", Args: []string{"-r", "reg", "-n", "samples-read", "--remove-repository", "other", "content/read", "-o", "none"},
			Stubs: []clitest.Stub{smGet, patch(`{"properties":{"actions":["repositories/samples/*/content/read","repositories/samples/*/metadata/read"]}}`)}},
		{Name: "system map", Args: []string{"-r", "reg", "-n", "samples-read", "--add-repository", "x", "content/read"},
			Stubs: []clitest.Stub{smGet, {Method: "PATCH", Path: smPath, Status: 400,
				Body:  `{"properties":{"actions":["repositories/samples/*/content/read","repositories/samples/*/metadata/read","repositories/x/content/read"]}}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"system scope maps cannot be changed"}}`}},
			WantErr: "system scope maps cannot be changed"},
		{Name: "nothing", Args: []string{"-r", "reg", "-n", "samples-read"},
			WantErr: "nothing to update: give --add-repository, --remove-repository or --description"},
	})
}

func TestShowListDelete(t *testing.T) {
	t.Run("show", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
			{Name: "json", Args: []string{"-r", "reg", "-n", "samples-read"}, Stubs: []clitest.Stub{smGet}, Out: smOut},
			{Name: "query", Args: []string{"-r", "reg", "-n", "samples-read", "--query", "properties.type", "-o", "tsv"}, Stubs: []clitest.Stub{smGet}, Out: "UserDefined\n"},
		})
	})
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/registries/reg/scopeMaps", Reply: `{"value":[` + smJSON + `,
			{"id":"/registries/reg/scopeMaps/_repositories_pull","name":"_repositories_pull","type":"scopeMaps","properties":{"actions":["repositories/*/content/read","repositories/*/metadata/read"],"type":"SystemDefined"}}]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-r", "reg", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "/registries/reg/scopeMaps/samples-read\tsamples-read\tscopeMaps\n/registries/reg/scopeMaps/_repositories_pull\t_repositories_pull\tscopeMaps\n"},
			{Name: "query", Args: []string{"-r", "reg", "--query", "[?properties.type=='UserDefined'].name", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "samples-read\n"},
			{Name: "no registry", WantErr: "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
		})
	})
	t.Run("delete", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
			{Name: "yes", Args: []string{"-r", "reg", "-n", "samples-read", "--yes"}, Stubs: []clitest.Stub{{Method: "DELETE", Path: smPath, Status: 204}}},
			{Name: "refused in a pipe", Args: []string{"-r", "reg", "-n", "samples-read"},
				WantErr: `refusing to delete scope map "samples-read" of registry "reg" without confirmation: give --yes (standard input is not a terminal to ask on)`},
			{Name: "in use", Args: []string{"-r", "reg", "-n", "samples-read", "-y"},
				Stubs: []clitest.Stub{{Method: "DELETE", Path: smPath, Status: 409,
					Reply: `{"error":{"code":"Conflict","message":"scope map 'samples-read' is used by token 'ci-pull'"}}`}},
				WantErr: "scope map 'samples-read' is used by token 'ci-pull'"},
		})
	})
}
