package privateendpoint

import (
	"testing"

	"github.com/berth-project/berth/internal/cli/clitest"
)

const pePath = "/api/registries/reg/privateEndpointConnections/build"

func peJSON(status, description string) string {
	return `{"id":"/registries/reg/privateEndpointConnections/build","name":"build","type":"privateEndpointConnections","properties":{
"address":"127.0.4.1:5000","privateLinkServiceConnectionState":{"status":"` + status + `","description":"` + description + `"},"createdAt":"2026-01-02T03:04:05Z"}}`
}

const pendingOut = `{
  "id": "/registries/reg/privateEndpointConnections/build",
  "name": "build",
  "type": "privateEndpointConnections",
  "properties": {
    "address": "127.0.4.1:5000",
    "privateLinkServiceConnectionState": {
      "status": "Pending",
      "description": "build network"
    },
    "createdAt": "2026-01-02T03:04:05Z"
  }
}
`

func TestCreate(t *testing.T) {
	clitest.RunCases(t, NewCmdCreate, []clitest.Case{
		{Name: "json", Args: []string{"-r", "reg", "-n", "build", "--address", "127.0.4.1:5000", "--description", "build network"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: pePath, Status: 201, Reply: peJSON("Pending", "build network"),
				Body: `{"properties":{"address":"127.0.4.1:5000","description":"build network"}}`}},
			Out: pendingOut},
		{Name: "state only", Args: []string{"-r", "reg", "-n", "build", "--address", "127.0.4.1:5000",
			"--query", "properties.privateLinkServiceConnectionState.status", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: pePath, Status: 201, Reply: peJSON("Pending", ""),
				Body: `{"properties":{"address":"127.0.4.1:5000"}}`}},
			Out: "Pending\n"},
		{Name: "server's error as it is", Args: []string{"-r", "reg", "-n", "build", "--address", "not-an-ip:5000"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: pePath, Status: 400, Body: `{"properties":{"address":"not-an-ip:5000"}}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"properties.address \"not-an-ip:5000\": the host must be an IP address or localhost, not a name"}}`}},
			WantErr: `properties.address "not-an-ip:5000": the host must be an IP address or localhost, not a name`},
		{Name: "taken", Args: []string{"-r", "reg", "-n", "build", "--address", "127.0.4.1:5000"},
			Stubs: []clitest.Stub{{Method: "PUT", Path: pePath, Status: 409, Body: `{"properties":{"address":"127.0.4.1:5000"}}`,
				Reply: `{"error":{"code":"Conflict","message":"properties.address 127.0.4.1:5000: another private endpoint listens there"}}`}},
			WantErr: `properties.address 127.0.4.1:5000: another private endpoint listens there`},
		{Name: "no address", Args: []string{"-r", "reg", "-n", "build"}, WantErr: `required flag(s) "address" not set`},
		{Name: "no name", Args: []string{"-r", "reg", "--address", "127.0.4.1:5000"}, WantErr: `required flag(s) "name" not set`},
		{Name: "no registry", Args: []string{"-n", "build", "--address", "127.0.4.1:5000"},
			WantErr: "no registry given: give --registry or run `berth config set defaults.registry=NAME`"},
	})
}

func TestApproveAndReject(t *testing.T) {
	clitest.RunCases(t, NewCmdApprove, []clitest.Case{
		{Name: "keeps the description", Args: []string{"-r", "reg", "-n", "build", "--query", "properties.privateLinkServiceConnectionState", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "POST", Path: pePath + "/approve", Reply: peJSON("Approved", "build network")}},
			Out:   "Approved\tbuild network\n"},
		{Name: "with a description", Args: []string{"-r", "reg", "-n", "build", "--description", "ok", "-o", "none"},
			Stubs: []clitest.Stub{{Method: "POST", Path: pePath + "/approve", Body: `{"description":"ok"}`, Reply: peJSON("Approved", "ok")}}},
		{Name: "an empty description is sent", Args: []string{"-r", "reg", "-n", "build", "--description", "", "-o", "none"},
			Stubs: []clitest.Stub{{Method: "POST", Path: pePath + "/approve", Body: `{"description":""}`, Reply: peJSON("Approved", "")}}},
		{Name: "unknown", Args: []string{"-r", "reg", "-n", "build"},
			Stubs:   []clitest.Stub{{Method: "POST", Path: pePath + "/approve", Status: 404, Reply: clitest.NotFound(`private endpoint connection 'build'`)}},
			WantErr: "private endpoint connection 'build' was not found"},
	})
	clitest.RunCases(t, NewCmdReject, []clitest.Case{
		{Name: "with a description", Args: []string{"-r", "reg", "-n", "build", "--description", "not this network",
			"--query", "properties.privateLinkServiceConnectionState.status", "-o", "tsv"},
			Stubs: []clitest.Stub{{Method: "POST", Path: pePath + "/reject", Body: `{"description":"not this network"}`, Reply: peJSON("Rejected", "not this network")}},
			Out:   "Rejected\n"},
	})
}

func TestShowListDelete(t *testing.T) {
	list := clitest.Stub{Method: "GET", Path: "/api/registries/reg/privateEndpointConnections", Reply: `{"value":[` + peJSON("Approved", "") + `]}`}
	clitest.RunCases(t, NewCmdList, []clitest.Case{
		{Name: "tsv", Args: []string{"-r", "reg", "-o", "tsv", "--query", "[].[name, properties.address, properties.privateLinkServiceConnectionState.status]"},
			Stubs: []clitest.Stub{list}, Out: "build\t127.0.4.1:5000\tApproved\n"},
		{Name: "none", Args: []string{"-r", "reg"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/registries/reg/privateEndpointConnections", Reply: `{"value":[]}`}}, Out: "[]\n"},
	})
	clitest.RunCases(t, NewCmdShow, []clitest.Case{
		{Name: "json", Args: []string{"-r", "reg", "-n", "build"},
			Stubs: []clitest.Stub{{Method: "GET", Path: pePath, Reply: peJSON("Pending", "build network")}}, Out: pendingOut},
	})
	clitest.RunCases(t, NewCmdDelete, []clitest.Case{
		{Name: "with --yes", Args: []string{"-r", "reg", "-n", "build", "--yes"},
			Stubs: []clitest.Stub{{Method: "DELETE", Path: pePath, Status: 204}}},
		{Name: "refused in a pipe", Args: []string{"-r", "reg", "-n", "build"},
			WantErr: `refusing to delete private endpoint "build" of registry "reg" without confirmation: give --yes (standard input is not a terminal to ask on)`},
	})
}

// -r falls back to defaults.registry.
func TestDefaultRegistry(t *testing.T) {
	e := clitest.New(t)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "reg")
	e.Register(clitest.Stub{Method: "GET", Path: pePath, Reply: peJSON("Pending", "")})
	if err := e.Run(NewCmdShow(e.F), "-n", "build", "-o", "none"); err != nil {
		t.Fatal(err)
	}
}
