package tokencmd

import (
	"context"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const (
	tokPath = "/api/registries/reg/tokens/ci-pull"
	smPath  = "/api/registries/reg/scopeMaps/ci-pull-scope-map"
)

const createdJSON = `{"id":"/registries/reg/tokens/ci-pull","name":"ci-pull","type":"tokens",
"properties":{"scopeMapId":"ci-pull-scope-map","status":"enabled","createdAt":"2026-01-02T03:04:05Z",
"credentials":{"username":"ci-pull","passwords":[{"name":"password1","value":"v1","creationTime":"2026-01-02T03:04:05Z"},
{"name":"password2","value":"v2","creationTime":"2026-01-02T03:04:05Z"}]}}}`

const createdOut = `{
  "id": "/registries/reg/tokens/ci-pull",
  "name": "ci-pull",
  "type": "tokens",
  "properties": {
    "scopeMapId": "ci-pull-scope-map",
    "status": "enabled",
    "createdAt": "2026-01-02T03:04:05Z",
    "credentials": {
      "username": "ci-pull",
      "passwords": [
        {
          "name": "password1",
          "value": "v1",
          "creationTime": "2026-01-02T03:04:05Z"
        },
        {
          "name": "password2",
          "value": "v2",
          "creationTime": "2026-01-02T03:04:05Z"
        }
      ]
    }
  }
}
`

var (
	tokAbsent = clitest.Stub{Method: "GET", Path: tokPath, Status: 404, Reply: clitest.NotFound("token 'ci-pull'")}
	smAbsent  = clitest.Stub{Method: "GET", Path: smPath, Status: 404, Reply: clitest.NotFound("scope map 'ci-pull-scope-map'")}
	smPut     = clitest.Stub{Method: "PUT", Path: smPath, Status: 201,
		Body:  `{"properties":{"description":"Made for token ci-pull","actions":["repositories/samples/*/content/read"]}}`,
		Reply: `{"id":"/registries/reg/scopeMaps/ci-pull-scope-map","name":"ci-pull-scope-map","type":"scopeMaps","properties":{"actions":["repositories/samples/*/content/read"],"type":"UserDefined"}}`}
)

func tokPut(scopeMap, status, reply string) clitest.Stub {
	return clitest.Stub{Method: "PUT", Path: tokPath, Status: 201,
		Body: `{"properties":{"scopeMapId":"` + scopeMap + `","status":"` + status + `"}}`, Reply: reply}
}

func TestCreate(t *testing.T) {
	s5 := []string{"-r", "reg", "-n", "ci-pull", "--repository", "samples/*", "content/read"}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f, nil) }, []clitest.Case{
		{Name: "with --repository: scope map first, json", Args: s5,
			Stubs: []clitest.Stub{tokAbsent, smAbsent, smPut, tokPut("ci-pull-scope-map", "enabled", createdJSON)},
			Out:   createdOut, ErrOut: passwordsWarning},
		{Name: "tsv", Args: append(s5, "-o", "tsv"),
			Stubs: []clitest.Stub{tokAbsent, smAbsent, smPut, tokPut("ci-pull-scope-map", "enabled", createdJSON)},
			Out:   "/registries/reg/tokens/ci-pull\tci-pull\ttokens\n", ErrOut: passwordsWarning},
		{Name: "query the password", Args: append(s5, "--query", "properties.credentials.passwords[0].value", "-o", "tsv"),
			Stubs: []clitest.Stub{tokAbsent, smAbsent, smPut, tokPut("ci-pull-scope-map", "enabled", createdJSON)},
			Out:   "v1\n", ErrOut: passwordsWarning},
		{Name: "with --scope-map, disabled: no scope map made", Args: []string{"-r", "reg", "-n", "ci-pull", "--scope-map", "_repositories_pull", "--status", "disabled",
			"--query", "properties.credentials.[username, passwords[1].value]", "-o", "tsv"},
			Stubs: []clitest.Stub{tokPut("_repositories_pull", "disabled", createdJSON)},
			Out:   "ci-pull\nv2\n", ErrOut: passwordsWarning},
		{Name: "with --scope-map, token exists", Args: []string{"-r", "reg", "-n", "ci-pull", "--scope-map", "m"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: tokPath, Status: 409, Body: `{"properties":{"scopeMapId":"m","status":"enabled"}}`,
				Reply: `{"error":{"code":"Conflict","message":"token 'ci-pull' already exists"}}`}},
			WantErr: "token 'ci-pull' already exists"},
		{Name: "with --repository, token exists: no scope map made", Args: s5, Stubs: []clitest.Stub{{Method: "GET", Path: tokPath, Reply: createdJSON}},
			WantErr: "token \"ci-pull\" already exists in registry \"reg\": use `berth token update` or `berth token credential generate`"},
		{Name: "scope map exists", Args: s5, Stubs: []clitest.Stub{tokAbsent, {Method: "GET", Path: smPath, Reply: smPut.Reply}},
			WantErr: "scope map \"ci-pull-scope-map\" already exists in registry \"reg\": use `berth scope-map update` to change it, or give it with --scope-map"},
		{Name: "token refused: the new scope map is removed", Args: s5,
			Stubs: []clitest.Stub{tokAbsent, smAbsent, smPut,
				{Method: "PUT", Path: tokPath, Status: 403, Body: `{"properties":{"scopeMapId":"ci-pull-scope-map","status":"enabled"}}`,
					Reply: `{"error":{"code":"AuthorizationFailed","message":"creating tokens needs Contributor or Owner"}}`},
				{Method: "DELETE", Path: smPath, Status: 204}},
			WantErr: "creating tokens needs Contributor or Owner"},
		{Name: "both", Args: []string{"-r", "reg", "-n", "ci-pull", "--scope-map", "m", "--repository", "a", "content/read"},
			WantErr: "give either --scope-map or --repository, not both"},
		{Name: "neither", Args: []string{"-r", "reg", "-n", "ci-pull"},
			WantErr: "give the token's rights with --scope-map MAP or --repository REPO ACTION..."},
		{Name: "bad status", Args: []string{"-r", "reg", "-n", "ci-pull", "--scope-map", "m", "--status", "on"},
			WantErr: `invalid argument "on" for "--status" flag: must be one of enabled, disabled`},
	})
}

// Exactly the command line of scenario S5 reaches the options as meant.
func TestCreateParsesScenarioCommandLine(t *testing.T) {
	ios, _, _, _ := cmdutil.Test()
	var got *CreateOptions
	cmd := NewCmdCreate(cmdutil.NewFactory(ios, t.TempDir(), "test"), func(_ context.Context, o *CreateOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-r", "R", "-n", "ci-pull", "--repository", "samples/*", "content/read"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Registry != "R" || got.Name != "ci-pull" || got.ScopeMap != "" || got.Status != "enabled" ||
		!slices.Equal(got.Actions, []string{"repositories/samples/*/content/read"}) {
		t.Errorf("options %+v", got)
	}
}

const tokJSON = `{"id":"/registries/reg/tokens/ci-pull","name":"ci-pull","type":"tokens","properties":{"scopeMapId":"ci-pull-scope-map","status":"disabled",
"createdAt":"2026-01-02T03:04:05Z","credentials":{"passwords":[{"name":"password1","creationTime":"2026-01-02T03:04:05Z","expiry":"2026-02-01T03:04:05Z"}]}}}`

func TestUpdateShowListDelete(t *testing.T) {
	t.Run("update", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f) }, []clitest.Case{
			{Name: "disable", Args: []string{"-r", "reg", "-n", "ci-pull", "--status", "disabled", "--query", "properties.status", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: tokPath, Body: `{"properties":{"status":"disabled"}}`, Reply: tokJSON}},
				Out:   "disabled\n"},
			{Name: "scope map, tsv", Args: []string{"-r", "reg", "-n", "ci-pull", "--scope-map", "_repositories_pull", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: tokPath, Body: `{"properties":{"scopeMapId":"_repositories_pull"}}`, Reply: tokJSON}},
				Out:   "/registries/reg/tokens/ci-pull\tci-pull\ttokens\n"},
			{Name: "nothing", Args: []string{"-r", "reg", "-n", "ci-pull"}, WantErr: "nothing to update: give --status or --scope-map"},
		})
	})
	get := clitest.Stub{Method: "GET", Path: tokPath, Reply: tokJSON}
	t.Run("show", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
			{Name: "json", Args: []string{"-r", "reg", "-n", "ci-pull"}, Stubs: []clitest.Stub{get},
				Out: "{\n  \"id\": \"/registries/reg/tokens/ci-pull\",\n  \"name\": \"ci-pull\",\n  \"type\": \"tokens\",\n  \"properties\": {\n" +
					"    \"scopeMapId\": \"ci-pull-scope-map\",\n    \"status\": \"disabled\",\n    \"createdAt\": \"2026-01-02T03:04:05Z\",\n" +
					"    \"credentials\": {\n      \"passwords\": [\n        {\n          \"name\": \"password1\",\n" +
					"          \"creationTime\": \"2026-01-02T03:04:05Z\",\n          \"expiry\": \"2026-02-01T03:04:05Z\"\n        }\n      ]\n    }\n  }\n}\n"},
			{Name: "query", Args: []string{"-r", "reg", "-n", "ci-pull", "--query", "properties.credentials.passwords[].expiry", "-o", "tsv"},
				Stubs: []clitest.Stub{get}, Out: "2026-02-01T03:04:05Z\n"},
		})
	})
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/registries/reg/tokens", Reply: `{"value":[` + tokJSON + `]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-r", "reg", "-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "/registries/reg/tokens/ci-pull\tci-pull\ttokens\n"},
			{Name: "query", Args: []string{"-r", "reg", "--query", "[].{n:name, s:properties.status}", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "ci-pull\tdisabled\n"},
		})
	})
	t.Run("delete", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
			{Name: "ok", Args: []string{"-r", "reg", "-n", "ci-pull"}, Stubs: []clitest.Stub{{Method: "DELETE", Path: tokPath, Status: 204}}},
		})
	})
}

func TestCredentialGenerate(t *testing.T) {
	gen := func(body, name, value string) clitest.Stub {
		return clitest.Stub{Method: "POST", Path: tokPath + "/generateCredentials", Body: body,
			Reply: `{"username":"ci-pull","passwords":[{"name":"` + name + `","value":"` + value + `"}]}`}
	}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCredentialGenerate(f, nil) }, []clitest.Case{
		{Name: "both by default, json", Args: []string{"-r", "reg", "-n", "ci-pull"},
			Stubs: []clitest.Stub{gen(`{"name":"password1"}`, "password1", "n1"), gen(`{"name":"password2"}`, "password2", "n2")},
			Out: "{\n  \"username\": \"ci-pull\",\n  \"passwords\": [\n    {\n      \"name\": \"password1\",\n      \"value\": \"n1\"\n    },\n" +
				"    {\n      \"name\": \"password2\",\n      \"value\": \"n2\"\n    }\n  ]\n}\n",
			ErrOut: passwordsWarning},
		{Name: "password2 in 30 days, tsv", Args: []string{"-r", "reg", "-n", "ci-pull", "--password2", "--expiration-in-days", "30", "--query", "passwords", "-o", "tsv"},
			Stubs: []clitest.Stub{gen(`{"name":"password2","expirationInDays":30}`, "password2", "n2")},
			Out:   "password2\tn2\n", ErrOut: passwordsWarning},
		{Name: "password1 at a time", Args: []string{"-r", "reg", "-n", "ci-pull", "--password1", "--expiration", "2027-01-31T00:00:00Z", "--query", "passwords[0].value", "-o", "tsv"},
			Stubs: []clitest.Stub{gen(`{"name":"password1","expiry":"2027-01-31T00:00:00Z"}`, "password1", "n1")},
			Out:   "n1\n", ErrOut: passwordsWarning},
		{Name: "second fails: the first is still shown", Args: []string{"-r", "reg", "-n", "ci-pull", "--query", "passwords[].value", "-o", "tsv"},
			Stubs: []clitest.Stub{gen(`{"name":"password1"}`, "password1", "n1"),
				{Method: "POST", Path: tokPath + "/generateCredentials", Body: `{"name":"password2"}`, Status: 500,
					Reply: `{"error":{"code":"InternalError","message":"store unavailable"}}`}},
			Out: "n1\n", ErrOut: passwordsWarning, WantErr: "password2: store unavailable"},
		{Name: "bad time", Args: []string{"-r", "reg", "-n", "ci-pull", "--expiration", "tomorrow"},
			WantErr: `--expiration "tomorrow" is not an RFC 3339 time such as 2027-01-31T00:00:00Z`},
		{Name: "both expiries", Args: []string{"-r", "reg", "-n", "ci-pull", "--expiration", "2027-01-31T00:00:00Z", "--expiration-in-days", "3"},
			WantErr: "give --expiration-in-days or --expiration, not both"},
	})
}
