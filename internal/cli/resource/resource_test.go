package resource

import (
	"context"
	"reflect"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const path = "/api/registries/blogbuildtest"

const regJSON = `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","location":"local",
"properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false,"publicNetworkAccess":"Enabled",
"networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]},
"networkRuleBypassOptions":"AzureServices","networkRuleBypassAllowedForTasks":false,"someFutureField":{"x":1}}}`

const afterJSON = `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","location":"local",
"properties":{"loginServer":"127.0.3.1:5000","networkRuleBypassAllowedForTasks":true}}`

var get = clitest.Stub{Method: "GET", Path: path, Reply: regJSON}

func patch(body string) clitest.Stub {
	return clitest.Stub{Method: "PATCH", Path: path, Body: body, Reply: afterJSON}
}

func TestShow(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "the seed's query", Args: []string{"--resource-type", "registries", "--name", "blogbuildtest",
			"--query", "properties.networkRuleBypassAllowedForTasks"}, Stubs: []clitest.Stub{get}, Out: "false\n"},
		{Name: "fields the CLI does not know, key order kept", Args: []string{"-n", "blogbuildtest", "--resource-type", "Registries",
			"--query", "properties.someFutureField"}, Stubs: []clitest.Stub{get}, Out: "{\n  \"x\": 1\n}\n"},
		{Name: "by ID, tsv", Args: []string{"--ids", "/registries/blogbuildtest", "--query", "[name, properties.networkRuleSet.defaultAction]", "-o", "tsv"},
			Stubs: []clitest.Stub{get}, Out: "blogbuildtest\nDeny\n"},
		{Name: "whole json", Args: []string{"--ids", "/registries/blogbuildtest", "--query", "{n: name, ps: properties.publicNetworkAccess}"},
			Stubs: []clitest.Stub{get}, Out: "{\n  \"n\": \"blogbuildtest\",\n  \"ps\": \"Enabled\"\n}\n"},
		{Name: "not found", Args: []string{"--resource-type", "registries", "-n", "nope1"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/registries/nope1", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
			WantErr: "registry 'nope1' was not found"},
		{Name: "other type", Args: []string{"--resource-type", "tasks", "-n", "t"},
			WantErr: `unsupported --resource-type "tasks": only registries are supported`},
		{Name: "other type by ID", Args: []string{"--ids", "/identities/x"},
			WantErr: `unsupported resource type "identities" in --ids "/identities/x": only registries are supported`},
		{Name: "bad ID", Args: []string{"--ids", "registries/x"},
			WantErr: `invalid --ids "registries/x": want /<type>/<name>, such as /registries/myregistry`},
		{Name: "nested ID", Args: []string{"--ids", "/registries/x/tokens/t"},
			WantErr: `invalid --ids "/registries/x/tokens/t": want /<type>/<name>, such as /registries/myregistry`},
		{Name: "both", Args: []string{"--ids", "/registries/x", "-n", "x"}, WantErr: "give --ids, or --resource-type and --name, not both"},
		{Name: "no type", Args: []string{"-n", "x"}, WantErr: "give --resource-type and --name, or --ids"},
	})
}

func TestUpdate(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f, nil) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "the seed's set", Args: []string{"--resource-type", "registries", "--name", "blogbuildtest",
			"--set", "properties.networkRuleBypassAllowedForTasks=true", "--query", "properties.networkRuleBypassAllowedForTasks"},
			Stubs: []clitest.Stub{get, patch(`{"properties":{"networkRuleBypassAllowedForTasks":true}}`)}, Out: "true\n"},
		{Name: "nested, text and several", Args: []string{"--ids", "/registries/blogbuildtest",
			"--set", "properties.networkRuleSet.defaultAction=Allow", "--set", "properties.adminUserEnabled=false", "-o", "tsv", "--query", "name"},
			Stubs: []clitest.Stub{get, patch(`{"properties":{"networkRuleSet":{"defaultAction":"Allow"},"adminUserEnabled":false}}`)},
			Out:   "blogbuildtest\n"},
		{Name: "JSON values", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest",
			"--set", `properties.networkRuleSet.ipRules=[{"action":"Allow","value":"10.0.0.0/8"}]`,
			"--set", "properties.someFutureField.x=12345678901234567890", "--set", `properties.publicNetworkAccess="true"`, "-o", "none"},
			Stubs: []clitest.Stub{get, patch(`{"properties":{"networkRuleSet":{"ipRules":[{"action":"Allow","value":"10.0.0.0/8"}]},
				"someFutureField":{"x":12345678901234567890},"publicNetworkAccess":"true"}}`)}},
		{Name: "object then a key in it", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest",
			"--set", `properties.networkRuleSet={"defaultAction":"Deny"}`, "--set", "properties.networkRuleSet.ipRules=[]", "-o", "none"},
			Stubs: []clitest.Stub{get, patch(`{"properties":{"networkRuleSet":{"defaultAction":"Deny","ipRules":[]}}}`)}},
		{Name: "server's error as it is", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest",
			"--set", "properties.networkRuleBypassOptions=Sometimes"},
			Stubs: []clitest.Stub{get, {Method: "PATCH", Path: path, Status: 400,
				Body:  `{"properties":{"networkRuleBypassOptions":"Sometimes"}}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"properties.networkRuleBypassOptions must be AzureServices or None"}}`}},
			WantErr: "properties.networkRuleBypassOptions must be AzureServices or None"},
		{Name: "through a scalar", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest",
			"--set", "properties.loginServer.host=x"}, Stubs: []clitest.Stub{get},
			WantErr: "cannot set properties.loginServer.host: properties.loginServer is not an object"},
		{Name: "through a missing object", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest",
			"--set", "properties.nope.x=1"}, Stubs: []clitest.Stub{get},
			WantErr: "cannot set properties.nope.x: the resource has no properties.nope"},
		{Name: "not properties", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest", "--set", "name=x"},
			WantErr: `invalid --set "name=x": only properties can be set; want properties.PATH=VALUE`},
		{Name: "no =", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest", "--set", "properties.x"},
			WantErr: `invalid --set "properties.x": want properties.PATH=VALUE`},
		{Name: "empty key", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest", "--set", "properties..x=1"},
			WantErr: `invalid --set "properties..x=1": the path has an empty key`},
		{Name: "no set", Args: []string{"--resource-type", "registries", "-n", "blogbuildtest"},
			WantErr: "nothing to update: give --set properties.PATH=VALUE"},
		{Name: "other type", Args: []string{"--resource-type", "tokens", "-n", "x", "--set", "properties.a=1"},
			WantErr: `unsupported --resource-type "tokens": only registries are supported`},
	})
}

func TestUpdateOptionsAndValues(t *testing.T) {
	e := clitest.New(t)
	var got *UpdateOptions
	err := e.Run(NewCmdUpdate(e.F, func(_ context.Context, o *UpdateOptions) error { got = o; return nil }),
		"--resource-type", "registries", "-n", "r", "--set", "properties.a=1 2", "--set", "properties.b=", "--set", "properties.c=x=y")
	if err != nil {
		t.Fatal(err)
	}
	want := []Set{{[]string{"properties", "a"}, "1 2"}, {[]string{"properties", "b"}, ""}, {[]string{"properties", "c"}, "x=y"}}
	if got.ID != "/registries/r" || !reflect.DeepEqual(got.Sets, want) {
		t.Fatalf("%+v", got)
	}
}
