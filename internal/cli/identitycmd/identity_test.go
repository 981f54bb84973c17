package identitycmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const idJSON = `{"id":"/identities/builder","name":"builder","type":"identities",
"properties":{"principalId":"p-7","clientId":"c-7","createdAt":"2026-01-02T03:04:05Z","trustedService":false}}`

func TestIdentityCommands(t *testing.T) {
	get := clitest.Stub{Method: "GET", Path: "/api/identities/builder", Reply: idJSON}
	t.Run("create", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f) }, []clitest.Case{
			{Name: "json", Args: []string{"-n", "builder"},
				Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/identities/builder", Status: 201, Body: `{}`, Reply: idJSON}},
				Out: "{\n  \"id\": \"/identities/builder\",\n  \"name\": \"builder\",\n  \"type\": \"identities\",\n  \"properties\": {\n" +
					"    \"principalId\": \"p-7\",\n    \"clientId\": \"c-7\",\n    \"createdAt\": \"2026-01-02T03:04:05Z\",\n    \"trustedService\": false\n  }\n}\n"},
			{Name: "query", Args: []string{"-n", "builder", "--query", "properties.principalId", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/identities/builder", Status: 201, Body: `{}`, Reply: idJSON}},
				Out:   "p-7\n"},
			{Name: "no name", WantErr: "give the identity's name with -n/--name"},
		})
	})
	t.Run("show", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-n", "builder", "-o", "tsv"}, Stubs: []clitest.Stub{get}, Out: "/identities/builder\tbuilder\tidentities\n"},
			{Name: "query", Args: []string{"-n", "builder", "--query", "properties.clientId", "-o", "json"}, Stubs: []clitest.Stub{get}, Out: "\"c-7\"\n"},
			{Name: "absent", Args: []string{"-n", "nobody"},
				Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/identities/nobody", Status: 404, Reply: clitest.NotFound("identity 'nobody'")}},
				WantErr: "identity 'nobody' was not found"},
		})
	})
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/identities", Reply: `{"value":[` + idJSON + `]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "/identities/builder\tbuilder\tidentities\n"},
			{Name: "query", Args: []string{"--query", "[].name", "-o", "tsv"}, Stubs: []clitest.Stub{list}, Out: "builder\n"},
			{Name: "stray argument", Args: []string{"x"}, WantErr: `unknown command "x" for "list"`},
		})
	})
	t.Run("update", func(t *testing.T) {
		patch := func(body, reply string) clitest.Stub {
			return clitest.Stub{Method: "PATCH", Path: "/api/identities/builder", Body: body, Reply: reply}
		}
		trusted := strings.Replace(idJSON, `"trustedService":false`, `"trustedService":true`, 1)
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f) }, []clitest.Case{
			{Name: "mark, query", Args: []string{"-n", "builder", "--trusted-service", "true", "--query", "properties.trustedService", "-o", "json"},
				Stubs: []clitest.Stub{patch(`{"properties":{"trustedService":true}}`, trusted)}, Out: "true\n"},
			{Name: "unmark, tsv", Args: []string{"--name", "builder", "--trusted-service", "false", "-o", "tsv"},
				Stubs: []clitest.Stub{patch(`{"properties":{"trustedService":false}}`, idJSON)}, Out: "/identities/builder\tbuilder\tidentities\n"},
			{Name: "absent", Args: []string{"-n", "nobody", "--trusted-service", "true"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/identities/nobody", Status: 404, Body: `{"properties":{"trustedService":true}}`,
					Reply: clitest.NotFound("identity 'nobody'")}},
				WantErr: "identity 'nobody' was not found"},
			{Name: "no name", Args: []string{"--trusted-service", "true"}, WantErr: "give the identity's name with -n/--name"},
			{Name: "nothing to update", Args: []string{"-n", "builder"}, WantErr: "nothing to update: give --trusted-service true or false"},
			{Name: "not a boolean", Args: []string{"-n", "builder", "--trusted-service", "1"},
				WantErr: `invalid argument "1" for "--trusted-service" flag: must be true or false`},
		})
	})
	t.Run("delete", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }, []clitest.Case{
			{Name: "ok", Args: []string{"-n", "builder"}, Stubs: []clitest.Stub{{Method: "DELETE", Path: "/api/identities/builder", Status: 204}}},
		})
	})
}
