package sp

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const secretJSON = `{"appId":"app-1","displayName":"ci","password":"s3cret","tenant":"berth","principalId":"p-1","expiresAt":"2027-01-02T03:04:05Z"}`

func TestCreateForRBAC(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreateForRBAC(f, nil) }
	post := func(body string) clitest.Stub {
		return clitest.Stub{Method: "POST", Path: "/api/servicePrincipals", Status: 201, Body: body, Reply: secretJSON}
	}
	clitest.RunCases(t, newCmd, []clitest.Case{
		{
			Name:  "role at one scope, json",
			Args:  []string{"-n", "ci", "--role", "AcrPush", "--scopes", "/registries/blogbuildtest"},
			Stubs: []clitest.Stub{post(`{"name":"ci","role":"AcrPush","scopes":["/registries/blogbuildtest"]}`)},
			Out: "{\n  \"appId\": \"app-1\",\n  \"displayName\": \"ci\",\n  \"password\": \"s3cret\",\n  \"tenant\": \"berth\",\n" +
				"  \"principalId\": \"p-1\",\n  \"expiresAt\": \"2027-01-02T03:04:05Z\"\n}\n",
			ErrOut: credentialsWarning,
		},
		{
			Name:   "several scopes after one flag, tsv",
			Args:   []string{"-n", "ci", "--scopes", "/registries/a", "/registries/b", "--role", "AcrPull", "--years", "2", "-o", "tsv"},
			Stubs:  []clitest.Stub{post(`{"name":"ci","years":2,"role":"AcrPull","scopes":["/registries/a","/registries/b"]}`)},
			Out:    "app-1\tci\ts3cret\tberth\tp-1\t2027-01-02T03:04:05Z\n",
			ErrOut: credentialsWarning,
		},
		{
			Name:   "no role, query",
			Args:   []string{"-n", "ci", "--query", "{appId:appId, password:password}", "-o", "tsv"},
			Stubs:  []clitest.Stub{post(`{"name":"ci"}`)},
			Out:    "app-1\ts3cret\n",
			ErrOut: credentialsWarning,
		},
		{Name: "role without scopes", Args: []string{"-n", "ci", "--role", "AcrPush"}, WantErr: "--role needs --scopes: the scopes to assign the role at"},
		{Name: "scopes without role", Args: []string{"-n", "ci", "--scopes", "/"}, WantErr: "--scopes needs --role: the role to assign at them"},
		{Name: "stray argument", Args: []string{"ci"}, WantErr: `unexpected argument "ci"`},
		{Name: "no name", WantErr: "give the service principal's name with -n/--name"},
		{Name: "bad role", Args: []string{"-n", "ci", "--role", "Boss", "--scopes", "/"},
			Stubs: []clitest.Stub{{Method: "POST", Path: "/api/servicePrincipals", Status: 400, Body: `{"name":"ci","role":"Boss","scopes":["/"]}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"role: unknown role \"Boss\""}}`}},
			WantErr: `role: unknown role "Boss"`},
	})

	// The flags reach the options as given.
	ios, _, _, _ := cmdutil.Test()
	var got *CreateForRBACOptions
	cmd := NewCmdCreateForRBAC(cmdutil.NewFactory(ios, t.TempDir(), "test"), func(_ context.Context, o *CreateForRBACOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--scopes", "/a", "/b", "-n", "x", "--role", "Reader", "--scopes", "/c"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "x" || got.Role != "Reader" || !slices.Equal(got.Scopes, []string{"/a", "/b", "/c"}) {
		t.Errorf("options %+v", got)
	}
}

const spJSON = `{"id":"/servicePrincipals/app-1","name":"ci","type":"servicePrincipals",
"properties":{"appId":"app-1","principalId":"p-1","secretExpiresAt":"2027-01-02T03:04:05Z","createdAt":"2026-01-02T03:04:05Z","trustedService":false}}`

func TestShowListDelete(t *testing.T) {
	get := clitest.Stub{Method: "GET", Path: "/api/servicePrincipals/app-1", Reply: spJSON}
	t.Run("show", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
			{Name: "json", Args: []string{"--id", "app-1"}, Stubs: []clitest.Stub{get},
				Out: "{\n  \"id\": \"/servicePrincipals/app-1\",\n  \"name\": \"ci\",\n  \"type\": \"servicePrincipals\",\n  \"properties\": {\n" +
					"    \"appId\": \"app-1\",\n    \"principalId\": \"p-1\",\n    \"secretExpiresAt\": \"2027-01-02T03:04:05Z\",\n" +
					"    \"createdAt\": \"2026-01-02T03:04:05Z\",\n    \"trustedService\": false\n  }\n}\n"},
			{Name: "tsv", Args: []string{"--id", "app-1", "-o", "tsv"}, Stubs: []clitest.Stub{get},
				Out: "/servicePrincipals/app-1\tci\tservicePrincipals\n"},
			{Name: "query", Args: []string{"--id", "app-1", "--query", "properties.principalId", "-o", "tsv"}, Stubs: []clitest.Stub{get}, Out: "p-1\n"},
			{Name: "id required", WantErr: `required flag(s) "id" not set`},
		})
	})
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/servicePrincipals", Reply: `{"value":[` + spJSON + `]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "/servicePrincipals/app-1\tci\tservicePrincipals\n"},
			{Name: "query", Args: []string{"--query", "[].properties.appId", "-o", "json"}, Stubs: []clitest.Stub{list}, Out: "[\n  \"app-1\"\n]\n"},
		})
	})
	t.Run("delete", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
			{Name: "ok", Args: []string{"--id", "app-1"}, Stubs: []clitest.Stub{{Method: "DELETE", Path: "/api/servicePrincipals/app-1", Status: 204}}},
			{Name: "absent", Args: []string{"--id", "nope"},
				Stubs:   []clitest.Stub{{Method: "DELETE", Path: "/api/servicePrincipals/nope", Status: 404, Reply: clitest.NotFound("service principal 'nope'")}},
				WantErr: "service principal 'nope' was not found"},
		})
	})
}

func TestCredentialReset(t *testing.T) {
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCredentialReset(f) }, []clitest.Case{
		{Name: "default years, query", Args: []string{"--id", "app-1", "--query", "password", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "POST", Path: "/api/servicePrincipals/app-1/resetCredential", Body: `{}`, Reply: secretJSON}},
			Out:   "s3cret\n", ErrOut: credentialsWarning},
		{Name: "two years, tsv", Args: []string{"--id", "app-1", "--years", "2", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "POST", Path: "/api/servicePrincipals/app-1/resetCredential", Body: `{"years":2}`, Reply: secretJSON}},
			Out:   "app-1\tci\ts3cret\tberth\tp-1\t2027-01-02T03:04:05Z\n", ErrOut: credentialsWarning},
		{Name: "negative years", Args: []string{"--id", "app-1", "--years", "-1"}, WantErr: "--years must be positive, not -1"},
	})
}

func TestUpdate(t *testing.T) {
	patch := func(body string, reply string) clitest.Stub {
		return clitest.Stub{Method: "PATCH", Path: "/api/servicePrincipals/app-1", Body: body, Reply: reply}
	}
	trusted := strings.Replace(spJSON, `"trustedService":false`, `"trustedService":true`, 1)
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f) }, []clitest.Case{
		{Name: "mark, query", Args: []string{"--id", "app-1", "--trusted-service", "true", "--query", "properties.trustedService", "-o", "tsv"},
			Stubs: []clitest.Stub{patch(`{"properties":{"trustedService":true}}`, trusted)}, Out: "true\n"},
		{Name: "unmark, tsv", Args: []string{"--id", "app-1", "--trusted-service", "False", "-o", "tsv"},
			Stubs: []clitest.Stub{patch(`{"properties":{"trustedService":false}}`, spJSON)}, Out: "/servicePrincipals/app-1\tci\tservicePrincipals\n"},
		{Name: "not an owner", Args: []string{"--id", "app-1", "--trusted-service", "true"},
			Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/servicePrincipals/app-1", Status: 403, Body: `{"properties":{"trustedService":true}}`,
				Reply: `{"error":{"code":"AuthorizationFailed","message":"user \"carol\" may not mark identities as trusted services: that needs the role Owner at scope /"}}`}},
			WantErr: `user "carol" may not mark identities as trusted services: that needs the role Owner at scope /`},
		{Name: "nothing to update", Args: []string{"--id", "app-1"}, WantErr: "nothing to update: give --trusted-service true or false"},
		{Name: "not a boolean", Args: []string{"--id", "app-1", "--trusted-service", "yes"},
			WantErr: `invalid argument "yes" for "--trusted-service" flag: must be true or false`},
		{Name: "id required", Args: []string{"--trusted-service", "true"}, WantErr: `required flag(s) "id" not set`},
	})
}
