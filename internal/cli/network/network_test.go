package network

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const tags = `{"values":[{"id":"BerthTasks.local","name":"BerthTasks.local","properties":{"region":"local",
"addressPrefixes":["127.0.1.0/24","127.0.5.7/32"],"changeNumber":2}}]}`

func TestListServiceTags(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdListServiceTags(f) }
	stub := clitest.Stub{Method: "GET", Path: "/api/serviceTags?location=local", Reply: tags}
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "json", Args: []string{"--location", "local"}, Stubs: []clitest.Stub{stub}, Out: `{
  "values": [
    {
      "id": "BerthTasks.local",
      "name": "BerthTasks.local",
      "properties": {
        "region": "local",
        "addressPrefixes": [
          "127.0.1.0/24",
          "127.0.5.7/32"
        ],
        "changeNumber": 2
      }
    }
  ]
}
`},
		{Name: "the seed's query, tsv", Args: []string{"--location", "local",
			"--query", "values[?id=='BerthTasks.local'].properties.addressPrefixes[]", "-o", "tsv"},
			Stubs: []clitest.Stub{stub}, Out: "127.0.1.0/24\n127.0.5.7/32\n"},
		{Name: "tsv of values", Args: []string{"-l", "local", "--query", "values[].{id:id, n:properties.changeNumber}", "-o", "tsv"},
			Stubs: []clitest.Stub{stub}, Out: "BerthTasks.local\t2\n"},
		{Name: "no tags", Args: []string{"--location", "far away"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/serviceTags?location=far+away", Reply: `{"values":[]}`}},
			Out:   "{\n  \"values\": []\n}\n"},
		{Name: "server's error", Args: []string{"--location", "x"},
			Stubs: []clitest.Stub{{Method: "GET", Path: "/api/serviceTags?location=x", Status: 400,
				Reply: `{"error":{"code":"InvalidRequest","message":"unknown location \"x\""}}`}},
			WantErr: `unknown location "x"`},
		{Name: "no location", WantErr: `required flag(s) "location" not set`},
	})
}
