package registrycmd

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

func TestShowUsage(t *testing.T) {
	usage := clitest.Stub{Method: "GET", Path: "/api/registries/blogbuildtest/usage", Reply: `{"value":[
		{"name":"Size","currentValue":12345,"unit":"Bytes"},{"name":"Repositories","currentValue":2,"unit":"Count"},
		{"name":"Manifests","currentValue":3,"unit":"Count"},{"name":"Blobs","currentValue":5,"unit":"Count"}]}`}
	clitest.RunCases(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShowUsage(f) }, []clitest.Case{
		{Name: "json", Args: []string{"-n", "blogbuildtest"}, Stubs: []clitest.Stub{usage}, Out: `{
  "value": [
    {
      "name": "Size",
      "currentValue": 12345,
      "unit": "Bytes"
    },
    {
      "name": "Repositories",
      "currentValue": 2,
      "unit": "Count"
    },
    {
      "name": "Manifests",
      "currentValue": 3,
      "unit": "Count"
    },
    {
      "name": "Blobs",
      "currentValue": 5,
      "unit": "Count"
    }
  ]
}
`},
		{Name: "query the size", Args: []string{"-n", "blogbuildtest", "--query", "value[?name=='Size'].currentValue | [0]", "-o", "tsv"},
			Stubs: []clitest.Stub{usage}, Out: "12345\n"},
		{Name: "tsv", Args: []string{"-n", "blogbuildtest", "-o", "tsv"}, Stubs: []clitest.Stub{usage},
			Out: "Size\t12345\tBytes\nRepositories\t2\tCount\nManifests\t3\tCount\nBlobs\t5\tCount\n"},
		{Name: "not found", Args: []string{"-n", "nope1"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/registries/nope1/usage", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
			WantErr: "registry 'nope1' was not found"},
		{Name: "no name and no default", WantErr: "no registry given: give -n/--name or run `berth config set defaults.registry=NAME`"},
	})
}
