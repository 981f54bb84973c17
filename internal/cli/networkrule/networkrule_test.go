package networkrule

import (
	"context"
	"testing"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/clitest"
	"github.com/berth-project/berth/internal/cli/cmdutil"
)

const path = "/api/registries/blogbuildtest"

// reg is a registry answer with rules (a JSON array of rules).
func reg(rules string) string {
	return `{"id":"/registries/blogbuildtest","name":"blogbuildtest","type":"registries","properties":{"loginServer":"127.0.3.1:5000",
"publicNetworkAccess":"Enabled","networkRuleSet":{"defaultAction":"Deny","ipRules":` + rules + `},
"networkRuleBypassOptions":"AzureServices","networkRuleBypassAllowedForTasks":false}}`
}

func get(rules string) clitest.Stub {
	return clitest.Stub{Method: "GET", Path: path, Reply: reg(rules)}
}

func patch(body, reply string) clitest.Stub {
	return clitest.Stub{Method: "PATCH", Path: path, Body: `{"properties":{"networkRuleSet":{"ipRules":` + body + `}}}`, Reply: reg(reply)}
}

const oneRule = `[{"action":"Allow","value":"127.0.0.1/32"}]`

const oneRuleOut = `{
  "defaultAction": "Deny",
  "ipRules": [
    {
      "action": "Allow",
      "value": "127.0.0.1/32"
    }
  ]
}
`

func TestAdd(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdAdd(f, nil) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "first rule, json", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.0.1/32"},
			Stubs: []clitest.Stub{get(`[]`), patch(oneRule, oneRule)}, Out: oneRuleOut},
		{Name: "appended, tsv of values", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.1.0/24", "--query", "ipRules[].value", "-o", "tsv"},
			Stubs: []clitest.Stub{get(oneRule),
				patch(`[{"action":"Allow","value":"127.0.0.1/32"},{"action":"Allow","value":"127.0.1.0/24"}]`,
					`[{"action":"Allow","value":"127.0.0.1/32"},{"action":"Allow","value":"127.0.1.0/24"}]`)},
			Out: "127.0.0.1/32\n127.0.1.0/24\n"},
		{Name: "server normalises", Args: []string{"-n", "blogbuildtest", "--ip-address", "10.1.2.3/24", "--query", "ipRules[-1].value", "-o", "tsv"},
			Stubs: []clitest.Stub{get(`[]`), patch(`[{"action":"Allow","value":"10.1.2.3/24"}]`, `[{"action":"Allow","value":"10.1.2.0/24"}]`)},
			Out:   "10.1.2.0/24\n"},
		{Name: "existing rule is a no-op", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.0.1/32"},
			Stubs: []clitest.Stub{get(oneRule)}, Out: oneRuleOut},
		{Name: "same range written otherwise is a no-op", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.0.1", "-o", "tsv", "--query", "defaultAction"},
			Stubs: []clitest.Stub{get(oneRule)}, Out: "Deny\n"},
		{Name: "server's error as it is", Args: []string{"-n", "blogbuildtest", "--ip-address", "::1"},
			Stubs: []clitest.Stub{get(`[]`), {Method: "PATCH", Path: path, Status: 400,
				Body:  `{"properties":{"networkRuleSet":{"ipRules":[{"action":"Allow","value":"::1"}]}}}`,
				Reply: `{"error":{"code":"InvalidRequest","message":"properties.networkRuleSet.ipRules: invalid ip rule \"::1\": IPv6 is not supported; rules are IPv4 only"}}`}},
			WantErr: `properties.networkRuleSet.ipRules: invalid ip rule "::1": IPv6 is not supported; rules are IPv4 only`},
		{Name: "registry not found", Args: []string{"-n", "nope1", "--ip-address", "10.0.0.1"},
			Stubs:   []clitest.Stub{{Method: "GET", Path: "/api/registries/nope1", Status: 404, Reply: clitest.NotFound("registry 'nope1'")}},
			WantErr: "registry 'nope1' was not found"},
		{Name: "no address", Args: []string{"-n", "blogbuildtest"}, WantErr: `required flag(s) "ip-address" not set`},
		{Name: "no registry", Args: []string{"--ip-address", "10.0.0.1"},
			WantErr: "no registry given: give -n/--name or run `berth config set defaults.registry=NAME`"},
	})
}

func TestRemove(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdRemove(f, nil) }
	two := `[{"action":"Allow","value":"127.0.0.1/32"},{"action":"Allow","value":"127.0.1.0/24"}]`
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "one of two", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.1.0/24"},
			Stubs: []clitest.Stub{get(two), patch(oneRule, oneRule)}, Out: oneRuleOut},
		{Name: "same range written otherwise", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.1.7/24", "--query", "ipRules[].value", "-o", "tsv"},
			Stubs: []clitest.Stub{get(two), patch(oneRule, oneRule)}, Out: "127.0.0.1/32\n"},
		{Name: "the last, an empty list is sent", Args: []string{"-n", "blogbuildtest", "--ip-address", "127.0.0.1", "-o", "json", "--query", "ipRules"},
			Stubs: []clitest.Stub{get(oneRule), patch(`[]`, `[]`)}, Out: "[]\n"},
		{Name: "absent", Args: []string{"-n", "blogbuildtest", "--ip-address", "10.9.9.9"},
			Stubs: []clitest.Stub{get(two)}, WantErr: `registry "blogbuildtest" has no IP rule "10.9.9.9"`},
	})
}

func TestList(t *testing.T) {
	newCmd := func(f *cmdutil.Factory) *cobra.Command { return NewCmdList(f) }
	clitest.RunCases(t, newCmd, []clitest.Case{
		{Name: "json", Args: []string{"-n", "blogbuildtest"}, Stubs: []clitest.Stub{get(oneRule)}, Out: oneRuleOut},
		{Name: "tsv", Args: []string{"-n", "blogbuildtest", "-o", "tsv", "--query", "ipRules"}, Stubs: []clitest.Stub{get(oneRule)},
			Out: "Allow\t127.0.0.1/32\n"},
		{Name: "server without network properties", Args: []string{"-n", "blogbuildtest", "--query", "ipRules"},
			Stubs: []clitest.Stub{{Method: "GET", Path: path, Reply: `{"name":"blogbuildtest","properties":{}}`}}, Out: "[]\n"},
	})
}

// -n falls back to defaults.registry, and runF gets the options.
func TestDefaultRegistryAndOptions(t *testing.T) {
	e := clitest.New(t)
	t.Setenv("BERTH_DEFAULTS_REGISTRY", "blogbuildtest")
	var got *Options
	err := e.Run(NewCmdAdd(e.F, func(_ context.Context, o *Options) error { got = o; return nil }), "--ip-address", "10.0.0.0/8", "-o", "tsv")
	if err != nil || got.Registry != "blogbuildtest" || got.IPAddress != "10.0.0.0/8" || got.Output.Format != "tsv" {
		t.Fatalf("%v %+v", err, got)
	}
}

func TestSameRange(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"10.0.0.5", "10.0.0.5/32", true},
		{"10.1.2.3/24", "10.1.2.0/24", true},
		{" 10.0.0.5 ", "10.0.0.5", true},
		{"10.0.0.5", "10.0.0.6", false},
		{"10.0.0.0/24", "10.0.0.0/25", false},
		{"::1", "::1", true},
		{"not-an-ip", "10.0.0.1", false},
	} {
		if got := sameRange(tt.a, tt.b); got != tt.want {
			t.Errorf("sameRange(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
