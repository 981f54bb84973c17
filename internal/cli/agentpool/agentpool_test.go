package agentpool

import (
	"testing"

	"github.com/berth-project/berth/internal/cli/clitest"
)

const apPath = "/api/registries/reg/agentPools/vnetpool"

func poolJSON(count int, endpoint, egress string) string {
	return `{"id":"/registries/reg/agentPools/vnetpool","name":"vnetpool","type":"agentPools","properties":{"kind":"dedicated",
"count":` + string(rune('0'+count)) + `,"privateEndpoint":"` + endpoint + `","location":"local","egressPrefixes":["` + egress + `"],"createdAt":"2026-01-02T03:04:05Z"}}`
}

const createdOut = `{
  "id": "/registries/reg/agentPools/vnetpool",
  "name": "vnetpool",
  "type": "agentPools",
  "properties": {
    "kind": "dedicated",
    "count": 1,
    "privateEndpoint": "pe1",
    "location": "local",
    "egressPrefixes": [
      "127.0.2.1/32"
    ],
    "createdAt": "2026-01-02T03:04:05Z"
  }
}
`

func TestCreate(t *testing.T) {
	clitest.RunCases(t, NewCmdCreate, []clitest.Case{
		{Name: "json", Args: []string{"-r", "reg", "-n", "vnetpool", "--private-endpoint", "pe1", "--count", "1"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: apPath, Status: 201, Reply: poolJSON(1, "pe1", "127.0.2.1/32"),
				Body: `{"properties":{"count":1,"privateEndpoint":"pe1"}}`}},
			Out: createdOut},
		{Name: "defaults", Args: []string{"-r", "reg", "-n", "vnetpool", "--query", "properties.egressPrefixes", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: apPath, Status: 201, Reply: poolJSON(1, "", "127.0.10.1/32"),
				Body: `{"properties":{"count":1}}`}},
			Out: "127.0.10.1/32\n"},
		{Name: "none running", Args: []string{"-r", "reg", "-n", "vnetpool", "--count", "0", "-o", "none"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: apPath, Status: 201, Reply: poolJSON(0, "", "127.0.10.1/32"),
				Body: `{"properties":{"count":0}}`}}},
		{Name: "server's error as it is", Args: []string{"-r", "reg", "-n", "vnetpool", "--private-endpoint", "nope"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: apPath, Status: 400, Body: `{"properties":{"count":1,"privateEndpoint":"nope"}}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"properties.privateEndpoint \"nope\": registry \"reg\" has no private endpoint connection of that name"}}`}},
			WantErr: `properties.privateEndpoint "nope": registry "reg" has no private endpoint connection of that name`},
		{Name: "too many", Args: []string{"-r", "reg", "-n", "vnetpool", "--count", "11"}, WantErr: "--count 11: give 0 to 10 agents"},
		{Name: "no name", Args: []string{"-r", "reg"}, WantErr: `required flag(s) "name" not set`},
		{Name: "no registry", Args: []string{"-n", "vnetpool"},
			WantErr: "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	})
}

func TestUpdate(t *testing.T) {
	clitest.RunCases(t, NewCmdUpdate, []clitest.Case{
		{Name: "count", Args: []string{"-r", "reg", "-n", "vnetpool", "--count", "3", "--query", "properties.count", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "PATCH", Path: apPath, Body: `{"properties":{"count":3}}`, Reply: poolJSON(3, "pe1", "127.0.2.1/32")}},
			Out:   "3\n"},
		{Name: "detach", Args: []string{"-r", "reg", "-n", "vnetpool", "--private-endpoint", "", "-o", "none"},
			Stubs: []clitest.Stub{{Method: "PATCH", Path: apPath, Body: `{"properties":{"privateEndpoint":""}}`, Reply: poolJSON(1, "", "127.0.10.1/32")}}},
		{Name: "both", Args: []string{"-r", "reg", "-n", "vnetpool", "--private-endpoint", "pe2", "--count", "0", "-o", "none"},
			Stubs: []clitest.Stub{{Method: "PATCH", Path: apPath, Body: `{"properties":{"count":0,"privateEndpoint":"pe2"}}`, Reply: poolJSON(0, "pe2", "127.0.2.2/32")}}},
		{Name: "nothing", Args: []string{"-r", "reg", "-n", "vnetpool"}, WantErr: "nothing to update: give --count, --private-endpoint or both"},
		{Name: "too many", Args: []string{"-r", "reg", "-n", "vnetpool", "--count", "-1"}, WantErr: "--count -1: give 0 to 10 agents"},
	})
}

func TestShowListDelete(t *testing.T) {
	clitest.RunCases(t, NewCmdShow, []clitest.Case{
		{Name: "json", Args: []string{"-r", "reg", "-n", "vnetpool"},
			Stubs: []clitest.Stub{{Method: "GET", Path: apPath, Reply: poolJSON(1, "pe1", "127.0.2.1/32")}}, Out: createdOut},
		{Name: "unknown", Args: []string{"-r", "reg", "-n", "vnetpool"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: apPath, Status: 404, Reply: clitest.NotFound(`agent pool 'vnetpool'`)}},
			WantErr: "agent pool 'vnetpool' was not found"},
	})
	clitest.RunCases(t, NewCmdList, []clitest.Case{
		{Name: "tsv", Args: []string{"-r", "reg", "-o", "tsv", "--query", "[].[name, properties.count, properties.privateEndpoint]"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/registries/reg/agentPools", Reply: `{"value":[` + poolJSON(2, "pe1", "127.0.2.1/32") + `]}`}},
			Out:   "vnetpool\t2\tpe1\n"},
		{Name: "none", Args: []string{"-r", "reg"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/registries/reg/agentPools", Reply: `{"value":[]}`}}, Out: "[]\n"},
	})
	clitest.RunCases(t, NewCmdDelete, []clitest.Case{
		{Name: "with --yes", Args: []string{"-r", "reg", "-n", "vnetpool", "--yes"},
			Stubs: []clitest.Stub{{Method: "DELETE", Path: apPath, Status: 204}}},
		{Name: "refused in a pipe", Args: []string{"-r", "reg", "-n", "vnetpool"},
			WantErr: `refusing to delete agent pool "vnetpool" of registry "reg" without confirmation: give --yes (standard input is not a terminal to ask on)`},
		{Name: "runs left", Args: []string{"-r", "reg", "-n", "vnetpool", "--yes"},
			Stubs: []clitest.Stub{{Method: "DELETE", Path: apPath, Status: 409,
				Reply: `{"error":{"code":"Conflict","message":"agent pool \"vnetpool\" of registry \"reg\" has runs that have not ended (ca3)"}}`}},
			WantErr: `agent pool "vnetpool" of registry "reg" has runs that have not ended (ca3)`},
	})
}

// -r falls back to defaults.registry.
func TestDefaultRegistry(t *testing.T) {
	e := clitest.New(t)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "reg")
	e.Register(clitest.Stub{Method: "GET", Path: apPath, Reply: poolJSON(1, "", "127.0.10.1/32")})
	if err := e.Run(NewCmdShow(e.F), "-n", "vnetpool", "-o", "none"); err != nil {
		t.Fatal(err)
	}
}
