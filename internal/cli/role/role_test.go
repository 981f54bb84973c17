package role

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

func raJSON(id, who, role, scope string) string {
	return `{"id":"/roleAssignments/` + id + `","name":"` + id + `","type":"roleAssignments","properties":{"principalId":"p-` + who +
		`","principalName":"` + who + `","principalType":"User","roleDefinitionName":"` + role + `","scope":"` + scope +
		`","createdAt":"2026-01-02T03:04:05Z"}}`
}

var ra1 = raJSON("ra1", "alice", "AcrPush", "/registries/blogbuildtest")

func TestCreate(t *testing.T) {
	post := clitest.Stub{Method: "POST", Path: "/api/roleAssignments", Status: 201,
		Body: `{"assignee":"alice","role":"AcrPush","scope":"/registries/blogbuildtest"}`, Reply: ra1}
	args := []string{"--assignee", "alice", "--role", "AcrPush", "--scope", "/registries/blogbuildtest"}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f) }, []clitest.Case{
		{Name: "json", Args: args, Stubs: []clitest.Stub{post},
			Out: "{\n  \"id\": \"/roleAssignments/ra1\",\n  \"name\": \"ra1\",\n  \"type\": \"roleAssignments\",\n  \"properties\": {\n" +
				"    \"principalId\": \"p-alice\",\n    \"principalName\": \"alice\",\n    \"principalType\": \"User\",\n" +
				"    \"roleDefinitionName\": \"AcrPush\",\n    \"scope\": \"/registries/blogbuildtest\",\n    \"createdAt\": \"2026-01-02T03:04:05Z\"\n  }\n}\n"},
		{Name: "tsv", Args: append(args, "-o", "tsv"), Stubs: []clitest.Stub{post}, Out: "/roleAssignments/ra1\tra1\troleAssignments\n"},
		{Name: "query", Args: append(args, "--query", "properties.[principalName, roleDefinitionName]", "-o", "tsv"), Stubs: []clitest.Stub{post},
			Out: "alice\nAcrPush\n"},
		{Name: "exists", Args: args,
			Stubs: []clitest.Stub{{Method: "POST", Path: "/api/roleAssignments", Status: 409, Body: post.Body,
				Reply: `{"error":{"code":"Conflict","message":"the role assignment already exists"}}`}},
			WantErr: "the role assignment already exists"},
		{Name: "scope required", Args: []string{"--assignee", "alice", "--role", "AcrPush"}, WantErr: `required flag(s) "scope" not set`},
	})
}

func TestList(t *testing.T) {
	ra2 := raJSON("ra2", "bob", "AcrPull", "/")
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
		{Name: "all, tsv", Args: []string{"-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/roleAssignments", Reply: `{"value":[` + ra1 + `,` + ra2 + `]}`}},
			Out:   "/roleAssignments/ra1\tra1\troleAssignments\n/roleAssignments/ra2\tra2\troleAssignments\n"},
		{Name: "filters, query", Args: []string{"--assignee", "alice", "--role", "AcrPush", "--scope", "/registries/blogbuildtest",
			"--query", "[].{who:properties.principalName, role:properties.roleDefinitionName, scope:properties.scope}", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/roleAssignments?assignee=alice&role=AcrPush&scope=/registries/blogbuildtest",
				Reply: `{"value":[` + ra1 + `]}`}},
			Out: "alice\tAcrPush\t/registries/blogbuildtest\n"},
		{Name: "none, json", Args: []string{"--role", "Owner"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/roleAssignments?role=Owner", Reply: `{"value":[]}`}},
			Out:   "[]\n"},
	})
}

func TestDelete(t *testing.T) {
	del := func(id string) clitest.Stub {
		return clitest.Stub{Method: "DELETE", Path: "/api/roleAssignments/" + id, Status: 204}
	}
	ra3 := raJSON("ra3", "alice", "AcrPull", "/")
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f, nil) }, []clitest.Case{
		{Name: "ids after one flag", Args: []string{"--ids", "/roleAssignments/ra1", "ra2"}, Stubs: []clitest.Stub{del("ra1"), del("ra2")}},
		{Name: "ids repeated", Args: []string{"--ids", "ra1", "--ids", "ra2"}, Stubs: []clitest.Stub{del("ra1"), del("ra2")}},
		{Name: "by filter deletes each match", Args: []string{"--assignee", "alice"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/roleAssignments?assignee=alice", Reply: `{"value":[` + ra1 + `,` + ra3 + `]}`},
				del("ra1"), del("ra3")},
			ErrOut: "Deleted /roleAssignments/ra1: AcrPush for alice at /registries/blogbuildtest.\nDeleted /roleAssignments/ra3: AcrPull for alice at /.\n"},
		{Name: "by filter, nothing matches", Args: []string{"--assignee", "alice", "--role", "Owner", "--scope", "/"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/roleAssignments?assignee=alice&role=Owner&scope=/", Reply: `{"value":[]}`}},
			WantErr: "no role assignment matches --assignee alice --role Owner --scope /"},
		{Name: "an id that is gone", Args: []string{"--ids", "ra9"},
			Stubs:   []clitest.Stub{{Method: "DELETE", Path: "/api/roleAssignments/ra9", Status: 404, Reply: clitest.NotFound("role assignment 'ra9'")}},
			WantErr: "ra9: role assignment 'ra9' was not found"},
		{Name: "both ways", Args: []string{"--ids", "ra1", "--assignee", "alice"}, WantErr: "give either --ids or --assignee with --role and --scope, not both"},
		{Name: "role without assignee", Args: []string{"--role", "AcrPush"}, WantErr: "give --ids, or --assignee (with --role and --scope to narrow it)"},
		{Name: "stray argument", Args: []string{"ra1"}, WantErr: `unexpected argument "ra1"`},
	})
}
