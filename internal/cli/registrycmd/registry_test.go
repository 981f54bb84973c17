package registrycmd

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const regJSON = `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","location":"local",
"properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false,"createdAt":"2026-01-02T03:04:05Z","provisioningState":"Succeeded"}}`

const regOut = `{
  "id": "/registries/blogbuildtest",
  "name": "blogbuildtest",
  "type": "registries",
  "location": "local",
  "properties": {
    "loginServer": "127.0.3.1:5000",
    "adminUserEnabled": false,
    "anonymousPullEnabled": false,
    "createdAt": "2026-01-02T03:04:05Z",
    "provisioningState": "Succeeded",
    "networkRuleBypassAllowedForTasks": false
  }
}
`

const netRegJSON = `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","location":"local",
"properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false,"anonymousPullEnabled":false,
"publicNetworkAccess":"Disabled","networkRuleSet":{"defaultAction":"Deny","ipRules":[{"action":"Allow","value":"127.0.0.1"}]},
"networkRuleBypassOptions":"None","networkRuleBypassAllowedForTasks":false}}`

const netRegOut = `{
  "id": "/registries/blogbuildtest",
  "name": "blogbuildtest",
  "type": "registries",
  "location": "local",
  "properties": {
    "loginServer": "127.0.3.1:5000",
    "adminUserEnabled": false,
    "anonymousPullEnabled": false,
    "publicNetworkAccess": "Disabled",
    "networkRuleSet": {
      "defaultAction": "Deny",
      "ipRules": [
        {
          "action": "Allow",
          "value": "127.0.0.1"
        }
      ]
    },
    "networkRuleBypassOptions": "None",
    "networkRuleBypassAllowedForTasks": false
  }
}
`

func getReg(name string) clitest.Stub {
	return clitest.Stub{Method: "GET", Path: "/api/registries/" + name, Reply: regJSON}
}

func TestCreate(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdCreate(f) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{
			Name: "all flags, json",
			Args: []string{"-n", "blogbuildtest", "--location", "local", "--login-server", "127.0.3.1:5000", "--admin-enabled", "false"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/registries/blogbuildtest", Status: 201,
				Body:  `{"location":"local","properties":{"loginServer":"127.0.3.1:5000","adminUserEnabled":false}}`,
				Reply: regJSON}},
			Out: regOut,
		},
		{
			Name: "only a name, tsv",
			Args: []string{"-n", "blogbuildtest", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/registries/blogbuildtest", Status: 201,
				Body: `{"properties":{"adminUserEnabled":false}}`, Reply: regJSON}},
			Out: "/registries/blogbuildtest\tblogbuildtest\tregistries\tlocal\n",
		},
		{
			Name: "admin enabled, query",
			Args: []string{"-n", "blogbuildtest", "--admin-enabled", "true", "--query", "properties.loginServer", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/registries/blogbuildtest", Status: 201,
				Body: `{"properties":{"adminUserEnabled":true}}`, Reply: regJSON}},
			Out: "127.0.3.1:5000\n",
		},
		{
			Name: "name taken",
			Args: []string{"-n", "blogbuildtest"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: "/api/registries/blogbuildtest", Status: 409,
				Body:  `{"properties":{"adminUserEnabled":false}}`,
				Reply: `{"error":{"code":"Conflict","message":"registry 'blogbuildtest' already exists"}}`}},
			WantErr: "registry 'blogbuildtest' already exists",
		},
		{Name: "no name", WantErr: "give the registry's name with -n/--name"},
		{Name: "bad boolean", Args: []string{"-n", "x", "--admin-enabled", "yes"},
			WantErr: `invalid argument "yes" for "--admin-enabled" flag: must be true or false`},
	})
}

func TestShowListUpdate(t *testing.T) {
	t.Run("show", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShow(f) }, []clitest.Case{
			{Name: "json", Args: []string{"-n", "blogbuildtest"}, Stubs: []clitest.Stub{getReg("blogbuildtest")}, Out: regOut},
			{Name: "tsv", Args: []string{"-n", "blogbuildtest", "-o", "tsv"}, Stubs: []clitest.Stub{getReg("blogbuildtest")},
				Out: "/registries/blogbuildtest\tblogbuildtest\tregistries\tlocal\n"},
			{Name: "query id", Args: []string{"-n", "blogbuildtest", "--query", "id", "-o", "tsv"}, Stubs: []clitest.Stub{getReg("blogbuildtest")},
				Out: "/registries/blogbuildtest\n"},
			{Name: "not found", Args: []string{"-n", "nope1"},
				Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/registries/nope1", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
				WantErr: "registry 'nope1' was not found"},
			{Name: "no name and no default", WantErr: "no registry given: give -n/--name or run `berth config set defaults.registry=NAME`"},
		})
	})
	t.Run("show falls back to defaults.registry", func(t *testing.T) {
		e := clitest.New(t)
		t.Setenv("BERTH_DEFAULTS_REGISTRY", "blogbuildtest")
		e.Register(getReg("blogbuildtest"))
		if err := e.Run(NewCmdShow(e.F), "--query", "name", "-o", "tsv"); err != nil || e.Out.String() != "blogbuildtest\n" {
			t.Fatalf("%v %q", err, e.Out)
		}
	})
	t.Run("list", func(t *testing.T) {
		list := clitest.Stub{Method: "GET", Path: "/api/registries", Reply: `{"value":[` + regJSON + `,
			{"id":"/registries/default","name":"default","type":"registries","location":"local","properties":{"adminUserEnabled":true}}]}`}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }, []clitest.Case{
			{Name: "tsv", Args: []string{"-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "/registries/blogbuildtest\tblogbuildtest\tregistries\tlocal\n/registries/default\tdefault\tregistries\tlocal\n"},
			{Name: "query", Args: []string{"--query", "[].{name:name, admin:properties.adminUserEnabled}", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "blogbuildtest\tfalse\ndefault\ttrue\n"},
			{Name: "json of none", Stubs: []clitest.Stub{{Method: "GET", Path: "/api/registries", Reply: `{"value":[]}`}}, Out: "[]\n"},
		})
	})
	t.Run("update", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdUpdate(f) }, []clitest.Case{
			{Name: "enable admin", Args: []string{"-n", "blogbuildtest", "--admin-enabled", "true", "--query", "name", "-o", "json"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"adminUserEnabled":true}}`, Reply: regJSON}},
				Out: "\"blogbuildtest\"\n"},
			{Name: "disable admin", Args: []string{"-n", "blogbuildtest", "--admin-enabled", "false", "-o", "none"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"adminUserEnabled":false}}`, Reply: regJSON}}},
			{Name: "enable anonymous pull", Args: []string{"-n", "blogbuildtest", "--anonymous-pull-enabled", "true", "-o", "none"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"anonymousPullEnabled":true}}`, Reply: regJSON}}},
			{Name: "default action, any case", Args: []string{"-n", "blogbuildtest", "--default-action", "deny", "-o", "none"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"networkRuleSet":{"defaultAction":"Deny"}}}`, Reply: netRegJSON}}},
			{Name: "default action Allow, query", Args: []string{"-n", "blogbuildtest", "--default-action", "Allow",
				"--query", "properties.networkRuleSet.defaultAction", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"networkRuleSet":{"defaultAction":"Allow"}}}`, Reply: netRegJSON}},
				Out: "Deny\n"},
			{Name: "no public access, no trusted services", Args: []string{"-n", "blogbuildtest", "--public-network-enabled", "false",
				"--allow-trusted-services", "false", "--query", "properties.[publicNetworkAccess, networkRuleBypassOptions]", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"publicNetworkAccess":"Disabled","networkRuleBypassOptions":"None"}}`, Reply: netRegJSON}},
				Out: "Disabled\nNone\n"},
			{Name: "public access and trusted services on", Args: []string{"-n", "blogbuildtest", "--public-network-enabled", "true",
				"--allow-trusted-services", "true", "-o", "json"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest",
					Body: `{"properties":{"publicNetworkAccess":"Enabled","networkRuleBypassOptions":"AzureServices"}}`, Reply: netRegJSON}},
				Out: netRegOut},
			{Name: "bad default action", Args: []string{"-n", "blogbuildtest", "--default-action", "Block"},
				WantErr: `invalid --default-action "Block": use Allow or Deny`},
			{Name: "server refuses", Args: []string{"-n", "blogbuildtest", "--public-network-enabled", "false"},
				Stubs: []clitest.Stub{{Method: "PATCH", Path: "/api/registries/blogbuildtest", Status: 403,
					Body:  `{"properties":{"publicNetworkAccess":"Disabled"}}`,
					Reply: `{"error":{"code":"AuthorizationFailed","message":"changing network settings needs the Owner role"}}`}},
				WantErr: "changing network settings needs the Owner role"},
			{Name: "nothing to do", Args: []string{"-n", "blogbuildtest"}, WantErr: "nothing to update: give --admin-enabled, --anonymous-pull-enabled, " +
				"--public-network-enabled, --default-action or --allow-trusted-services"},
		})
	})
}

func TestDelete(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdDelete(f) }
	del := clitest.Stub{Method: "DELETE", Path: "/api/registries/blogbuildtest", Status: 204}
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "with --yes", Args: []string{"-n", "blogbuildtest", "--yes"}, Stubs: []clitest.Stub{del}},
		{Name: "refused in a pipe", Args: []string{"-n", "blogbuildtest"}, Stdin: "y\n",
			WantErr: `refusing to delete registry "blogbuildtest" and all its content without confirmation: give --yes (standard input is not a terminal to ask on)`},
		{Name: "default registry", Args: []string{"-n", "default", "-y"},
			Stubs: []clitest.Stub{{Method: "DELETE", Path: "/api/registries/default", Status: 400,
				Reply: `{"error":{"code":"InvalidRequest","message":"the default registry cannot be deleted"}}`}},
			WantErr: "the default registry cannot be deleted"},
	})

	// On a terminal it asks, and only "y" or "yes" deletes.
	for _, answer := range []string{"y\n", "YES\n", "n\n", "\n"} {
		e := clitest.New(t)
		e.IO.InIsTerminal = true
		e.In.WriteString(answer)
		yes := answer == "y\n" || answer == "YES\n"
		if yes {
			e.Register(del)
		}
		err := e.Run(newCmd(e.F), "-n", "blogbuildtest")
		if yes && err != nil || !yes && err != cmdutil.ErrCanceled {
			t.Errorf("answer %q: error %v", answer, err)
		}
		if want := `Are you sure you want to delete registry "blogbuildtest" and all its content? (y/n): `; e.ErrOut.String() != want {
			t.Errorf("prompt %q", e.ErrOut.String())
		}
	}
}

func TestCredential(t *testing.T) {
	creds := `{"username":"blogbuildtest","passwords":[{"name":"password","value":"p1"},{"name":"password2","value":"p2"}]}`
	t.Run("show", func(t *testing.T) {
		list := clitest.Stub{Method: "POST", Path: "/api/registries/blogbuildtest/listCredentials", Reply: creds}
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCredentialShow(f) }, []clitest.Case{
			{Name: "json", Args: []string{"-n", "blogbuildtest"}, Stubs: []clitest.Stub{list},
				Out: "{\n  \"username\": \"blogbuildtest\",\n  \"passwords\": [\n    {\n      \"name\": \"password\",\n      \"value\": \"p1\"\n    },\n" +
					"    {\n      \"name\": \"password2\",\n      \"value\": \"p2\"\n    }\n  ]\n}\n"},
			{Name: "tsv of the passwords", Args: []string{"-n", "blogbuildtest", "--query", "passwords", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "password\tp1\npassword2\tp2\n"},
			{Name: "query one", Args: []string{"-n", "blogbuildtest", "--query", "passwords[1].value", "-o", "tsv"}, Stubs: []clitest.Stub{list},
				Out: "p2\n"},
			{Name: "admin disabled", Args: []string{"-n", "blogbuildtest"},
				Stubs: []clitest.Stub{{Method: "POST", Path: "/api/registries/blogbuildtest/listCredentials", Status: 400,
					Reply: `{"error":{"code":"InvalidRequest","message":"the admin user of registry 'blogbuildtest' is disabled"}}`}},
				WantErr: "the admin user of registry 'blogbuildtest' is disabled"},
		})
	})
	t.Run("renew", func(t *testing.T) {
		clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdCredentialRenew(f) }, []clitest.Case{
			{Name: "password2", Args: []string{"-n", "blogbuildtest", "--password-name", "password2", "--query", "passwords[?name=='password2'].value", "-o", "tsv"},
				Stubs: []clitest.Stub{{Method: "POST", Path: "/api/registries/blogbuildtest/regenerateCredential",
					Body: `{"name":"password2"}`, Reply: creds}},
				Out: "p2\n"},
			{Name: "password name required", Args: []string{"-n", "blogbuildtest"}, WantErr: `required flag(s) "password-name" not set`},
			{Name: "bad password name", Args: []string{"-n", "blogbuildtest", "--password-name", "password1"},
				WantErr: `invalid argument "password1" for "--password-name" flag: must be one of password, password2`},
		})
	})
}
