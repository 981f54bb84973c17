package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testserver"
)

// The network halves of SCENARIOS.md S1, S2 (ways 1 and 2) and S6: the
// firewall of a registry on its own login server, driven with the berth
// CLI and crane, with a client bound to the local agent pool's egress
// address (127.0.1.10) standing in for a build agent until builds exist,
// and one bound to 127.0.9.9, an address that is nobody's.

const (
	agentIP  = "127.0.1.10"
	nobodyIP = "127.0.9.9"
	netReg   = "blogbuildtest"
)

// netScenario is the state of the network scenarios as they go.
type netScenario struct {
	t           *testing.T
	srv         *testserver.Server
	loginServer string
	owner       *machine
	ref         string // the image pushed beforehand
	refresh     string // the owner's registry refresh token, which the agent stand-in uses
}

func newNetScenario(t *testing.T, serveArgs ...string) *netScenario {
	testserver.Tool(t, "crane")
	srv := testserver.Start(t, testserver.Opts{ExtraListen: []string{"127.0.3.1:0"}, Args: serveArgs})
	n := &netScenario{t: t, srv: srv, loginServer: srv.Listen[1]}
	n.owner = newMachine(t, "owner", func(s string) string { return strings.ReplaceAll(s, srv.Password, "***") })
	o := n.owner
	o.berth("login", "--server", srv.URL, "-u", testserver.AdminUser, "-p", srv.Password)
	o.berth("registry", "create", "-n", netReg, "--location", "local", "--login-server", n.loginServer)
	o.berth("registry", "login", "-n", netReg)
	_, n.refresh = dockerAuth(t, filepath.Join(o.dockerConfig, "config.json"), n.loginServer)
	layer := filepath.Join(o.home, "layer.tar")
	if err := os.WriteFile(layer, layerTar(t, "hello.txt", "hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.ref = n.loginServer + "/buildtest/hello-world:v1"
	o.tool("crane", "--insecure", "append", "--oci-empty-base", "-f", layer, "-t", n.ref)
	return n
}

// agentPull is what a run's agent does with the run's credentials: get an
// access token at the login server and pull the image's manifest, from
// ip. It returns the status and body of the first refused step, or 200.
func (n *netScenario) agentPull(ip string) (int, string) {
	n.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	base := "http://" + n.loginServer
	req, _ := http.NewRequest("GET", base+"/oauth2/token?service="+n.loginServer+"&scope=repository:buildtest/hello-world:pull", nil)
	req.SetBasicAuth(nullUser, n.refresh)
	status, body := do(n.t, c, req)
	if status != http.StatusOK {
		return status, body
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &tok)
	req, _ = http.NewRequest("GET", base+"/v2/buildtest/hello-world/manifests/v1", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	return do(n.t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// deniedBody is the exact 403 body a client at ip gets.
func deniedBody(ip string) string {
	return `{"errors":[{"code":"DENIED","message":"client with IP '` + ip + `' is not allowed access. Refer docs/network.md to grant access."}]}`
}

func (n *netScenario) wantAgent(allowed bool, when string) {
	n.t.Helper()
	status, body := n.agentPull(agentIP)
	switch {
	case allowed && status != http.StatusOK:
		n.t.Fatalf("%s: the agent got %d %s, want its pull to work", when, status, body)
	case !allowed && (status != http.StatusForbidden || body != deniedBody(agentIP)):
		n.t.Fatalf("%s: the agent got %d %s, want 403 %s", when, status, body, deniedBody(agentIP))
	}
}

func TestS1S2NetworkRules(t *testing.T) {
	n := newNetScenario(t)
	o := n.owner

	t.Log("== S1: deny by default, allow only the user's machine")
	n.wantAgent(true, "before the firewall")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Deny")
	o.berth("network-rule", "add", "-n", netReg, "--ip-address", "127.0.0.1/32")
	o.tool("crane", "--insecure", "manifest", n.ref) // still works from 127.0.0.1
	n.wantAgent(false, "default action Deny")
	req, _ := http.NewRequest("GET", "http://"+n.loginServer+"/v2/", nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(nobodyIP)}}
	if status, body := do(t, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}, req); status != 403 || body != deniedBody(nobodyIP) {
		t.Fatalf("GET /v2/ from %s: %d %s, want 403 %s", nobodyIP, status, body, deniedBody(nobodyIP))
	}

	t.Log("== S2 way 1: default action Allow")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Allow")
	n.wantAgent(true, "default action Allow")
	o.berth("registry", "update", "-n", netReg, "--default-action", "Deny")
	n.wantAgent(false, "default action Deny again")

	t.Log("== S2 way 2: the service tag of the agent pools")
	prefixes := strings.TrimSpace(o.berth("network", "list-service-tags", "--location", "local",
		"--query", "values[?id=='BerthTasks.local'].properties.addressPrefixes[]", "-o", "tsv"))
	if prefixes != "127.0.1.0/24" {
		t.Fatalf("BerthTasks.local prefixes %q, want 127.0.1.0/24", prefixes)
	}
	o.berth("network-rule", "add", "-n", netReg, "--ip-address", prefixes)
	n.wantAgent(true, "with the service tag's rule")
	rules := strings.Fields(o.berth("network-rule", "list", "-n", netReg, "--query", "ipRules[].value", "-o", "tsv"))
	if strings.Join(rules, " ") != "127.0.0.1/32 127.0.1.0/24" && strings.Join(rules, " ") != "127.0.0.1 127.0.1.0/24" {
		t.Fatalf("network-rule list: %q", rules)
	}
	o.berth("network-rule", "remove", "-n", netReg, "--ip-address", prefixes)
	n.wantAgent(false, "after the rule is removed")

	t.Log("== S2 way 3 (the registry half): the tasks bypass flag")
	if got := strings.TrimSpace(o.berth("resource", "show", "--resource-type", "registries", "--name", netReg,
		"--query", "properties.networkRuleBypassAllowedForTasks")); got != "false" {
		t.Fatalf("networkRuleBypassAllowedForTasks = %s, want false", got)
	}
	o.berth("resource", "update", "--resource-type", "registries", "--name", netReg,
		"--set", "properties.networkRuleBypassAllowedForTasks=true")
	if got := strings.TrimSpace(o.berth("resource", "show", "--resource-type", "registries", "--name", netReg,
		"--query", "properties.networkRuleBypassAllowedForTasks")); got != "true" {
		t.Fatalf("networkRuleBypassAllowedForTasks = %s, want true", got)
	}
	// The owner's refresh token is no task identity: the flag lets it nowhere.
	n.wantAgent(false, "tasks bypass on, but a user's token")

	t.Log("== bad input changes nothing")
	before := o.berth("network-rule", "list", "-n", netReg)
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "2001:db8::/32"} {
		out := o.berthFails("network-rule", "add", "-n", netReg, "--ip-address", bad)
		if !strings.Contains(out, bad) {
			t.Errorf("network-rule add %s: %q does not name the rule", bad, out)
		}
	}
	if after := o.berth("network-rule", "list", "-n", netReg); after != before {
		t.Fatalf("rules changed by refused input:\n%s\nthen\n%s", before, after)
	}
}
