package registrycmd

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const denialsJSON = `{"value":[
{"time":"2026-01-02T03:04:06Z","registry":"blogbuildtest","clientIp":"127.0.9.9","identity":"","method":"GET","path":"/v2/","reason":"denied"},
{"time":"2026-01-02T03:04:05Z","registry":"blogbuildtest","clientIp":"127.0.1.10","identity":"ci","method":"PUT","path":"/v2/lib/app/manifests/v1","reason":"public-access-disabled"}]}`

const changesJSON = `{"value":[{"time":"2026-01-02T03:04:05Z","registry":"blogbuildtest","principalName":"admin",
"principalId":"0b6a4a5e-1111-4222-8333-944445555666","principalType":"User",
"summary":"networkRuleSet.ipRules: +10.0.0.0/24; publicNetworkAccess: Enabled -> Disabled",
"changes":{"networkRuleSet.ipRules":{"added":["10.0.0.0/24"],"removed":[]},"publicNetworkAccess":{"from":"Enabled","to":"Disabled"}}}]}`

func TestListDenials(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdListDenials(f) }
	const path = "/api/registries/blogbuildtest/networkDenials"
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "json", Args: []string{"-n", "blogbuildtest", "--top", "1"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path + "?top=1",
				Reply: `{"value":[{"time":"2026-01-02T03:04:06Z","registry":"blogbuildtest","clientIp":"127.0.9.9","identity":"","method":"GET","path":"/v2/","reason":"denied"}]}`}},
			Out: `[
  {
    "time": "2026-01-02T03:04:06Z",
    "registry": "blogbuildtest",
    "clientIp": "127.0.9.9",
    "identity": "",
    "method": "GET",
    "path": "/v2/",
    "reason": "denied"
  }
]
`},
		{Name: "since, table", Args: []string{"-n", "blogbuildtest", "--since", "1h", "-o", "table"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path + "?since=1h", Reply: denialsJSON}},
			Out: `Time                  Registry       ClientIp    Identity  Method  Path                      Reason
--------------------  -------------  ----------  --------  ------  ------------------------  ----------------------
2026-01-02T03:04:06Z  blogbuildtest  127.0.9.9             GET     /v2/                      denied
2026-01-02T03:04:05Z  blogbuildtest  127.0.1.10  ci        PUT     /v2/lib/app/manifests/v1  public-access-disabled
`},
		{Name: "query, tsv", Args: []string{"-n", "blogbuildtest", "--query", "[].clientIp", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path, Reply: denialsJSON}},
			Out:   "127.0.9.9\n127.0.1.10\n"},
		{Name: "none", Args: []string{"-n", "blogbuildtest"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path, Reply: `{"value":[]}`}}, Out: "[]\n"},
		{Name: "server refuses since", Args: []string{"-n", "blogbuildtest", "--since", "yesterday"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path + "?since=yesterday", Status: 400,
				Reply: `{"error":{"code":"InvalidRequest","message":"since \"yesterday\": give a duration such as 30m, 24h or 7d, or an RFC 3339 time such as 2026-01-02T15:04:05Z"}}`}},
			WantErr: `since "yesterday": give a duration such as 30m, 24h or 7d, or an RFC 3339 time such as 2026-01-02T15:04:05Z`},
		{Name: "registry not found", Args: []string{"-n", "nope1"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/registries/nope1/networkDenials", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
			WantErr: "registry 'nope1' was not found"},
		{Name: "no registry", WantErr: "no registry given: give -n/--name or run `berth config set defaults.registry=NAME`"},
		{Name: "bad top", Args: []string{"-n", "blogbuildtest", "--top", "x"},
			WantErr: `invalid argument "x" for "--top" flag: strconv.ParseInt: parsing "x": invalid syntax`},
	})
}

func TestListChanges(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdListChanges(f) }
	const path = "/api/registries/blogbuildtest/networkChanges"
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "json keeps the server's order", Args: []string{"-n", "blogbuildtest", "--since", "7d", "--top", "10"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path + "?since=7d&top=10", Reply: changesJSON}},
			Out: `[
  {
    "time": "2026-01-02T03:04:05Z",
    "registry": "blogbuildtest",
    "principalName": "admin",
    "principalId": "0b6a4a5e-1111-4222-8333-944445555666",
    "principalType": "User",
    "summary": "networkRuleSet.ipRules: +10.0.0.0/24; publicNetworkAccess: Enabled -> Disabled",
    "changes": {
      "networkRuleSet.ipRules": {
        "added": [
          "10.0.0.0/24"
        ],
        "removed": []
      },
      "publicNetworkAccess": {
        "from": "Enabled",
        "to": "Disabled"
      }
    }
  }
]
`},
		{Name: "table", Args: []string{"-n", "blogbuildtest", "-o", "table", "--query", "[].{time:time, who:principalName, what:summary}"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path, Reply: changesJSON}},
			Out: `Time                  Who    What
--------------------  -----  ------------------------------------------------------------------------------
2026-01-02T03:04:05Z  admin  networkRuleSet.ipRules: +10.0.0.0/24; publicNetworkAccess: Enabled -> Disabled
`},
		{Name: "a nested change, tsv", Args: []string{"-n", "blogbuildtest", "--query", `[0].changes."networkRuleSet.ipRules".added`, "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path, Reply: changesJSON}}, Out: "10.0.0.0/24\n"},
	})
}

// -n falls back to defaults.registry.
func TestAuditDefaultRegistry(t *testing.T) {
	e := clitest.New(t)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "blogbuildtest")
	e.Register(clitest.Stub{Method: "GET", Path: "/api/registries/blogbuildtest/networkChanges", Reply: `{"value":[]}`})
	if err := e.Run(NewCmdListChanges(e.F)); err != nil {
		t.Fatal(err)
	}
}
